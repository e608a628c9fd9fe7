"""Settling invoices with bank transactions: the cash side of both chains.

A priority ladder, as accountants work (Odoo's reconcile models in spirit):

1. references in the remittance (exact, or one digit off) name the invoices;
2. else the payer's open invoices: one with the exact amount, one short by a bank fee
   within tolerance, or a unique combination (bounded subset sum) for a batch payment;
3. else a suggestion (a partial payment, an amount-only match with an unknown payer).

Ties are never decided: every tied candidate becomes a suggestion. Open amounts are
updated as links are made, in booking order, so partial and repeated payments add up.
A pair a reviewer rejected is never linked again. The work happens in ``matching.settle``
on integer columns; this module turns documents into those columns and the result back
into links with their evidence.

    transaction +1130.00 "货款 44001234" from 海尔智家 (bank account on file)
    → sales_invoice 44001234 open 1130.00: reference exact, counterparty exact, amount exact
    → auto link, amount 1130.00, score 1.0
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from ledger.documents import BankTransaction
from ledger.exceptions import ExceptionItem
from ledger.money import Money
from ledger.settings import Tolerances
from matching.model import Comparison, Decision, Evidence, Link
from matching.parties import Resolution
from matching.rules import MatchingRules
from matching.settle import SIDES, OpenItems, Payments, Settlement, Settler


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenItem:
    doc_type: str            # sales_invoice or purchase_invoice
    number: str
    party: str | None        # resolved counterparty id
    gross: Money
    date: date
    due_date: date


@dataclass(slots=True)
class CashResult:
    links: list[Link] = field(default_factory=list)
    findings: list[ExceptionItem] = field(default_factory=list)
    open: dict[tuple[str, str], Money] = field(default_factory=dict)
    fees: dict[str, Money] = field(default_factory=dict)          # bank txn number → fee booked
    settled_txns: set[str] = field(default_factory=set)           # settled completely by auto links


class CashMatcher:
    def __init__(self, items: Iterable[OpenItem], rules: MatchingRules, tolerances: Tolerances,
                 bank_accounts: dict[str, tuple[str, ...]],
                 rejected: set[tuple[str, str, str]] | frozenset = frozenset(),
                 blocked: set[tuple[str, str]] | frozenset = frozenset(),
                 applied: Mapping[tuple[str, str], tuple[Money, tuple[str, ...]]] | None = None) -> None:
        """``applied``: per invoice, what people applied to it by hand and the transactions that
        paid it; its open amount starts lower by that, and those transactions count as its payers."""
        self.items = list({(i.doc_type, i.number): i for i in items}.values())
        self.rules, self.tolerances, self.rejected, self.blocked = rules, tolerances, rejected, blocked
        self.applied = applied or {}
        self.party_ids = sorted({i.party for i in self.items if i.party is not None} | set(bank_accounts))
        self.party_of = {party: n for n, party in enumerate(self.party_ids)}
        self.bank_accounts = {self.party_of[p]: accounts for p, accounts in bank_accounts.items()}

    def match(self, payments: Iterable[tuple[BankTransaction, Resolution]]) -> CashResult:
        payments = list(payments)
        items = OpenItems(side=[SIDES.index(i.doc_type) for i in self.items], number=[i.number for i in self.items],
                          party=[self.party_of.get(i.party, -1) if i.party is not None else -1 for i in self.items],
                          currency=[i.gross.currency for i in self.items],
                          open_minor=[self._open_minor(i) for i in self.items],
                          day=[i.date.toordinal() for i in self.items])
        txns = [t for t, _ in payments]
        resolutions = [r for _, r in payments]
        columns = Payments(
            number=[t.number for t in txns], account_no=[t.account_no for t in txns], txn_id=[t.txn_id for t in txns],
            day=[t.booking_date.toordinal() for t in txns], amount_minor=[t.amount.to_minor() for t in txns],
            currency=[t.amount.currency for t in txns], remittance=[t.remittance for t in txns],
            counterparty_account=[t.counterparty_account for t in txns],
            party=[self._party_number(r.counterparty_id) for r in resolutions],
            party_level=[r.level for r in resolutions], party_score=[r.score for r in resolutions],
            party_matched=[r.matched for r in resolutions])
        paid_by_people = {n: self.applied[(i.doc_type, i.number)][1] for n, i in enumerate(self.items)
                          if (i.doc_type, i.number) in self.applied}
        settlement = Settler(items, self.rules, self.tolerances, self.party_ids, self.bank_accounts,
                             self.rejected, self.blocked, paid_by_people).run(columns)
        return self._result(settlement, txns)

    def _open_minor(self, item: OpenItem) -> int:
        gross = item.gross.to_minor()
        amount, _payers = self.applied.get((item.doc_type, item.number), (None, ()))
        if amount is None or amount.currency != item.gross.currency:
            return gross
        return max(0, gross - amount.to_minor())

    def _party_number(self, counterparty_id: str | None) -> int:
        if counterparty_id is None:
            return -1
        if counterparty_id not in self.party_of:   # a payer with no open items: known, but owns none
            self.party_of[counterparty_id] = len(self.party_ids)
            self.party_ids.append(counterparty_id)
        return self.party_of[counterparty_id]

    def _result(self, settlement: Settlement, txns: list[BankTransaction]) -> CashResult:
        result = CashResult()
        for link in settlement.links:
            item, txn = self.items[link.item], txns[link.payment]
            evidence = Evidence(rule=link.rule, rule_version=self.rules.version, comparisons=tuple(
                Comparison(name=name, level=level, score=score, detail=detail)
                for name, level, score, detail in link.comparisons))
            result.links.append(Link(from_type=item.doc_type, from_no=item.number, to_type="bank_txn",
                                     to_no=txn.number, decision=Decision.AUTO if link.auto else Decision.SUGGESTED,
                                     score=link.score, evidence=evidence,
                                     amount=Money.from_minor(link.amount_minor, item.gross.currency)))
        result.findings = [finding.exception() for finding in settlement.findings]
        result.open = {(item.doc_type, item.number): Money.from_minor(left, item.gross.currency)
                       for item, left in zip(self.items, settlement.open_minor)}
        result.fees = {txns[p].number: Money.from_minor(fee, txns[p].amount.currency)
                       for p, fee in settlement.fees.items()}
        result.settled_txns = {txns[p].number for p in settlement.settled}
        return result
