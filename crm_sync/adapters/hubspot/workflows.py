"""Workflow plumbing beyond property triggers: MANUAL lists (Lists v3) and v2 enrollment.

DESIGN §7: writing the property is usually enough, because HubSpot workflows enrol on property
changes. A mapping can additionally keep a MANUAL list per tag or segment value
(``triggers.lists``) and enrol contacts in a legacy workflow per value
(``triggers.workflow_enrollment``). After a batch is confirmed, :meth:`Workflows.after_push`
turns each accepted change into list adds/removes (one ``PUT`` per list and direction, bare JSON
arrays, facts §5.4, Gotcha 15) and enrollments (one ``POST`` per contact: the v2 API is
contacts-only and by e-mail, facts §5.2, Gotcha 16).

Lists are found by name and created as ``MANUAL`` when missing; a ``DYNAMIC`` list of that name
cannot take memberships, which HubSpot refuses with a 400 the caller sees.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from crm_sync.adapters.base import PropertyUpdate, PushResult, RecordRejection, RecordUpdate
from crm_sync.adapters.hubspot.client import HubSpotClient
from crm_sync.errors import PermanentError
from crm_sync.mapping.load import MappingFile

__all__ = ["OBJECT_TYPE_IDS", "Workflows"]

OBJECT_TYPE_IDS = {"contacts": "0-1", "companies": "0-2"}
MEMBERSHIP_CHUNK = (
    1000  # no documented limit (facts §5.4 [UNVERIFIED]); stay well below "a few thousand"
)


class Workflows:
    """List membership and enrollment for the adapter's capability Protocols."""

    def __init__(self, client: HubSpotClient, mapping: MappingFile | None) -> None:
        self.client = client
        self.mapping = mapping
        self._lists: dict[tuple[str, str], str] = {}

    def list_id(self, name: str, object_type_id: str = "0-1") -> str:
        """The v3 ``listId`` of a list by name, creating a MANUAL list when there is none."""
        key = (object_type_id, name)
        if key not in self._lists:
            try:
                data = self.client.list_by_name(object_type_id, name).data or {}
            except PermanentError as exc:
                if exc.status != 404:
                    raise
                body = {"name": name, "objectTypeId": object_type_id, "processingType": "MANUAL"}
                data = self.client.create_list(body).data or {}
            self._lists[key] = str((data.get("list") or data)["listId"])
        return self._lists[key]

    def set_list_membership(
        self,
        list_name: str,
        add: Sequence[str],
        remove: Sequence[str],
        *,
        object_type_id: str = "0-1",
    ) -> PushResult:
        """Add and remove record ids; HubSpot ignores ids already in (or not in) the list."""
        list_id = self.list_id(list_name, object_type_id)
        accepted: list[str] = []
        missing: set[str] = set()
        for ids, send in (
            (list(add), self.client.list_add),
            (list(remove), self.client.list_remove),
        ):
            for start in range(0, len(ids), MEMBERSHIP_CHUNK):
                chunk = ids[start : start + MEMBERSHIP_CHUNK]
                data: Mapping[str, Any] = send(list_id, chunk).data or {}
                missing.update(str(i) for i in data.get("recordIdsMissing") or [])
                accepted += [i for i in chunk if i not in missing]
        rejected = tuple(
            RecordRejection(i, f"record {i} does not exist in HubSpot", "OBJECT_NOT_FOUND")
            for i in sorted(missing)
        )
        return PushResult(tuple(accepted), rejected)

    def enroll(self, workflow_id: int, emails: Sequence[str]) -> PushResult:
        """Enrol contacts by e-mail in a legacy (v2) workflow; unknown e-mails are rejected."""
        accepted: list[str] = []
        rejected: list[RecordRejection] = []
        for email in emails:
            try:
                self.client.enroll(workflow_id, email)
                accepted.append(email)
            except PermanentError as exc:
                rejected.append(RecordRejection(email, str(exc), str(exc.status or "")))
        return PushResult(tuple(accepted), tuple(rejected))

    def after_push(
        self, object_type: str, updates: Sequence[RecordUpdate], accepted: set[str]
    ) -> None:
        """Apply the mapping's list and enrollment triggers for the accepted changes."""
        if self.mapping is None:
            return
        triggers = self._triggers()
        adds: dict[str, list[str]] = defaultdict(list)
        removes: dict[str, list[str]] = defaultdict(list)
        enrol: dict[int, list[str]] = defaultdict(list)
        for upd in updates:
            if upd.record_id not in accepted:
                continue
            for change in upd.changes:
                lists, flows = triggers.get(change.property, ({}, {}))
                if isinstance(change, PropertyUpdate):
                    gained = {change.new} if change.new else set()
                    lost = {change.old} if change.old and change.old != change.new else set()
                else:
                    gained, lost = set(change.add), set(change.remove)
                for value in gained:
                    if value in lists:
                        adds[lists[value]].append(upd.record_id)
                    if value in flows and object_type == "contacts":
                        enrol[flows[value]].append(upd.record_id)
                for value in lost:
                    if value in lists:
                        removes[lists[value]].append(upd.record_id)
        type_id = OBJECT_TYPE_IDS.get(object_type, "0-1")
        for name in sorted(set(adds) | set(removes)):
            self.set_list_membership(name, adds[name], removes[name], object_type_id=type_id)
        for workflow_id, ids in enrol.items():
            self.enroll(workflow_id, self._emails(ids))

    def _triggers(self) -> dict[str, tuple[dict[str, str], dict[str, int]]]:
        """CRM property → (CRM value → list name, CRM value → workflow id); keys may be model values."""
        assert self.mapping is not None
        out: dict[str, tuple[dict[str, str], dict[str, int]]] = {}
        for props in self.mapping.doc.properties.values():
            for prop in props.values():
                trig: Any = prop.triggers
                lists = getattr(trig, "lists", {}) or {}
                flows = getattr(trig, "workflow_enrollment", {}) or {}
                if not lists and not flows:
                    continue
                to_crm = {model: o.value for model, o in prop.options.items()}
                out[prop.crm_name()] = (
                    {to_crm.get(k, k): v for k, v in lists.items()},
                    {to_crm.get(k, k): int(v) for k, v in flows.items()},
                )
        return out

    def _emails(self, contact_ids: list[str]) -> list[str]:
        emails: list[str] = []
        for start in range(0, len(contact_ids), 100):
            chunk = contact_ids[start : start + 100]
            data = self.client.batch_read("contacts", chunk, ["email"]).data or {}
            emails += [
                str(r["properties"]["email"])
                for r in data.get("results") or []
                if (r.get("properties") or {}).get("email")
            ]
        return emails
