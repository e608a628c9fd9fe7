"""The dashboard's figures: auto-match rate by night, open exceptions by code and by age,
unapplied cash and days sales outstanding (DSO = open receivables / sales of the last 90 days × 90)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Connection, case, func, select

from ledger.money import Money
from ledger.storage.review_tables import NightlyMetric
from ledger.storage.tables import BankTxnRow, DocumentRow, ExceptionItemRow, MatchLinkRow
from review.queue import ACTIVE

AGE_BUCKETS = ((24, "< 1d"), (72, "1–3d"), (168, "3–7d"), (720, "7–30d"))
APPLIED = ("auto", "accepted")


@dataclass(slots=True)
class Figures:
    auto_rate: list[tuple[str, Decimal]]
    by_code: list[tuple[str, int]]
    by_age: list[tuple[str, int]]
    unapplied: list[Money]
    dso: Decimal | None


def figures(connection: Connection, company_id: str, base_currency: str) -> Figures:
    nights = NightlyMetric.__table__
    auto_rate = [(r.night.isoformat(), (Decimal(r.settled_txns * 100) / r.bank_txns).quantize(Decimal("0.1"))
                  if r.bank_txns else Decimal(0))
                 for r in connection.execute(select(nights).where(nights.c.company_id == company_id)
                                             .order_by(nights.c.night.desc()).limit(14))][::-1]
    items = ExceptionItemRow.__table__
    active = (items.c.company_id == company_id) & items.c.status.in_(ACTIVE)
    by_code = [(c, n) for c, n in connection.execute(select(items.c.code, func.count()).where(active)
                                                     .group_by(items.c.code).order_by(func.count().desc()))]
    now = datetime.now(UTC)
    bucket = case(*[(items.c.first_seen_at > now - timedelta(hours=h), label) for h, label in AGE_BUCKETS],
                  else_="≥ 30d")
    counts = dict(connection.execute(select(bucket, func.count()).where(active).group_by(bucket)).all())
    by_age = [(label, counts.get(label, 0)) for label in [b[1] for b in AGE_BUCKETS] + ["≥ 30d"]]
    return Figures(auto_rate, by_code, by_age, _unapplied(connection, company_id),
                   _dso(connection, company_id, base_currency))


def _applied(connection: Connection, company_id: str, from_type: str) -> dict[str, int]:
    links = MatchLinkRow.__table__
    return dict(connection.execute(select(links.c.currency, func.sum(links.c.amount_minor)).where(
        (links.c.company_id == company_id) & (links.c.from_type == from_type) & (links.c.to_type == "bank_txn")
        & links.c.decision.in_(APPLIED)).group_by(links.c.currency)).all())


def _unapplied(connection: Connection, company_id: str) -> list[Money]:
    bank = BankTxnRow.__table__
    received = dict(connection.execute(select(bank.c.currency, func.sum(bank.c.amount_minor)).where(
        (bank.c.company_id == company_id) & (bank.c.amount_minor > 0)).group_by(bank.c.currency)).all())
    applied = _applied(connection, company_id, "sales_invoice")
    return [Money.from_minor(max(int(total) - int(applied.get(currency) or 0), 0), currency)
            for currency, total in sorted(received.items())]


def _dso(connection: Connection, company_id: str, currency: str) -> Decimal | None:
    documents = DocumentRow.__table__
    mine = (documents.c.company_id == company_id) & (documents.c.kind == "sales_invoice") & (
        documents.c.currency == currency)
    gross = func.coalesce(func.sum(documents.c.net_minor + func.coalesce(documents.c.tax_minor, 0)), 0)
    last = connection.execute(select(func.max(documents.c.doc_date)).where(mine)).scalar_one()
    if last is None:
        return None
    invoiced = int(connection.execute(select(gross).where(mine)).scalar_one())
    recent = int(connection.execute(select(gross).where(mine & (documents.c.doc_date > last - timedelta(days=90))))
                 .scalar_one())
    receivable = invoiced - int(_applied(connection, company_id, "sales_invoice").get(currency) or 0)
    if recent <= 0:
        return None
    return (Decimal(max(receivable, 0)) / recent * 90).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
