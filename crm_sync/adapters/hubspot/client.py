"""The only module that imports ``hubspot``: a thin, typed wrapper over hubspot-api-client 12.

Why a wrapper: the SDK's generated sub-APIs each build their own pool on every attribute access
(facts §1.5, Gotcha 13), raise per-package exceptions with no common base (Gotcha 12), and parse
every answer into models — slowly (``dateutil`` on every timestamp, ~40 ms per batch answer) and
lossily (unknown fields dropped). So this client caches the sub-APIs it uses, calls them with
``_preload_content=False`` and reads the raw JSON, and turns every failure into a
:mod:`crm_sync.errors` exception through :func:`~crm_sync.adapters.hubspot.errors.translate`.

Endpoints the SDK does not wrap (marketing email events v1, events v3 reads, v2 workflow
enrollment, the OAuth token endpoint) go through ``client.api_request`` (facts §1.5), which uses
``requests``, never raises on 4xx/5xx and ignores ``host`` — so both ``host`` and ``base_url``
point at ``CRM_SYNC_HUBSPOT_BASE_URL`` (facts §1.2, Gotcha 1).

No retries happen here: urllib3's own retry is switched off (its README example would not even
retry POSTs, Gotcha 2) so that ``sync/retry.py`` stays the one retry policy. The one exception is
authentication: a 401 triggers exactly one credential refresh and one resend.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import sys
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from hubspot import HubSpot
from urllib3.util.retry import Retry

from crm_sync.adapters.base import RequestHook
from crm_sync.adapters.hubspot.auth import TokenSource
from crm_sync.adapters.hubspot.errors import translate, translate_status
from crm_sync.adapters.hubspot.ratelimit import RequestWindow, window_for
from crm_sync.errors import AuthError, ConfigError

__all__ = [
    "DEFAULT_BASE_URL",
    "HubSpotClient",
    "Reply",
    "checked_base_url",
    "exchange_refresh_token",
]

DEFAULT_BASE_URL = "https://api.hubapi.com"


def checked_base_url(base_url: str | None) -> str:
    """The base URL without a trailing slash; https only, plain http only for loopback.

    Why: the bearer token travels in every request's headers, so a typo such as
    ``http://api.hubapi.com`` must fail before anything is sent (DESIGN §6, secrets).
    """
    url = (base_url or DEFAULT_BASE_URL).rstrip("/")
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme == "https" and host:
        return url
    if parts.scheme == "http" and host:
        with contextlib.suppress(ValueError):
            if host == "localhost" or ipaddress.ip_address(host).is_loopback:
                return url
    msg = (
        f"CRM_SYNC_HUBSPOT_BASE_URL must be an https:// URL (plain http only for 127.0.0.1), "
        f"got {url!r}"
    )
    raise ConfigError(msg)


@dataclass(frozen=True, slots=True)
class Reply:
    """One 2xx answer: status (200/201/204/207), parsed JSON body, headers."""

    status: int
    data: Any
    headers: Mapping[str, str]


def _no_retry() -> Retry:
    # One attempt per request; sync/retry.py decides about retries (HubSpot Gotcha 2).
    return Retry(total=0, connect=0, read=0, redirect=0, status=0, raise_on_status=False)


def _parse(raw: bytes | str | None) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


class HubSpotClient:
    """Typed access to the HubSpot endpoints crm_sync uses; counts requests per endpoint."""

    def __init__(
        self,
        base_url: str | None,
        auth: TokenSource,
        *,
        window: RequestWindow | None = None,
        timeout_s: float = 30.0,
    ) -> None:
        self.base_url = checked_base_url(base_url)
        self.auth = auth
        self.window = window if window is not None else window_for(auth.key)
        self.timeout_s = timeout_s
        self.calls: Counter[str] = Counter()
        self.status_counts: Counter[int] = Counter()
        self.request_hook: RequestHook | None = None  # shared rate budget, if any
        self._sdk: Any = None
        self._token_in_use: str | None = None
        self._apis: dict[str, Any] = {}

    # -- plumbing ----------------------------------------------------------------------------
    def _client(self) -> Any:
        token = self.auth.token()
        if self._sdk is None or token != self._token_in_use:
            self._sdk = HubSpot(
                access_token=token, host=self.base_url, base_url=self.base_url, retry=_no_retry()
            )
            self._token_in_use = token
            self._apis.clear()  # cached sub-APIs hold the old token
        return self._sdk

    def _api(self, path: str) -> Any:
        """A cached generated sub-API, e.g. ``crm.objects.batch_api`` (Gotcha 13)."""
        sdk = self._client()
        if path not in self._apis:
            obj: Any = sdk
            for part in path.split("."):
                obj = getattr(obj, part)
            self._apis[path] = obj
        return self._apis[path]

    def _send(
        self, endpoint: str, call: Callable[[], Any], *, search: bool = False, raw: bool = False
    ) -> Reply:
        """One request under the rate window; a 401 refreshes credentials once and resends."""
        for attempt in (0, 1):
            if self.request_hook is not None:
                self.request_hook(endpoint)
            self.window.before(search=search)
            headers: Mapping[str, str] | None = None
            try:
                resp = call()
            except Exception as exc:  # per-package ApiException classes share no base (Gotcha 12)
                headers = getattr(exc, "headers", None)
                self.window.after(search=search, headers=headers)
                self.calls[endpoint] += 1
                status = getattr(exc, "status", None)
                self.status_counts[status if isinstance(status, int) else 0] += 1
                if status == 401 and attempt == 0 and self.auth.refresh():
                    continue
                raise translate(exc, operation=endpoint) from None
            status = int(getattr(resp, "status", 0) or getattr(resp, "status_code", 0))
            headers = resp.headers
            body = resp.content if raw else resp.data
            self.window.after(search=search, headers=headers)
            self.calls[endpoint] += 1
            self.status_counts[status] += 1
            if 200 <= status < 300:
                return Reply(status, _parse(body), headers)
            if status == 401 and attempt == 0 and self.auth.refresh():
                continue
            raise translate_status(status, body, headers, operation=endpoint)
        raise AssertionError("unreachable")  # pragma: no cover

    def _generated(self, endpoint: str, api: str, method: str, *args: Any, **kw: Any) -> Reply:
        def call() -> Any:
            fn = getattr(self._api(api), method)
            return fn(*args, _preload_content=False, _request_timeout=self.timeout_s, **kw)

        return self._send(endpoint, call, search=endpoint.endswith("/search"))

    def _unwrapped(
        self,
        endpoint: str,
        method: str,
        path: str,
        *,
        body: Any = None,
        qs: Mapping[str, Any] | None = None,
    ) -> Reply:
        options: dict[str, Any] = {"method": method, "path": path}
        if body is not None:
            options["body"] = body
        if qs:
            options["qs"] = dict(qs)

        def call() -> Any:
            # api_request prints transport errors on stdout; keep stdout for --json output.
            with contextlib.redirect_stdout(sys.stderr):
                return self._client().api_request(options)

        return self._send(endpoint, call, raw=True)

    # -- CRM objects -------------------------------------------------------------------------
    def batch_update(self, object_type: str, inputs: Sequence[Mapping[str, Any]]) -> Reply:
        """``POST /crm/v3/objects/{type}/batch/update`` (≤100 inputs; 200 or 207)."""
        return self._generated(
            f"POST /crm/v3/objects/{object_type}/batch/update",
            "crm.objects.batch_api",
            "update",
            object_type,
            {"inputs": list(inputs)},
        )

    def batch_read(
        self,
        object_type: str,
        ids: Sequence[str],
        properties: Sequence[str],
        *,
        id_property: str | None = None,
    ) -> Reply:
        """``POST /crm/v3/objects/{type}/batch/read`` (≤100 ids; unknown ids come back as 207)."""
        body: dict[str, Any] = {
            "inputs": [{"id": i} for i in ids],
            "properties": list(properties),
            "propertiesWithHistory": [],
        }
        if id_property:
            body["idProperty"] = id_property
        return self._generated(
            f"POST /crm/v3/objects/{object_type}/batch/read",
            "crm.objects.batch_api",
            "read",
            object_type,
            body,
            archived=False,
        )

    def search(self, object_type: str, body: Mapping[str, Any]) -> Reply:
        """``POST /crm/v3/objects/{type}/search`` (5/s per account, 10,000-result cap)."""
        return self._generated(
            f"POST /crm/v3/objects/{object_type}/search",
            "crm.objects.search_api",
            "do_search",
            object_type,
            dict(body),
        )

    def list_page(
        self,
        object_type: str,
        *,
        properties: Sequence[str],
        archived: bool = False,
        after: str | None = None,
        limit: int = 100,
        associations: Sequence[str] = (),
    ) -> Reply:
        """``GET /crm/v3/objects/{type}?archived=&after=&associations=`` (facts §4.5, §4.7)."""
        kw: dict[str, Any] = {"limit": limit, "archived": archived, "properties": list(properties)}
        if after:
            kw["after"] = after
        if associations:
            kw["associations"] = list(associations)
        return self._generated(
            f"GET /crm/v3/objects/{object_type}",
            "crm.objects.basic_api",
            "get_page",
            object_type,
            **kw,
        )

    # -- properties --------------------------------------------------------------------------
    def properties(self, object_type: str) -> Reply:
        """``GET /crm/v3/properties/{type}``."""
        return self._generated(
            f"GET /crm/v3/properties/{object_type}",
            "crm.properties.core_api",
            "get_all",
            object_type,
            archived=False,
        )

    def create_property(self, object_type: str, body: Mapping[str, Any]) -> Reply:
        """``POST /crm/v3/properties/{type}``."""
        return self._generated(
            f"POST /crm/v3/properties/{object_type}",
            "crm.properties.core_api",
            "create",
            object_type,
            dict(body),
        )

    def update_property(self, object_type: str, name: str, body: Mapping[str, Any]) -> Reply:
        """``PATCH /crm/v3/properties/{type}/{name}`` (an ``options`` list replaces the old one)."""
        return self._generated(
            f"PATCH /crm/v3/properties/{object_type}/{{name}}",
            "crm.properties.core_api",
            "update",
            object_type,
            name,
            dict(body),
        )

    def groups(self, object_type: str) -> Reply:
        """``GET /crm/v3/properties/{type}/groups``."""
        return self._generated(
            f"GET /crm/v3/properties/{object_type}/groups",
            "crm.properties.groups_api",
            "get_all",
            object_type,
        )

    def create_group(self, object_type: str, body: Mapping[str, Any]) -> Reply:
        """``POST /crm/v3/properties/{type}/groups``."""
        return self._generated(
            f"POST /crm/v3/properties/{object_type}/groups",
            "crm.properties.groups_api",
            "create",
            object_type,
            dict(body),
        )

    # -- associations v4 ---------------------------------------------------------------------
    def associations(self, from_type: str, to_type: str, ids: Sequence[str]) -> Reply:
        """``POST /crm/v4/associations/{from}/{to}/batch/read`` (≤1,000 ids; none found → 207)."""
        return self._generated(
            f"POST /crm/v4/associations/{from_type}/{to_type}/batch/read",
            "crm.associations.v4.batch_api",
            "get_page",
            from_type,
            to_type,
            {"inputs": [{"id": i} for i in ids]},
        )

    # -- lists v3 ----------------------------------------------------------------------------
    def list_by_name(self, object_type_id: str, name: str) -> Reply:
        """``GET /crm/v3/lists/object-type-id/{id}/name/{name}`` (404 when absent)."""
        return self._generated(
            "GET /crm/v3/lists/object-type-id/{id}/name/{name}",
            "crm.lists.lists_api",
            "get_by_name",
            name,
            object_type_id,
        )

    def create_list(self, body: Mapping[str, Any]) -> Reply:
        """``POST /crm/v3/lists``."""
        return self._generated("POST /crm/v3/lists", "crm.lists.lists_api", "create", dict(body))

    def list_add(self, list_id: str, ids: Sequence[str]) -> Reply:
        """``PUT /crm/v3/lists/{id}/memberships/add`` with a bare JSON array (Gotcha 15)."""
        return self._generated(
            "PUT /crm/v3/lists/{id}/memberships/add",
            "crm.lists.memberships_api",
            "add",
            list_id,
            list(ids),
        )

    def list_remove(self, list_id: str, ids: Sequence[str]) -> Reply:
        """``PUT /crm/v3/lists/{id}/memberships/remove``."""
        return self._generated(
            "PUT /crm/v3/lists/{id}/memberships/remove",
            "crm.lists.memberships_api",
            "remove",
            list_id,
            list(ids),
        )

    def list_members(self, list_id: str, after: str | None = None) -> Reply:
        """``GET /crm/v3/lists/{id}/memberships``."""
        kw: dict[str, Any] = {"limit": 250}
        if after:
            kw["after"] = after
        return self._generated(
            "GET /crm/v3/lists/{id}/memberships",
            "crm.lists.memberships_api",
            "get_page",
            list_id,
            **kw,
        )

    # -- unwrapped endpoints (client.api_request) --------------------------------------------
    def account_details(self) -> Reply:
        """``GET /account-info/v3/details`` (``portalId``: the account's stable identity)."""
        return self._unwrapped("GET /account-info/v3/details", "GET", "/account-info/v3/details")

    def email_events(self, params: Mapping[str, Any]) -> Reply:
        """``GET /email/public/v1/events`` (marketing email events, facts §4.2)."""
        return self._unwrapped(
            "GET /email/public/v1/events", "GET", "/email/public/v1/events", qs=params
        )

    def web_events(self, params: Mapping[str, Any]) -> Reply:
        """``GET /events/v3/events`` (web analytics and custom events, facts §4.3)."""
        return self._unwrapped("GET /events/v3/events", "GET", "/events/v3/events", qs=params)

    def enroll(self, workflow_id: int, email: str) -> Reply:
        """``POST /automation/v2/workflows/{id}/enrollments/contacts/{email}`` (204, facts §5.2)."""
        path = f"/automation/v2/workflows/{int(workflow_id)}/enrollments/contacts/{quote(email, safe='')}"
        return self._unwrapped(
            "POST /automation/v2/workflows/{id}/enrollments/contacts/{email}", "POST", path
        )


def exchange_refresh_token(
    base_url: str | None,
) -> Callable[[Mapping[str, str]], Mapping[str, Any]]:
    """The OAuth token exchange (``POST /oauth/v1/token``, form-encoded) for :class:`OAuthRefresh`."""
    base = checked_base_url(base_url)

    def exchange(form: Mapping[str, str]) -> Mapping[str, Any]:
        from urllib.parse import urlencode  # noqa: PLC0415 - only needed on a refresh

        sdk = HubSpot(base_url=base, retry=_no_retry())
        options = {
            "method": "POST",
            "path": "/oauth/v1/token",
            "body": urlencode(dict(form)),
            "default_json": False,
            "headers": {"Content-Type": "application/x-www-form-urlencoded"},
        }
        try:
            with contextlib.redirect_stdout(sys.stderr):
                resp = sdk.api_request(options)
        except Exception as exc:
            raise translate(exc, operation="POST /oauth/v1/token") from None
        if resp.status_code in (400, 401, 403):
            # BAD_REFRESH_TOKEN / BAD_CLIENT_ID: retrying cannot help; the admin must re-authorise.
            refused = translate_status(
                resp.status_code, resp.content, resp.headers, operation="POST /oauth/v1/token"
            )
            msg = (
                f"{refused} — HubSpot refused the OAuth refresh; check HUBSPOT_CLIENT_ID, "
                "HUBSPOT_CLIENT_SECRET and HUBSPOT_REFRESH_TOKEN (re-install the app for a new one)"
            )
            raise AuthError(msg, crm="hubspot", operation="oauth refresh", status=resp.status_code)
        if not 200 <= resp.status_code < 300:
            raise translate_status(
                resp.status_code, resp.content, resp.headers, operation="POST /oauth/v1/token"
            )
        data = _parse(resp.content)
        if not isinstance(data, dict):
            msg = "HubSpot's token endpoint answered without JSON"
            raise translate_status(502, msg, None, operation="POST /oauth/v1/token")
        return data

    return exchange
