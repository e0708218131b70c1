"""The in-memory org: records, audit fields, soft delete, field-level security, transactions.

Why one lock around everything: Salesforce saves are transactional per request (a collection
with ``allOrNone`` rolls back as a unit), and the sandbox serves concurrent HTTP threads. A
single re-entrant lock plus an undo journal gives both without a database.

Audit fields (``CreatedDate``, ``LastModifiedDate``, ``LastModifiedById``, ``SystemModstamp``)
are stamped from an injectable clock on every write, because incremental pulls key on them and
echo-loop filters on ``LastModifiedById`` (facts §4.2, Gotcha 11 and 12).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections.abc import Callable, Iterator
from typing import Any

from crm_sync.sandbox.salesforce import triggers
from crm_sync.sandbox.salesforce.errors import SfError
from crm_sync.sandbox.salesforce.ids import IdFactory, normalize_id
from crm_sync.sandbox.salesforce.objects import STANDARD_PRICEBOOK_NAME, fresh_schema
from crm_sync.sandbox.salesforce.schema import FieldDef, ObjectDef
from crm_sync.sandbox.salesforce.values import coerce

__all__ = ["Clock", "Org", "Record"]

Record = dict[str, Any]
Clock = Callable[[], dt.datetime]

_NOT_WRITABLE = (
    "Unable to create/update fields: {}. Please check the security settings of this field and "
    "verify that it is read/write for your profile or permission set."
)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Org:
    """A fresh org: standard objects, one integration user, the standard price book, no data."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.lock = threading.RLock()
        self.schema: dict[str, ObjectDef] = fresh_schema()
        self.ids = IdFactory()
        self._clock = clock or _utcnow
        self.records: dict[str, dict[str, Record]] = {name: {} for name in self.schema}
        self.deleted_log: list[tuple[str, str, dt.datetime]] = []
        self._undo: list[Callable[[], None]] | None = None
        self.integration_user_id = ""
        self.integration_user_id = self.insert_system(
            "User",
            {
                "Username": "integration@crm-sync.sandbox",
                "FirstName": "Integration",
                "LastName": "User",
                "Email": "integration@crm-sync.sandbox",
                "Alias": "integ",
                "IsActive": True,
            },
        )
        self.standard_pricebook_id = self.insert_system(
            "Pricebook2", {"Name": STANDARD_PRICEBOOK_NAME, "IsActive": True, "IsStandard": True}
        )

    # --- time and lookup -------------------------------------------------------------------

    def now(self) -> dt.datetime:
        """The clock's time in UTC, truncated to milliseconds as Salesforce stores it."""
        moment = self._clock().astimezone(dt.UTC)
        return moment.replace(microsecond=moment.microsecond // 1000 * 1000)

    def object(self, name: str) -> ObjectDef:
        """The object named ``name`` (case-insensitive) or 404 ``NOT_FOUND`` as the REST API answers."""
        obj = self.find_object(name)
        if obj is None:
            raise SfError("NOT_FOUND", "The requested resource does not exist", status=404)
        return obj

    def find_object(self, name: str) -> ObjectDef | None:
        """Case-insensitive object lookup, ``None`` if unknown."""
        if name in self.schema:
            return self.schema[name]
        lowered = name.lower()
        return next((o for n, o in self.schema.items() if n.lower() == lowered), None)

    def object_for_id(self, record_id: str) -> ObjectDef | None:
        """Which object an id belongs to, by key prefix."""
        return next((o for o in self.schema.values() if o.key_prefix == record_id[:3]), None)

    def get(self, sobject: str, record_id: str, *, include_deleted: bool = False) -> Record | None:
        """The stored record, or ``None`` (also for deleted rows unless asked)."""
        full = normalize_id(record_id)
        rec = self.records[sobject].get(full) if full else None
        if rec is None or (rec["IsDeleted"] and not include_deleted):
            return None
        return rec

    def rows(self, sobject: str, *, include_deleted: bool = False) -> list[Record]:
        """All records of an object in insertion order."""
        return [r for r in self.records[sobject].values() if include_deleted or not r["IsDeleted"]]

    # --- field-level security (facts §3.3) ------------------------------------------------

    def _granted(self, user_id: str) -> dict[str, tuple[bool, bool]]:
        sets = {
            a["PermissionSetId"]
            for a in self.rows("PermissionSetAssignment")
            if a["AssigneeId"] == user_id
        }
        out: dict[str, tuple[bool, bool]] = {}
        for fp in self.rows("FieldPermissions"):
            if fp["ParentId"] in sets:
                key = str(fp["Field"]).lower()
                read, edit = out.get(key, (False, False))
                out[key] = (
                    read or bool(fp["PermissionsRead"]),
                    edit or bool(fp["PermissionsEdit"]),
                )
        return out

    def visible_fields(self, obj: ObjectDef, user_id: str) -> list[FieldDef]:
        """Standard fields plus custom fields the user's permission sets can read."""
        granted = self._granted(user_id)
        return [
            f
            for f in obj.fields.values()
            if not f.custom or granted.get(f"{obj.name}.{f.name}".lower(), (False, False))[0]
        ]

    def field_access(self, obj: ObjectDef, name: str, user_id: str) -> tuple[FieldDef | None, bool]:
        """``(field, editable)``; ``(None, False)`` when the user cannot see it at all."""
        f = obj.field(name)
        if f is None:
            return None, False
        if not f.custom:
            return f, True
        read, edit = self._granted(user_id).get(f"{obj.name}.{f.name}".lower(), (False, False))
        return (f, edit) if read else (None, False)

    # --- transactions ------------------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside either stay or, if the block raises, are undone (``allOrNone``)."""
        with self.lock:
            outer = self._undo
            self._undo = []
            try:
                yield
            except BaseException:
                for undo in reversed(self._undo):
                    undo()
                self._undo = outer
                raise
            if outer is not None:
                outer.extend(self._undo)
            self._undo = outer

    def _journal(self, sobject: str, record_id: str) -> None:
        if self._undo is None:
            return
        table = self.records[sobject]
        before = dict(table[record_id]) if record_id in table else None
        log_len = len(self.deleted_log)

        def undo() -> None:
            if before is None:
                table.pop(record_id, None)
            else:
                table[record_id] = before
            del self.deleted_log[log_len:]

        self._undo.append(undo)

    # --- writes ------------------------------------------------------------------------------

    def _stamp(self, rec: Record, user_id: str, *, created: bool) -> None:
        now = self.now()
        if created:
            rec["CreatedDate"] = now
            rec["CreatedById"] = user_id
            rec["IsDeleted"] = False
        rec["LastModifiedDate"] = now
        rec["LastModifiedById"] = user_id
        rec["SystemModstamp"] = now

    def _convert(
        self, obj: ObjectDef, data: dict[str, Any], user_id: str, *, creating: bool
    ) -> Record:
        out: Record = {}
        locked: list[str] = []
        for key, raw in data.items():
            if key == "attributes":
                continue
            f, editable = self.field_access(obj, key, user_id)
            if f is None:
                raise SfError(
                    "INVALID_FIELD", f"No such column '{key}' on sobject of type {obj.name}"
                )
            allowed = f.createable if creating else f.updateable
            if not allowed or not editable:
                locked.append(f.name)
                continue
            out[f.name] = self._check_reference(f, coerce(f, raw))
        if locked:
            raise SfError(
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                _NOT_WRITABLE.format(", ".join(locked)),
                fields=locked,
            )
        return out

    def _check_reference(self, f: FieldDef, value: Any) -> Any:
        if f.type != "reference" or value is None:
            return value
        full = normalize_id(value)
        target = self.object_for_id(full) if full else None
        if full is None or target is None or target.name not in f.reference_to:
            label = f.label + " ID" if not f.label.endswith("ID") else f.label
            raise SfError(
                "MALFORMED_ID", f"{label}: id value of incorrect type: {value}", fields=[f.name]
            )
        rec = self.records[target.name].get(full)
        if rec is None:
            raise SfError(
                "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", fields=[f.name]
            )
        if rec["IsDeleted"]:
            raise SfError("ENTITY_IS_DELETED", "entity is deleted", fields=[f.name])
        return full

    def _check_required(self, obj: ObjectDef, rec: Record) -> None:
        missing = [f.name for f in obj.fields.values() if f.required and rec.get(f.name) is None]
        if missing:
            raise SfError(
                "REQUIRED_FIELD_MISSING",
                f"Required fields are missing: [{', '.join(missing)}]",
                fields=missing,
            )

    def create(self, sobject: str, data: dict[str, Any], user_id: str) -> str:
        """Insert one record as ``user_id``; return its 18-character id or raise :class:`SfError`."""
        with self.lock:
            obj = self.object(sobject)
            if not obj.createable:
                raise SfError("INVALID_TYPE", f"sObject type '{obj.name}' cannot be created")
            values = self._convert(obj, data, user_id, creating=True)
            rec: Record = dict.fromkeys(obj.fields)
            for f in obj.fields.values():
                if f.type == "boolean":
                    rec[f.name] = bool(f.default_checkbox)
                elif f.default_value is not None:
                    rec[f.name] = f.default_value
            if "OwnerId" in obj.fields:
                rec["OwnerId"] = user_id
            rec.update(values)
            return self._insert(obj, rec, user_id, trigger=True)

    def insert_system(self, sobject: str, values: Record) -> str:
        """Insert already-typed values, bypassing API write checks (org setup and seeding)."""
        with self.lock:
            obj = self.object(sobject)
            rec: Record = dict.fromkeys(obj.fields)
            for f in obj.fields.values():
                if f.type == "boolean":
                    rec[f.name] = bool(f.default_checkbox)
            if "OwnerId" in obj.fields:
                rec["OwnerId"] = self.integration_user_id
            rec.update(values)
            return self._insert(obj, rec, self.integration_user_id or "", trigger=True)

    def _insert(self, obj: ObjectDef, rec: Record, user_id: str, *, trigger: bool) -> str:
        record_id = self.ids.new(obj.key_prefix)
        rec["Id"] = record_id
        if trigger:
            triggers.before_write(self, obj, rec, None, user_id)
        self._check_required(obj, rec)
        self._stamp(rec, user_id or record_id, created=True)
        self._journal(obj.name, record_id)
        self.records[obj.name][record_id] = rec
        if trigger:
            triggers.after_insert(self, obj, rec, user_id)
        return record_id

    def _live(self, obj: ObjectDef, record_id: str) -> tuple[str, Record]:
        full = normalize_id(record_id)
        rec = self.records[obj.name].get(full) if full else None
        if full is None or rec is None:
            raise SfError("NOT_FOUND", "The requested resource does not exist", status=404)
        if rec["IsDeleted"]:
            raise SfError("ENTITY_IS_DELETED", "entity is deleted", status=404)
        return full, rec

    def update(self, sobject: str, record_id: str, data: dict[str, Any], user_id: str) -> None:
        """Update one record; every write bumps ``SystemModstamp`` even if nothing changed."""
        with self.lock:
            obj = self.object(sobject)
            full, old = self._live(obj, record_id)
            values = self._convert(obj, data, user_id, creating=False)
            rec = {**old, **values}
            triggers.before_write(self, obj, rec, old, user_id)
            self._check_required(obj, rec)
            self._stamp(rec, user_id, created=False)
            self._journal(obj.name, full)
            self.records[obj.name][full] = rec

    def touch(self, sobject: str, record_id: str, values: Record) -> None:
        """Platform-side change to another row inside the current save (journaled, stamped)."""
        with self.lock:
            self._journal(sobject, record_id)
            rec = {**self.records[sobject][record_id], **values}
            self._stamp(rec, self.integration_user_id, created=False)
            self.records[sobject][record_id] = rec

    def delete(self, sobject: str, record_id: str, user_id: str) -> None:
        """Soft-delete into the recycle bin; children of master-detail parents go with it."""
        with self.lock:
            obj = self.object(sobject)
            if not obj.deletable:
                raise SfError("INVALID_TYPE", f"sObject type '{obj.name}' cannot be deleted")
            full, _ = self._live(obj, record_id)
            triggers.before_delete(self, obj, self.records[obj.name][full])
            self._soft_delete(obj.name, full, user_id)

    def _soft_delete(self, sobject: str, record_id: str, user_id: str) -> None:
        self._journal(sobject, record_id)
        rec = dict(self.records[sobject][record_id])
        rec["IsDeleted"] = True
        self._stamp(rec, user_id, created=False)
        self.records[sobject][record_id] = rec
        self.deleted_log.append((sobject, record_id, rec["SystemModstamp"]))
        for child, field in triggers.CASCADE.get(sobject, ()):
            for row in self.rows(child):
                if row.get(field) == record_id:
                    self._soft_delete(child, row["Id"], user_id)

    def hard_delete(self, sobject: str, record_id: str, user_id: str) -> None:
        """Delete bypassing the recycle bin (Bulk ``hardDelete``); only the delete log remains."""
        with self.lock:
            obj = self.object(sobject)
            full, _ = self._live(obj, record_id)
            self._soft_delete(obj.name, full, user_id)
            self._journal(obj.name, full)
            del self.records[obj.name][full]
