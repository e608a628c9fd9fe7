"""Settling invoices with bank transactions: the cash side of both chains.

A priority ladder, as accountants work (Odoo's reconcile models in spirit):

1. references in the remittance (exact, or one digit off) name the invoices;
2. else the payer's open invoices: one with the exact amount, one short by a bank fee
   within tolerance, or a unique combination (bounded subset sum) for a batch payment;
3. else a suggestion (a partial payment, an amount-only match with an unknown payer).

Ties are never decided: every tied candidate becomes a suggestion. Open amounts are
updated as links are made, in booking order, so partial and repeated payments add up.

    transaction +1130.00 "货款 44001234" from 海尔智家 (bank account on file)
    → sales_invoice 44001234 open 1130.00: reference exact, counterparty exact, amount exact
    → auto link, amount 1130.00, score 1.0
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal
from itertools import combinations

from ledger.documents import BankTransaction
from ledger.exceptions import DocumentRef, ExceptionCode, ExceptionItem
from ledger.money import Money
from ledger.settings import Tolerances
from matching.model import Comparison, Decision, Evidence, Link
from matching.parties import Resolution
from matching.refs import NumberIndex, extract_numbers
from matching.rules import MatchingRules


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


PARTY_SCORE = {"tax_id": 1.0, "bank_account": 1.0, "exact": 1.0, "via_reference": 0.97}


def _party(resolution: Resolution, items: list[OpenItem]) -> Comparison:
    owners = {item.party for item in items}
    if resolution.counterparty_id is None:
        level = "unknown" if resolution.level != "ambiguous" else "ambiguous"
        return Comparison(name="counterparty", level=level, score=0.75, detail=resolution.matched)
    if owners != {resolution.counterparty_id}:
        return Comparison(name="counterparty", level="different", score=0.5, detail=resolution.matched)
    score = PARTY_SCORE.get(resolution.level, min(0.97, resolution.score))
    return Comparison(name="counterparty", level=resolution.level, score=score, detail=resolution.matched)


class CashMatcher:
    def __init__(self, items: Iterable[OpenItem], rules: MatchingRules, tolerances: Tolerances,
                 bank_accounts: dict[str, tuple[str, ...]]) -> None:
        self.items = {(i.doc_type, i.number): i for i in items}
        self.rules, self.tolerances, self.bank_accounts = rules, tolerances, bank_accounts
        self.result = CashResult(open={key: item.gross for key, item in self.items.items()})
        self.index = {side: NumberIndex(n for t, n in self.items if t == side)
                      for side in ("sales_invoice", "purchase_invoice")}
        self.paid_by: dict[tuple[str, str], list[str]] = {}
        # blocking: open items by (side, party) and by (side, currency, gross) for amount-only search
        self.by_party: dict[tuple[str, str | None], list[OpenItem]] = {}
        self.by_amount: dict[tuple[str, str, int], list[OpenItem]] = {}
        for item in sorted(self.items.values(), key=lambda i: (i.date, i.number)):
            self.by_party.setdefault((item.doc_type, item.party), []).append(item)
            self.by_amount.setdefault((item.doc_type, item.gross.currency, item.gross.to_minor()), []).append(item)

    # --- helpers --------------------------------------------------------------------------
    def fee_limit(self, amount: Money) -> Money:
        ratio_cap = Money(abs(amount.amount) * self.tolerances.bank_fee_ratio, amount.currency)
        return Money(min(self.tolerances.bank_fee_max, ratio_cap.quantize(ROUND_DOWN).amount), amount.currency)

    def _link(self, item: OpenItem, txn: BankTransaction, allocation: Money, evidence: Evidence,
              tie: bool = False) -> Link:
        score = evidence.score
        auto = score >= self.rules.auto_accept and not tie
        link = Link(from_type=item.doc_type, from_no=item.number, to_type="bank_txn", to_no=txn.number,
                    decision=Decision.AUTO if auto else Decision.SUGGESTED, score=score, evidence=evidence,
                    amount=allocation)
        self.result.links.append(link)
        if auto:
            key = (item.doc_type, item.number)
            self.result.open[key] = self.result.open[key] - allocation
            self.paid_by.setdefault(key, []).append(txn.number)
        return link

    def _evidence(self, rule: str, *comparisons: Comparison) -> Evidence:
        return Evidence(rule=rule, rule_version=self.rules.version, comparisons=comparisons)

    def _finding(self, code: ExceptionCode, message: str, *refs: DocumentRef) -> None:
        self.result.findings.append(ExceptionItem(code=code, message=message, documents=refs))

    # --- the ladder -----------------------------------------------------------------------
    def match(self, payments: Iterable[tuple[BankTransaction, Resolution]]) -> CashResult:
        for txn, resolution in sorted(payments, key=lambda p: (p[0].booking_date, p[0].account_no, p[0].txn_id)):
            side = "sales_invoice" if txn.amount.amount > 0 else "purchase_invoice"
            before = len(self.result.links)
            if not self._by_reference(txn, resolution, side) and not self._by_party(txn, resolution, side):
                self._by_amount_only(txn, resolution, side)
            made = self.result.links[before:]
            auto_total = sum((link.amount.amount for link in made if link.decision is Decision.AUTO), Decimal(0))
            fee = self.result.fees.get(txn.number, Money.zero(txn.amount.currency)).amount
            if made and auto_total + fee >= abs(txn.amount.amount) - self.tolerances.amount:
                self.result.settled_txns.add(txn.number)
            self._account_check(txn, made)
        return self.result

    def _by_reference(self, txn: BankTransaction, resolution: Resolution, side: str) -> bool:
        found: list[tuple[OpenItem, str]] = []
        for token in extract_numbers(txn.remittance):
            numbers, level = self.index[side].lookup(token)
            if len(numbers) == 1:
                found.append((self.items[(side, numbers[0])], level))
            elif len(numbers) > 1:  # one digit off from several invoices: a person decides
                for number in numbers:
                    item = self.items[(side, number)]
                    evidence = self._evidence("reference_ambiguous", Comparison(
                        name="reference", level="one_digit_off_ambiguous", score=0.6, detail=token))
                    self._link(item, txn, min(self.result.open[(side, number)], abs(txn.amount)), evidence, tie=True)
        found = [(item, level) for item, level in found if item.gross.currency == txn.amount.currency]
        if not found:
            return False
        items = list(dict.fromkeys(item for item, _ in found))
        levels = {item.number: level for item, level in found}
        open_items = [item for item in items if self.result.open[(item.doc_type, item.number)].amount > 0]
        if not open_items:
            for item in items:
                self._finding(ExceptionCode.DUPLICATE_PAYMENT,
                              f"{txn.number} pays {item.doc_type} {item.number}, already settled by "
                              f"{', '.join(self.paid_by.get((item.doc_type, item.number), []))}",
                              DocumentRef(doc_type=item.doc_type, doc_no=item.number, amount=item.gross),
                              DocumentRef(doc_type="bank_txn", doc_no=txn.number, amount=abs(txn.amount)),
                              *[DocumentRef(doc_type="bank_txn", doc_no=n)
                                for n in self.paid_by.get((item.doc_type, item.number), [])])
            return True
        party = _party(resolution, open_items)
        if party.level in ("unknown", "ambiguous"):
            party = Comparison(name="counterparty", level="via_reference", score=0.97, detail=resolution.matched)
        paid = abs(txn.amount)
        total_open = Money(sum((self.result.open[(i.doc_type, i.number)].amount for i in open_items), Decimal(0)),
                           paid.currency)
        difference = paid - total_open
        reference = Comparison(name="reference", level="exact" if all(levels[i.number] == "exact"
                               for i in open_items) else "one_digit_off", score=1.0 if all(
                               levels[i.number] == "exact" for i in open_items) else 0.97,
                               detail=",".join(i.number for i in open_items))
        if abs(difference.amount) <= self.tolerances.amount or (
                difference.amount < 0 and -difference <= self.fee_limit(total_open)):
            level = "exact" if not difference else ("within_tolerance" if difference.amount > 0 else "within_fee")
            if difference.amount < 0 and -difference.amount > self.tolerances.amount:
                self.result.fees[txn.number] = -difference
            for item in open_items:
                self._link(item, txn, self.result.open[(item.doc_type, item.number)],
                           self._evidence("reference", reference, party, Comparison(name="amount", level=level,
                                          score=1.0 if level != "within_fee" else 0.98)))
            return True
        if difference.amount > self.tolerances.amount and resolution.counterparty_id is not None:
            # A batch payment whose remittance names only some of its invoices (or one mistyped
            # beyond recognition): the party's other open items that make up the rest exactly.
            others = [i for i in self._candidates(txn, side, resolution.counterparty_id) if i not in open_items]
            open_of = {i.number: self.result.open[(i.doc_type, i.number)] for i in others}
            exact = [i for i in others if open_of[i.number] == difference]
            if exact:  # several would fit: a person decides, so none is taken here
                rest = exact if len(exact) == 1 else []
            else:
                combos = self._subset_sums(others[: self.rules.max_open_items_searched], open_of, difference)
                rest = list(combos[0]) if len(combos) == 1 else []
            if rest:
                amount = Comparison(name="amount", level="exact_with_unnamed", score=0.96)
                for item in [*open_items, *rest]:
                    named = item in open_items
                    self._link(item, txn, self.result.open[(item.doc_type, item.number)], self._evidence(
                        "reference_plus_batch", reference if named else Comparison(
                            name="reference", level="none", score=0.95), party, amount))
                return True
        if difference.amount > 0:
            for item in open_items:
                self._link(item, txn, self.result.open[(item.doc_type, item.number)],
                           self._evidence("reference", reference, party,
                                          Comparison(name="amount", level="overpaid", score=0.95)))
            self._finding(ExceptionCode.OVERPAYMENT, f"{txn.number} exceeds the open amount of "
                          f"{', '.join(i.number for i in open_items)} by {difference}",
                          DocumentRef(doc_type="bank_txn", doc_no=txn.number, amount=difference),
                          *[DocumentRef(doc_type=i.doc_type, doc_no=i.number) for i in open_items])
            return True
        remaining = paid
        for item in sorted(open_items, key=lambda i: (i.date, i.number)):
            if not remaining:
                break
            key = (item.doc_type, item.number)
            allocation = min(self.result.open[key], remaining)
            share = allocation.amount / self.result.open[key].amount
            short = len(open_items) == 1 and share >= 1 - self.tolerances.short_payment_ratio
            level = "short" if short else "partial"
            self._link(item, txn, allocation, self._evidence("reference", reference, party,
                                                             Comparison(name="amount", level=level, score=0.95)))
            remaining = remaining - allocation
            if short:
                self._finding(ExceptionCode.SHORT_PAYMENT, f"{txn.number} closes {item.number} short by "
                              f"{self.result.open[key]}", DocumentRef(doc_type=item.doc_type, doc_no=item.number,
                                                                     amount=self.result.open[key]),
                              DocumentRef(doc_type="bank_txn", doc_no=txn.number, amount=paid))
        return True

    def _candidates(self, txn: BankTransaction, side: str, party: str) -> list[OpenItem]:
        window = timedelta(days=self.rules.payment_window_days)
        day = txn.booking_date
        return [item for item in self.by_party.get((side, party), ())
                if item.gross.currency == txn.amount.currency
                and self.result.open[(item.doc_type, item.number)].amount > 0
                and day - window <= item.date <= day + timedelta(days=5)]

    def _by_party(self, txn: BankTransaction, resolution: Resolution, side: str) -> bool:
        if resolution.counterparty_id is None:
            return False
        candidates = self._candidates(txn, side, resolution.counterparty_id)
        if not candidates:
            return False
        paid = abs(txn.amount)
        party = _party(resolution, candidates)
        no_reference = Comparison(name="reference", level="none", score=0.93)
        open_of = {i.number: self.result.open[(i.doc_type, i.number)] for i in candidates}
        exact = [i for i in candidates if open_of[i.number] == paid]
        zero = Money.zero(paid.currency)
        fee = [i for i in candidates if zero < open_of[i.number] - paid <= self.fee_limit(open_of[i.number])]
        for matches, level, score in ((exact, "exact", 1.0), (fee, "within_fee", 0.98)):
            if matches:
                tie = len(matches) > 1
                for item in matches[:3]:
                    if level == "within_fee" and not tie:
                        self.result.fees[txn.number] = open_of[item.number] - paid
                    self._link(item, txn, open_of[item.number], self._evidence(
                        "counterparty_amount", no_reference, party,
                        Comparison(name="amount", level=level, score=score),
                        Comparison(name="uniqueness", level="tie" if tie else "unique", score=0.6 if tie else 1.0)),
                        tie=tie)
                return True
        combos = self._subset_sums(candidates[: self.rules.max_open_items_searched], open_of, paid)
        if combos:
            tie = len(combos) > 1
            uniqueness = Comparison(name="uniqueness", level="tie" if tie else "unique", score=0.6 if tie else 1.0)
            amount = Comparison(name="amount", level="batch_exact", score=0.97)
            for item in combos[0]:
                self._link(item, txn, open_of[item.number],
                           self._evidence("batch_subset_sum", no_reference, party, amount, uniqueness), tie=tie)
            return True
        larger = [i for i in candidates if open_of[i.number] > paid]
        if larger:
            item = larger[0]
            self._link(item, txn, paid, self._evidence("partial_payment", no_reference, party,
                                                       Comparison(name="amount", level="partial", score=0.7)))
            return True
        return False

    def _subset_sums(self, items: list[OpenItem], open_of: dict[str, Money], paid: Money) -> list[tuple[OpenItem, ...]]:
        """Combinations of 2..max_batch_invoices open items whose open amounts add up to ``paid``.

        Bounded: at most ``max_open_items_searched`` items and two solutions (a second means a tie).
        """
        target = paid.to_minor()
        minors = {i.number: open_of[i.number].to_minor() for i in items}
        found: list[tuple[OpenItem, ...]] = []
        for size in range(2, min(self.rules.max_batch_invoices, len(items)) + 1):
            for combo in combinations(items, size):
                if sum(minors[i.number] for i in combo) == target:
                    found.append(combo)
                    if len(found) == 2:
                        return found
        return found

    def _by_amount_only(self, txn: BankTransaction, resolution: Resolution, side: str) -> None:
        """An unknown payer: only an amount that fits one still-untouched invoice, and only as a suggestion."""
        if resolution.counterparty_id is not None:
            return
        paid = abs(txn.amount)
        window = timedelta(days=self.rules.payment_window_days)
        exact = [i for i in self.by_amount.get((side, paid.currency, paid.to_minor()), ())
                 if self.result.open[(i.doc_type, i.number)] == paid
                 and txn.booking_date - window <= i.date <= txn.booking_date + timedelta(days=5)]
        if len(exact) == 1:
            self._link(exact[0], txn, paid, self._evidence(
                "amount_only", Comparison(name="reference", level="none", score=0.93),
                _party(resolution, exact), Comparison(name="amount", level="exact", score=1.0)))

    def _account_check(self, txn: BankTransaction, links: list[Link]) -> None:
        if txn.amount.amount > 0 or not txn.counterparty_account:
            return
        for link in links:
            if link.decision is not Decision.AUTO:
                continue
            supplier = self.items[(link.from_type, link.from_no)].party
            accounts = self.bank_accounts.get(supplier or "", ())
            if accounts and txn.counterparty_account.replace(" ", "") not in accounts:
                self._finding(ExceptionCode.BANK_ACCOUNT_MISMATCH,
                              f"{txn.number} paid {supplier} to account {txn.counterparty_account}, which is not "
                              f"among its accounts on file ({', '.join(accounts)})",
                              DocumentRef(doc_type="bank_txn", doc_no=txn.number, amount=abs(txn.amount)),
                              DocumentRef(doc_type=link.from_type, doc_no=link.from_no))
                return
