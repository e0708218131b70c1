"""Salesforce outbound messages: parse the SOAP notification, check the org, build the ack.

Outbound messages are not signed. Salesforce's own guidance is to check the ``OrganizationId``
in the message against the expected org (and optionally allow-list Salesforce's IP ranges or use
a client certificate); crm_sync also accepts an optional shared token in the endpoint URL
(``?token=...``, compared in constant time), because an org id alone is not a secret. A message
is acknowledged with ``<Ack>true</Ack>`` only after its notifications are stored; otherwise
Salesforce redelivers it (for up to 24 hours), and the ``Notification/Id`` de-duplicates.

The parser refuses any document with a DTD, so entity-expansion attacks never reach the XML
parser; the body size is capped by the app.

.. versionadded:: 0.2
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from crm_sync.webhooks.events import ChangeEvent, WebhookRefused

__all__ = ["ACK", "org_matches", "parse_outbound"]

_NS = {
    "soap": "http://schemas.xmlsoap.org/soap/envelope/",
    "out": "http://soap.sforce.com/2005/09/outbound",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
}
_ENTITIES = {"Account": "company", "Contact": "contact", "PersonAccount": "company"}

ACK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
    "<soapenv:Body>"
    '<notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound">'
    "<Ack>true</Ack></notificationsResponse>"
    "</soapenv:Body></soapenv:Envelope>"
)


def org_matches(expected: str, got: str) -> bool:
    """Org ids come as 15 or 18 characters; the first 15 identify the org (case-sensitive)."""
    return len(got) in (15, 18) and expected[:15] == got[:15]


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def parse_outbound(body: bytes) -> tuple[str, list[ChangeEvent]]:
    """``(organization id, events)`` from one outbound message; raises on malformed input."""
    if b"<!DOCTYPE" in body.upper() or b"<!ENTITY" in body.upper():
        msg = "DTDs are not accepted"
        raise WebhookRefused(msg, 400)
    try:
        root = ET.fromstring(body)  # noqa: S314 - no DTD can be present (checked above)
    except ET.ParseError as exc:
        msg = "body is not a SOAP outbound message"
        raise WebhookRefused(msg, 400) from exc
    notes = root.find("soap:Body/out:notifications", _NS)
    org = (
        notes.findtext("out:OrganizationId", default="", namespaces=_NS)
        if notes is not None
        else ""
    )
    if notes is None or not org:
        msg = "no notifications/OrganizationId in the message"
        raise WebhookRefused(msg, 400)
    events: list[ChangeEvent] = []
    for note in notes.findall("out:Notification", _NS):
        note_id = note.findtext("out:Id", default="", namespaces=_NS)
        sobject = note.find("out:sObject", _NS)
        if not note_id or sobject is None:
            msg = "a Notification lacks its Id or sObject"
            raise WebhookRefused(msg, 400)
        sf_type = sobject.get(f"{{{_NS['xsi']}}}type", "").rpartition(":")[2]
        entity = _ENTITIES.get(sf_type)
        record_id = next((c.text for c in sobject if _local(c.tag) == "Id" and c.text), None)
        if entity is None or record_id is None:
            continue
        events.append(ChangeEvent("salesforce", note_id, org, entity, record_id))
    return org, events
