"""The canonical bank CSV of spec section 1.3: one row per transaction, signed amounts.

The same transaction arriving twice (overlapping exports) is one transaction. The same
(account_no, txn_id) with different content is reported, and the first one is kept.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator

from connectors.dropfolder.csvfile import Row, parse_date, parse_decimal
from ledger.documents import BankTransaction
from ledger.errors import BadInput, FieldError
from ledger.money import Money, MoneyError

COLUMNS = ("account_no", "txn_id", "booking_date", "value_date", "amount", "currency",
           "counterparty", "counterparty_account", "remittance")


def transaction(cells: dict[str, str]) -> BankTransaction:
    try:
        amount = Money(parse_decimal("amount", cells["amount"]), cells["currency"])
    except MoneyError:
        raise FieldError("currency", cells["currency"], "an ISO 4217 code such as CNY") from None
    return BankTransaction(account_no=cells["account_no"], txn_id=cells["txn_id"],
                           booking_date=parse_date("booking_date", cells["booking_date"]),
                           value_date=parse_date("value_date", cells["value_date"]), amount=amount,
                           counterparty=cells["counterparty"],
                           counterparty_account=cells["counterparty_account"],
                           remittance=cells["remittance"])


def transactions(name: str, rows: Iterable[Row]) -> Iterator[tuple[int, BankTransaction] | BadInput]:
    # key -> (first row, digest of content): a digest, not the record, so memory stays flat
    seen: dict[tuple[str, str], tuple[int, bytes]] = {}
    for row in rows:
        if "__width__" in row.cells:
            yield BadInput(file=name, row=row.number, field=None,
                           message=f"wrong number of cells: {row.cells['__width__']}")
            continue
        try:
            txn = transaction(row.cells)
        except FieldError as error:
            yield BadInput.from_field_error(name, row.number, error)
            continue
        key = (txn.account_no, txn.txn_id)
        digest = hashlib.blake2b(repr(txn).encode("utf-8"), digest_size=16).digest()
        if key in seen:
            first_row, first_digest = seen[key]
            if first_digest != digest:
                yield BadInput(file=name, row=row.number, field="txn_id",
                               message=f"transaction {txn.number} appears again with different "
                                       f"content (first on row {first_row}); the first is kept")
            continue
        seen[key] = (row.number, digest)
        yield row.number, txn
