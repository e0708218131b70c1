"""The webhook receiver: a small Starlette ASGI app, served by uvicorn (``crm-sync webhooks serve``).

Starlette rather than a framework with validation and OpenAPI: the two endpoints take raw bytes
(signatures are computed over the body exactly as received), answer in milliseconds (HubSpot
times out after 5 s) and need nothing but routing and a test client; a plain ASGI callable would
re-implement request parsing for no gain.

* ``POST /webhooks/hubspot`` — signature v3 checked before the body is parsed; 401 when forged
  or stale, 200 with counts otherwise (duplicates are acknowledged, not re-queued: answering 4xx
  to a retry of a delivery we already stored would make HubSpot retry it again).
* ``POST /webhooks/salesforce`` — outbound messages; 403 for an unknown org or a wrong token,
  the SOAP ``Ack`` once the notifications are stored.
* ``GET /healthz`` — liveness for the load balancer.

Secrets come from the environment (``HUBSPOT_CLIENT_SECRET``, ``SALESFORCE_WEBHOOK_TOKEN``) and
are never logged: log lines carry only the refusal reason and counts.

.. versionadded:: 0.2
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass

from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from crm_sync.webhooks.events import WebhookRefused
from crm_sync.webhooks.hubspot import parse_events, verify_v3
from crm_sync.webhooks.intake import WebhookIntake
from crm_sync.webhooks.salesforce import ACK, parse_outbound

__all__ = ["WebhookConfig", "create_app"]

log = logging.getLogger("crm_sync.webhooks")


@dataclass(frozen=True)
class WebhookConfig:
    """Secrets and the public URL the CRMs call (behind a proxy, the signed URL is that one)."""

    hubspot_secret: SecretStr | None = None
    salesforce_token: SecretStr | None = None
    public_url: str | None = None
    max_body: int = 2_000_000


def _signed_url(request: Request, public_url: str | None) -> str:
    """The URL HubSpot signed: the public base (if configured) + path + query."""
    if not public_url:
        return str(request.url)
    query = request.url.query
    return public_url.rstrip("/") + request.url.path + (f"?{query}" if query else "")


async def _body(request: Request, limit: int) -> bytes:
    body = await request.body()
    if len(body) > limit:
        msg = "body too large"
        raise WebhookRefused(msg, 413)
    return body


def _refused(source: str, exc: WebhookRefused) -> Response:
    log.warning("%s webhook refused (%s): %s", source, exc.status, exc)
    return JSONResponse({"ok": False, "error": str(exc)}, status_code=exc.status)


def create_app(intake: WebhookIntake, config: WebhookConfig) -> Starlette:
    """Build the ASGI app around an intake (store + routes + notifier) and the secrets."""

    async def hubspot(request: Request) -> Response:
        try:
            if config.hubspot_secret is None:
                msg = "HUBSPOT_CLIENT_SECRET is not configured; refusing unsigned deliveries"
                raise WebhookRefused(msg, 503)
            body = await _body(request, config.max_body)
            verify_v3(
                secret=config.hubspot_secret.get_secret_value(),
                method=request.method,
                url=_signed_url(request, config.public_url),
                body=body,
                signature=request.headers.get("x-hubspot-signature-v3"),
                timestamp=request.headers.get("x-hubspot-request-timestamp"),
            )
            result = intake.accept(parse_events(body))
        except WebhookRefused as exc:
            return _refused("hubspot", exc)
        log.info("hubspot webhook: %s", result)
        return JSONResponse({"ok": True, **result.__dict__})

    async def salesforce(request: Request) -> Response:
        try:
            if config.salesforce_token is not None:
                given = request.query_params.get("token", "")
                want = config.salesforce_token.get_secret_value()
                if not hmac.compare_digest(given.encode(), want.encode()):
                    msg = "missing or wrong token"
                    raise WebhookRefused(msg, 403)
            org, events = parse_outbound(await _body(request, config.max_body))
            if intake.route("salesforce", org) is None:  # routes compare the 15-char org id
                msg = "organization id is not one this deployment serves"
                raise WebhookRefused(msg, 403)
            result = intake.accept(events)
        except WebhookRefused as exc:
            return _refused("salesforce", exc)
        log.info("salesforce outbound message: %s", result)
        return Response(ACK, media_type="text/xml")

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"ok": True})

    return Starlette(
        routes=[
            Route("/webhooks/hubspot", hubspot, methods=["POST"]),
            Route("/webhooks/salesforce", salesforce, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )
