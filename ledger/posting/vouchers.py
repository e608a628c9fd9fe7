"""Business events → vouchers that balance exactly, numbered per period and voucher word.

    sales invoice 44001234, gross 1130.00, net 1000.00, tax 130.00
    → 转: Dr 1122 应收账款 1130.00 / Cr 6001 主营业务收入 1000.00 / Cr 22210102 销项税额 130.00

A line's amount is its template's expression over the event's named amounts; zero lines are
left out and a negative amount moves to the other side. Debits equal credits in minor units
or the voucher is refused with the difference named (a template error, not bad data).

A voucher in a foreign currency also balances in the base currency: each line is converted
on its own (ledger.posting.fx) and the rounding left over goes to the templates' FX account.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date

from ledger.money import Money
from ledger.posting.fx import Conversion, MissingRate, RateTable, to_base
from ledger.posting.templates import PostingTemplates
from ledger.settings import ChartOfAccounts


class UnbalancedVoucher(ValueError):
    pass


class MissingTemplate(ValueError):
    pass


#: a business event booked again after its voucher was reversed keeps its key plus a revision
REVISION = "@r"


def base_key(event_key: str) -> str:
    """``bank_txn:x@r2`` → ``bank_txn:x``."""
    head, sep, tail = event_key.rpartition(REVISION)
    return head if sep and tail.isdigit() else event_key


def revision_of(event_key: str) -> int:
    _head, sep, tail = event_key.rpartition(REVISION)
    return int(tail) if sep and tail.isdigit() else 1


def bank_event_key(txn_no: str) -> str:
    return f"bank_txn:{txn_no}"


def fx_event_key(txn_no: str, invoice_no: str) -> str:
    return f"fx_difference:{txn_no}:{invoice_no}"


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
    base_debit: Money | None = None     # in the base currency; None: the same as debit
    base_credit: Money | None = None

    @property
    def base(self) -> tuple[Money, Money]:
        return (self.debit if self.base_debit is None else self.base_debit,
                self.credit if self.base_credit is None else self.base_credit)


@dataclass(frozen=True, slots=True, kw_only=True)
class Voucher:
    event: PostingEvent
    word: str
    lines: tuple[VoucherLine, ...]
    template_version: str
    number: str = ""
    conversion: Conversion | None = None   # None: kept in its own currency

    @property
    def base_currency(self) -> str:
        return self.event.currency if self.conversion is None else self.conversion.base_currency

    @property
    def period(self) -> str:
        return self.event.date.strftime("%Y-%m")


def post(event: PostingEvent, templates: PostingTemplates, chart: ChartOfAccounts,
         conversion: Conversion | None = None) -> Voucher:
    """The voucher of one event; with a ``conversion`` its lines also carry base amounts."""
    template = templates.events.get(event.kind)
    if template is None:
        raise MissingTemplate(f"the posting templates (version {templates.version}) have no [events.{event.kind}], "
                              f"which {event.doc_type} {event.doc_no} needs: add it")
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
    if conversion is not None and conversion.base_currency != event.currency:
        lines = _convert(lines, conversion, templates, chart, summary)
    return Voucher(event=event, word=templates.single_word or template.word, lines=tuple(lines),
                   template_version=templates.version,
                   conversion=conversion if conversion is not None and conversion.base_currency != event.currency
                   else None)


def _convert(lines: list[VoucherLine], conversion: Conversion, templates: PostingTemplates, chart: ChartOfAccounts,
             summary: str) -> list[VoucherLine]:
    """Base amounts line by line; the rounding difference, if any, on an FX line of its own."""
    base_zero = Money.zero(conversion.base_currency)
    converted = [replace(line, base_debit=to_base(line.debit, conversion) if line.debit else base_zero,
                         base_credit=to_base(line.credit, conversion) if line.credit else base_zero)
                 for line in lines]
    difference = (sum((ln.base_debit for ln in converted), base_zero)
                  - sum((ln.base_credit for ln in converted), base_zero))
    if difference:
        if templates.fx_account is None:
            raise UnbalancedVoucher(f"{summary}: base amounts differ by {difference} after rounding and the "
                                    f"templates name no fx_account to take it")
        zero = Money.zero(lines[0].debit.currency)
        converted.append(VoucherLine(
            line_no=len(converted) + 1, account_code=templates.fx_account,
            account_name=chart.name_of(templates.fx_account), debit=zero, credit=zero,
            summary=f"{summary} 汇率尾差", dimensions={},
            base_debit=-difference if difference.amount < 0 else base_zero,
            base_credit=difference if difference.amount > 0 else base_zero))
    return converted


def post_all(events: Iterable[PostingEvent], templates: PostingTemplates, chart: ChartOfAccounts,
             rates: RateTable | None = None) -> list[Voucher]:
    """Vouchers for ``events``; a foreign-currency event with no rate yet is kept in its own
    currency, and the book refuses to post it until it is converted."""
    vouchers = []
    for event in events:
        conversion = None
        if rates is not None:
            try:
                conversion = rates.conversion(event.currency, event.date)
            except MissingRate:
                conversion = None
        vouchers.append(post(event, templates, chart, conversion))
    return vouchers


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
