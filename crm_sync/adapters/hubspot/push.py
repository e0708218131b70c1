"""Push one batch: ≤100 records per request, every failure reported per record.

What HubSpot makes hard, and how this module handles it:

* **207 is success** (Gotcha 4): ``errors[].context.ids`` name the records that failed; they are
  rejected with HubSpot's category and message, the rest are accepted.
* **A validation error fails the whole batch with 400** (Gotcha 5, facts §3.5). The message embeds
  ``[{"error":"INVALID_OPTION","name":…,"message":"<value> was not one of the allowed options…"}]``:
  the records holding the offending property (and value, when the message names it) are rejected
  with that message and the rest are re-sent in one request. When the culprit cannot be named,
  the batch is bisected until it is isolated — so one bad record costs a few extra requests, not
  a dead batch.
* **Multi-checkbox values replace the whole set** (Gotcha 6): the records' current sets are
  re-read in one batch read just before the write, and only crm_sync's own additions and removals
  are applied to them, so a value someone added by hand since the last pull survives.
* **Options must exist before a value is written** (Gotcha 6): a value missing from the
  property's options is added first (full-list PATCH, through provisioning).
* **``lifecyclestage`` only moves forward** and silently ignores a backward write (facts §7,
  Gotcha 11): a backward move is sent as a clear (``""``) in one request, then the new stage in
  the next, as two separate requests because batch order is not guaranteed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from crm_sync.adapters.base import (
    PropertyUpdate,
    PushResult,
    RecordRejection,
    RecordUpdate,
    TagUpdate,
)
from crm_sync.adapters.hubspot.client import HubSpotClient
from crm_sync.errors import PermanentError

__all__ = ["BATCH_LIMIT", "Pusher", "embedded_errors"]

BATCH_LIMIT = 100  # facts §2.2, Gotcha 7: nothing server-side tells you, so chunk here
LIFECYCLE = "lifecyclestage"
_OPTION_VALUE = re.compile(r"^(?P<value>.+?) was not one of the allowed options")

Inputs = list[tuple[str, dict[str, str]]]
EnsureOption = Callable[[str, str, set[str]], None]  # (object type, property, values)
StageOrder = Callable[[str], Sequence[str]]  # object type → lifecycle stage values in order


def embedded_errors(message: str) -> list[dict[str, Any]]:
    """The JSON list inside ``Property values were not valid: [...]`` (empty when absent)."""
    start = message.find("[")
    if "not valid" not in message or start < 0:
        return []
    try:
        items = json.loads(message[start : message.rfind("]") + 1])
    except ValueError:
        return []
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def _culprits(inputs: Inputs, message: str) -> dict[str, str]:
    """Record id → reason for the records a whole-batch 400 names (by property and value)."""
    found: dict[str, str] = {}
    for item in embedded_errors(message):
        name = item.get("name")
        if not name:
            continue
        text = str(item.get("message") or item.get("error") or "invalid value")
        match = _OPTION_VALUE.match(text)
        bad = match.group("value") if match else None
        reason = f"{name}: {text} ({item.get('error') or 'VALIDATION_ERROR'})"
        for rid, props in inputs:
            if name not in props:
                continue
            if bad is None or bad in props[name].split(";") or bad == props[name]:
                found.setdefault(rid, reason)
    return found


class Pusher:
    """Writes batches for the adapter; collaborators are injected so tests can drive them."""

    def __init__(
        self,
        client: HubSpotClient,
        *,
        ensure_options: EnsureOption,
        stage_order: StageOrder,
        fresh_tags: bool = True,
    ) -> None:
        self.client = client
        self.ensure_options = ensure_options
        self.stage_order = stage_order
        self.fresh_tags = fresh_tags
        self.write_calls = 0

    def push(self, object_type: str, updates: Sequence[RecordUpdate]) -> PushResult:
        """Apply one batch of one entity; see the module docstring for the failure handling."""
        if len(updates) > BATCH_LIMIT:
            msg = f"a HubSpot batch holds at most {BATCH_LIMIT} records, got {len(updates)}"
            raise ValueError(msg)
        if not updates:
            return PushResult()
        current = self._fresh_sets(object_type, updates)
        inputs: Inputs = []
        clears: list[str] = []
        enum_values: dict[str, set[str]] = {}
        for upd in updates:
            props: dict[str, str] = {}
            for change in upd.changes:
                if isinstance(change, TagUpdate):
                    have = current.get(upd.record_id, {}).get(change.property)
                    base = (change.result - change.add) | change.remove if have is None else have
                    values = (base - change.remove) | change.add
                    props[change.property] = ";".join(sorted(values))
                    enum_values.setdefault(change.property, set()).update(change.add)
                    continue
                props[change.property] = change.new or ""
                if change.new:
                    enum_values.setdefault(change.property, set()).add(change.new)
                if change.property == LIFECYCLE and self._backwards(object_type, change):
                    clears.append(upd.record_id)
            inputs.append((upd.record_id, props))
        for prop, values in enum_values.items():
            self.ensure_options(object_type, prop, values)
        rejected: dict[str, RecordRejection] = {}
        if clears:
            # Facts §7: clear in its own request, then set; batch order is not guaranteed.
            _ok, bad = self._write(object_type, [(rid, {LIFECYCLE: ""}) for rid in clears])
            rejected.update({r.record_id: r for r in bad})
        todo = [(rid, props) for rid, props in inputs if rid not in rejected]
        accepted, bad = self._write(object_type, todo)
        rejected.update({r.record_id: r for r in bad})
        return PushResult(tuple(accepted), tuple(rejected.values()))

    def _backwards(self, object_type: str, change: PropertyUpdate) -> bool:
        if not change.old or not change.new or change.old == change.new:
            return False
        order = list(self.stage_order(object_type))
        if change.old not in order or change.new not in order:
            return False
        return order.index(change.new) < order.index(change.old)

    def _fresh_sets(
        self, object_type: str, updates: Sequence[RecordUpdate]
    ) -> dict[str, dict[str, set[str]]]:
        """Current multi-checkbox sets of the batch's records, read just before writing."""
        props = sorted({c.property for u in updates for c in u.changes if isinstance(c, TagUpdate)})
        if not props or not self.fresh_tags:
            return {}
        ids = [u.record_id for u in updates]
        data = self.client.batch_read(object_type, ids, props).data or {}
        out: dict[str, dict[str, set[str]]] = {}
        for row in data.get("results") or []:
            values = row.get("properties") or {}
            out[str(row["id"])] = {
                p: {v for v in (values.get(p) or "").split(";") if v} for p in props
            }
        return out

    def _write(self, object_type: str, inputs: Inputs) -> tuple[list[str], list[RecordRejection]]:
        """One batch update; 207 and 400 answers become per-record rejections."""
        if not inputs:
            return [], []
        body = [{"id": rid, "properties": props} for rid, props in inputs]
        try:
            reply = self.client.batch_update(object_type, body)
            self.write_calls += 1
        except PermanentError as exc:
            self.write_calls += 1
            if exc.status != 400:
                raise
            return self._isolate(object_type, inputs, str(exc))
        data: Mapping[str, Any] = reply.data or {}
        rejected: list[RecordRejection] = []
        failed: set[str] = set()
        for err in data.get("errors") or []:
            reason = f"{err.get('category', 'ERROR')}: {err.get('message', '')}".strip()
            for rid in (err.get("context") or {}).get("ids") or []:
                failed.add(str(rid))
                rejected.append(RecordRejection(str(rid), reason, str(err.get("category", ""))))
        ok = {str(r.get("id")) for r in data.get("results") or []}
        accepted = [rid for rid, _ in inputs if rid in ok and rid not in failed]
        return accepted, rejected

    def _isolate(
        self, object_type: str, inputs: Inputs, message: str
    ) -> tuple[list[str], list[RecordRejection]]:
        """After a whole-batch 400: reject the named culprits and resend the rest, or bisect."""
        culprits = _culprits(inputs, message)
        if len(inputs) == 1:
            rid = inputs[0][0]
            reason = culprits.get(rid, message)
            return [], [RecordRejection(rid, reason, "VALIDATION_ERROR")]
        if culprits:
            bad = [RecordRejection(rid, why, "VALIDATION_ERROR") for rid, why in culprits.items()]
            rest = [(rid, props) for rid, props in inputs if rid not in culprits]
            accepted, more = self._write(object_type, rest)
            return accepted, bad + more
        mid = len(inputs) // 2
        left_ok, left_bad = self._write(object_type, inputs[:mid])
        right_ok, right_bad = self._write(object_type, inputs[mid:])
        return left_ok + right_ok, left_bad + right_bad
