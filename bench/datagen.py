"""Vectorised, deterministic benchmark data: a :class:`~crm_sync.model.frames.Dataset` at scale.

Why not :func:`crm_sync.sandbox.seed.generate_book`: it builds validated pydantic records one by
one, which is right for a sandbox of a few thousand companies and hopeless for ten million
activities. This module produces the same statistical shape (status mix, Zipf-like revenue, price
behaviour per customer, dated and partly missing potentials, chains, every activity type) directly
as polars columns in the exact ``frames`` schemas, with no per-row Python.

Randomness without numpy (not a dependency): uniform draws are ``hash(row index, seed)`` mapped to
[0, 1). Polars guarantees its hash is stable within one polars version, which is what a benchmark
needs: the same ``(seed, scale)`` gives identical frames on every run of the same install.
Normal draws use Box-Muller; weighted choices use inverse-CDF lookup (``search_sorted``).

Scale 1.0 = 100,000 companies, 1,000,000 contacts, 10,000,000 activities (issue #2).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

import polars as pl

from crm_sync.model.frames import (
    ACTIVITY_SCHEMA,
    COMPANY_SCHEMA,
    CONTACT_SCHEMA,
    POTENTIAL_SCHEMA,
    Dataset,
)
from crm_sync.sandbox.seed import (
    COMPANY_STATUSES,
    COUNTRIES,
    DEFAULT_AS_OF,
    DEPARTMENT_WEIGHTS,
    DEPARTMENTS,
    FIRST_TOUCH_SOURCES,
    INDUSTRIES,
    PRODUCT_FAMILIES,
    STATUS_WEIGHTS,
)

__all__ = ["BASE_ACTIVITIES", "BASE_COMPANIES", "BASE_CONTACTS", "generate_dataset"]

BASE_COMPANIES = 100_000
BASE_CONTACTS = 1_000_000
BASE_ACTIVITIES = 10_000_000

_ROLES = ("decision_maker", "influencer", "non_decision_maker")
_ROLE_WEIGHTS = (0.25, 0.35, 0.30)  # + 0.10 missing
_OWNERS = ("anna.berger", "bruno.keller", "clara.fontaine", "david.janssen", "eva.lindqvist")
_FIRST = ("Anna", "Ben", "Chloe", "Daan", "Elena", "Finn", "Giulia", "Hannah", "Jonas", "Lucas")
_LAST = ("Mueller", "Schmidt", "Dubois", "Rossi", "Kowalski", "Andersson", "Fischer", "Jansen")
_CAMPAIGNS = (
    "NEWSLETTER_2025_01",
    "NEWSLETTER_2025_05",
    "NEWSLETTER_2025_09",
    "NEWSLETTER_2026_01",
    "NEWSLETTER_2026_05",
    "NEWSLETTER_2026_09",
    "HYDRAULICS_LAUNCH",
    "SENSOR_WHITEPAPER",
    "SERVICE_CONTRACTS",
)
_EVENTS = ("FAIR2025", "FAIR2026", "WEBINAR_Q1", "WEBINAR_Q3")

# Share of all activities per type, and who they belong to. Proportions follow the book
# generator at size 5,000; "buyer" types go to customers weighted by revenue, "account" types to
# companies weighted by size, "person" types to contacts weighted by engagement.
_MIX: tuple[tuple[str, float, str], ...] = (
    ("email_sent", 0.25, "person"),
    ("web_visit", 0.20, "person"),
    ("email_opened", 0.08, "person"),
    ("invoice", 0.08, "buyer"),
    ("quote_sent", 0.06, "account"),
    ("call", 0.06, "account"),
    ("shipment", 0.06, "buyer"),
    ("order", 0.06, "buyer"),
    ("visit", 0.045, "account"),
    ("event_registered", 0.035, "person"),
    ("event_attended", 0.022, "person"),
    ("form_submission", 0.024, "person"),
    ("meeting", 0.02, "account"),
    ("email_clicked", 0.02, "person"),
    ("material_sent", 0.019, "account"),
    ("survey_response", 0.017, "person"),
    ("campaign_response", 0.003, "person"),
    ("payment_overdue", 0.002, "buyer"),
)


def generate_dataset(
    scale: float = 1.0,
    *,
    seed: int = 0,
    as_of: dt.date | None = None,
    companies: int | None = None,
    contacts: int | None = None,
    activities: int | None = None,
    attributes: bool = False,
) -> Dataset:
    """The benchmark dataset: ``scale`` x (100k companies, 1M contacts, 10M activities).

    Explicit counts override the scaled ones. With ``attributes``, companies get the declared
    field the default model requires beyond the core schema (``planned_visits_90d``, a number set
    for customers), as an extra column after the core ones; without, frames have exactly the core
    schemas. Activities span the two years before ``as_of``
    (default: the book generator's fixed date).
    """
    n_co = companies if companies is not None else max(20, round(BASE_COMPANIES * scale))
    n_ct = contacts if contacts is not None else max(20, round(BASE_CONTACTS * scale))
    n_act = activities if activities is not None else max(200, round(BASE_ACTIVITIES * scale))
    gen = _Gen(seed, as_of or DEFAULT_AS_OF)
    company_frame, facts = gen.companies(n_co)
    if attributes:
        company_frame = company_frame.with_columns(
            planned_visits_90d=facts.select(
                pl.when(pl.col("status") == "customer").then(
                    (1 + 4 * pl.col("size_factor")).round().cast(pl.Float64)
                )
            ).to_series()
        )
    contact_frame = gen.contacts(n_ct, facts)
    potential_frame = gen.potentials(facts)
    activity_frame = gen.activities(n_act, facts, contact_frame)
    return Dataset(
        companies=company_frame,
        contacts=contact_frame,
        potentials=potential_frame,
        activities=activity_frame,
    )


def _pick(values: Sequence[str], index: pl.Expr) -> pl.Expr:
    """Map an integer column to one of ``values`` (vectorised lookup)."""
    return index.cast(pl.Int64).replace_strict(
        list(range(len(values))), list(values), return_dtype=pl.String
    )


def _choose(values: Sequence[str], weights: Sequence[float], u: pl.Expr) -> pl.Expr:
    """Weighted choice from a uniform draw; weights summing below 1 leave the rest null."""
    expr: pl.Expr = pl.lit(None, dtype=pl.String)
    cumulative = sum(weights)
    for value, weight in reversed(list(zip(values, weights, strict=True))):
        expr = pl.when(u < cumulative).then(pl.lit(value)).otherwise(expr)
        cumulative -= weight
    return expr


def _ids(prefix: str, n: int, width: int) -> pl.Series:
    """``prefix`` + zero-padded 1-based row number; short enough to stay inline (<= 12 bytes)."""
    return pl.select(
        pl.format(prefix + "{}", pl.int_range(1, n + 1).cast(pl.String).str.zfill(width))
    ).to_series()


class _Gen:
    """One deterministic stream family: stream ``k`` of row ``i`` is ``hash(i, seed, k)``."""

    def __init__(self, seed: int, as_of: dt.date) -> None:
        self.seed = seed
        self.as_of = as_of
        self.end = dt.datetime.combine(as_of, dt.time())
        self.start = self.end - dt.timedelta(days=730)
        self.year_cut = self.end - dt.timedelta(days=365)

    def u(self, stream: int, index: pl.Expr | None = None) -> pl.Expr:
        """Uniform [0, 1) draw per row for ``stream`` (row index by default)."""
        base = index if index is not None else pl.int_range(pl.len(), dtype=pl.UInt64)
        hashed = base.hash((self.seed * 100_003 + stream) % 2**63)
        return (hashed // 2048).cast(pl.Float64) * (1.0 / 2.0**53)

    def normal(self, stream: int) -> pl.Expr:
        """Standard normal per row (Box-Muller on two uniform streams)."""
        u1 = (1.0 - self.u(stream)).log()
        return (-2.0 * u1).sqrt() * (2.0 * math.pi * self.u(stream + 1000)).cos()

    def micros(self, lo: dt.datetime) -> int:
        return int((lo - dt.datetime(1970, 1, 1)).total_seconds() * 1_000_000)

    # -- companies -----------------------------------------------------------------------------

    def companies(self, n: int) -> tuple[pl.DataFrame, pl.DataFrame]:
        """The company frame and a facts frame (status, revenue, price behaviour) for activities."""
        width = max(6, len(str(n)))
        frame = pl.DataFrame({"id": _ids("co-", n, width)}).with_row_index("i")
        frame = frame.with_columns(
            status=_choose(COMPANY_STATUSES, STATUS_WEIGHTS, self.u(1)),
            chain_draw=self.u(2),
        )
        # Chains: one head per 60 companies; members pick a head (3-10 members on average 6.5).
        n_heads = max(1, n // 60) if n >= 12 else 0
        frame = frame.with_columns(chain_rank=pl.col("chain_draw").rank("ordinal") - 1)
        heads = frame.filter(pl.col("chain_rank") < n_heads).select(
            head_rank=pl.col("chain_rank"), parent_id=pl.col("id")
        )
        frame = frame.with_columns(
            head_rank=pl.when(
                (pl.col("chain_rank") >= n_heads) & (pl.col("chain_rank") < n_heads * 7.5)
            ).then((pl.col("chain_rank") - n_heads) % max(n_heads, 1))
        ).join(heads, on="head_rank", how="left", maintain_order="left")
        frame = frame.with_columns(
            status=pl.when(pl.col("chain_rank") < n_heads)
            .then(pl.lit("customer"))
            .otherwise(pl.col("status"))
        )
        buyer = pl.col("status").is_in(["customer", "former_customer"])
        frame = frame.with_columns(
            buyer_rank=pl.when(buyer).then(self.u(3)).rank("ordinal"),
        )
        revenue = (
            2_500_000.0
            * pl.col("buyer_rank").cast(pl.Float64).pow(-0.95)
            * (0.3 * self.normal(4)).exp()
        )
        frame = frame.with_columns(annual_revenue=pl.when(buyer).then(revenue).otherwise(0.0))
        log_rev = (pl.max_horizontal(pl.col("annual_revenue"), 1.0) / 20_000.0).log10()
        ratio = (
            0.93
            - 0.05 * pl.max_horizontal(log_rev, 0.0)
            + 0.06 * self.normal(5)
            + pl.when(self.u(6) < 0.15).then(0.12).otherwise(0.0)
        ).clip(0.6, 1.2)
        frame = frame.with_columns(
            price_ratio=ratio,
            has_list_prices=self.u(7) > 0.03,
            bad_payer=self.u(8) < 0.15,
            primary_family=(self.u(9) * len(PRODUCT_FAMILIES)).floor().cast(pl.Int64),
            growth=(0.3 * self.normal(10)).exp(),
            size_factor=pl.when(buyer)
            .then((pl.col("annual_revenue") / 2_500_000.0).clip(0.0, 1.0).pow(0.3))
            .otherwise(self.u(11) * 0.2),
        )
        out = frame.select(
            "id",
            name=pl.format(
                "{} {} {}",
                _pick(("Nord", "Süd", "Alpen", "Rhein", "Atlas"), (self.u(12) * 5).floor()),
                _pick(("Hydraulik", "Automation", "Pumpen", "Metall"), (self.u(13) * 4).floor()),
                _pick(("GmbH", "AG", "SA", "BV", "Ltd"), (self.u(14) * 5).floor()),
            ),
            parent_id="parent_id",
            owner=pl.when((pl.col("status") != "lead") | (self.u(15) < 0.3)).then(
                _pick(_OWNERS, (self.u(16) * len(_OWNERS)).floor())
            ),
            industry=pl.when(self.u(17) < 0.92).then(
                _pick(INDUSTRIES, (self.u(18) * len(INDUSTRIES)).floor())
            ),
            country=_pick(COUNTRIES, (self.u(19) * len(COUNTRIES)).floor()),
            first_touch_source=pl.when(self.u(20) < 0.8).then(
                _pick(FIRST_TOUCH_SOURCES, (self.u(21) * len(FIRST_TOUCH_SOURCES)).floor())
            ),
            lifecycle_stage=pl.when(self.u(22) < 0.7).then(pl.col("status")),
        ).cast(COMPANY_SCHEMA)  # type: ignore[arg-type]
        facts = frame.select(
            "i",
            "id",
            "status",
            "annual_revenue",
            "price_ratio",
            "has_list_prices",
            "bad_payer",
            "primary_family",
            "growth",
            "size_factor",
        )
        return out, facts

    # -- contacts ------------------------------------------------------------------------------

    def contacts(self, n: int, facts: pl.DataFrame) -> pl.DataFrame:
        """Contacts spread over companies (about 3 % with no company, like web leads)."""
        company_ids, statuses = facts["id"], facts["status"]
        n_co = company_ids.len()
        width = max(7, len(str(n)))
        frame = pl.DataFrame({"id": _ids("ct-", n, width)})
        company_index = (self.u(30) * n_co).floor().cast(pl.UInt32)
        frame = frame.with_columns(company_index=company_index, orphan=self.u(31) < 0.03)
        frame = frame.with_columns(
            company_id=pl.when(~pl.col("orphan")).then(
                pl.lit(company_ids).gather(pl.col("company_index"))
            ),
            status=pl.when(~pl.col("orphan"))
            .then(pl.lit(statuses).gather(pl.col("company_index")))
            .otherwise(pl.lit("lead")),
        )
        first = _pick(_FIRST, (self.u(32) * len(_FIRST)).floor())
        last = _pick(_LAST, (self.u(33) * len(_LAST)).floor())
        return frame.select(
            "id",
            "company_id",
            email=pl.format(
                "{}.{}.{}@{}.example",
                first.str.to_lowercase(),
                last.str.to_lowercase(),
                pl.col("id"),
                pl.col("company_id").fill_null("mail"),
            ),
            first_name=first,
            last_name=last,
            role=pl.when(~pl.col("orphan")).then(_choose(_ROLES, _ROLE_WEIGHTS, self.u(34))),
            department=pl.when(~pl.col("orphan")).then(
                _choose(DEPARTMENTS, DEPARTMENT_WEIGHTS, self.u(35))
            ),
            first_touch_source=_pick(
                FIRST_TOUCH_SOURCES, (self.u(36) * len(FIRST_TOUCH_SOURCES)).floor()
            ),
            # The stage the CRM currently holds: often the company's, sometimes empty.
            lifecycle_stage=pl.when(self.u(37) < 0.5).then(pl.col("status")),
            owner=pl.lit(None, dtype=pl.String),
        ).cast(CONTACT_SCHEMA)  # type: ignore[arg-type]

    # -- potentials ----------------------------------------------------------------------------

    def potentials(self, facts: pl.DataFrame) -> pl.DataFrame:
        """Dated whole-wallet rows (missing for ~12 %, zero for ~2 %), revisions, family splits."""
        first_day = self.start.date()
        base = facts.with_columns(draw=self.u(40), share_draw=self.u(41)).filter(
            pl.col("draw") >= 0.12
        )
        share = (
            pl.when(self.u(42) < 0.04)
            .then(1.1 + 0.5 * self.u(43))
            .when(pl.col("share_draw") < 0.35)
            .then(0.5 + 0.45 * self.u(44))
            .otherwise(0.04 + 0.46 * self.u(45))
        )
        amount = (
            pl.when(pl.col("draw") < 0.14)
            .then(0.0)
            .when(pl.col("annual_revenue") > 0)
            .then(pl.col("annual_revenue") / share)
            .otherwise(60_000.0 * self.normal(46).exp())
        )
        base = base.with_columns(
            amount=amount,
            revised=(self.u(47) < 0.5) & (pl.col("draw") >= 0.14),
            future=(self.u(48) < 0.03) & (pl.col("draw") >= 0.14),
            per_family=(self.u(49) < 0.2) & (pl.col("draw") >= 0.14),
            first_from=pl.lit(first_day) + pl.duration(days=(self.u(50) * 120).floor()),
            revised_from=pl.lit(self.year_cut.date())
            + pl.duration(days=(self.u(51) * 330).floor()),
            future_from=pl.lit(self.as_of) + pl.duration(days=1 + (self.u(52) * 89).floor()),
        )
        initial = base.select(
            "id",
            "i",
            "per_family",
            "primary_family",
            valid_from="first_from",
            annual_amount=pl.when(pl.col("revised"))
            .then(pl.col("amount") * (0.8 + 0.3 * self.u(53)))
            .otherwise(pl.col("amount")),
        )
        revised = base.filter("revised").select(
            "id",
            "i",
            "per_family",
            "primary_family",
            valid_from="revised_from",
            annual_amount="amount",
        )
        future = base.filter("future").select(
            "id",
            "i",
            "per_family",
            "primary_family",
            valid_from="future_from",
            annual_amount=pl.col("amount") * (1.2 + 0.8 * self.u(54)),
        )
        whole = pl.concat([initial, revised, future]).with_columns(
            annual_amount=(pl.col("annual_amount") / 100).round() * 100
        )
        families = pl.DataFrame(
            {"product_family": list(PRODUCT_FAMILIES), "f": list(range(len(PRODUCT_FAMILIES)))}
        ).with_columns(pl.col("f").cast(pl.Int64))
        split = (
            whole.filter("per_family")
            .join(families, how="cross")
            .with_columns(
                weight=self.u(55, pl.col("i").cast(pl.UInt64) * 8 + pl.col("f").cast(pl.UInt64))
                * 0.3
                + pl.when(pl.col("f") == pl.col("primary_family")).then(0.95).otherwise(0.0)
            )
            .with_columns(
                annual_amount=(
                    pl.col("annual_amount")
                    * pl.col("weight")
                    / pl.col("weight").sum().over("id", "valid_from")
                ).round(2)
            )
        )
        whole = whole.with_columns(product_family=pl.lit(None, dtype=pl.String))
        columns = ["id", "annual_amount", "valid_from", "product_family"]
        return (
            pl.concat([whole.select(columns), split.select(columns)])
            .sort("id", "valid_from", "product_family", nulls_last=False)
            .select(
                company_id="id",
                annual_amount="annual_amount",
                valid_from="valid_from",
                product_family="product_family",
                business_line=pl.lit(None, dtype=pl.String),
            )
            .cast(POTENTIAL_SCHEMA)  # type: ignore[arg-type]
        )

    # -- activities ----------------------------------------------------------------------------

    def activities(self, n: int, facts: pl.DataFrame, contacts: pl.DataFrame) -> pl.DataFrame:
        """``n`` activities split by :data:`_MIX`; owners drawn by inverse CDF on skewed weights."""
        total = sum(share for _, share, _ in _MIX)
        counts = [round(n * share / total) for _, share, _ in _MIX]
        counts[0] += n - sum(counts)
        buyers = facts.filter(pl.col("annual_revenue") > 0)
        # Revenue drives invoice lines sub-linearly (bigger customers also buy bigger lines).
        buyer_cdf = (
            buyers["annual_revenue"].sqrt().cum_sum() / buyers["annual_revenue"].sqrt().sum()
        )
        account_w = (facts["size_factor"] + 0.05).pow(1.5)
        account_cdf = account_w.cum_sum() / account_w.sum()
        # Engagement per contact: log-normal, most lukewarm and a few very active.
        person_w = contacts.select((0.9 * self.normal(60) - 0.3).exp()).to_series()
        person_cdf = person_w.cum_sum() / person_w.sum()
        # Mean invoice line such that a buyer's invoiced revenue per year is about its
        # annual_revenue: lines_i = N_inv * sqrt(R_i) / S over two years, and the line noise
        # (log-normal, sigma 0.5) has mean exp(0.125).
        n_invoices = counts[[kind for kind, _, _ in _MIX].index("invoice")]
        sqrt_sum = float(buyers["annual_revenue"].sqrt().sum()) or 1.0
        line_scale = 2.0 * sqrt_sum / max(n_invoices, 1) / math.exp(0.125)
        buyer_facts = buyers.select(
            "id", "status", "price_ratio", "has_list_prices", "bad_payer", "primary_family",
            line_mean=pl.col("annual_revenue").sqrt() * line_scale,
        )  # fmt: skip
        company_facts = facts.select(
            "id", "status", "price_ratio", "has_list_prices", "primary_family"
        )
        contact_link = contacts.select(contact_id="id", company_id="company_id")
        start_us, year_us, end_us = (self.micros(x) for x in (self.start, self.year_cut, self.end))
        parts: list[pl.DataFrame] = []
        width = max(8, len(str(n)))
        offset = 0
        for k, ((kind, _, owner), count) in enumerate(zip(_MIX, counts, strict=True)):
            if count == 0:
                continue
            stream = 100 + 10 * k
            rows = pl.DataFrame(
                {"row": pl.int_range(offset, offset + count, dtype=pl.UInt64, eager=True)}
            )
            offset += count
            draw = rows.select(self.u(stream, pl.col("row"))).to_series()
            if owner == "buyer" and buyers.height > 0:
                owner_index = buyer_cdf.search_sorted(draw, side="right").clip(0, buyers.height - 1)
                part = buyer_facts[owner_index].rename({"id": "company_id"})
                part = part.with_columns(contact_id=pl.lit(None, dtype=pl.String))
            elif owner in ("account", "buyer"):  # "buyer" only when there are no buyers at all
                owner_index = account_cdf.search_sorted(draw, side="right").clip(
                    0, facts.height - 1
                )
                part = company_facts[owner_index].rename({"id": "company_id"})
                part = part.with_columns(contact_id=pl.lit(None, dtype=pl.String))
            else:
                owner_index = person_cdf.search_sorted(draw, side="right").clip(
                    0, contacts.height - 1
                )
                part = contact_link[owner_index].with_columns(status=pl.lit("person"))
            part = part.with_columns(rows["row"])
            parts.append(self._fill(kind, part, stream, (start_us, year_us, end_us), width))
            del part, draw, owner_index, rows
        # Parts already have the final columns, so concatenating without rechunking copies nothing
        # (the peak stays close to the size of the result).
        return pl.concat(parts, rechunk=False)

    def _fill(
        self,
        kind: str,
        part: pl.DataFrame,
        stream: int,
        window: tuple[int, int, int],
        width: int,
    ) -> pl.DataFrame:
        """Timestamps and the attributes :data:`ACTIVITY_DOCS` allows for ``kind``."""
        start_us, year_us, end_us = window
        row = pl.col("row")
        # Former customers bought only in the first year; everything else spans both years.
        hi = pl.when(pl.col("status") == "former_customer").then(year_us).otherwise(end_us)
        # A working-hours minute (07:00-18:00) on a day inside the window.
        day_us = 86_400_000_000
        days = ((hi - start_us) // day_us).cast(pl.Float64)
        day = (self.u(stream + 1, row) * days).floor().cast(pl.Int64)
        minute = (420 + self.u(stream + 11, row) * 660).floor().cast(pl.Int64)
        at = start_us + day * day_us + minute * 60_000_000
        family = _pick(PRODUCT_FAMILIES, (self.u(stream + 2, row) * len(PRODUCT_FAMILIES)).floor())
        if "primary_family" in part.columns:
            family = (
                pl.when(self.u(stream + 3, row) < 0.7)
                .then(_pick(PRODUCT_FAMILIES, pl.col("primary_family")))
                .otherwise(family)
            )
        campaign = _pick(_CAMPAIGNS, (self.u(stream + 4, row) * len(_CAMPAIGNS)).floor())
        line = (
            (pl.col("line_mean") * (0.5 * self.normal(stream + 5)).exp())
            if "line_mean" in part.columns
            else 4_000.0 * (0.9 * self.normal(stream + 5)).exp()
        )
        cols: dict[str, pl.Expr] = {
            "type": pl.lit(kind),
            "occurred_at": at,
        }
        if kind in ("invoice", "order"):
            ratio = (pl.col("price_ratio") + 0.03 * self.normal(stream + 6)).clip(0.5, 1.35)
            amount = line.round(2)
            cols |= {
                "amount": amount,
                "list_amount": pl.when(
                    pl.col("has_list_prices") & (self.u(stream + 7, row) > 0.03)
                ).then((amount / ratio).round(2)),
                "product_family": family,
            }
        elif kind in ("shipment", "quote_sent"):
            cols |= {"amount": line.round(2), "product_family": family}
        elif kind == "payment_overdue":
            cols |= {"amount": line.round(2)}
        elif kind == "material_sent":
            cols |= {"campaign": campaign, "product_family": family}
        elif kind in ("email_sent", "email_opened", "email_clicked", "form_submission"):
            cols |= {"campaign": campaign}
        elif kind in ("web_visit",):
            cols |= {"campaign": pl.when(self.u(stream + 8, row) < 0.3).then(campaign)}
        elif kind == "campaign_response":
            cols |= {"campaign": campaign}
        elif kind in ("event_registered", "event_attended"):
            event = _pick(_EVENTS, (self.u(stream + 9, row) * len(_EVENTS)).floor())
            cols |= {"event_code": event, "campaign": event}
        elif kind == "survey_response":
            score = (7.4 + 2.0 * self.normal(stream + 6)).round().clip(0, 10)
            cols |= {"score": score}
        cols |= {
            "id": pl.format("act-{}", (row + 1).cast(pl.String).str.zfill(width)),
            "occurred_at": cols["occurred_at"].cast(pl.Datetime("us")),
            "company_id": pl.col("company_id"),
            "contact_id": pl.col("contact_id"),
        }
        return part.select(
            cols.get(name, pl.lit(None, dtype=dtype)).cast(dtype).alias(name)
            for name, dtype in ACTIVITY_SCHEMA.items()
        )
