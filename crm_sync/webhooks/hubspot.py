"""HubSpot webhooks: signature v3 verification and event parsing (hubspot-facts §6).

Verification follows HubSpot's v3 rules, with the two gaps of the SDK helper closed:

1. ``X-HubSpot-Request-Timestamp`` (epoch milliseconds) must be within 5 minutes of now in
   *both* directions — the SDK accepts timestamps from the future, which a captured request
   signed ahead of time would exploit;
2. the signed string is ``method + URI + body + timestamp`` where the URI is the **full decoded
   URL** (scheme, host, path and query) as HubSpot called it — behind a TLS-terminating proxy
   that is the public ``https://`` URL, so the app rebuilds it from a configured public base;
3. HMAC-SHA256 with the app's **client secret**, base64, compared in constant time.

Replays of a valid request inside the window are stopped one layer up, by ``eventId``
de-duplication (:mod:`crm_sync.webhooks.intake`).

.. versionadded:: 0.2
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from urllib.parse import unquote

from crm_sync.webhooks.events import ChangeEvent, WebhookRefused

__all__ = ["MAX_SKEW_MS", "parse_events", "sign_v3", "verify_v3"]

MAX_SKEW_MS = 5 * 60 * 1000
_ENTITIES = {"contact": "contact", "company": "company"}


def sign_v3(secret: str, method: str, url: str, body: bytes, timestamp: str) -> str:
    """The v3 signature of a request (also what tests and the sandbox use to sign)."""
    message = method.upper().encode() + unquote(url).encode() + body + timestamp.encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def verify_v3(
    *,
    secret: str,
    method: str,
    url: str,
    body: bytes,
    signature: str | None,
    timestamp: str | None,
    now_ms: Callable[[], int] = lambda: int(time.time() * 1000),
) -> None:
    """Raise :class:`WebhookRefused` (401) unless the request is signed, fresh and intact."""
    if not signature or not timestamp:
        msg = "missing X-HubSpot-Signature-v3 or X-HubSpot-Request-Timestamp"
        raise WebhookRefused(msg, 401)
    try:
        stamp = int(timestamp)
    except ValueError as exc:
        msg = "X-HubSpot-Request-Timestamp is not epoch milliseconds"
        raise WebhookRefused(msg, 401) from exc
    if abs(now_ms() - stamp) > MAX_SKEW_MS:
        msg = "stale or future timestamp (more than 5 minutes from now)"
        raise WebhookRefused(msg, 401)
    expected = sign_v3(secret, method, url, body, timestamp)
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        msg = "signature does not match (wrong secret, URL, body or timestamp)"
        raise WebhookRefused(msg, 401)


def parse_events(body: bytes) -> list[ChangeEvent]:
    """Events of one delivery (a JSON array of up to 100) that can change a computed value.

    Only contact and company events are kept; deletions are kept too (the next pull reads the
    archive). Other object types (deals, tickets, conversations) are acknowledged and ignored.
    """
    try:
        raw = json.loads(body)
    except ValueError as exc:
        msg = "body is not JSON"
        raise WebhookRefused(msg, 400) from exc
    if not isinstance(raw, list):
        msg = "body must be a JSON array of events"
        raise WebhookRefused(msg, 400)
    events: list[ChangeEvent] = []
    for item in raw:
        if not isinstance(item, dict) or "eventId" not in item or "portalId" not in item:
            msg = "every event needs eventId and portalId"
            raise WebhookRefused(msg, 400)
        kind = str(item.get("subscriptionType", "")).partition(".")[0]
        entity = _ENTITIES.get(kind)
        if entity is None or item.get("objectId") is None:
            continue
        events.append(
            ChangeEvent(
                source="hubspot",
                event_id=str(item["eventId"]),
                crm_id=str(item["portalId"]),
                entity=entity,
                record_id=str(item["objectId"]),
                property=item.get("propertyName"),
            )
        )
    return events
