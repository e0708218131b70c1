"""``HubSpotAdapter``: the :class:`~crm_sync.adapters.base.CrmAdapter` for HubSpot, plus capabilities.

It only wires collaborators together — each HubSpot quirk lives in the module that handles it:
``client`` (SDK, auth refresh, per-token pacing), ``pull``/``activities`` (search cap, archives,
associations, events), ``push`` (207, whole-batch 400, tag sets, lifecycle), ``provision``
(plan/apply/drift) and ``workflows`` (lists, enrollment). It speaks crm_sync value types only and
classifies failures without retrying them (``sync/retry.py`` is the one retry policy).

Record ids are HubSpot object ids; the account (the lease and state key) is the portal id when
``/account-info/v3/details`` answers, else a hash of the credentials (sandboxes lack that endpoint).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import ClassVar

from crm_sync.adapters.base import (
    Cursor,
    EnsureResult,
    EntityName,
    PropertySpec,
    PullPage,
    PushResult,
    RecordUpdate,
    RemoteProperty,
    RequestHook,
    Stream,
)
from crm_sync.adapters.hubspot.activities import ActivityPuller
from crm_sync.adapters.hubspot.client import HubSpotClient
from crm_sync.adapters.hubspot.provision import Provisioner, wanted_properties
from crm_sync.adapters.hubspot.pull import RecordPuller
from crm_sync.adapters.hubspot.push import BATCH_LIMIT, Pusher
from crm_sync.adapters.hubspot.workflows import Workflows
from crm_sync.adapters.provisioning import ProvisionPlan, ProvisionResult
from crm_sync.errors import AdapterError
from crm_sync.mapping.load import MappingFile

__all__ = ["HubSpotAdapter"]


class HubSpotAdapter:
    """One HubSpot portal, reached through :class:`HubSpotClient`.

    .. versionadded:: 0.1
    """

    crm: ClassVar[str] = "hubspot"
    max_batch: ClassVar[int] = BATCH_LIMIT

    def __init__(
        self,
        client: HubSpotClient,
        mapping: MappingFile,
        *,
        account: str | None = None,
        fresh_tags: bool = True,
    ) -> None:
        self.client = client
        self.mapping = mapping
        self.account = account or self._account()
        self.provisioner = Provisioner(client, self.account, group_label=mapping.doc.group_label)
        self.records = RecordPuller(client, mapping)
        self.activities = ActivityPuller(client, self.records.emails)
        self.pusher = Pusher(
            client,
            ensure_options=self.provisioner.ensure_options,
            stage_order=self.provisioner.stage_order,
            fresh_tags=fresh_tags,
        )
        self.workflows = Workflows(client, mapping)

    def _account(self) -> str:
        try:
            data = self.client.account_details().data or {}
        except AdapterError:
            data = {}
        portal = data.get("portalId")
        return str(portal) if portal else self.client.auth.key

    def object_type(self, entity: EntityName) -> str:
        """``companies`` / ``contacts`` (or what the mapping names)."""
        return self.records.object_type(entity)

    # -- CrmAdapter ----------------------------------------------------------------------------
    def describe(self, entity: EntityName) -> Sequence[RemoteProperty]:
        """Custom properties of the entity's object."""
        return self.provisioner.describe(self.object_type(entity))

    def ensure_properties(self, specs: Sequence[PropertySpec]) -> EnsureResult:
        """Create missing properties and options (never removes any)."""
        return self.provisioner.ensure(specs, {})

    def pull(
        self, stream: Stream, since: Cursor | None, *, properties: Sequence[str], page_size: int
    ) -> Iterator[PullPage]:
        """Lazy pages in ``(modified_at, id)`` order from ``since`` inclusive."""
        if stream == "activities":
            return self.activities.pull(since, page_size)
        return self.records.pull(stream, since, properties, page_size)

    def push(self, updates: Sequence[RecordUpdate]) -> PushResult:
        """One batch (≤100, one entity); then the mapping's list/enrollment triggers."""
        if not updates:
            return PushResult()
        object_type = self.object_type(updates[0].entity)
        result = self.pusher.push(object_type, updates)
        if result.accepted:
            self.workflows.after_push(object_type, updates, set(result.accepted))
        return result

    def api_calls(self) -> Mapping[str, int]:
        """HTTP requests so far, by endpoint."""
        return dict(self.client.calls)

    def set_request_hook(self, hook: RequestHook | None) -> None:
        """Called before every HTTP request (the distributed rate budget charges per request)."""
        self.client.request_hook = hook

    # -- SupportsProvisioning --------------------------------------------------------------
    def plan_provision(self, mapping: MappingFile, *, force: bool = False) -> ProvisionPlan:
        """Compare ``mapping`` with the portal; reads only."""
        return self.provisioner.plan(wanted_properties(mapping))

    def apply_provision(self, plan: ProvisionPlan, *, force: bool = False) -> ProvisionResult:
        """Execute ``plan``; option removals that would orphan data need ``force``."""
        return self.provisioner.apply(plan, force=force)

    # -- SupportsListMembership / SupportsWorkflowEnrollment -----------------------------------
    def set_list_membership(
        self, list_name: str, add: Sequence[str], remove: Sequence[str]
    ) -> PushResult:
        """Keep a MANUAL contact list in step (Lists v3)."""
        return self.workflows.set_list_membership(list_name, add, remove)

    def enroll(self, workflow_id: int, emails: Sequence[str]) -> PushResult:
        """Enrol contacts in a legacy v2 workflow by e-mail."""
        return self.workflows.enroll(workflow_id, emails)
