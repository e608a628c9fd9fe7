"""Posting events from a matching run: one event per business event, in its document's currency.

Sales and purchase invoices, goods receipts (accrued at the order price), bank transactions
settling invoices (with fees and unapplied remainders), and bank transactions nothing
settles (to suspense, pending review). A goods receipt whose order is unknown gets no voucher
rather than a guessed amount; an invoice a person marked as a duplicate gets none either.
With exchange rates, a foreign-currency invoice settled at another rate than it was booked at
also gets an FX difference event in the base currency.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from decimal import Decimal

from ledger.documents import BankTransaction, BusinessDocument, GoodsReceipt, Invoice, Order, PurchaseInvoice
from ledger.money import Money
from ledger.posting.fx import MissingRate, RateTable, to_base
from ledger.posting.vouchers import PostingEvent, bank_event_key, fx_event_key
from matching.chains import order_price
from matching.engine import MatchOutput
from matching.model import Decision


def _accrual(receipt: GoodsReceipt, order: Order | None) -> Money | None:
    if order is None:
        return None
    total = Decimal(0)
    for line in receipt.lines:
        price = order_price(order, line.sku)
        if price is None:
            return None
        total += line.quantity * price
    return Money(total, order.currency).quantize()


def invoice_amounts(invoice: Invoice) -> dict[str, Money]:
    """VAT is rounded per invoice line (as the invoice states it), never recomputed on the total:
    the voucher's tax is the sum of the lines' tax, and gross is net plus that tax."""
    net, tax = invoice.net_total, invoice.tax_total
    return {"gross": net + tax, "net": net, "tax": tax}


def posting_events(documents: Sequence[BusinessDocument], transactions: Sequence[BankTransaction],
                   output: MatchOutput, rates: RateTable | None = None,
                   blocked: Collection[tuple[str, str]] = frozenset()) -> list[PostingEvent]:
    """``blocked``: (doc_type, doc_no) a person marked as duplicates; such an invoice gets no voucher."""
    orders = {(d.kind.value, d.number): d for d in documents if isinstance(d, Order)}
    receipts = {d.number: d for d in documents if isinstance(d, GoodsReceipt)}
    p2p, o2c = output.chains["p2p"], output.chains["o2c"]

    def order_of(invoice: Invoice) -> Order | None:
        chain, kind = (p2p, "purchase_order") if isinstance(invoice, PurchaseInvoice) else (o2c, "sales_order")
        shipped = chain.shipments_of_invoice.get(invoice.number, [])
        number = chain.order_of_invoice.get(invoice.number) or next(
            (chain.order_of[s] for s in shipped if s in chain.order_of), None)
        return orders.get((kind, number or invoice.order_ref))

    def dimensions(order: Order | None, role: str, name: str) -> dict[str, str]:
        found = {role: name}
        if order is not None:
            found.update({k: v for k, v in (("project", order.project), ("department", order.department)) if v})
        return found

    events: list[PostingEvent] = []
    accruals: dict[str, Money] = {}
    for receipt in receipts.values():
        order = orders.get(("purchase_order", p2p.order_of.get(receipt.number, receipt.order_ref)))
        accrual = _accrual(receipt, order)
        if accrual is not None:
            accruals[receipt.number] = accrual
            events.append(PostingEvent(kind="goods_receipt", key=f"goods_receipt:{receipt.number}", date=receipt.date,
                                       doc_type="goods_receipt", doc_no=receipt.number, currency=accrual.currency,
                                       counterparty=receipt.counterparty, amounts={"accrual": accrual},
                                       dimensions=dimensions(order, "supplier", receipt.counterparty)))
    for invoice in (d for d in documents if isinstance(d, Invoice) and (d.kind.value, d.number) not in blocked):
        order = order_of(invoice)
        amounts = invoice_amounts(invoice)
        role = "customer"
        if isinstance(invoice, PurchaseInvoice):
            role = "supplier"
            amounts["accrual"] = sum((accruals[r] for r in p2p.shipments_of_invoice.get(invoice.number, [])
                                      if r in accruals), Money.zero(invoice.currency))
        events.append(PostingEvent(kind=invoice.kind.value, key=f"{invoice.kind.value}:{invoice.number}",
                                   date=invoice.date, doc_type=invoice.kind.value, doc_no=invoice.number,
                                   currency=invoice.currency, counterparty=invoice.counterparty, amounts=amounts,
                                   dimensions=dimensions(order, role, invoice.counterparty)))
    settled: dict[str, Money] = defaultdict(lambda: None)  # type: ignore[arg-type, return-value]
    for link in output.links:
        if link.decision is Decision.AUTO and link.to_type == "bank_txn" and link.amount is not None:
            settled[link.to_no] = link.amount if settled[link.to_no] is None else settled[link.to_no] + link.amount
    for txn in transactions:
        events.append(_cash_event(txn, settled.get(txn.number)))
    if rates is not None:
        events += _fx_differences(documents, transactions, output, rates)
    return events


def _fx_differences(documents: Sequence[BusinessDocument], transactions: Sequence[BankTransaction],
                    output: MatchOutput, rates: RateTable) -> list[PostingEvent]:
    """Settled amount × (rate on the payment date − rate on the invoice date), per settlement link.
    Where either rate is missing there is no event: the vouchers themselves wait for the rate."""
    invoices = {(d.kind.value, d.number): d for d in documents if isinstance(d, Invoice)}
    dates = {t.number: t.booking_date for t in transactions}
    events = []
    for link in output.links:
        invoice = invoices.get((link.from_type, link.from_no))
        if (link.decision is not Decision.AUTO or link.to_type != "bank_txn" or link.amount is None
                or invoice is None or link.to_no not in dates or link.amount.currency == rates.base_currency):
            continue
        try:
            booked = to_base(link.amount, rates.conversion(invoice.currency, invoice.date))
            settled = to_base(link.amount, rates.conversion(invoice.currency, dates[link.to_no]))
        except MissingRate:
            continue
        if settled == booked:
            continue
        payable = isinstance(invoice, PurchaseInvoice)
        role = "supplier" if payable else "customer"
        events.append(PostingEvent(
            kind="fx_difference_payable" if payable else "fx_difference_receivable",
            key=fx_event_key(link.to_no, invoice.number), date=dates[link.to_no], doc_type=invoice.kind.value,
            doc_no=invoice.number, currency=rates.base_currency, counterparty=invoice.counterparty,
            amounts={"difference": settled - booked}, dimensions={role: invoice.counterparty}))
    return events


def _cash_event(txn: BankTransaction, settled: Money | None) -> PostingEvent:
    amount = abs(txn.amount)
    zero = Money.zero(amount.currency)
    incoming = txn.amount.amount > 0
    common = {"key": bank_event_key(txn.number), "date": txn.booking_date, "doc_type": "bank_txn", "doc_no": txn.number,
              "currency": amount.currency, "counterparty": txn.counterparty}
    if settled is None:
        kind, name = ("unmatched_receipt", "received") if incoming else ("unmatched_payment", "paid")
        return PostingEvent(kind=kind, amounts={name: amount}, **common)
    if settled.currency != amount.currency:
        # an invoice in another currency, settled at the bank's rate: the cash is applied in full here;
        # the exchange difference on the invoice's side is the posting rules' to book
        settled = amount
    # what settles beyond the cash is a fee (or write-off within tolerance); cash beyond it is unapplied
    gap = settled - amount
    fee = gap if gap.amount > 0 else zero
    unapplied = -gap if gap.amount < 0 else zero
    if incoming:
        return PostingEvent(kind="customer_receipt", amounts={"received": amount, "settled": settled, "fee": fee,
                                                              "unapplied": unapplied},
                            dimensions={"customer": txn.counterparty}, **common)
    # paying out: more than settled is unapplied (1221); less is a difference in our favour, credited to 6603
    return PostingEvent(kind="supplier_payment", amounts={"paid": amount, "settled": settled, "fee": -fee,
                                                          "unapplied": unapplied},
                        dimensions={"supplier": txn.counterparty}, **common)
