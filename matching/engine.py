"""The matching run: resolve parties, build both chains, settle cash, raise exceptions.

Pure: documents in, links and exception items out; storage and files are the caller's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, field, replace
from datetime import date

from ledger.counterparties import Counterparty
from ledger.documents import (
    BankTransaction,
    BusinessDocument,
    Delivery,
    GoodsReceipt,
    PurchaseInvoice,
    PurchaseOrder,
    SalesInvoice,
    SalesOrder,
)
from ledger.exceptions import ExceptionCode, ExceptionItem
from ledger.money import Money
from ledger.settings import Tolerances
from matching.cash import CashMatcher, OpenItem
from matching.chains import ChainBuilder, ChainResult
from matching.findings import (
    duplicate_invoices,
    low_confidence,
    not_invoiced,
    overdue,
    three_way,
    unknown_counterparty,
    unmatched_bank_txn,
)
from matching.model import Comparison, Decision, Link
from matching.resolution import CachedResolver
from matching.rules import MatchingRules


@dataclass(slots=True)
class MatchOutput:
    links: list[Link] = field(default_factory=list)
    exceptions: list[ExceptionItem] = field(default_factory=list)
    settled_txns: set[str] = field(default_factory=set)
    fees: dict[str, Money] = field(default_factory=dict)
    chains: dict[str, ChainResult] = field(default_factory=dict)   # "o2c" / "p2p"
    parties: dict[tuple[str, str], str | None] = field(default_factory=dict)


def _of(documents: Sequence[BusinessDocument], cls: type) -> list:
    return [d for d in documents if type(d) is cls]


def run_matching(documents: Sequence[BusinessDocument], transactions: Sequence[BankTransaction],
                 counterparties: Sequence[Counterparty], as_of: date, rules: MatchingRules,
                 tolerances: Tolerances, *, rejected: Set[tuple[str, str, str, str]] = frozenset(),
                 autonomous: Set[str] = frozenset(), resolver: CachedResolver | None = None,
                 blocked: Set[tuple[str, str]] = frozenset(),
                 applied: Mapping[tuple[str, str], tuple[Money, tuple[str, ...]]] | None = None) -> MatchOutput:
    """``rejected``: pairs a person ignored for good (ledger.storage.decisions), never linked again:
    they are left out before anything is decided, so another candidate can stand.
    ``autonomous``: counterparty ids whose suggestions people have confirmed often enough that an
    untied suggestion for them is accepted without a person (review.learning decides who).
    ``resolver``: names resolved in earlier runs (with reviewers' decisions), reused and added to.
    ``blocked``: documents (doc_type, doc_no) a person marked as duplicates, which no payment settles.
    ``applied``: per invoice, the amount people applied to it by hand and the transactions that paid
    it: its open amount starts lower, and a payment of what is already settled is a duplicate."""
    index = resolver or CachedResolver(counterparties, {}, threshold=rules.name_threshold, margin=rules.name_margin)
    resolved = index.resolve([d.counterparty for d in documents],
                             tax_ids=[getattr(d, "counterparty_tax_id", None) for d in documents])
    party = {(d.kind.value, d.number): r.counterparty_id for d, r in zip(documents, resolved)}
    output = MatchOutput()
    shipments_by_side = {}
    chain_results = {}
    for side, (order_cls, shipment_cls, invoice_cls) in {
            "o2c": (SalesOrder, Delivery, SalesInvoice), "p2p": (PurchaseOrder, GoodsReceipt, PurchaseInvoice)}.items():
        builder = ChainBuilder(_of(documents, order_cls), _of(documents, shipment_cls), _of(documents, invoice_cls),
                               party, rules, rejected)
        chain_results[side] = builder.build()
        shipments_by_side[side] = builder.shipments
        output.links += chain_results[side].links
        if side == "p2p":
            output.exceptions += three_way(_of(documents, invoice_cls), builder.orders, builder.shipments,
                                           chain_results[side], tolerances, rules)
            output.exceptions += duplicate_invoices(_of(documents, invoice_cls), party)
        code = ExceptionCode.DELIVERED_NOT_INVOICED if side == "o2c" else ExceptionCode.RECEIVED_NOT_INVOICED
        output.exceptions += not_invoiced(_of(documents, shipment_cls), chain_results[side], as_of, tolerances, code)

    invoices = [i for i in _of(documents, SalesInvoice) + _of(documents, PurchaseInvoice)
                if (i.kind.value, i.number) not in blocked]
    items = [OpenItem(doc_type=i.kind.value, number=i.number, party=party[(i.kind.value, i.number)],
                      gross=i.gross_total, date=i.date, due_date=i.due_date) for i in invoices]
    accounts = {p.counterparty_id: p.bank_accounts for p in counterparties}
    payer = index.resolve([t.counterparty for t in transactions],
                          accounts=[t.counterparty_account for t in transactions])
    to_bank = {(f, n, t) for f, n, kind, t in rejected if kind == "bank_txn"}
    cash = CashMatcher(items, rules, tolerances, accounts, to_bank, blocked, applied or {}).match(
        list(zip(transactions, payer)))
    output.links += cash.links
    output.links = _earned(output.links, party, autonomous)
    output.exceptions += cash.findings
    output.settled_txns, output.fees = cash.settled_txns, cash.fees
    output.chains, output.parties = chain_results, party
    output.exceptions += overdue(invoices, cash.open, as_of, tolerances)

    cash_links = [link for link in output.links if link.to_type == "bank_txn"]
    linked = {link.to_no for link in cash_links}
    auto_linked = {link.to_no for link in cash_links if link.decision is Decision.AUTO}
    for txn, resolution in zip(transactions, payer):
        if txn.number not in linked:
            output.exceptions.append(unmatched_bank_txn(txn.number, txn.amount, txn.counterparty, txn.remittance))
        if resolution.counterparty_id is None and txn.counterparty and txn.number not in auto_linked:
            output.exceptions.append(unknown_counterparty(txn.number, txn.amount, txn.counterparty,
                                                          resolution.matched, resolution.score))
    output.exceptions += [low_confidence(link.from_type, link.from_no, link.to_type, link.to_no, link.amount,
                                         link.score, link.evidence.rule)
                          for link in output.links if link.decision is Decision.SUGGESTED]
    unique = {item.fingerprint: item for item in output.exceptions}
    output.exceptions = list(unique.values())
    return output


def _earned(links: list[Link], party: dict[tuple[str, str], str | None], autonomous: Set[str]) -> list[Link]:
    """Suggestions for an autonomous counterparty become automatic, unless tied: a document or
    transaction with more than one suggestion still waits for a person."""
    if not autonomous:
        return links
    suggested = [link for link in links if link.decision is Decision.SUGGESTED]
    per_end: dict[tuple[str, str], int] = {}
    for link in suggested:
        for end in ((link.from_type, link.from_no), (link.to_type, link.to_no)):
            per_end[end] = per_end.get(end, 0) + 1
    result = []
    for link in links:
        owner = party.get((link.from_type, link.from_no))
        if (link.decision is Decision.SUGGESTED and owner in autonomous
                and per_end[(link.from_type, link.from_no)] == 1 and per_end[(link.to_type, link.to_no)] == 1):
            evidence = replace(link.evidence, decided_by="yecai:autonomy", comparisons=(
                *link.evidence.comparisons, Comparison(name="autonomy", level="earned", score=1.0, detail=owner)))
            link = replace(link, decision=Decision.AUTO, evidence=evidence)
        result.append(link)
    return result
