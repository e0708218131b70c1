"""Generate examples/data.json: a small, realistic, deterministic book of business.

A B2B supplier of hydraulics, pneumatics and filtration products with 50 companies (two chains),
150 contacts and a few thousand activities of every type, shaped so that every rule of
``mappings/model.yaml`` matches somebody: A/B/C customers, strangers, customers without potential
(insufficient data), premium payers and discount hunters, lapsed and won-back customers, event
attendees and no-shows, cross-sell gaps. Run ``python examples/make_data.py`` to rebuild it; the
same seed always produces the same file. Dates are anchored at ``AS_OF``.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path
from typing import Any

AS_OF = dt.date(2025, 10, 1)
SEED = 20251001
FAMILIES = ["hydraulics", "pneumatics", "filtration"]
INDUSTRIES = ["machinery", "food_processing", "automotive", "agriculture", "marine", "energy"]
SOURCES = [
    "organic_search",
    "paid_search",
    "trade_fair",
    "webinar",
    "referral",
    "email_campaign",
    "social_media",
    "direct",
    "sales_outreach",
]
NAMES = [
    "Nordhydraulik",
    "Aarhus Maskin",
    "Bergen Fluid",
    "Catalunya Pneumàtica",
    "Delta Filtre",
    "Esbjerg Marine",
    "Fjord Power",
    "Girona Agro",
    "Helsingør Food",
    "Iberia Motion",
    "Jylland Agri",
    "Kolding Tech",
    "Lleida Farm",
    "Malmö Drives",
    "Nantes Process",
    "Oslo Offshore",
    "Porto Energia",
    "Randers Steel",
    "Stavanger Drill",
    "Tarragona Chem",
]
FIRST = [
    "Anne",
    "Bjørn",
    "Carla",
    "Dorte",
    "Erik",
    "Jordi",
    "Kari",
    "Lars",
    "Marta",
    "Nils",
    "Ola",
    "Pau",
]
LAST = ["Hansen", "Olsen", "Puig", "Jensen", "Berg", "Vidal", "Nielsen", "Lund", "Soler", "Dahl"]


def _ts(rng: random.Random, days_back_max: int, days_back_min: int = 0) -> str:
    day = AS_OF - dt.timedelta(days=rng.randint(days_back_min, days_back_max))
    return dt.datetime(
        day.year, day.month, day.day, rng.randint(7, 17), rng.randint(0, 59)
    ).isoformat()


def build(seed: int = SEED) -> dict[str, Any]:
    """The whole data file as a dict (companies, contacts, potentials, activities)."""
    rng = random.Random(seed)  # noqa: S311 - reproducible sample data, not security
    companies: list[dict[str, Any]] = []
    contacts: list[dict[str, Any]] = []
    potentials: list[dict[str, Any]] = []
    activities: list[dict[str, Any]] = []
    chain_heads = {"C-001": range(2, 8), "C-020": range(21, 27)}
    parent_of = {f"C-{i:03d}": head for head, members in chain_heads.items() for i in members}
    seq = 0

    def act(kind: str, **fields: Any) -> None:
        nonlocal seq
        seq += 1
        activities.append({"id": f"A-{seq:05d}", "type": kind, **fields})

    for i in range(1, 51):
        cid = f"C-{i:03d}"
        # Profile: how much they buy (0 = stranger), how they pay, whether data is complete.
        size = rng.choice([0, 0.3, 0.6, 1, 1, 2, 3, 5, 8, 15]) if i % 9 else 0
        if i in (21, 22, 23, 25):  # a chain where we trade with few members
            size = 0
        lapsed = i % 11 == 0
        price = rng.choice([0.82, 0.9, 0.95, 1.0, 1.05, 1.12])
        families = rng.sample(FAMILIES, k=rng.choice([1, 1, 2, 3]))
        companies.append(
            {
                "id": cid,
                "name": f"{NAMES[i % len(NAMES)]} {'Group' if cid in chain_heads else 'AS'} {i}",
                "parent_id": parent_of.get(cid),
                "industry": rng.choice(INDUSTRIES),
                "country": rng.choice(["DK", "NO", "ES", "SE"]),
                "owner": rng.choice(["anne@example.com", "jordi@example.com", "lars@example.com"]),
                "attributes": {
                    "planned_visits_90d": rng.choice([1, 2, 3, 4, 6]) if i % 7 else None
                },
            }
        )
        n_inv = int(size * 8)
        revenue_12m = 0.0
        for _ in range(n_inv):
            fam = rng.choice(families)
            list_amount = round(rng.uniform(800, 9000) * (1 + size / 10), 2)
            back = (900, 760) if lapsed else (700, 0)
            when = _ts(rng, *back)
            act(
                "invoice",
                occurred_at=when,
                company_id=cid,
                amount=round(list_amount * price, 2),
                list_amount=list_amount if rng.random() > 0.05 else None,
                product_family=fam,
            )
            if dt.date.fromisoformat(when[:10]) > AS_OF - dt.timedelta(days=365):
                revenue_12m += list_amount * price
            if rng.random() < 0.7:
                act(
                    "order",
                    occurred_at=_ts(rng, *back),
                    company_id=cid,
                    amount=round(list_amount * price, 2),
                    product_family=fam,
                )
            if rng.random() < 0.5:
                act("shipment", occurred_at=_ts(rng, *back), company_id=cid, product_family=fam)
        # Potential: what they could buy; our share of it varies from "main supplier" to "backup".
        wallet = rng.choice([0.9, 1.3, 1.8, 2.5, 4.0])
        annual = round(max(revenue_12m, 20_000 * size) * wallet, -3)
        if i % 5 != 0 and annual > 0:
            potentials.append(
                {"company_id": cid, "annual_amount": annual * 0.8, "valid_from": "2023-01-01"}
            )
            potentials.append(
                {"company_id": cid, "annual_amount": annual, "valid_from": "2025-01-01"}
            )
            for fam in FAMILIES:
                if rng.random() < 0.6:
                    potentials.append(
                        {
                            "company_id": cid,
                            "annual_amount": round(annual / 3, -2),
                            "valid_from": "2025-01-01",
                            "product_family": fam,
                        }
                    )
        elif i % 5 == 0 and size:
            potentials.append({"company_id": cid, "annual_amount": 0.0, "valid_from": "2024-06-01"})
        for _ in range(rng.randint(0, 8 if size else 1)):
            act("visit", occurred_at=_ts(rng, 200), company_id=cid)
        if size and rng.random() < 0.2:
            act(
                "payment_overdue",
                occurred_at=_ts(rng, 60),
                company_id=cid,
                amount=round(rng.uniform(500, 5000), 2),
            )
        if rng.random() < 0.3:
            act(
                "survey_response",
                occurred_at=_ts(rng, 300),
                company_id=cid,
                score=float(rng.randint(0, 10)),
            )

        for j in range(3):
            pid = f"P-{(i - 1) * 3 + j + 1:04d}"
            role = (
                rng.choice(["decision_maker", "influencer", "non_decision_maker", None])
                if j
                else "decision_maker"
            )
            stage = rng.choice([None, "lead", "customer", "former_customer", "subscriber"])
            contacts.append(
                {
                    "id": pid,
                    "company_id": cid,
                    "email": f"{pid.lower()}@{cid.lower()}.example.com",
                    "first_name": rng.choice(FIRST),
                    "last_name": rng.choice(LAST),
                    "role": role,
                    "department": rng.choice(
                        ["purchasing", "production", "management", "finance", "other", None]
                    ),
                    "first_touch_source": rng.choice([*SOURCES, None, "partner_portal"]),
                    "lifecycle_stage": stage,
                }
            )
            for kind, n in (
                ("email_sent", 6),
                ("email_opened", 4),
                ("email_clicked", 2),
                ("web_visit", 5),
                ("meeting", 2),
                ("call", 3),
                ("form_submission", 1),
                ("campaign_response", 1),
            ):
                for _ in range(rng.randint(0, n)):
                    extra = (
                        {"campaign": rng.choice(["SPRING25", "AUTUMN25"])}
                        if kind not in ("meeting", "call")
                        else {}
                    )
                    act(kind, occurred_at=_ts(rng, 365), contact_id=pid, **extra)
            if rng.random() < 0.35:
                act(
                    "quote_sent",
                    occurred_at=_ts(rng, 300),
                    contact_id=pid,
                    company_id=cid,
                    amount=round(rng.uniform(2000, 30000), 2),
                    product_family=rng.choice(FAMILIES),
                )
            if rng.random() < 0.25:
                act(
                    "material_sent",
                    occurred_at=_ts(rng, 300),
                    contact_id=pid,
                    product_family=rng.choice(FAMILIES),
                )
            for event, when in (("FAIR2025", 120), ("WEBINAR_Q3", 40)):
                if rng.random() < 0.4:
                    act(
                        "event_registered",
                        occurred_at=_ts(rng, when + 30, when),
                        contact_id=pid,
                        event_code=event,
                    )
                    if rng.random() < 0.55:
                        act(
                            "event_attended",
                            occurred_at=_ts(rng, when, when),
                            contact_id=pid,
                            event_code=event,
                        )
    return {
        "companies": companies,
        "contacts": contacts,
        "potentials": potentials,
        "activities": activities,
    }


def main() -> None:
    """Write examples/data.json next to this script."""
    out = Path(__file__).with_name("data.json")
    out.write_text(json.dumps(build(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
