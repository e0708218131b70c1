"""Legacy v2 workflow enrollment by email (facts §5.2, Gotcha 16).

Only contact-based workflows, addressed by their legacy id, enroll by (URL-encoded) email and
answer 204 with no body. There is no v4 enrollment endpoint to emulate. Workflows are created
with :meth:`Portal.add_workflow` (the sandbox's stand-in for building one in the UI) and listed
by the legacy ``GET /automation/v3/workflows``.
"""

from __future__ import annotations

from urllib.parse import unquote

from crm_sync.sandbox.http import Request, Response, Router
from crm_sync.sandbox.hubspot.errors import not_found, validation_error
from crm_sync.sandbox.hubspot.state import Portal

__all__ = ["add_workflow_routes"]


def add_workflow_routes(router: Router, portal: Portal) -> None:
    """Register the v2 enrollment endpoints and the v3 workflow listing."""

    def resolve(workflow_id: str, email: str) -> tuple[str, str]:
        if workflow_id not in portal.workflows:
            raise not_found(f"Workflow {workflow_id} does not exist")
        contact = portal.find_unique("contacts", "email", unquote(email))
        if contact is None:
            raise not_found(
                f"Contact with email {unquote(email)} does not exist"
            )  # [UNVERIFIED] real behaviour
        return workflow_id, contact.id

    def enroll(request: Request, workflow_id: str, email: str) -> Response:
        with portal.lock:
            wid, contact_id = resolve(workflow_id, email)
            if not portal.workflows[wid]["enabled"]:
                raise validation_error(
                    f"Workflow {wid} is not enabled"
                )  # [UNVERIFIED] strict reading
            portal.enrollments[wid].add(contact_id)
        return Response(204)

    def unenroll(request: Request, workflow_id: str, email: str) -> Response:
        with portal.lock:
            wid, contact_id = resolve(workflow_id, email)
            portal.enrollments[wid].discard(contact_id)
        return Response(204)

    def current(request: Request, vid: str) -> Response:
        with portal.lock:
            enrolled = [
                dict(portal.workflows[w]) for w, ids in portal.enrollments.items() if vid in ids
            ]
        return Response.json(200, enrolled)

    def listing(request: Request) -> Response:
        return Response.json(200, {"workflows": [dict(w) for w in portal.workflows.values()]})

    path = "/automation/v2/workflows/{workflow_id}/enrollments/contacts/{email}"
    router.add("POST", path, enroll)
    router.add("DELETE", path, unenroll)
    router.add("GET", "/automation/v2/workflows/enrollments/contacts/{vid}", current)
    router.add("GET", "/automation/v3/workflows", listing)
