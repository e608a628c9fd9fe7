"""Vouchers read back from the book as domain records, for exports and the template dry run.

    for stored in load_vouchers(engine, "acme", state="posted", period="2026-11"):
        stored.voucher.number, stored.voucher.lines[0].debit, stored.state
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Engine, select

from ledger.money import Money
from ledger.posting.fx import Conversion
from ledger.posting.tables import VoucherLineRow, VoucherRow
from ledger.posting.vouchers import PostingEvent, Voucher, VoucherLine, base_key

DIMENSIONS = ("customer", "supplier", "project", "department", "product_line")


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredVoucher:
    id: int
    state: str
    number: int | None
    event_key: str             # as stored: a rebooked event carries a revision (…@r2)
    reversal_of: int | None
    prepared_by: str
    reviewed_by: str | None
    posted_by: str | None
    voucher: Voucher

    @property
    def base_event_key(self) -> str:
        return base_key(self.event_key)


def load_vouchers(engine: Engine, company_id: str, *, state: str | None = None, period: str | None = None,
                  include_reversals: bool = True) -> list[StoredVoucher]:
    """Vouchers in number order (drafts after, by id), each with its lines."""
    table, lines = VoucherRow.__table__, VoucherLineRow.__table__
    query = select(table).where(table.c.company_id == company_id)
    if state is not None:
        query = query.where(table.c.state == state)
    if period is not None:
        query = query.where(table.c.period == period)
    if not include_reversals:
        query = query.where(table.c.reversal_of.is_(None))
    with engine.connect() as connection:
        rows = connection.execute(query).all()
        by_voucher: dict[int, list] = {}
        ids = [row.id for row in rows]
        for start in range(0, len(ids), 900):
            for line in connection.execute(select(lines).where(lines.c.voucher_id.in_(ids[start:start + 900]))
                                           .order_by(lines.c.voucher_id, lines.c.line_no)):
                by_voucher.setdefault(line.voucher_id, []).append(line)
    result = [_stored(row, by_voucher.get(row.id, [])) for row in rows]
    result.sort(key=lambda s: (s.number is None, s.voucher.period, s.voucher.word, s.number or 0, s.id))
    return result


def _stored(row, lines: list) -> StoredVoucher:
    base_currency = row.base_currency or row.currency
    conversion = None
    if base_currency != row.currency:
        conversion = Conversion(base_currency=base_currency, rate=Decimal(row.fx_rate),
                                rate_date=row.fx_rate_date, source=row.fx_source)
    event = PostingEvent(kind=row.event_kind, key=base_key(row.event_key), date=row.voucher_date,
                         doc_type=row.doc_type, doc_no=row.doc_no, currency=row.currency, amounts={})
    voucher_lines = tuple(VoucherLine(
        line_no=ln.line_no, account_code=ln.account_code, account_name=ln.account_name,
        debit=Money.from_minor(ln.debit_minor, row.currency), credit=Money.from_minor(ln.credit_minor, row.currency),
        summary=ln.summary, dimensions={d: getattr(ln, d) for d in DIMENSIONS if getattr(ln, d)},
        base_debit=Money.from_minor(ln.base_debit_minor, base_currency),
        base_credit=Money.from_minor(ln.base_credit_minor, base_currency)) for ln in lines)
    voucher = Voucher(event=event, word=row.word, lines=voucher_lines, template_version=row.template_version,
                      number=row.voucher_no or "", conversion=conversion)
    return StoredVoucher(id=row.id, state=row.state, number=row.number, event_key=row.event_key,
                         reversal_of=row.reversal_of, prepared_by=row.prepared_by, reviewed_by=row.reviewed_by,
                         posted_by=row.posted_by, voucher=voucher)

