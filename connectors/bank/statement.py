"""What every bank statement parser returns, stable transaction ids and balance continuity.

Stable ids: a bank's own reference when it has one, else a hash of the normalised fields
plus the occurrence index among identical transactions in the file, so re-reading the same
file always gives the same ids and two genuinely identical payments stay two:

    >>> from datetime import date
    >>> line = TxnFields(account_no="NL01", booking_date=date(2026, 1, 2),
    ...     value_date=date(2026, 1, 2), amount=Money.parse("-5.00", "EUR"),
    ...     counterparty="ACME", counterparty_account="", remittance="fee")
    >>> ids = assign_ids([(None, line), (None, line), ("B7", line), ("B7", line)])
    >>> ids[0] == ids[1][:-1] + "1", ids[1][-2:], ids[2:]
    (True, '.2', ['B7', 'B7.2'])

Balance continuity: opening + sum of amounts = closing inside a statement, and the closing
balance of one statement is the opening balance of the next one for the same account.
A break is a ``BadInput`` naming the statement, never an exception.
"""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from ledger.documents import BankTransaction
from ledger.errors import BadInput
from ledger.money import CurrencyMismatch, Money


class TxnFields(NamedTuple):
    """The fields of a transaction that its fallback id is computed from (a named tuple:
    files have millions of them, and building one should cost little)."""

    account_no: str
    booking_date: date
    value_date: date
    amount: Money
    counterparty: str
    counterparty_account: str
    remittance: str

    def transaction(self, txn_id: str) -> BankTransaction:
        """The ``BankTransaction`` with these fields (raises ``FieldError`` like it)."""
        return BankTransaction(
            account_no=self.account_no, txn_id=txn_id, booking_date=self.booking_date,
            value_date=self.value_date, amount=self.amount, counterparty=self.counterparty,
            counterparty_account=self.counterparty_account, remittance=self.remittance)

    def fingerprint(self) -> str:
        parts = (self.account_no, self.booking_date.isoformat(), self.value_date.isoformat(),
                 str(self.amount.amount.normalize()), self.amount.currency,
                 _normalise(self.counterparty), _normalise(self.counterparty_account),
                 _normalise(self.remittance))
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


def _normalise(text: str) -> str:
    return " ".join(text.split()).upper()


class Ids:
    """Hands out ids in file order: a preferred id (suffixed ``.n`` from its second
    occurrence), else ``hash.n`` where n counts identical transactions so far."""

    __slots__ = ("_seen",)

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}

    def preferred(self, reference: str) -> str:
        count = self._seen.get(reference, 0) + 1
        self._seen[reference] = count
        return reference if count == 1 else f"{reference}.{count}"

    def hashed(self, fields: TxnFields) -> str:
        key = "#" + fields.fingerprint()
        count = self._seen.get(key, 0) + 1
        self._seen[key] = count
        return f"{key[1:]}.{count}"


def assign_ids(candidates: Sequence[tuple[str | None, TxnFields]]) -> list[str]:
    """One id per candidate, in order (see ``Ids``)."""
    ids = Ids()
    return [ids.preferred(preferred) if preferred else ids.hashed(fields)
            for preferred, fields in candidates]


@dataclass(frozen=True, slots=True, kw_only=True)
class Statement:
    """One statement (MT940 message, camt Stmt/Rpt/Ntfctn) and the transactions read from it.

    ``complete`` is False when some of its lines could not be read, so a balance check
    would only repeat that problem.
    """

    reference: str
    account_no: str
    row: int | None
    opening: Money | None
    closing: Money | None
    transactions: tuple[BankTransaction, ...]
    complete: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedFile:
    """A parsed statement file: statements, problems, and how its bytes were decoded."""

    file: str
    format: str
    encoding: str
    statements: tuple[Statement, ...]
    problems: tuple[BadInput, ...]

    @property
    def transactions(self) -> list[BankTransaction]:
        return [txn for statement in self.statements for txn in statement.transactions]


@contextmanager
def cycle_collection_paused() -> Iterator[None]:
    """Python's cycle collector off while a parser builds a file's records, if it was on.

    A statement file becomes hundreds of thousands of records that all stay alive, so every
    collection would walk them and find nothing to free (about 30 % of the MT940 parse time at
    20 MB; one later collection still walks them once, a sixth of that); a parser makes no
    reference cycles to leave behind. Only the call that turned the collector off turns it
    back on, so a parse never leaves it off.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def check_balances(file: str, statements: Sequence[Statement]) -> list[BadInput]:
    """Problems for statements whose lines do not add up, and for breaks between statements."""
    problems: list[BadInput] = []
    previous: dict[str, Statement] = {}
    for statement in statements:
        opening, closing = statement.opening, statement.closing
        if statement.complete and opening is not None and closing is not None:
            try:
                moved = _moved(statement.transactions, opening.currency)
                expected = opening + moved
                if expected != closing:
                    problems.append(BadInput(
                        file=file, row=statement.row, field="closing_balance",
                        message=f"statement {statement.reference!r} of account "
                                f"{statement.account_no}: opening {opening} + transactions "
                                f"{moved} = {expected}, but the closing balance is {closing}"))
            except ValueError as error:  # MoneyError: a line in another currency
                problems.append(BadInput(file=file, row=statement.row, field="amount",
                                         message=f"statement {statement.reference!r}: {error}"))
        before = previous.get(statement.account_no)
        if (before is not None and before.closing is not None and opening is not None
                and before.closing != opening):
            problems.append(BadInput(
                file=file, row=statement.row, field="opening_balance",
                message=f"statement {statement.reference!r} of account {statement.account_no} "
                        f"opens at {opening}, but the previous statement "
                        f"{before.reference!r} closed at {before.closing}"))
        if closing is not None or opening is not None:
            previous[statement.account_no] = statement
    return problems


def _moved(transactions: Sequence[BankTransaction], currency: str) -> Money:
    """The sum of the amounts (``money.total`` in one step); another currency is an error."""
    for txn in transactions:
        if txn.amount.currency != currency:
            raise CurrencyMismatch(f"cannot add {currency} and {txn.amount.currency}")
    return Money(sum((txn.amount.amount for txn in transactions), Decimal(0)), currency)
