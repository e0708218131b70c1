"""Pull companies and contacts incrementally, with their associations, archives and merges.

Each page is one capped-search walk step (:func:`~crm_sync.adapters.hubspot.paging.walk_search`):
``lastmodifieddate`` for contacts and ``hs_lastmodifieddate`` for companies (facts §4.6, Gotcha 9),
ascending, restarted from the last timestamp seen, so 25,000 records modified in one window come
back once each. Records become crm_sync :class:`~crm_sync.model.Company` /
:class:`~crm_sync.model.Contact` values through the mapping's ``pull`` section (source property,
optional value translation; an unlisted value is unknown, never a guess). ``current`` carries the
CRM's present value of every property crm_sync writes, so the engine diffs against the CRM.

* **Contact → company** comes from associations v4 (one batch read per page, facts §4.5); the
  primary association (type 1) wins, else the lowest company id.
* **Chains**: a company's parent is ``hs_parent_company_id``.
* **Purchase potential** rides on company pages from ``crm_purchase_potential`` /
  ``crm_potential_valid_from`` when the portal has them (an admin-created pair of properties).
* **Deletions**: search never returns archived records (facts §4.7), so after an incremental
  walk the archived list (``?archived=true``) is read and records archived since the window start
  are reported in ``deleted``; merged-away ids listed in ``hs_merged_object_ids`` of a surviving
  record are reported too.
* **List memberships**: a pull field may name a HubSpot list (``{list: "Newsletter"}``) instead
  of a property. Adding a record to a list does not change its ``lastmodifieddate``, so no record
  walk can notice it: after every pull of a stream (full or incremental) each such list is found
  by name (Lists v3) and all its memberships are read (``after`` paging) into one snapshot page
  (:attr:`~crm_sync.adapters.base.PullPage.memberships`); record pages never set the field.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

from crm_sync.adapters.base import Cursor, EntityName, PullPage, Stream
from crm_sync.adapters.hubspot.client import HubSpotClient
from crm_sync.adapters.hubspot.paging import (
    AfterCursor,
    inline_links,
    iso_to_ms,
    walk_list,
    walk_search,
)
from crm_sync.adapters.hubspot.workflows import OBJECT_TYPE_IDS
from crm_sync.errors import ConfigError, PermanentError
from crm_sync.mapping.load import MappingFile
from crm_sync.mapping.schema import PullField
from crm_sync.model import Company, Contact, PurchasePotential
from crm_sync.model.records import Role

__all__ = ["MODIFIED", "SEARCH_PAGE", "RecordPuller", "ms_to_dt"]

MODIFIED = {"contacts": "lastmodifieddate"}  # every other object: hs_lastmodifieddate
POTENTIAL, POTENTIAL_FROM = "crm_purchase_potential", "crm_potential_valid_from"
MERGED = "hs_merged_object_ids"
SEARCH_PAGE = 200  # the search maximum (facts §2.6): fewest searches under the 5/s limit
_CORE = {
    "company": {"name", "industry", "country", "first_touch_source", "lifecycle_stage", "owner"},
    "contact": {"role", "department", "first_touch_source", "lifecycle_stage", "owner", "email"},
}
_BASE_PROPS = {
    "company": ["name", "hubspot_owner_id", "hs_parent_company_id", POTENTIAL, POTENTIAL_FROM],
    "contact": ["email", "firstname", "lastname", "hubspot_owner_id"],
}


def modified_property(object_type: str) -> str:
    """Facts Gotcha 9: ``lastmodifieddate`` for contacts, ``hs_lastmodifieddate`` elsewhere."""
    return MODIFIED.get(object_type, "hs_lastmodifieddate")


def ms_to_dt(ms: int) -> dt.datetime:
    """Epoch ms → aware UTC datetime."""
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)


def since_ms(since: Cursor | None) -> int:
    """The window start in epoch ms (0 for a first, full pull)."""
    return int(since.modified_at.timestamp() * 1000) if since is not None else 0


def _translate(field: PullField, raw: str | None) -> str | None:
    if raw in (None, ""):
        return None
    if field.values is None:
        return raw
    parts = raw.split(";")  # a multi-checkbox source: the first mapped value in mapping order
    for crm_value, model_value in field.values.items():
        if crm_value in parts:
            return model_value
    return None


class RecordPuller:
    """Streams ``companies`` and ``contacts`` pages for the adapter."""

    def __init__(self, client: HubSpotClient, mapping: MappingFile) -> None:
        self.client = client
        self.mapping = mapping
        self.emails: dict[str, str] = {}  # email (lower) → contact id, for email events

    def object_type(self, entity: EntityName) -> str:
        """The HubSpot object of an entity (``companies``/``contacts``)."""
        return str(getattr(self.mapping.doc.objects, entity).object)

    def _fields(self, entity: EntityName) -> Mapping[str, PullField]:
        return self.mapping.doc.pull.get(entity, {})

    def pull(
        self, stream: Stream, since: Cursor | None, properties: Sequence[str], page_size: int
    ) -> Iterator[PullPage]:
        """Pages of one record stream, then (incremental pulls only) a page of deletions."""
        entity: EntityName = "company" if stream == "companies" else "contact"
        object_type = self.object_type(entity)
        modified = modified_property(object_type)
        sources = [f.source for f in self._fields(entity).values() if f.source]
        wanted = list(dict.fromkeys([*_BASE_PROPS[entity], *sources, *properties, MERGED]))
        start = since_ms(since)
        if since is None:
            yield from self._full(
                stream,
                entity=entity,
                object_type=object_type,
                modified=modified,
                wanted=wanted,
                properties=properties,
            )
            yield from self._memberships(stream, entity, object_type)
            return
        pages = walk_search(
            lambda body: self.client.search(object_type, body).data or {},
            modified_prop=modified,
            since_ms=start,
            properties=wanted,
            page_size=SEARCH_PAGE,
        )
        merged: set[str] = set()
        for rows in pages:
            for row in rows:
                merged.update(
                    m for m in (row["properties"].get(MERGED) or "").split(";") if m.strip()
                )
            yield self._page(
                stream,
                entity=entity,
                modified=modified,
                rows=rows,
                properties=properties,
            )
        gone = self._archived(object_type, start) | merged
        if gone:
            yield PullPage(stream, None, deleted=tuple(sorted(gone)))
        yield from self._memberships(stream, entity, object_type)

    def _memberships(
        self, stream: Stream, entity: EntityName, object_type: str
    ) -> Iterator[PullPage]:
        """One snapshot page per mapped list field: every current member of the named list.

        A list is looked up by name on every pull (it may have been renamed or recreated), never
        created: a pull field naming a list that does not exist is a configuration error.
        """
        for name, list_name in self.mapping.list_fields(entity).items():
            list_id = self._list_id(list_name, entity, object_type)
            members: set[str] = set()
            pager = AfterCursor("GET /crm/v3/lists/{id}/memberships")
            after: str | None = None
            while True:
                data = self.client.list_members(list_id, after).data
                members.update(str(r["recordId"]) for r in (data or {}).get("results") or [])
                if not pager.advance(data):
                    break
                after = pager.token
            yield PullPage(stream, None, memberships={name: frozenset(members)})

    def _list_id(self, list_name: str, entity: EntityName, object_type: str) -> str:
        type_id = OBJECT_TYPE_IDS.get(object_type)
        if type_id is None:
            msg = f"pull.{entity}: list membership needs contacts or companies, not {object_type!r}"
            raise ConfigError(msg)
        try:
            data = self.client.list_by_name(type_id, list_name).data or {}
        except PermanentError as exc:
            if exc.status != 404:
                raise
            msg = (
                f"HubSpot has no {object_type} list named {list_name!r} (mapping pull.{entity}); "
                "create it in HubSpot or fix the name in the mapping"
            )
            raise ConfigError(msg) from None
        return str((data.get("list") or data)["listId"])

    def _full(
        self,
        stream: Stream,
        *,
        entity: EntityName,
        object_type: str,
        modified: str,
        wanted: list[str],
        properties: Sequence[str],
    ) -> Iterator[PullPage]:
        """First pull: the id-ordered listing; only the last page carries the cursor (max time)."""
        assoc = [self.object_type("company")] if entity == "contact" else []
        pages = walk_list(
            lambda after: (
                self.client.list_page(
                    object_type, properties=wanted, after=after, associations=assoc
                ).data
                or {}
            ),
            f"GET /crm/v3/objects/{object_type}",
        )
        best: tuple[int, str] | None = None
        pending: PullPage | None = None
        for rows in pages:
            for row in rows:
                key = (iso_to_ms(row["properties"].get(modified)) or 0, str(row["id"]))
                best = key if best is None or key > best else best
            if pending is not None:
                yield replace(pending, cursor=None)
            pending = self._page(
                stream, entity=entity, modified=modified, rows=rows, properties=properties
            )
        if pending is not None and best is not None:
            yield replace(pending, cursor=Cursor(ms_to_dt(best[0]), best[1]))

    def _page(
        self,
        stream: Stream,
        *,
        entity: EntityName,
        modified: str,
        rows: list[dict[str, Any]],
        properties: Sequence[str],
    ) -> PullPage:
        last = rows[-1]
        cursor = Cursor(ms_to_dt(iso_to_ms(last["properties"][modified]) or 0), str(last["id"]))
        current = {
            str(r["id"]): {p: (r["properties"].get(p) or None) for p in properties} for r in rows
        }
        if entity == "contact":
            inline = {str(r["id"]): inline_links(r, self.object_type("company")) for r in rows}
            if any(v is None for v in inline.values()):
                companies = self._companies_of([str(r["id"]) for r in rows])
            else:
                companies = {k: min(v, key=int) for k, v in inline.items() if v}
            contacts = tuple(self._contact(r, modified, companies) for r in rows)
            return PullPage(stream, cursor, contacts=contacts, current=current)
        comps = tuple(self._company(r, modified) for r in rows)
        pots = tuple(p for r in rows if (p := self._potential(r)) is not None)
        return PullPage(stream, cursor, companies=comps, potentials=pots, current=current)

    def _mapped(self, entity: EntityName, props: Mapping[str, Any]) -> dict[str, Any]:
        core: dict[str, Any] = {}
        attributes: dict[str, Any] = {}
        for name, field in self._fields(entity).items():
            if field.source is None:
                continue  # a list field: set by the membership snapshot, never by a record page
            value = _translate(field, props.get(field.source))
            if name == "role" and value not in {r.value for r in Role}:
                value = None
            (core if name in _CORE[entity] else attributes)[name] = value
        core["attributes"] = {k: v for k, v in attributes.items() if v is not None}
        return core

    def _contact(self, row: dict[str, Any], modified: str, companies: Mapping[str, str]) -> Contact:
        props = row["properties"]
        rid = str(row["id"])
        email = props.get("email") or None
        if email:
            self.emails[email.lower()] = rid
        data: dict[str, Any] = {
            "id": rid,
            "company_id": companies.get(rid),
            "email": email,
            "first_name": props.get("firstname") or "",
            "last_name": props.get("lastname") or "",
            "owner": props.get("hubspot_owner_id") or None,
            "modified_at": ms_to_dt(iso_to_ms(props.get(modified)) or 0),
        }
        data.update(self._mapped("contact", props))
        return Contact.model_validate(data)

    def _company(self, row: dict[str, Any], modified: str) -> Company:
        props = row["properties"]
        rid = str(row["id"])
        parent = props.get("hs_parent_company_id") or None
        data: dict[str, Any] = {
            "id": rid,
            "name": props.get("name") or "",
            "parent_id": parent if parent != rid else None,
            "owner": props.get("hubspot_owner_id") or None,
            "modified_at": ms_to_dt(iso_to_ms(props.get(modified)) or 0),
        }
        data.update(self._mapped("company", props))
        return Company.model_validate(data)

    @staticmethod
    def _potential(row: dict[str, Any]) -> PurchasePotential | None:
        props = row["properties"]
        amount, valid = props.get(POTENTIAL), props.get(POTENTIAL_FROM)
        if amount in (None, "") or valid in (None, ""):
            return None
        try:
            stamp = iso_to_ms(valid)
            return PurchasePotential(
                company_id=str(row["id"]),
                annual_amount=max(0.0, float(amount)),
                valid_from=ms_to_dt(stamp).date() if stamp is not None else dt.date.min,
            )
        except ValueError:
            return None

    def _companies_of(self, contact_ids: list[str]) -> dict[str, str]:
        """Contact → company via associations v4 (primary type 1 first, else lowest id)."""
        company_type = self.object_type("company")
        data = self.client.associations(self.object_type("contact"), company_type, contact_ids).data
        out: dict[str, str] = {}
        for item in (data or {}).get("results") or []:
            targets = item.get("to") or []
            if not targets:
                continue
            primary = [
                t
                for t in targets
                if any(a.get("typeId") == 1 for a in t.get("associationTypes") or [])
            ]
            chosen = min(primary or targets, key=lambda t: int(t["toObjectId"]))
            out[str(item["from"]["id"])] = str(chosen["toObjectId"])
        return out

    def _archived(self, object_type: str, start: int) -> set[str]:
        """Ids archived at or after ``start`` (the archived list has no time filter)."""
        gone: set[str] = set()
        pager = AfterCursor(f"GET /crm/v3/objects/{object_type}?archived=true")
        after: str | None = None
        while True:
            data = self.client.list_page(
                object_type, properties=["hs_object_id"], archived=True, after=after
            ).data
            for row in (data or {}).get("results") or []:
                stamp = iso_to_ms(row.get("archivedAt") or row.get("updatedAt"))
                if stamp is None or stamp >= start:
                    gone.add(str(row["id"]))
            if not pager.advance(data):
                return gone
            after = pager.token
