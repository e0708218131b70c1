"""A deterministic, realistic B2B book of business for the sandbox, the demo and tests.

Why a generator rather than fixtures: the segmentation model only shows its worth on data with
the shape of a real customer base — a few large accounts carrying most of the revenue (so ABC
classes emerge), customers who pay a premium and others who haggle (price index), potentials that
are missing, stale or understated (``insufficient_data``, capped share of wallet), chains and
purchasing groups, lapsed customers, prospects that only read emails. Hand-written fixtures never
cover all of that at once; a seeded generator does, at any size, and identically on every run.

Determinism: every random draw comes from ``random.Random`` instances seeded with strings derived
from ``seed`` (string seeds hash with SHA-512, independent of ``PYTHONHASHSEED``), every window is
relative to ``as_of`` (default :data:`DEFAULT_AS_OF`, never today), and nothing iterates a set or
dict whose order could vary. The same ``(seed, size, as_of)`` gives an identical :class:`Book`.

Shape (see ``shared/reference/domain-model.md`` §1.3-1.5):

* ``size`` companies: ~55 % active customers, ~10 % former customers (invoices only in the year
  before the last 12 months), ~20 % prospects (quotes and material, no invoices), ~15 % leads
  (marketing engagement only). A few chain heads own 3-10 member companies each.
* Annual revenue of customers follows a Zipf-like law over a random rank, so ABC classes appear.
  Small customers get one or two invoices a year (``invoice_count_12m < 3``).
* Invoices carry ``amount`` (net) and ``list_amount`` (list price x quantity); each customer has its
  own price behaviour: large customers get volume discounts, some pay premiums. A few customers have
  no list prices at all, a few lines lack one.
* Purchase potential is dated: an initial value two years back, updates during the last year, an
  occasional future-dated revision; ~12 % of companies have none, a few have zero, a few state less
  than they buy. Some companies also break the whole-wallet potential down per product family (the
  family rows sum to the whole-wallet row valid at the same date).
* ~3 contacts per company (role and department picklists, some missing), plus a few contacts with
  no company; each contact has a first-touch source.
* Two years of activities of every :class:`~crm_sync.model.activities.ActivityType`.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

from crm_sync.model.activities import ActivityType
from crm_sync.model.frames import Dataset
from crm_sync.model.records import (
    Activity,
    AttributeValue,
    Company,
    Contact,
    PurchasePotential,
    Role,
)

__all__ = [
    "COUNTRIES",
    "DEFAULT_AS_OF",
    "DEPARTMENTS",
    "DEPARTMENT_WEIGHTS",
    "FIRST_TOUCH_SOURCES",
    "INDUSTRIES",
    "PRODUCT_FAMILIES",
    "STATUS_WEIGHTS",
    "Book",
    "CampaignDef",
    "generate_book",
]

DEFAULT_AS_OF = dt.date(2026, 11, 1)
"""The fixed default ``as_of``: a book must never depend on the day it is generated."""

PRODUCT_FAMILIES: tuple[str, ...] = (
    "hydraulics",
    "pneumatics",
    "filtration",
    "sensors",
    "services",
)
DEPARTMENTS: tuple[str, ...] = (
    "purchasing",
    "production",
    "management",
    "finance",
    "sales",
    "other",
)
FIRST_TOUCH_SOURCES: tuple[str, ...] = (
    "organic_search",
    "paid_search",
    "trade_fair",
    "referral",
    "email_campaign",
    "direct",
    "social_media",
    "webinar",
    "partner",
)
COMPANY_STATUSES: tuple[str, ...] = ("customer", "former_customer", "prospect", "lead")
STATUS_WEIGHTS = (0.55, 0.10, 0.20, 0.15)

INDUSTRIES = (
    "machinery",
    "automotive",
    "food_processing",
    "chemicals",
    "construction",
    "agriculture",
    "packaging",
    "energy",
    "logistics",
    "medical",
)
COUNTRIES = ("DE", "FR", "NL", "BE", "AT", "CH", "IT", "ES", "PL", "SE", "DK", "GB")
_OWNERS = (
    "anna.berger",
    "bruno.keller",
    "clara.fontaine",
    "david.janssen",
    "eva.lindqvist",
    "felix.novak",
    "greta.rossi",
    "hugo.moreau",
)
_NAME_PREFIX = ("Nord", "Süd", "West", "Ost", "Alpen", "Rhein", "Baltic", "Atlas", "Vega", "Orion")
_NAME_CORE = (
    "Hydraulik",
    "Fluidtech",
    "Maschinenbau",
    "Antriebe",
    "Automation",
    "Werkzeug",
    "Pumpen",
    "Steuerungen",
    "Metall",
    "Agrar",
    "Pack",
    "Energie",
)
_NAME_SUFFIX = ("GmbH", "AG", "SA", "BV", "S.r.l.", "Ltd", "AB", "KG", "SAS", "Sp. z o.o.")
_FIRST_NAMES = (
    "Anna",
    "Ben",
    "Chloé",
    "Daan",
    "Elena",
    "Finn",
    "Giulia",
    "Hannah",
    "Ivan",
    "Jonas",
    "Katarzyna",
    "Lucas",
    "Marie",
    "Nils",
    "Olivia",
    "Paul",
    "Sofia",
    "Tom",
    "Ursula",
    "Victor",
)
_LAST_NAMES = (
    "Müller",
    "Schmidt",
    "Dubois",
    "de Vries",
    "Rossi",
    "Kowalski",
    "Andersson",
    "Fischer",
    "Martin",
    "Jansen",
    "García",
    "Weber",
    "Nielsen",
    "Bauer",
    "Leroy",
    "Peeters",
)
_ROLE_WEIGHTS: tuple[tuple[Role | None, float], ...] = (
    (Role.DECISION_MAKER, 0.25),
    (Role.INFLUENCER, 0.35),
    (Role.NON_DECISION_MAKER, 0.30),
    (None, 0.10),
)
DEPARTMENT_WEIGHTS = (0.25, 0.20, 0.15, 0.10, 0.10, 0.08)  # + 0.12 missing
_DEPARTMENT_MISSING = 0.12


@dataclass(frozen=True)
class CampaignDef:
    """A marketing campaign or an event, as defined in the CRM (HubSpot campaign, SF Campaign).

    ``kind`` is ``fair``/``webinar`` for events (their ``code`` is the activity's ``event_code``)
    and ``newsletter``/``promotion``/``content``/``survey`` for campaigns (the activity's
    ``campaign``). ``date`` is the event day or the campaign launch.
    """

    code: str
    name: str
    kind: str
    date: dt.date


@dataclass(frozen=True)
class Book:
    """A generated book of business: validated records plus the campaign and event definitions."""

    seed: int
    size: int
    as_of: dt.date
    companies: tuple[Company, ...]
    contacts: tuple[Contact, ...]
    potentials: tuple[PurchasePotential, ...]
    activities: tuple[Activity, ...]
    campaigns: tuple[CampaignDef, ...]
    events: tuple[CampaignDef, ...]

    def to_dataset(self) -> Dataset:
        """The book in the engine's columnar form (the same path adapters take)."""
        return Dataset.from_records(
            companies=self.companies,
            contacts=self.contacts,
            potentials=self.potentials,
            activities=self.activities,
        )


@dataclass
class _Account:
    """Generator-internal facts about one company that drive its activities."""

    company: Company
    status: str
    annual_revenue: float  # year 2 (last 12 months); 0 for prospects and leads
    growth: float  # year-2 revenue / year-1 revenue
    price_ratio: float  # mean net/list ratio
    has_list_prices: bool
    bad_payer: bool
    family_mix: tuple[float, ...]
    size_factor: float  # 0..1, drives visit and call frequency


_Pending = tuple[dt.datetime, str, str, str, str, dict[str, str | float | None]]


def generate_book(seed: int, size: int, *, as_of: dt.date | None = None) -> Book:
    """Generate ``size`` companies (about; chain heads included) with contacts, potentials, activities.

    Deterministic in ``(seed, size, as_of)``; ``as_of`` defaults to :data:`DEFAULT_AS_OF`.
    Activities span the two years ending the day before ``as_of``.
    """
    if size < 0:
        msg = f"size must be >= 0, got {size}"
        raise ValueError(msg)
    return _Generator(seed, size, as_of or DEFAULT_AS_OF).build()


def _weighted(rng: random.Random, items: Sequence[object], weights: Sequence[float]) -> int:
    """Index drawn from ``weights`` (need not sum to 1); returns an index so callers keep types."""
    return rng.choices(range(len(items)), weights=weights)[0]


def _poisson(rng: random.Random, lam: float) -> int:
    """Poisson draw (Knuth for small means, rounded normal for large ones); stdlib has none."""
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit = math.exp(-lam)
    k, p = 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


class _Generator:
    """Holds the random streams and accumulates records; one instance per book."""

    def __init__(self, seed: int, size: int, as_of: dt.date) -> None:
        self.seed = seed
        self.size = size
        self.as_of = as_of
        self.end = dt.datetime.combine(as_of, dt.time())  # activities strictly before as_of
        self.start = self.end - dt.timedelta(days=730)
        self.year_cut = self.end - dt.timedelta(days=365)
        self.accounts: list[_Account] = []
        self.contacts: list[Contact] = []
        self.contacts_by_company: dict[str, list[Contact]] = {}
        self.potentials: list[PurchasePotential] = []
        self.pending: list[_Pending] = []
        self.events = self._events()
        self.campaigns = self._campaigns()

    def rng(self, stream: str) -> random.Random:
        """An independent stream per concern, so changing one never shifts the others."""
        return random.Random(f"crm_sync.seed:{self.seed}:{stream}")

    # -- definitions ---------------------------------------------------------------------------

    def _months_back(self, months: int, day: int = 15) -> dt.date:
        index = self.as_of.year * 12 + self.as_of.month - 1 - months
        return dt.date(index // 12, index % 12 + 1, day)

    def _events(self) -> tuple[CampaignDef, ...]:
        """Two trade fairs and two webinars, placed relative to ``as_of``.

        Codes derive from the dates, so the default ``as_of`` gives ``FAIR2025``, ``FAIR2026``,
        ``WEBINAR_Q3`` and ``WEBINAR_Q1``, the codes the default model and docs use.
        """
        out: list[CampaignDef] = []
        for months, kind in ((19, "fair"), (7, "fair"), (9, "webinar"), (2, "webinar")):
            day = self._months_back(months, 14)
            if kind == "fair":
                code, name = f"FAIR{day.year}", f"Industrial trade fair {day.year}"
            else:
                quarter = (day.month - 1) // 3 + 1
                code, name = f"WEBINAR_Q{quarter}", f"Webinar Q{quarter} {day.year}"
            if any(e.code == code for e in out):
                code = f"{code}_{day.year}"
            out.append(CampaignDef(code, name, kind, day))
        return tuple(out)

    def _campaigns(self) -> tuple[CampaignDef, ...]:
        out = [
            CampaignDef(
                f"NEWSLETTER_{d.year}_{d.month:02d}", f"Newsletter {d:%B %Y}", "newsletter", d
            )
            for d in (self._months_back(m, 5) for m in range(22, 0, -4))
        ]
        out += [
            CampaignDef(
                "HYDRAULICS_LAUNCH", "Hydraulics range launch", "promotion", self._months_back(14)
            ),
            CampaignDef(
                "SENSOR_WHITEPAPER", "Sensor selection whitepaper", "content", self._months_back(10)
            ),
            CampaignDef(
                "SERVICE_CONTRACTS", "Service contract offer", "promotion", self._months_back(4)
            ),
            CampaignDef(
                "NPS_SURVEY", "Customer satisfaction survey", "survey", self._months_back(6)
            ),
        ]
        return tuple(out)

    # -- helpers --------------------------------------------------------------------------------

    def _when(self, rng: random.Random, lo: dt.datetime, hi: dt.datetime) -> dt.datetime:
        """A working-hours timestamp in ``[lo, hi)``, clamped into the two-year window."""
        lo, hi = max(lo, self.start), min(hi, self.end)
        days = max(1, (hi - lo).days)
        day = lo.toordinal() + rng.randrange(days)
        weekday = day % 7  # ordinal 1 (0001-01-01) is a Monday, so 0 is a Sunday
        if weekday in (0, 6):  # weekends move to Friday: B2B happens on working days
            day -= 2 if weekday == 0 else 1
        minute = rng.randrange(7 * 60, 18 * 60)
        moment = dt.datetime.fromordinal(day) + dt.timedelta(minutes=minute)
        return min(max(moment, self.start), self.end - dt.timedelta(minutes=1))

    def _add(
        self,
        kind: ActivityType,
        at: dt.datetime,
        company_id: str | None,
        contact_id: str | None,
        source: str,
        **attrs: str | float | None,
    ) -> None:
        """Queue an activity; records are built once ids are known, after sorting by time."""
        self.pending.append((at, company_id or "", contact_id or "", kind.value, source, attrs))

    # -- build ----------------------------------------------------------------------------------

    def build(self) -> Book:
        self._companies()
        self._contacts()
        self._potentials()
        self._money()
        self._sales()
        self._marketing()
        self.pending.sort(key=lambda row: row[:4])
        width = max(7, len(str(len(self.pending))))
        activities = tuple(
            Activity(
                id=f"act-{i:0{width}d}",
                type=ActivityType(kind),
                occurred_at=at,
                company_id=company_id or None,
                contact_id=contact_id or None,
                source=source,
                **attrs,
            )
            for i, (at, company_id, contact_id, kind, source, attrs) in enumerate(self.pending, 1)
        )
        return Book(
            seed=self.seed,
            size=self.size,
            as_of=self.as_of,
            companies=tuple(a.company for a in self.accounts),
            contacts=tuple(self.contacts),
            potentials=tuple(self.potentials),
            activities=activities,
            campaigns=self.campaigns,
            events=self.events,
        )

    def _companies(self) -> None:
        rng = self.rng("companies")
        n = self.size
        width = max(5, len(str(n)))
        ids = [f"co-{i:0{width}d}" for i in range(1, n + 1)]
        # Chains: about one head per 60 companies (at least one from 12 companies on), 3-10 members.
        parents: dict[str, str] = {}
        heads: list[str] = []
        if n >= 12:
            order = ids[:]
            rng.shuffle(order)
            n_heads = max(1, n // 60)
            cursor = n_heads
            for head in order[:n_heads]:
                members = order[cursor : cursor + rng.randint(3, 10)]
                cursor += len(members)
                heads.append(head)
                for member in members:
                    parents[member] = head
        statuses = [COMPANY_STATUSES[_weighted(rng, COMPANY_STATUSES, STATUS_WEIGHTS)] for _ in ids]
        for head in heads:  # a chain head is a buying organisation in its own right
            statuses[ids.index(head)] = "customer"
        buyers = [i for i, s in enumerate(statuses) if s in ("customer", "former_customer")]
        ranks = list(range(1, len(buyers) + 1))
        rng.shuffle(ranks)
        rank_of = dict(zip(buyers, ranks, strict=True))
        for index, cid in enumerate(ids):
            status = statuses[index]
            revenue = 0.0
            size_factor = rng.random() * 0.2
            if index in rank_of:
                revenue = 2_500_000.0 * rank_of[index] ** -0.95 * rng.lognormvariate(0, 0.3)
                size_factor = min(1.0, (revenue / 2_500_000.0) ** 0.3)
            core = rng.choice(_NAME_CORE)
            name = f"{rng.choice(_NAME_PREFIX)}{core.lower() if rng.random() < 0.5 else ' ' + core} {rng.choice(_NAME_SUFFIX)}"
            stage: str | None = status if rng.random() < 0.7 else None
            company = Company(
                id=cid,
                name=name,
                parent_id=parents.get(cid),
                owner=rng.choice(_OWNERS) if status != "lead" or rng.random() < 0.3 else None,
                industry=rng.choice(INDUSTRIES) if rng.random() < 0.92 else None,
                country=rng.choice(COUNTRIES),
                first_touch_source=rng.choice(FIRST_TOUCH_SOURCES) if rng.random() < 0.8 else None,
                lifecycle_stage=stage,
                modified_at=self._when(rng, self.year_cut, self.end),
                attributes=self._company_attributes(rng, status, size_factor),
            )
            primary = rng.randrange(len(PRODUCT_FAMILIES))
            mix = [rng.random() * 0.3 for _ in PRODUCT_FAMILIES]
            mix[primary] += 0.7 + rng.random() * 0.5
            total = sum(mix)
            # Volume discounts: big customers pay less against list; a minority pay a premium.
            ratio = 0.93 - 0.05 * max(0.0, math.log10(max(revenue, 1.0) / 20_000.0))
            ratio += rng.gauss(0, 0.06) + (0.12 if rng.random() < 0.15 else 0.0)
            self.accounts.append(
                _Account(
                    company=company,
                    status=status,
                    annual_revenue=revenue,
                    growth=rng.lognormvariate(0, 0.3),
                    price_ratio=min(1.2, max(0.6, ratio)),
                    has_list_prices=rng.random() > 0.03,
                    bad_payer=rng.random() < 0.15,
                    family_mix=tuple(m / total for m in mix),
                    size_factor=size_factor,
                )
            )

    def _company_attributes(
        self, rng: random.Random, status: str, size_factor: float
    ) -> dict[str, AttributeValue]:
        """Declared-field values a CRM typically holds: headcount and planned visit frequency."""
        employees = round(10 * rng.lognormvariate(2.5 + 2 * size_factor, 0.8))
        attrs: dict[str, AttributeValue] = {"employees": employees}
        if status == "customer":
            attrs["planned_visits_90d"] = 1 + round(4 * size_factor)
        return attrs

    def _contacts(self) -> None:
        rng = self.rng("contacts")
        counter = 0
        companies: list[Company | None] = [a.company for a in self.accounts]
        # A few web leads with no company yet (about 3 %).
        companies += [None] * (len(self.accounts) // 12)
        status_of = {a.company.id: a.status for a in self.accounts}
        for company in companies:
            status = "lead" if company is None else status_of[company.id]
            count = 1 if company is None else max(1, min(9, _poisson(rng, 3.0)))
            domain = "mail.example" if company is None else f"{company.id}.example"
            used: set[str] = set()
            for _ in range(count):
                counter += 1
                first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
                local = f"{first}.{last}".lower().replace(" ", "")
                local = local.encode("ascii", "ignore").decode() or "contact"
                if company is None or local in used:
                    local = f"{local}{counter}"
                used.add(local)
                role = _ROLE_WEIGHTS[_weighted(rng, _ROLE_WEIGHTS, [w for _, w in _ROLE_WEIGHTS])][
                    0
                ]
                # The stage the CRM currently holds: often the company's, sometimes empty.
                stage = status if rng.random() < 0.5 else None
                department: str | None = None
                if rng.random() >= _DEPARTMENT_MISSING:
                    department = DEPARTMENTS[_weighted(rng, DEPARTMENTS, DEPARTMENT_WEIGHTS)]
                contact = Contact(
                    id=f"ct-{counter:07d}",
                    company_id=None if company is None else company.id,
                    email=f"{local}@{domain}",
                    first_name=first,
                    last_name=last,
                    role=role if company is not None else None,
                    department=department if company is not None else None,
                    first_touch_source=rng.choice(FIRST_TOUCH_SOURCES),
                    lifecycle_stage=stage,
                    owner=None if company is None else company.owner,
                    modified_at=self._when(rng, self.year_cut, self.end),
                )
                self.contacts.append(contact)
                self.contacts_by_company.setdefault(contact.company_id or "", []).append(contact)

    def _potentials(self) -> None:
        rng = self.rng("potentials")
        first_day = self.start.date()
        for account in self.accounts:
            cid = account.company.id
            draw = rng.random()
            if draw < 0.12:
                continue  # never maintained: insufficient_data
            if draw < 0.14:
                self.potentials.append(
                    PurchasePotential(company_id=cid, annual_amount=0.0, valid_from=first_day)
                )
                continue
            if account.annual_revenue > 0:
                # Target share of wallet: a third above 50 %, a few understated (> 100 %).
                share = rng.uniform(0.5, 0.95) if rng.random() < 0.35 else rng.uniform(0.04, 0.5)
                if rng.random() < 0.04:
                    share = rng.uniform(1.1, 1.6)
                amount = account.annual_revenue / share
            else:
                amount = 60_000.0 * rng.lognormvariate(0, 1.0)
            dates = [first_day + dt.timedelta(days=rng.randrange(0, 120))]
            values = [amount * rng.uniform(0.8, 1.1)]
            if rng.random() < 0.5:  # revised during the last 12 months
                dates.append(self.year_cut.date() + dt.timedelta(days=rng.randrange(0, 330)))
                values.append(amount)
            else:
                values[0] = amount
            if rng.random() < 0.03:  # a revision that is not valid yet at as_of
                dates.append(self.as_of + dt.timedelta(days=rng.randrange(1, 90)))
                values.append(amount * rng.uniform(1.2, 2.0))
            per_family = rng.random() < 0.2
            for valid_from, value in zip(dates, values, strict=True):
                rounded = round(value, -2)
                self.potentials.append(
                    PurchasePotential(company_id=cid, annual_amount=rounded, valid_from=valid_from)
                )
                if per_family:
                    for family, share_of_mix in zip(
                        PRODUCT_FAMILIES, account.family_mix, strict=True
                    ):
                        self.potentials.append(
                            PurchasePotential(
                                company_id=cid,
                                annual_amount=round(rounded * share_of_mix, 2),
                                valid_from=valid_from,
                                product_family=family,
                            )
                        )

    def _buyer(self, rng: random.Random, company_id: str, prefer: Sequence[str]) -> Contact | None:
        """A contact of the company, preferring the given departments (who orders, who is visited)."""
        people = self.contacts_by_company.get(company_id, [])
        if not people:
            return None
        preferred = [c for c in people if c.department in prefer]
        return rng.choice(preferred if preferred and rng.random() < 0.8 else people)

    def _money(self) -> None:
        """Invoices (with orders, shipments, overdue payments) for customers and former customers."""
        rng = self.rng("money")
        for account in self.accounts:
            if account.annual_revenue <= 0:
                continue
            years: list[tuple[dt.datetime, dt.datetime, float]] = []
            previous = account.annual_revenue / account.growth
            if account.status == "customer":
                years = [
                    (self.start, self.year_cut, previous),
                    (self.year_cut, self.end, account.annual_revenue),
                ]
            else:  # former customer: bought in the first year, then lapsed
                lapse = self.year_cut - dt.timedelta(days=rng.randrange(0, 150))
                years = [(self.start, lapse, previous)]
            for lo, hi, revenue in years:
                # Bigger customers buy more often *and* in bigger lines: about sqrt(revenue).
                lines = max(1, min(60, round(math.sqrt(revenue / 600.0) * rng.uniform(0.8, 1.2))))
                for _ in range(lines):
                    self._invoice(rng, account, (lo, hi), revenue / lines)

    def _invoice(
        self,
        rng: random.Random,
        account: _Account,
        span: tuple[dt.datetime, dt.datetime],
        mean_amount: float,
    ) -> None:
        cid = account.company.id
        at = self._when(rng, *span)
        family = PRODUCT_FAMILIES[_weighted(rng, PRODUCT_FAMILIES, account.family_mix)]
        amount = round(mean_amount * rng.lognormvariate(-0.12, 0.5), 2)
        ratio = min(1.35, max(0.5, rng.gauss(account.price_ratio, 0.03)))
        list_amount: float | None = round(amount / ratio, 2)
        if not account.has_list_prices or rng.random() < 0.03:
            list_amount = None
        buyer = self._buyer(rng, cid, ("purchasing", "production"))
        buyer_id = buyer.id if buyer is not None else None
        if rng.random() < 0.8:
            ordered = at - dt.timedelta(days=rng.randint(3, 20))
            if ordered >= self.start:
                self._add(
                    ActivityType.ORDER, ordered, cid, buyer_id, "erp",
                    amount=amount, list_amount=list_amount, product_family=family,
                )  # fmt: skip
        if rng.random() < 0.8:
            shipped = at - dt.timedelta(days=rng.randint(0, 2))
            if shipped >= self.start:
                self._add(
                    ActivityType.SHIPMENT, shipped, cid, None, "erp",
                    amount=amount, product_family=family,
                )  # fmt: skip
        self._add(
            ActivityType.INVOICE, at, cid, None, "erp",
            amount=amount, list_amount=list_amount, product_family=family,
        )  # fmt: skip
        if rng.random() < (0.12 if account.bad_payer else 0.01):
            due = at + dt.timedelta(days=30 + rng.randint(1, 60))
            if due < self.end:
                self._add(ActivityType.PAYMENT_OVERDUE, due, cid, None, "accounting", amount=amount)

    def _sales(self) -> None:
        """Visits, calls, meetings, quotes and material sent by the account owners."""
        rng = self.rng("sales")
        for account in self.accounts:
            cid = account.company.id
            active = account.status in ("customer", "prospect") or rng.random() < 0.2
            factor = account.size_factor
            per_year = {
                ActivityType.VISIT: (0.5 + 10 * factor) if account.status == "customer" else 0.3,
                ActivityType.CALL: 1 + 8 * factor,
                ActivityType.MEETING: 0.3 + 3 * factor,
            }
            for kind, rate in per_year.items():
                for _ in range(_poisson(rng, 2 * rate if active else 0.2)):
                    contact = self._buyer(rng, cid, ("purchasing", "management", "production"))
                    self._add(
                        kind, self._when(rng, self.start, self.end), cid,
                        contact.id if contact else None, "crm",
                    )  # fmt: skip
            quotes = _poisson(
                rng, {"customer": 3 + 15 * factor, "prospect": 3.0}.get(account.status, 0.3)
            )
            for _ in range(quotes):
                contact = self._buyer(rng, cid, ("purchasing",))
                family = PRODUCT_FAMILIES[_weighted(rng, PRODUCT_FAMILIES, account.family_mix)]
                amount = round(4_000 * rng.lognormvariate(0, 0.9), 2)
                self._add(
                    ActivityType.QUOTE_SENT, self._when(rng, self.start, self.end), cid,
                    contact.id if contact else None, "crm",
                    amount=amount, product_family=family,
                )  # fmt: skip
            materials = _poisson(rng, 2.0 if account.status in ("prospect", "lead") else 0.6)
            for _ in range(materials):
                contact = self._buyer(rng, cid, ("production", "purchasing"))
                campaign = rng.choice(self.campaigns)
                self._add(
                    ActivityType.MATERIAL_SENT,
                    self._when(rng, dt.datetime.combine(campaign.date, dt.time()), self.end),
                    cid, contact.id if contact else None, "crm",
                    campaign=campaign.code,
                    product_family=rng.choice(PRODUCT_FAMILIES),
                )  # fmt: skip

    def _marketing(self) -> None:
        """Emails, web, forms, campaign responses, events and surveys, per contact."""
        rng = self.rng("marketing")
        status_of = {a.company.id: a.status for a in self.accounts}
        newsletters = [c for c in self.campaigns if c.kind == "newsletter"]
        offers = [c for c in self.campaigns if c.kind in ("promotion", "content")]
        survey = next(c for c in self.campaigns if c.kind == "survey")
        for contact in self.contacts:
            cid, pid = contact.company_id, contact.id
            status = status_of.get(cid or "", "lead")
            engagement = rng.lognormvariate(-0.3, 0.9)  # most are lukewarm, a few very engaged
            subscribed = rng.random() < 0.6
            for campaign in newsletters + offers:
                if not subscribed or (campaign.kind != "newsletter" and rng.random() < 0.5):
                    continue
                sent = self._when(
                    rng,
                    dt.datetime.combine(campaign.date, dt.time()),
                    dt.datetime.combine(campaign.date + dt.timedelta(days=2), dt.time()),
                )
                self._add(
                    ActivityType.EMAIL_SENT, sent, cid, pid, "marketing", campaign=campaign.code
                )
                if rng.random() < min(0.9, 0.25 * engagement):
                    opened = sent + dt.timedelta(hours=rng.randint(1, 72))
                    if opened < self.end:
                        self._add(
                            ActivityType.EMAIL_OPENED,
                            opened,
                            cid,
                            pid,
                            "marketing",
                            campaign=campaign.code,
                        )
                        if rng.random() < 0.25:
                            clicked = opened + dt.timedelta(minutes=rng.randint(1, 30))
                            self._add(
                                ActivityType.EMAIL_CLICKED,
                                min(clicked, self.end - dt.timedelta(minutes=1)),
                                cid,
                                pid,
                                "marketing",
                                campaign=campaign.code,
                            )
                        if campaign.kind != "newsletter" and rng.random() < 0.15:
                            self._add(
                                ActivityType.CAMPAIGN_RESPONSE,
                                opened + dt.timedelta(days=1)
                                if opened + dt.timedelta(days=1) < self.end
                                else opened,
                                cid,
                                pid,
                                "marketing",
                                campaign=campaign.code,
                            )
            for _ in range(_poisson(rng, 2.5 * engagement)):
                campaign_code = rng.choice(offers).code if rng.random() < 0.3 else None
                self._add(
                    ActivityType.WEB_VISIT,
                    self._when(rng, self.start, self.end),
                    cid,
                    pid,
                    "web",
                    campaign=campaign_code,
                )
            for _ in range(_poisson(rng, 0.4 * engagement)):
                self._add(
                    ActivityType.FORM_SUBMISSION,
                    self._when(rng, self.start, self.end),
                    cid,
                    pid,
                    "web",
                    campaign=rng.choice(offers).code,
                )
            for event in self.events:
                invited = 0.25 if status in ("customer", "prospect") else 0.08
                if rng.random() >= invited * min(2.0, engagement):
                    continue
                day = dt.datetime.combine(event.date, dt.time(9))
                registered = self._when(rng, day - dt.timedelta(days=45), day)
                self._add(
                    ActivityType.EVENT_REGISTERED,
                    registered,
                    cid,
                    pid,
                    "marketing",
                    event_code=event.code,
                    campaign=event.code,
                )
                if rng.random() < 0.6 and day < self.end:
                    self._add(
                        ActivityType.EVENT_ATTENDED,
                        day,
                        cid,
                        pid,
                        "marketing",
                        event_code=event.code,
                        campaign=event.code,
                    )
            if status == "customer" and cid is not None:
                for wave in (survey.date - dt.timedelta(days=365), survey.date):
                    if rng.random() < 0.3:
                        at = self._when(
                            rng,
                            dt.datetime.combine(wave, dt.time()),
                            dt.datetime.combine(wave + dt.timedelta(days=14), dt.time()),
                        )
                        score = float(min(10, max(0, round(rng.gauss(7.4, 2.0)))))
                        self._add(ActivityType.SURVEY_RESPONSE, at, cid, pid, "survey", score=score)
