"""The closed set of activity types crm_sync understands, and which attributes each one carries.

The set covers every signal the source articles ask a CRM to capture (see
``shared/reference/domain-model.md`` §1.5): engagement (emails, meetings, calls, visits, web),
selling steps (quote, marketing material), money (orders, invoices, overdue payments,
shipments), events and campaigns, and surveys. Adapters translate CRM objects into these types;
metrics in the model file filter on them by name. A closed set means a typo in a model file is an
error at load time rather than a metric that silently counts nothing.
"""

from __future__ import annotations

from enum import StrEnum


class ActivityType(StrEnum):
    """Every kind of activity a metric can count, sum or date. Values are the names used in YAML."""

    EMAIL_SENT = "email_sent"
    EMAIL_OPENED = "email_opened"
    EMAIL_CLICKED = "email_clicked"
    MEETING = "meeting"
    CALL = "call"
    VISIT = "visit"
    WEB_VISIT = "web_visit"
    FORM_SUBMISSION = "form_submission"
    QUOTE_SENT = "quote_sent"
    MATERIAL_SENT = "material_sent"
    ORDER = "order"
    INVOICE = "invoice"
    PAYMENT_OVERDUE = "payment_overdue"
    SHIPMENT = "shipment"
    EVENT_REGISTERED = "event_registered"
    EVENT_ATTENDED = "event_attended"
    SURVEY_RESPONSE = "survey_response"
    CAMPAIGN_RESPONSE = "campaign_response"


# What each type means and which optional attributes it may carry. Used by validation (an
# attribute outside this list is rejected, so data never hides in the wrong column) and by the
# docs generator.
ACTIVITY_DOCS: dict[ActivityType, tuple[str, frozenset[str]]] = {
    ActivityType.EMAIL_SENT: (
        "A sales or marketing email sent to the contact.",
        frozenset({"campaign"}),
    ),
    ActivityType.EMAIL_OPENED: ("The contact opened an email.", frozenset({"campaign"})),
    ActivityType.EMAIL_CLICKED: (
        "The contact clicked a link in an email.",
        frozenset({"campaign"}),
    ),
    ActivityType.MEETING: ("A meeting held (online or in person).", frozenset()),
    ActivityType.CALL: ("A logged phone call.", frozenset()),
    ActivityType.VISIT: ("A field-sales visit at the customer's site.", frozenset()),
    ActivityType.WEB_VISIT: ("A session on our website.", frozenset({"campaign"})),
    ActivityType.FORM_SUBMISSION: (
        "A web form submitted (download, contact request).",
        frozenset({"campaign"}),
    ),
    ActivityType.QUOTE_SENT: (
        "A quote sent to the customer.",
        frozenset({"amount", "product_family"}),
    ),
    ActivityType.MATERIAL_SENT: (
        "Marketing material (brochure, samples) sent.",
        frozenset({"campaign", "product_family"}),
    ),
    ActivityType.ORDER: (
        "An order received.",
        frozenset({"amount", "list_amount", "product_family"}),
    ),
    ActivityType.INVOICE: (
        "An invoice line: amount is the net invoiced amount, list_amount the list price x quantity.",
        frozenset({"amount", "list_amount", "product_family"}),
    ),
    ActivityType.PAYMENT_OVERDUE: (
        "An invoice past its due date; amount is the overdue sum.",
        frozenset({"amount"}),
    ),
    ActivityType.SHIPMENT: ("A shipment dispatched.", frozenset({"amount", "product_family"})),
    ActivityType.EVENT_REGISTERED: (
        "Invited to or registered for an event (fair, webinar).",
        frozenset({"event_code", "campaign"}),
    ),
    ActivityType.EVENT_ATTENDED: ("Attended an event.", frozenset({"event_code", "campaign"})),
    ActivityType.SURVEY_RESPONSE: (
        "A survey answer; score holds the NPS (0-10) or CSAT value.",
        frozenset({"score"}),
    ),
    ActivityType.CAMPAIGN_RESPONSE: ("Responded to a marketing campaign.", frozenset({"campaign"})),
}

# Attributes an activity may carry, with their polars-compatible types (see ``model.frames``).
ACTIVITY_ATTRIBUTES: tuple[str, ...] = (
    "amount",
    "list_amount",
    "product_family",
    "event_code",
    "campaign",
    "score",
)
