"""Bank transactions as rows: the bulk form of statements that run to millions of lines.

A row holds a transaction's values in ``BANK_COLUMNS`` order, driver-ready (dates as ISO
text, the amount in integer minor units), its content hash last. ``bank_values`` makes one
from a ``BankTransaction``; a reader that validates its columns in bulk makes the same row
with ``bank_row`` from text it has checked, without building the objects. ``BankBatch`` is
a list of such rows, unique by (account_no, txn_id), that storage takes as a whole.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import repeat
from operator import methodcaller

from ledger.documents import BankTransaction
from ledger.money import Money

#: bank_txn columns in the order of a row (storage adds company_id, source and batch_id).
BANK_COLUMNS = ("account_no", "txn_id", "booking_date", "value_date", "amount_minor", "currency", "counterparty",
                "counterparty_account", "remittance", "content_hash")

_sha256 = hashlib.sha256


def bank_row(account_no: str, txn_id: str, booking: str, value: str, minor: int, plain: str, currency: str,
             counterparty: str, counterparty_account: str, remittance: str) -> tuple:
    """A row from checked values: ``booking`` and ``value`` ISO dates, ``plain`` the amount as
    normalised decimal text ('-12.5' for -12.50: no exponent, no trailing zeros)."""
    canonical = "\x1f".join(("BankTransaction", account_no, txn_id, booking, value, plain, currency,
                             counterparty, counterparty_account, remittance))
    return (account_no, txn_id, booking, value, minor, currency, counterparty, counterparty_account, remittance,
            _sha256(canonical.encode("utf-8")).hexdigest())


def bank_rows(account_no: Sequence[str], txn_id: Sequence[str], booking: Sequence[str], value: Sequence[str],
              minor: Sequence[int], plain: Sequence[str], currency: Sequence[str], counterparty: Sequence[str],
              counterparty_account: Sequence[str], remittance: Sequence[str]) -> list[tuple]:
    """``bank_row`` over columns (equal-length sequences), with no Python code run per row."""
    canonical = map("\x1f".join, zip(repeat("BankTransaction"), account_no, txn_id, booking, value, plain, currency,
                                     counterparty, counterparty_account, remittance))
    hashes = map(_hexdigest, map(_sha256, map(str.encode, canonical)))
    return list(zip(account_no, txn_id, booking, value, minor, currency, counterparty, counterparty_account,
                    remittance, hashes))


_hexdigest = methodcaller("hexdigest")


def bank_values(txn: BankTransaction) -> tuple:
    """A bank transaction as a row; the same content always gives the same content hash."""
    amount = txn.amount.amount
    return bank_row(txn.account_no, txn.txn_id, txn.booking_date.isoformat(), txn.value_date.isoformat(),
                    txn.amount.to_minor(), format(amount.normalize(), "f") if amount else "0", txn.amount.currency,
                    txn.counterparty, txn.counterparty_account, txn.remittance)


def transaction(row: tuple) -> BankTransaction:
    """The transaction a row was made from (for previews and tests; storage keeps rows)."""
    account_no, txn_id, booking, value, minor, currency, counterparty, counterparty_account, remittance, _ = row
    return BankTransaction(account_no=account_no, txn_id=txn_id, booking_date=date.fromisoformat(booking),
                           value_date=date.fromisoformat(value), amount=Money.from_minor(minor, currency),
                           counterparty=counterparty, counterparty_account=counterparty_account,
                           remittance=remittance)


@dataclass(frozen=True, slots=True)
class BankBatch:
    """Validated bank transactions as rows, unique by (account_no, txn_id), in source order."""

    rows: list[tuple]

    def __len__(self) -> int:
        return len(self.rows)

    def transactions(self) -> Iterator[BankTransaction]:
        return map(transaction, self.rows)

    def digest(self) -> str:
        """Digest of the whole batch: equal digests, equal rows in the same order."""
        return _sha256("".join(row[-1] for row in self.rows).encode("ascii")).hexdigest()
