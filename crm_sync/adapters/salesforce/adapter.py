"""``SalesforceAdapter``: the engine's seam to one org, assembled from the modules beside it.

Batch size: with Bulk enabled, :attr:`max_batch` is the Bulk chunk (default 50,000) so the engine
hands over large batches; a batch below ``bulk_threshold`` (default 2,000) goes out as sObject
Collections of 200, one API call each, and a batch at or above it as one Bulk API 2.0 job
(facts §2.2). With ``bulk_threshold=None`` the adapter is collections-only and
``max_batch`` is 200.

Before writing, values for restricted picklists are checked against describe; a value the org
lacks is provisioned first (Metadata API), because one unknown value fails the whole record
(Gotcha 9). The adapter classifies failures and never retries whole calls — that is
``sync/retry.py``'s job; the one exception is the per-record ``UNABLE_TO_LOCK_ROW`` re-send, which
runs under that same policy.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from crm_sync.adapters import provisioning as shared
from crm_sync.adapters.base import (
    Cursor,
    EnsureResult,
    EntityName,
    PropertySpec,
    PullPage,
    PushResult,
    RecordRejection,
    RecordUpdate,
    RemoteProperty,
    RequestHook,
    Stream,
)
from crm_sync.adapters.salesforce import provision
from crm_sync.adapters.salesforce.auth import token_source_from_env
from crm_sync.adapters.salesforce.bulk import BULK_THRESHOLD, bulk_update
from crm_sync.adapters.salesforce.client import DEFAULT_VERSION, SalesforceClient
from crm_sync.adapters.salesforce.provision import from_shared, to_shared
from crm_sync.adapters.salesforce.pull import PullConfig, pull_stream
from crm_sync.adapters.salesforce.push import Routing, Row, merge_results, send_collections
from crm_sync.adapters.salesforce.workflows import invoke_flow, set_campaign_members
from crm_sync.errors import ConfigError, PermanentError
from crm_sync.sync.retry import RetryPolicy

__all__ = ["SalesforceAdapter", "from_settings"]

BULK_CHUNK = 50_000  # rows per Bulk job; one CSV upload well under the 100 MB cap (facts §2.2)
# initial_wait_s stays 1.0: tenacity 9 deprecates other values of wait_exponential_jitter(initial=)
LOCK_POLICY = RetryPolicy(max_attempts=5, deadline_s=120.0, max_wait_s=10.0, initial_wait_s=1.0)


class SalesforceAdapter:
    """One Salesforce org (see the module docstring for batching and picklist provisioning)."""

    crm = "salesforce"

    def __init__(
        self,
        client: SalesforceClient,
        *,
        mapping: Any = None,
        account: str | None = None,
        bulk_threshold: int | None = BULK_THRESHOLD,
        bulk_chunk: int = BULK_CHUNK,
        bulk_poll_s: float = 2.0,
        lock_policy: RetryPolicy = LOCK_POLICY,
        sleep: Callable[[float], None] = time.sleep,
        person_accounts: bool | None = None,
        email_messages: bool = False,
    ) -> None:
        self.client = client
        self.mapping = mapping
        self.account = account or client.host
        self.bulk_threshold = bulk_threshold
        self.bulk_chunk = bulk_chunk
        self.bulk_poll_s = bulk_poll_s
        self.lock_policy = lock_policy
        self.sleep = sleep
        doc = getattr(mapping, "doc", None)
        objects = getattr(doc, "objects", None)
        leads = getattr(objects, "leads", None)
        self.routing = Routing(
            company=objects.company.object if objects else "Account",
            contact=objects.contact.object if objects else "Contact",
            leads=bool(leads and leads.enabled),
            person_accounts=bool(person_accounts),
        )
        self._person_accounts = person_accounts
        pull_map: dict[str, dict[str, tuple[str, Mapping[str, str] | None]]] = {}
        for entity, fields in (getattr(doc, "pull", None) or {}).items():
            pull_map[entity] = {k: (v.source, v.values) for k, v in fields.items()}
        self.pull_config = PullConfig(
            company_object=self.routing.company,
            contact_object=self.routing.contact,
            leads=self.routing.leads,
            email_messages=email_messages,
            pull=pull_map,
        )
        self._describe: dict[str, dict[str, dict[str, Any]]] = {}

    # --- sizing and accounting --------------------------------------------------------------

    @property
    def max_batch(self) -> int:
        """Largest batch :meth:`push` takes: the Bulk chunk, or 200 when Bulk is off."""
        return 200 if self.bulk_threshold is None else self.bulk_chunk

    def api_calls(self) -> Mapping[str, int]:
        """Calls made so far, by operation (collections, bulk2.*, query, ...)."""
        return dict(self.client.calls)

    def set_request_hook(self, hook: RequestHook | None) -> None:
        """Called before every API call (the distributed rate budget charges per request)."""
        self.client.request_hook = hook

    # --- describe and provisioning ------------------------------------------------------------

    def _fields(self, sobject: str, *, fresh: bool = False) -> dict[str, dict[str, Any]]:
        if fresh or sobject not in self._describe:
            self._describe[sobject] = provision.describe_fields(self.client, sobject)
        return self._describe[sobject]

    def has_person_accounts(self) -> bool:
        """Person Accounts are on when Account describes ``IsPersonAccount`` (facts §7)."""
        if self._person_accounts is None:
            self._person_accounts = "IsPersonAccount" in self._fields("Account")
            self.routing = Routing(
                self.routing.company,
                self.routing.contact,
                self.routing.leads,
                self._person_accounts,
            )
        return self._person_accounts

    def describe(self, entity: EntityName) -> Sequence[RemoteProperty]:
        """Custom fields of the entity's object that the integration user can see."""
        sobject = self.routing.company if entity == "company" else self.routing.contact
        return [
            RemoteProperty(
                str(f["name"]),
                str(f["type"]),
                tuple(str(v["value"]) for v in f.get("picklistValues") or []),
                str(f.get("label") or ""),
            )
            for f in self._fields(sobject, fresh=True).values()
            if f.get("custom")
        ]

    def _targets(self, specs: Sequence[PropertySpec]) -> list[tuple[str, PropertySpec]]:
        out = [(s.object, s) for s in specs]
        if self.routing.leads:
            out += [("Lead", s) for s in specs if s.entity == "contact"]
        return out

    def plan_provision(self, mapping: Any = None, *, force: bool = False) -> shared.ProvisionPlan:
        """The shared plan (SupportsProvisioning): one step per field to create, grant or extend.

        Each step's payload is the Salesforce :class:`~.provision.FieldPlan`, so ``--apply``
        executes exactly what was printed. Drifted fields get a ``needs_force`` redeclare step.
        """
        return to_shared(self._plan(mapping), self.account, force=force)

    def _plan(self, mapping: Any = None) -> provision.ProvisionPlan:
        from crm_sync.mapping.plan import property_specs  # noqa: PLC0415 - avoids an import cycle

        specs = property_specs(mapping or self.mapping)
        return provision.plan_provision(self.client, self._targets(specs))

    def apply_provision(
        self, plan: shared.ProvisionPlan | provision.ProvisionPlan, *, force: bool = False
    ) -> shared.ProvisionResult:
        """Create fields, add picklist values, grant FLS; idempotent."""
        own = from_shared(plan) if isinstance(plan, shared.ProvisionPlan) else plan
        done = provision.apply_provision(self.client, own, force=force)
        self._describe.clear()
        if done.failed:
            first = next(iter(done.failed.items()))
            msg = (
                f"provisioning failed for {len(done.failed)} field(s), e.g. {first[0]}: {first[1]}"
            )
            raise PermanentError(msg, crm="salesforce", operation="provision")
        touched = set(done.created) | set(done.granted) | set(done.options_added)
        steps = to_shared(own, self.account, force=True).steps
        applied = tuple(s for s in steps if f"{s.object}.{s.name}" in touched)
        skipped = tuple(s for s in steps if s.needs_force and not force)
        return shared.ProvisionResult(applied, skipped)

    def ensure_properties(self, specs: Sequence[PropertySpec]) -> EnsureResult:
        """Plan and apply for ``specs`` (fields on every routed object)."""
        plan = provision.plan_provision(self.client, self._targets(specs))
        result = self.apply_provision(plan)
        created = tuple(x.name for x in result.applied if x.action == "create_or_grant")
        updated = tuple(x.name for x in result.applied if x.action != "create_or_grant")
        return EnsureResult(created=created, updated=updated)

    # --- pull ----------------------------------------------------------------------------------

    def pull(
        self, stream: Stream, since: Cursor | None, *, properties: Sequence[str], page_size: int
    ) -> Iterator[PullPage]:
        """Pages in ``(SystemModstamp, Id)`` order from ``since`` inclusive."""
        self.pull_config.person_accounts = self.has_person_accounts()
        return pull_stream(
            self.client,
            self.pull_config,
            stream,
            since,
            properties=properties,
            page_size=min(page_size, 2000),
        )

    # --- push ----------------------------------------------------------------------------------

    def push(self, updates: Sequence[RecordUpdate]) -> PushResult:
        """Collections below the Bulk threshold, one Bulk job per object at or above it."""
        if not updates:
            return PushResult()
        if any(u.record_id.startswith("001") for u in updates if u.entity == "contact"):
            self.has_person_accounts()
        rows, unroutable = self.routing.rows(updates)
        rows, refused = self._provision_values(rows)
        results = [PushResult(rejected=tuple(unroutable + refused))]
        if self.bulk_threshold is not None and len(rows) >= self.bulk_threshold:
            results += self._bulk(rows)
        else:
            results.append(self._collections(rows))
        return merge_results(results)

    def _collections(self, rows: Sequence[Row]) -> PushResult:
        return send_collections(self.client, rows, lock_policy=self.lock_policy, sleep=self.sleep)

    def _bulk(self, rows: Sequence[Row]) -> list[PushResult]:
        out: list[PushResult] = []
        for sobject in sorted({r.sobject for r in rows}):
            mine = [r for r in rows if r.sobject == sobject]
            done = bulk_update(
                self.client, sobject, mine, poll_s=self.bulk_poll_s, sleep=self.sleep
            )
            out.append(PushResult(tuple(done.accepted), tuple(done.rejected)))
            if done.locked:  # row locks: re-send just those rows, per record (facts §5)
                out.append(self._collections(done.locked))
        return out

    def _provision_values(self, rows: list[Row]) -> tuple[list[Row], list[RecordRejection]]:
        """Add restricted-picklist values the org lacks before any record needs them."""
        missing: dict[tuple[str, str], set[str]] = {}
        for row in rows:
            described = self._fields(row.sobject)
            for name, value in row.fields.items():
                f = described.get(name)
                if value is None or f is None or not f.get("restrictedPicklist"):
                    continue
                have = {str(v["value"]) for v in f.get("picklistValues") or []}
                wanted = str(value).split(";") if f.get("type") == "multipicklist" else [str(value)]
                lacking = {v for v in wanted if v and v not in have}
                if lacking:
                    missing.setdefault((row.sobject, name), set()).update(lacking)
        failed: dict[tuple[str, str], str] = {}
        for (sobject, name), values in sorted(missing.items()):
            try:
                provision.add_picklist_values(
                    self.client, sobject, name, self._fields(sobject)[name], sorted(values)
                )
            except PermanentError as exc:
                failed[(sobject, name)] = str(exc)
            self._fields(sobject, fresh=True)
        if not failed:
            return rows, []
        keep: list[Row] = []
        refused: list[RecordRejection] = []
        for row in rows:
            reason = next(
                (failed[(row.sobject, n)] for n in row.fields if (row.sobject, n) in failed), None
            )
            if reason is None:
                keep.append(row)
            else:
                refused.append(
                    RecordRejection(
                        row.record_id, reason, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
                    )
                )
        return keep, refused

    # --- workflows -----------------------------------------------------------------------------

    def set_campaign_members(
        self, campaign_id: str, add: Sequence[str], remove: Sequence[str]
    ) -> PushResult:
        """One CampaignMember row per tagged contact or lead (SupportsCampaignMembers)."""
        return set_campaign_members(self.client, campaign_id, add, remove)

    def invoke_flow(self, flow: str, record_ids: Sequence[str]) -> PushResult:
        """Run an autolaunched flow once per record (SupportsFlows)."""
        return invoke_flow(self.client, flow, record_ids)


def from_settings(
    settings: Any, mapping: Any, *, env: Mapping[str, str] | None = None, **options: Any
) -> SalesforceAdapter:
    """Build the adapter from ``CRM_SYNC_SALESFORCE_INSTANCE_URL`` and the token variables.

    ``SALESFORCE_ACCESS_TOKEN`` alone works against any Salesforce-compatible endpoint; see
    :mod:`crm_sync.adapters.salesforce.auth` for the refreshable OAuth flows.
    ``CRM_SYNC_SALESFORCE_API_VERSION`` (default 59.0) and ``CRM_SYNC_SALESFORCE_BULK_THRESHOLD``
    (default 2000; ``0`` turns Bulk off) tune the client.
    """
    env = dict(os.environ if env is None else env)
    url = getattr(settings, "salesforce_instance_url", None) or env.get(
        "CRM_SYNC_SALESFORCE_INSTANCE_URL"
    )
    if not url:
        msg = "set CRM_SYNC_SALESFORCE_INSTANCE_URL to your org's https:// My Domain URL"
        raise ConfigError(msg)
    secret = getattr(settings, "salesforce_access_token", None)
    token = secret.get_secret_value() if secret is not None else None
    version = env.get("CRM_SYNC_SALESFORCE_API_VERSION", DEFAULT_VERSION)
    holder: list[SalesforceClient] = []

    def post(target: str, form: Mapping[str, str]) -> tuple[int, Any]:
        return holder[0].post_form(target, form)

    tokens = token_source_from_env(env, url, post, access_token=token)
    client = SalesforceClient(url, tokens, version=version)
    holder.append(client)
    threshold = env.get("CRM_SYNC_SALESFORCE_BULK_THRESHOLD")
    if threshold is not None and "bulk_threshold" not in options:
        options["bulk_threshold"] = int(threshold) or None
    return SalesforceAdapter(client, mapping=mapping, **options)
