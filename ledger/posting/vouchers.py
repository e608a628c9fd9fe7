"""Business events → vouchers that balance exactly, numbered per period and voucher word.

    sales invoice 44001234, gross 1130.00, net 1000.00, tax 130.00
    → 转: Dr 1122 应收账款 1130.00 / Cr 6001 主营业务收入 1000.00 / Cr 22210102 销项税额 130.00

A line's amount is its template's expression over the event's named amounts; zero lines are
left out and a negative amount moves to the other side. Debits equal credits in minor units
or the voucher is refused with the difference named (a template error, not bad data).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date

from ledger.money import Money
from ledger.posting.templates import PostingTemplates
from ledger.settings import ChartOfAccounts


class UnbalancedVoucher(ValueError):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class PostingEvent:
    kind: str                      # a template name: sales_invoice, customer_receipt, …
    key: str                       # one voucher per business event: this identifies the event
    date: date
    doc_type: str
    doc_no: str
    currency: str
    amounts: dict[str, Money]
    counterparty: str = ""
    dimensions: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class VoucherLine:
    line_no: int
    account_code: str
    account_name: str
    debit: Money
    credit: Money
    summary: str
    dimensions: dict[str, str]


@dataclass(frozen=True, slots=True, kw_only=True)
class Voucher:
    event: PostingEvent
    word: str
    lines: tuple[VoucherLine, ...]
    template_version: str
    number: str = ""

    @property
    def period(self) -> str:
        return self.event.date.strftime("%Y-%m")


def post(event: PostingEvent, templates: PostingTemplates, chart: ChartOfAccounts) -> Voucher:
    template = templates.events[event.kind]
    zero = Money.zero(event.currency)
    summary = template.summary.format(doc_no=event.doc_no, counterparty=event.counterparty)
    lines, debit_total, credit_total = [], zero, zero
    for line in template.lines:
        amount = zero
        for sign, name in line.expression.terms:
            amount = amount + event.amounts.get(name, zero) * sign
        if not amount:
            continue
        side = line.side if amount.amount > 0 else ("credit" if line.side == "debit" else "debit")
        amount = abs(amount)
        debit, credit = (amount, zero) if side == "debit" else (zero, amount)
        debit_total, credit_total = debit_total + debit, credit_total + credit
        lines.append(VoucherLine(line_no=len(lines) + 1, account_code=line.account,
                                 account_name=chart.name_of(line.account), debit=debit, credit=credit,
                                 summary=summary,
                                 dimensions={d: event.dimensions[d] for d in line.dimensions if d in event.dimensions}))
    if debit_total.to_minor() != credit_total.to_minor():
        raise UnbalancedVoucher(f"{event.kind} {event.doc_no}: debits {debit_total} ≠ credits {credit_total}; "
                                f"check the template's amounts")
    return Voucher(event=event, word=template.word, lines=tuple(lines), template_version=templates.version)


def number(vouchers: Iterable[Voucher]) -> list[Voucher]:
    """Numbers 1..N per (period, voucher word) in date and event order: 转-2026-11-0001."""
    ordered = sorted(vouchers, key=lambda v: (v.event.date, v.word, v.event.kind, v.event.key))
    counters: dict[tuple[str, str], int] = defaultdict(int)
    result = []
    for voucher in ordered:
        counters[(voucher.period, voucher.word)] += 1
        sequence = counters[(voucher.period, voucher.word)]
        result.append(replace(voucher, number=f"{voucher.word}-{voucher.period}-{sequence:04d}"))
    return result


CSV_COLUMNS = ("voucher_no", "voucher_date", "voucher_word", "line_no", "account_code", "account_name", "debit",
               "credit", "currency", "summary", "doc_type", "doc_no", "customer", "supplier", "project", "department")


def csv_rows(vouchers: Iterable[Voucher]) -> list[list[str]]:
    """spec/interchange-v1.md section 2.3: one row per voucher line."""
    rows = []
    for voucher in vouchers:
        event = voucher.event
        for line in voucher.lines:
            rows.append([voucher.number, event.date.isoformat(), voucher.word, str(line.line_no), line.account_code,
                         line.account_name, format(line.debit.amount, "f") if line.debit else "",
                         format(line.credit.amount, "f") if line.credit else "", event.currency, line.summary,
                         event.doc_type, event.doc_no, *(line.dimensions.get(d, "") for d in
                                                         ("customer", "supplier", "project", "department"))])
    return rows
