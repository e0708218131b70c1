"""Test CRM accounts for distributed tests: file-backed memory CRMs that log every API call.

Imported by the test process and by Celery worker subprocesses (via PYTHONPATH), so the call
log — one line per call with wall time, pid and endpoint, appended atomically — is the CRM-side
truth the acceptance tests check rates and push overlaps against.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import time
from pathlib import Path
from typing import Any

from crm_sync.adapters.memory import InMemoryAdapter
from crm_sync.model import Activity, Company, Contact

MAPPING = """\
version: 1
crm: hubspot
properties:
  company:
    tier:
      property: crm_tier
      label: Tier
      options:
        A: {value: a, label: A}
        B: {value: b, label: B}
        C: {value: c, label: C}
  contact:
    stage:
      property: crm_stage
      label: Stage
      options:
        lead: {value: lead, label: Lead}
        prospect: {value: prospect, label: Prospect}
        customer: {value: customer, label: Customer}
    tags:
      property: crm_tags
      label: Tags
      field_type: checkbox
      options:
        active: {value: active, label: Active}
        vip: {value: vip, label: VIP}
"""


class MeteredAdapter(InMemoryAdapter):
    """An InMemoryAdapter whose calls and push spans are logged to ``<crm_file>.calls``."""

    push_delay_s = 0.0

    def _log(self, what: str) -> None:
        assert self.path is not None
        line = f"{time.time():.6f} {os.getpid()} {what}\n".encode()
        fd = os.open(f"{self.path}.calls", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)

    def _serve(self, endpoint: str) -> Any:
        self._log(f"call {endpoint}")
        return super()._serve(endpoint)

    def push(self, updates: Any) -> Any:
        self._log("push-start")
        try:
            time.sleep(self.push_delay_s)
            return super().push(updates)
        finally:
            self._log("push-end")


class SlowPushAdapter(MeteredAdapter):
    """Pushes take 50 ms, so two concurrent pushers would overlap visibly."""

    push_delay_s = 0.05


class NetworkAdapter(MeteredAdapter):
    """Every API call waits like a real HubSpot/Salesforce request: 80-150 ms, uniform.

    Modelled as a fixed 20 ms uplink, the CRM logging the call on arrival, then 60-130 ms of CRM
    processing and downlink — so the call log's timestamps are the arrival times a CRM's own rate
    limiter would count. ``CRMFAKE_LATENCY_MS="lo-hi"`` changes the range (the uplink stays
    ``min(20, lo)`` ms). The wait is a sleep, as a blocked socket read is: it costs no CPU.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        lo, _, hi = os.environ.get("CRMFAKE_LATENCY_MS", "80-150").partition("-")
        self.latency_s = (float(lo) / 1000, float(hi or lo) / 1000)
        self.uplink_s = min(0.02, self.latency_s[0])
        self.rng = random.Random()

    def _serve(self, endpoint: str) -> Any:
        time.sleep(self.uplink_s)
        try:
            return super()._serve(endpoint)
        finally:
            lo, hi = self.latency_s
            time.sleep(self.rng.uniform(lo, hi) - self.uplink_s)


def networked(spec: Any) -> NetworkAdapter:
    """Account factory for accounts files: ``factory: crmfake:networked``."""
    return NetworkAdapter(spec.crm_id or spec.name, path=spec.crm_file)


def metered(spec: Any) -> MeteredAdapter:
    """Account factory for accounts files: ``factory: crmfake:metered``."""
    return SlowPushAdapter(spec.crm_id or spec.name, path=spec.crm_file)


def seed_crm(path: Path, account: str, companies: int = 20, contacts_per: int = 2) -> None:
    """Companies with 0-3 visits, their contacts, and one order: every output has a value."""
    crm = InMemoryAdapter(account, path=path)
    at = dt.datetime(2025, 5, 1, tzinfo=dt.UTC)
    crm.seed(
        companies=[Company(id=f"co{i}", name=f"Co {i}") for i in range(companies)],
        contacts=[
            Contact(id=f"p{i}-{j}", company_id=f"co{i}", email=f"p{i}{j}@x.test")
            for i in range(companies)
            for j in range(contacts_per)
        ],
        activities=[
            Activity(id=f"a{i}-{k}", type="visit", occurred_at=at, company_id=f"co{i}")
            for i in range(companies)
            for k in range(i % 4)
        ]
        + [Activity(id="o1", type="order", occurred_at=at, contact_id="p0-0")],
    )


def write_accounts(
    tmp: Path,
    names: list[str],
    *,
    max_calls: int = 20,
    per_s: float = 2.0,
    page_size: int = 5,
    factory: str = "crmfake:metered",
) -> Path:
    """An accounts file for ``names`` (memory CRMs under ``tmp``) using the fake computer."""
    mapping = tmp / "mapping.yaml"
    mapping.write_text(MAPPING)
    lines = ["accounts:"]
    for i, name in enumerate(names):
        lines += [
            f"  - name: {name}",
            "    target: memory",
            f"    crm_id: '{1000 + i}'",
            f"    crm_file: {tmp / (name + '.json')}",
            f"    mapping: {mapping}",
            "    computer: crm_sync.sync.computer:FakeComputer",
            f"    factory: {factory}",
            f"    page_size: {page_size}",
            f"    rate: {{max_calls: {max_calls}, per_s: {per_s}, headroom: 0}}",
        ]
    path = tmp / "accounts.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def read_log(path: Path) -> list[tuple[float, int, str]]:
    """The call log of one CRM file: (time, pid, what)."""
    log = Path(f"{path}.calls")
    if not log.exists():
        return []
    out = []
    for line in log.read_text().splitlines():
        stamp, pid, what = line.split(" ", 2)
        out.append((float(stamp), int(pid), what))
    return out


def max_in_window(stamps: list[float], window: float) -> int:
    """Most calls inside any rolling window of ``window`` seconds."""
    stamps = sorted(stamps)
    best, lo = 0, 0
    for hi, t in enumerate(stamps):
        while t - stamps[lo] > window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


class SmallBatchAdapter(MeteredAdapter):
    """Pushes at most five records per call, so one account's push spans many batches."""

    max_batch = 5


def small_batches(spec: Any) -> SmallBatchAdapter:
    """Account factory for accounts files: ``factory: crmfake:small_batches``."""
    return SmallBatchAdapter(spec.crm_id or spec.name, path=spec.crm_file)
