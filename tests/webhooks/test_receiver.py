"""The ASGI receiver end to end: verify, de-duplicate, queue targeted recompute, wake a worker."""

from __future__ import annotations

import json
import time

import pytest
from crmfake import seed_crm, write_accounts
from pydantic import SecretStr
from starlette.testclient import TestClient

from crm_sync.config import Settings
from crm_sync.distributed.runner import Runtime, sync_account
from crm_sync.model import Activity
from crm_sync.store.sql import Store
from crm_sync.webhooks import sign_v3
from crm_sync.webhooks.app import WebhookConfig
from crm_sync.webhooks.serve import build_receiver

SECRET = "s3cret"
BASE = "http://testserver"
ORG = "00D000000000001AAA"


@pytest.fixture
def env(tmp_path):
    seed_crm(tmp_path / "acct-a.json", "1000")
    accounts = write_accounts(tmp_path, ["acct-a"], max_calls=1000, per_s=1.0)
    text = accounts.read_text() + f"  - name: sf-org\n    target: salesforce\n    crm_id: {ORG}\n"
    accounts.write_text(text)
    settings = Settings(store_path=tmp_path / "s.sqlite", overlap_s=0)
    store = Store.open(path=settings.store_path)
    woken: list[str] = []
    cfg = WebhookConfig(hubspot_secret=SecretStr(SECRET), salesforce_token=SecretStr("tok"))
    app = build_receiver(settings, store, accounts, config=cfg, notify=woken.append)
    yield {"client": TestClient(app), "store": store, "woken": woken, "tmp": tmp_path}
    store.close()


def _post(client, events, *, secret=SECRET, ts=None, path="/webhooks/hubspot"):
    body = json.dumps(events).encode()
    ts = str(ts or int(time.time() * 1000))
    sig = sign_v3(secret, "POST", BASE + path, body, ts)
    headers = {"X-HubSpot-Signature-v3": sig, "X-HubSpot-Request-Timestamp": ts}
    return client.post(path, content=body, headers=headers)


def _event(eid, obj="p1-1", kind="contact.propertyChange", prop="firstname"):
    return {
        "eventId": eid,
        "portalId": 1000,
        "subscriptionType": kind,
        "objectId": obj,
        "propertyName": prop,
        "occurredAt": 0,
        "attemptNumber": 0,
    }


def test_valid_webhook_queues_the_record_and_wakes_its_account(env):
    """A signed event becomes recompute work for exactly that record, and the account is woken."""
    res = _post(env["client"], [_event(1)])
    assert res.status_code == 200
    assert res.json()["accepted"] == 1
    assert env["woken"] == ["acct-a"]
    assert env["store"].work_ids("memory:1000", "recompute", "contact") == {"p1-1"}


def test_forged_and_stale_webhooks_are_refused(env):
    """Wrong secret → 401; a correctly signed but 6-minute-old delivery → 401; nothing queued."""
    assert _post(env["client"], [_event(2)], secret="guess").status_code == 401
    old = int(time.time() * 1000) - 360_000
    assert _post(env["client"], [_event(3)], ts=old).status_code == 401
    assert env["woken"] == []
    assert env["store"].work_ids("memory:1000", "recompute", "contact") == set()


def test_replayed_webhook_is_not_queued_twice(env):
    """The same eventId again (a replay or a HubSpot retry) is acknowledged but not re-queued."""
    _post(env["client"], [_event(4)])
    again = _post(env["client"], [_event(4)])
    assert again.status_code == 200
    assert again.json()["duplicates"] == 1
    assert again.json()["accepted"] == 0
    assert env["woken"] == ["acct-a"]


def test_echo_of_our_own_write_is_ignored(env):
    """A propertyChange on a property crm_sync writes does not trigger a recompute."""
    res = _post(env["client"], [_event(5, prop="crm_tags")])
    assert res.json()["echoes"] == 1
    assert env["woken"] == []


def test_webhook_updates_the_tags_within_one_worker_cycle(env, tmp_path):
    """After a baseline sync, an activity plus its webhook puts the new tag in the CRM next cycle."""
    rt = Runtime.open(
        Settings(store_path=tmp_path / "s.sqlite", overlap_s=0), tmp_path / "accounts.yaml"
    )
    assert sync_account(rt, "acct-a").status == "ok"
    crm = rt.built("acct-a").adapter
    from crmfake import MeteredAdapter

    crm = MeteredAdapter("1000", path=tmp_path / "acct-a.json")
    assert crm.value("contact", "p1-1", "crm_tags") is None
    crm.seed(activities=[Activity(id="m1", type="meeting", occurred_at=_at(), contact_id="p1-1")])
    assert _post(env["client"], [_event(6, kind="contact.creation", prop=None)]).status_code == 200
    assert env["woken"] == ["acct-a"]
    record = sync_account(rt, "acct-a")  # the one cycle the webhook woke
    assert record.counts["recompute_contact"] == 1
    after = MeteredAdapter("1000", path=tmp_path / "acct-a.json")
    assert after.value("contact", "p1-1", "crm_tags") == "active"
    rt.close()


def _at():
    import datetime as dt

    return dt.datetime(2025, 5, 20, tzinfo=dt.UTC)


SOAP = """<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <notifications xmlns="http://soap.sforce.com/2005/09/outbound">
   <OrganizationId>{org}</OrganizationId>
   <ActionId>04k000000000001</ActionId>
   <Notification>
    <Id>04l000000000001{n}</Id>
    <sObject xsi:type="sf:Contact" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
     <sf:Id>003000000000001AAA</sf:Id>
    </sObject>
   </Notification>
  </notifications>
 </soapenv:Body>
</soapenv:Envelope>"""


def test_salesforce_outbound_message_is_acked_and_queued(env):
    """A message from the served org (15-char id) is queued and answered with <Ack>true</Ack>."""
    res = env["client"].post(
        "/webhooks/salesforce?token=tok", content=SOAP.format(org=ORG[:15], n="A")
    )
    assert res.status_code == 200
    assert "<Ack>true</Ack>" in res.text
    assert env["store"].work_ids(f"salesforce:{ORG}", "recompute", "contact") == {
        "003000000000001AAA"
    }


@pytest.mark.parametrize(
    ("query", "org", "status"),
    [("?token=tok", "00D999999999999", 403), ("?token=nope", ORG, 403), ("", ORG, 403)],
    ids=["other-org", "wrong-token", "no-token"],
)
def test_salesforce_foreign_or_unauthenticated_messages_are_refused(env, query, org, status):
    """An org this deployment does not serve, or a wrong/missing token, is refused; no Ack."""
    res = env["client"].post(f"/webhooks/salesforce{query}", content=SOAP.format(org=org, n="B"))
    assert res.status_code == status
    assert "Ack" not in res.text


def test_salesforce_dtd_is_refused(env):
    """A document with a DTD (entity expansion) is refused before parsing."""
    evil = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'
    assert env["client"].post("/webhooks/salesforce?token=tok", content=evil).status_code == 400
