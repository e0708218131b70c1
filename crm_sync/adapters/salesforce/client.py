"""The only module that imports simple-salesforce: transport, session refresh, neutral errors.

Why a custom ``requests.Session`` (facts §0 item 2, §1.1, Gotchas 2-4):

* simple-salesforce sets **no timeout** and ``sf.Contact.update`` cannot take one, so
  :class:`TimeoutSession` puts a default timeout on *every* request, including the Metadata
  API's zeep transport (which passes ``timeout=None`` explicitly);
* ``sf.api_usage`` goes stale after SFType and Bulk calls, so a response hook reads
  ``Sforce-Limit-Info`` from every answer;
* simple-salesforce always builds ``https://`` URLs; when the instance URL is plain
  ``http://127.0.0.1:PORT`` (the sandbox), :class:`LoopbackAdapter` re-routes them there.
  Plain http is refused for anything but loopback;
* ``trust_env=False``, so ``REQUESTS_CA_BUNDLE``/proxies from the environment cannot silently
  override the session.

Every call goes through :meth:`SalesforceClient.call`: vendor exceptions become
:class:`~crm_sync.adapters.salesforce.errors.ApiFailure`; on ``INVALID_SESSION_ID`` the token is
refreshed **once** and the same request repeated (a 401 is answered before anything is saved, so
the repeat cannot write twice); everything else is classified by ``errors.translate``.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceError
from simple_salesforce.format import format_soql

from crm_sync.adapters.base import RequestHook
from crm_sync.adapters.salesforce.auth import TokenSource
from crm_sync.adapters.salesforce.errors import ApiFailure, is_session_error, translate
from crm_sync.errors import ConfigError, redact

__all__ = [
    "DEFAULT_VERSION",
    "LoopbackAdapter",
    "SalesforceClient",
    "TimeoutSession",
    "is_loopback",
    "soql",
]

T = TypeVar("T")
DEFAULT_VERSION = "59.0"
DEFAULT_TIMEOUT_S = 60.0
_LOOPBACK_NAMES = ("localhost",)


class _RedactSoapLog(logging.Filter):
    """zeep logs every Metadata API envelope at DEBUG, ``<sessionId>`` header included: mask it."""

    _SESSION = re.compile(r"(<(?:[\w-]+:)?sessionId>)[^<]*")

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        record.msg, record.args = redact(self._SESSION.sub(r"\1***", text)), None
        return True


# The mdapi session is zeep's own (Gotcha 4); its transport logger is the one that sees the header.
logging.getLogger("zeep.transports").addFilter(_RedactSoapLog())


def soql(template: str, *args: Any, **kwargs: Any) -> str:
    """``format_soql``: every literal escaped and quoted (facts §4.2); aware datetimes only."""
    return str(format_soql(template, *args, **kwargs))


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or localhost."""
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class TimeoutSession(requests.Session):
    """A session that never waits forever: a default timeout on every request (Gotcha 2)."""

    def __init__(self, timeout: float = DEFAULT_TIMEOUT_S) -> None:
        super().__init__()
        self.default_timeout = timeout
        self.trust_env = False  # facts §1.2 B: env CA bundles would override ``verify``

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        """Fill in the timeout when the caller (or zeep, with an explicit None) gave none."""
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.default_timeout
        return super().request(method, url, *args, **kwargs)


class LoopbackAdapter(HTTPAdapter):
    """Send simple-salesforce's ``https://host:port/...`` to ``http://127.0.0.1:PORT/...``."""

    def __init__(self, host: str, port: int) -> None:
        super().__init__()
        self.host = host
        self.port = port

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        """Rewrite scheme, host and port; keep the path and query."""
        path = str(request.url).partition("://")[2].partition("/")[2]
        request.url = f"http://{self.host}:{self.port}/{path}"
        return super().send(request, **kwargs)


def _parse_limit_info(header: str) -> tuple[int, int] | None:
    """``api-usage=18/15000[, per-app-api-usage=...]`` → ``(18, 15000)``."""
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "api-usage":
            used, _, total = value.partition("/")
            if used.isdigit() and total.isdigit():
                return int(used), int(total)
    return None


def _more(url: str) -> Callable[[Salesforce], dict[str, Any]]:
    def run(sf: Salesforce) -> dict[str, Any]:
        return dict(sf.query_more(url, identifier_is_url=True))

    return run


class SalesforceClient:
    """A thin, typed face over simple-salesforce for the adapter modules."""

    def __init__(
        self,
        instance_url: str,
        tokens: TokenSource,
        *,
        version: str = DEFAULT_VERSION,
        timeout: float = DEFAULT_TIMEOUT_S,
        session: TimeoutSession | None = None,
    ) -> None:
        parts = urlsplit(instance_url)
        host = parts.hostname or ""
        if parts.scheme not in ("http", "https") or not host:
            msg = f"CRM_SYNC_SALESFORCE_INSTANCE_URL must be an https:// URL, got {instance_url!r}"
            raise ConfigError(msg)
        self.loopback = parts.scheme == "http"
        if self.loopback and not is_loopback(host):
            msg = (
                f"refusing plain http to {host}: Salesforce endpoints need https:// "
                "(http is only allowed for a loopback sandbox such as http://127.0.0.1:PORT)"
            )
            raise ConfigError(msg)
        self.instance_url = instance_url.rstrip("/")
        self.host = host
        self.version = version.removeprefix("v")
        self.tokens = tokens
        self.session = session or TimeoutSession(timeout)
        self.session.hooks["response"].append(self._on_response)
        if self.loopback:
            self.session.mount("https://", LoopbackAdapter(host, parts.port or 80))
        self.calls: Counter[str] = Counter()
        self.status_counts: Counter[int] = Counter()  # by HTTP status, for the demo/run record
        self.request_hook: RequestHook | None = None  # shared rate budget, if any
        self.usage: tuple[int, int] | None = None
        self.refreshes = 0
        self._sf: Salesforce | None = None

    # --- plumbing --------------------------------------------------------------------------

    def _on_response(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        """Session hook: remember the latest ``Sforce-Limit-Info`` (facts §1.4)."""
        self.status_counts[response.status_code] += 1
        header = response.headers.get("Sforce-Limit-Info")
        parsed = _parse_limit_info(header) if header else None
        if parsed is not None:
            self.usage = parsed

    @property
    def sf(self) -> Salesforce:
        """The simple-salesforce client for the current token (rebuilt after a refresh)."""
        if self._sf is None:
            netloc = urlsplit(self.instance_url).netloc
            self._sf = Salesforce(
                instance_url=f"https://{netloc}",
                session_id=self.tokens.token(),
                version=self.version,
                session=self.session,
            )
        return self._sf

    @property
    def base_url(self) -> str:
        """``https://host/services/data/vXX.X/`` as simple-salesforce builds it."""
        return str(self.sf.base_url)

    def post_form(self, url: str, form: Mapping[str, str]) -> tuple[int, Any]:
        """OAuth token requests: same session, so loopback routing and timeouts apply."""
        parts = urlsplit(url)
        if parts.scheme == "http" and not is_loopback(parts.hostname or ""):
            msg = f"refusing to send OAuth credentials over plain http to {parts.hostname}"
            raise ConfigError(msg)
        if parts.scheme == "http":  # the loopback adapter is mounted on https://
            url = "https://" + url.partition("://")[2]
        self.calls["oauth2/token"] += 1
        try:
            response = self.session.post(url, data=dict(form))
        except requests.RequestException as exc:
            raise translate(
                ApiFailure("oauth2/token", None, transport=type(exc).__name__)
            ) from None
        try:
            body = response.json()
        except ValueError:
            body = None
        return response.status_code, body

    def refresh(self) -> None:
        """Get a new token and rebuild the client (bulk and mdapi read the token on access)."""
        self.tokens.refresh()
        self.refreshes += 1
        self._sf = None

    def call(self, operation: str, fn: Callable[[Salesforce], T]) -> T:
        """Run one API call; refresh the session once on ``INVALID_SESSION_ID``."""
        for attempt in range(2):
            if self.request_hook is not None:
                self.request_hook(operation)
            self.calls[operation] += 1
            try:
                return fn(self.sf)
            except ApiFailure as failure:
                error = failure
            except SalesforceError as exc:
                content: Any = exc.content
                errors: list[dict[str, Any]] = content if isinstance(content, list) else []
                text = "" if errors else str(content)[:500]
                error = ApiFailure(operation, int(exc.status), errors, text)
            except requests.Timeout:
                error = ApiFailure(operation, None, transport="timeout")
            except requests.RequestException as exc:
                error = ApiFailure(operation, None, transport=type(exc).__name__)
            if attempt == 0 and is_session_error(error) and self.tokens.can_refresh():
                self.refresh()
                continue
            raise translate(error) from None
        raise AssertionError("unreachable")  # pragma: no cover

    # --- REST ------------------------------------------------------------------------------

    def restful(
        self,
        operation: str,
        path: str,
        *,
        method: str = "GET",
        params: Mapping[str, str] | None = None,
        body: Any = None,
    ) -> Any:
        """``sf.restful``; returns ``None`` for 204 and empty bodies (facts §1.5)."""
        kwargs: dict[str, Any] = {}
        if body is not None:
            kwargs["data"] = json.dumps(body)
        return self.call(
            operation,
            lambda sf: sf.restful(path, params=dict(params or {}), method=method, **kwargs),
        )

    def raw(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        data: bytes | str | None = None,
        content_type: str = "application/json",
        accept: str = "application/json",
    ) -> requests.Response:
        """A request whose body or answer is not JSON (Bulk CSV); errors as for any call."""

        def send(sf: Salesforce) -> requests.Response:
            headers = {**sf.headers, "Content-Type": content_type, "Accept": accept}
            response: requests.Response = self.session.request(
                method, sf.base_url + path, data=data, headers=headers
            )
            if response.status_code >= 300:
                try:
                    parsed = response.json()
                except ValueError:
                    parsed = None
                errors = parsed if isinstance(parsed, list) else []
                raise ApiFailure(operation, response.status_code, errors, response.text[:500])
            return response

        return self.call(operation, send)

    def query(self, soql: str, *, include_deleted: bool = False) -> Iterator[dict[str, Any]]:
        """Every row of a SOQL query, page by page; each page is one refreshable call."""
        operation = "queryAll" if include_deleted else "query"
        page = self.call(operation, lambda sf: sf.query(soql, include_deleted=include_deleted))
        while True:
            yield from page.get("records", [])
            next_url = page.get("nextRecordsUrl")
            if page.get("done", True) or not next_url:
                return
            page = self.call("query_more", _more(str(next_url)))

    def describe(self, sobject: str) -> dict[str, Any]:
        """``GET /sobjects/{T}/describe`` (only fields the user can see, facts §3.3)."""
        result = self.restful("describe", f"sobjects/{sobject}/describe")
        return dict(result or {})

    def describe_global(self) -> list[str]:
        """Names of the org's sObjects."""
        result = self.restful("describe", "sobjects") or {}
        return [str(o["name"]) for o in result.get("sobjects", [])]

    # --- Metadata API (zeep) -----------------------------------------------------------------

    def _mdapi(self, sf: Salesforce) -> Any:
        """``sf.mdapi`` with zeep's private session replaced by ours (facts §1.1, Gotcha 4)."""
        md = sf.mdapi
        md._client.transport.session = self.session
        return md

    def upsert_custom_fields(self, fields: Sequence[Mapping[str, Any]]) -> dict[str, str]:
        """``upsertMetadata`` for up to 10 CustomFields; returns ``{fullName: error}`` failures.

        ``fields`` are neutral dicts (``fullName, label, type, length, precision, scale,
        defaultValue, visibleLines, values=[(api, label)], restricted``) built by
        ``provision.py``; zeep objects never leave this module.
        """

        def run(sf: Salesforce) -> dict[str, str]:
            md = self._mdapi(sf)
            items = [self._custom_field(md, f) for f in fields]
            try:
                md.CustomField.upsert(items)
            except SalesforceError:
                raise
            except Exception as exc:
                return self._metadata_errors(str(exc), [str(f["fullName"]) for f in fields])
            return {}

        return self.call("metadata.upsert", run)

    @staticmethod
    def _custom_field(md: Any, spec: Mapping[str, Any]) -> Any:
        kwargs: dict[str, Any] = {
            "fullName": spec["fullName"],
            "label": spec["label"],
            "type": md.FieldType(spec["type"]),
        }
        for key in ("length", "precision", "scale", "defaultValue", "visibleLines", "externalId"):
            if spec.get(key) is not None:
                kwargs[key] = spec[key]
        if spec.get("values") is not None:
            values = [
                md.CustomValue(fullName=api, label=label, default=False)
                for api, label in spec["values"]
            ]
            kwargs["valueSet"] = md.ValueSet(
                restricted=bool(spec.get("restricted", True)),
                valueSetDefinition=md.ValueSetValuesDefinition(sorted=False, value=values),
            )
        return md.CustomField(**kwargs)

    @staticmethod
    def _metadata_errors(text: str, names: list[str]) -> dict[str, str]:
        """Split the bare ``Exception`` text of mdapi (``Obj.F__c: (CODE, msg)`` lines)."""
        if "INVALID_SESSION_ID" in text:
            raise ApiFailure("metadata.upsert", 401, [{"errorCode": "INVALID_SESSION_ID"}], text)
        if "REQUEST_LIMIT_EXCEEDED" in text:
            message = text.partition("REQUEST_LIMIT_EXCEEDED")[2].strip(": ")
            raise ApiFailure(
                "metadata.upsert",
                403,
                [{"errorCode": "REQUEST_LIMIT_EXCEEDED", "message": message}],
                text,
            )
        out: dict[str, str] = {}
        for line in text.strip().splitlines():
            name, sep, detail = line.partition(": ")
            if sep and name in names:
                out[name] = detail.strip().rstrip(",").strip()
        if not out:  # a whole-call SOAP fault: every component failed the same way
            raise ApiFailure("metadata.upsert", 500, [], text[:500])
        return out
