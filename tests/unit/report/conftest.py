"""A hand-made snapshot history: 3 runs, 6 companies, every expected number worked out by hand.

Set ``rel`` (values A, B, C; C is the catch-all), set ``tier`` (X, Y) and tag set ``tags``:

    id   rel r1 r2 r3   tier   revenue potential  owner  sow   price_index
    c1       A  A  A    X      100     200        o1     0.5   1.0
    c2       A  B  A    X       50     100        o1     0.5   0.9
    c3       B  B  C    Y       20     null       o2     null  1.2
    c4       C  C  C    Y        0      40        o2     0.0   0.8
    c5       C  A  -    X       10      20        -      0.5   1.1   (gone in run 3)
    c6       -  -  B    X        5      10        o1     0.5   1.3   (new in run 3)

Tags at run 3: c1 {t1}, c2 {t1, t2}, c6 {t1}. Facts are equal in every run.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess

import polars as pl
import pytest

from crm_sync.report.frames import (
    CRM_SCHEMA,
    FACT_SCHEMA,
    FIELD_SCHEMA,
    RULE_SCHEMA,
    RUN_SCHEMA,
    SOURCE_SCHEMA,
    VALUE_SCHEMA,
    SetInfo,
    Snapshots,
)

REL = {
    "c1": ["A", "A", "A"],
    "c2": ["A", "B", "A"],
    "c3": ["B", "B", "C"],
    "c4": ["C", "C", "C"],
    "c5": ["C", "A", None],
    "c6": [None, None, "B"],
}
TIER = {"c1": "X", "c2": "X", "c3": "Y", "c4": "Y", "c5": "X", "c6": "X"}
FACTS = {
    # id: (owner, revenue, potential, share_of_wallet, price_index)
    "c1": ("o1", 100.0, 200.0, 0.5, 1.0),
    "c2": ("o1", 50.0, 100.0, 0.5, 0.9),
    "c3": ("o2", 20.0, None, None, 1.2),
    "c4": ("o2", 0.0, 40.0, 0.0, 0.8),
    "c5": (None, 10.0, 20.0, 0.5, 1.1),
    "c6": ("o1", 5.0, 10.0, 0.5, 1.3),
}
SETS = {
    "rel": SetInfo("rel", "company", "single", ("A", "B", "C"), "C", "Relationship"),
    "tier": SetInfo("tier", "company", "single", ("X", "Y"), None, "Tier"),
    "tags": SetInfo("tags", "company", "multi", ("t1", "t2"), None, "Tags"),
}


def _utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def make_snapshots() -> Snapshots:
    """The history described in the module docstring."""
    values = []
    facts = []
    for cid, seq in REL.items():
        for run, value in enumerate(seq, start=1):
            if value is None:
                continue
            values.append((run, "company", cid, "rel", value))
            values.append((run, "company", cid, "tier", TIER[cid]))
            facts.append((run, "company", cid, *FACTS[cid]))
    values += [
        (3, "company", "c1", "tags", "t1"),
        (3, "company", "c2", "tags", "t1"),
        (3, "company", "c2", "tags", "t2"),
        (3, "company", "c6", "tags", "t1"),
    ]
    fields = [
        (1, "company", "c1", "o1", "planned", True),
        (1, "company", "c2", "o1", "planned", False),
        (1, "company", "c3", "o2", "planned", True),
        (1, "company", "c4", "o2", "planned", True),
        (1, "company", "c5", None, "planned", True),
    ]
    rules = [
        (1, "rel", "rA", 3, 2, 1, 5),
        (1, "rel", "rB", 2, 0, 0, 5),
        (1, "rel", "rX", 0, 0, 5, 5),
    ]
    runs = [
        (1, dt.date(2025, 1, 1), _utc(2025, 1, 2), "f1"),
        (2, dt.date(2025, 2, 1), _utc(2025, 2, 2), "f1"),
        (3, dt.date(2025, 3, 1), _utc(2025, 3, 2), "f1"),
    ]
    sources = [
        (3, "activities", _utc(2025, 3, 1, 12)),
        (3, "potentials", _utc(2025, 2, 1)),
    ]
    crm = [
        ("company", "c1", "rel", "A", "A", "A"),
        ("company", "c2", "rel", "A", "B", "A"),
        ("company", "c3", "rel", "C", "C", None),
        ("company", "c4", "rel", None, None, None),
        ("company", "c5", "tags", "t1;t2", "t1", "t1"),
    ]
    return Snapshots(
        sets=dict(SETS),
        runs=pl.DataFrame(runs, schema=RUN_SCHEMA, orient="row"),
        values=pl.DataFrame(values, schema=VALUE_SCHEMA, orient="row"),
        facts=pl.DataFrame(facts, schema=FACT_SCHEMA, orient="row"),
        fields=pl.DataFrame(fields, schema=FIELD_SCHEMA, orient="row"),
        rules=pl.DataFrame(rules, schema=RULE_SCHEMA, orient="row"),
        sources=pl.DataFrame(sources, schema=SOURCE_SCHEMA, orient="row"),
        crm=pl.DataFrame(crm, schema=CRM_SCHEMA, orient="row"),
        relationship_set="rel",
        thresholds=(0.5, 1.0),
        origin="hand-made fixture",
    )


@pytest.fixture
def snap() -> Snapshots:
    """The hand-made history."""
    return make_snapshots()


def _chromium_binary() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def chromium() -> str:
    """Path of headless Chromium; installs Debian's ``chromium`` package when missing.

    CI runs as root on a fresh Debian machine, so the package is installed here once (``apt-get
    update`` first when apt knows no candidate). Only without root or apt is the test skipped.
    """
    found = _chromium_binary()
    if found:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.skip("chromium is not installed and cannot be installed (needs root and apt-get)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    policy = subprocess.run(
        ["apt-cache", "policy", "chromium"], capture_output=True, text=True, check=False, env=env
    )
    if "Candidate: (none)" in policy.stdout or "Candidate" not in policy.stdout:
        subprocess.run(["apt-get", "update"], check=True, env=env, capture_output=True)
    subprocess.run(
        ["apt-get", "install", "-y", "--no-install-recommends", "chromium"],
        check=True,
        env=env,
        capture_output=True,
    )
    found = _chromium_binary()
    assert found, "apt-get installed chromium but no chromium binary is on PATH"
    return found
