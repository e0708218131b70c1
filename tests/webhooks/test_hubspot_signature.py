"""HubSpot signature v3: fresh, intact, correctly signed requests only."""

from __future__ import annotations

import pytest

from crm_sync.webhooks import WebhookRefused, sign_v3, verify_v3

SECRET = "app-secret"
URL = "https://hooks.example.com/webhooks/hubspot?x=a%20b"
BODY = b'[{"eventId":1,"portalId":42,"subscriptionType":"contact.creation","objectId":7}]'
NOW = 1_750_000_000_000


def _verify(**over):
    args = {
        "secret": SECRET,
        "method": "POST",
        "url": URL,
        "body": BODY,
        "timestamp": str(NOW),
        "signature": sign_v3(SECRET, "POST", URL, BODY, str(NOW)),
        "now_ms": lambda: NOW,
    }
    args.update(over)
    verify_v3(**args)


def test_valid_signature_passes():
    """A request signed with the client secret over method, URL, body and timestamp passes."""
    _verify()


def test_signature_is_over_the_decoded_url():
    """The URL is decoded before hashing, so %20 and a space sign the same."""
    sig = sign_v3(SECRET, "POST", URL.replace("%20", " "), BODY, str(NOW))
    _verify(signature=sig)


@pytest.mark.parametrize(
    "over",
    [
        {"secret": "other-secret"},
        {"body": BODY.replace(b"7", b"8")},
        {"url": URL.replace("hooks.", "evil.")},
        {"method": "PUT"},
        {"signature": None},
        {"timestamp": None},
        {"timestamp": "yesterday"},
    ],
    ids=["secret", "body", "url", "method", "no-sig", "no-ts", "bad-ts"],
)
def test_forged_requests_are_refused(over):
    """Any change to the signed parts, or a missing header, is refused with 401."""
    with pytest.raises(WebhookRefused) as info:
        _verify(**over)
    assert info.value.status == 401


@pytest.mark.parametrize("skew_ms", [-301_000, 301_000])
def test_stale_or_future_timestamps_are_refused(skew_ms):
    """Timestamps more than 5 minutes old *or ahead* are refused, even if correctly signed."""
    ts = str(NOW + skew_ms)
    with pytest.raises(WebhookRefused, match="5 minutes"):
        _verify(timestamp=ts, signature=sign_v3(SECRET, "POST", URL, BODY, ts))


def test_edge_of_window_is_accepted():
    """Exactly 5 minutes old is still inside the window."""
    ts = str(NOW - 300_000)
    _verify(timestamp=ts, signature=sign_v3(SECRET, "POST", URL, BODY, ts))
