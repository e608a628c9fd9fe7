"""The canonical bank CSV of spec section 1.3: one row per transaction, signed amounts.

The same transaction arriving twice (overlapping exports) is one transaction. The same
(account_no, txn_id) with different content is reported, and the first one is kept.

``batches`` is the bulk reader for statements of millions of rows: it checks the columns of
each row with string operations and caches (dates repeat), builds integer minor units from
the text, and yields ``BankBatch`` rows without one object per transaction. A row that fails
any of its checks goes through ``transaction``, the one definition of what is valid, which
either accepts it or names the field: both readers accept and reject exactly the same rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from operator import itemgetter

from connectors.dropfolder.csvfile import parse_date, parse_decimal
from ledger.bank_rows import BankBatch, bank_row, bank_values
from ledger.documents import BankTransaction
from ledger.errors import BadInput, FieldError
from ledger.money import Money, MoneyError, minor_units

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


#: Rows per BankBatch: large enough that per-batch work vanishes, small enough to hold.
BATCH_ROWS = 10_000


def _amount(text: str, digits: int) -> tuple[int, str] | None:
    """(minor units, normalised text) of a plain ASCII amount with at most ``digits`` decimals
    and not zero; None for anything else (``transaction`` then decides)."""
    negative = text[:1] == "-"
    body = text[1:] if negative else text
    whole, dot, fraction = body.partition(".")
    if not (body.isascii() and whole.isdigit() and (fraction.isdigit() or not dot)) or len(fraction) > digits:
        return None
    minor = int(whole + fraction + "0" * (digits - len(fraction)))
    if not minor:
        return None
    fraction = fraction.rstrip("0")
    plain = (whole.lstrip("0") or "0") + ("." + fraction if fraction else "")
    return (-minor, "-" + plain) if negative else (minor, plain)


def _fast_row(values: tuple[str, ...], dates: set[str], digits: dict[str, int]) -> tuple | None:
    """The row of a transaction that passes every check, or None to let ``transaction`` judge."""
    account_no, txn_id, booking, value, amount, currency, counterparty, counterparty_account, remittance = values
    if not account_no or not txn_id or ":" in account_no:
        return None
    for day in (booking, value):
        if day not in dates:
            try:
                parse_date("booking_date", day)
            except FieldError:
                return None
            dates.add(day)
    places = digits.get(currency)
    if places is None:
        try:
            places = digits[currency] = minor_units(currency)
        except MoneyError:
            return None
    parsed = _amount(amount, places)
    if parsed is None:
        return None
    return bank_row(account_no, txn_id, booking, value, parsed[0], parsed[1], currency, counterparty,
                    counterparty_account, remittance)


def batches(name: str, header: list[str], reader: Iterable[list[str]],
            size: int = BATCH_ROWS) -> Iterator[BankBatch | BadInput]:
    """The bulk reader: ``reader`` is a csv reader after ``header``; its ``line_num`` numbers rows.

    Bad rows are yielded as they are met, each batch when full: a batch's problems come before it.
    """
    width = len(header)
    pick = itemgetter(*(header.index(column) for column in COLUMNS))
    seen: dict[str, tuple[int, str]] = {}  # account_no + US + txn_id -> (first row, content hash)
    dates: set[str] = set()
    digits: dict[str, int] = {}
    rows: list[tuple] = []
    strip = str.strip
    for cells in reader:
        stripped = list(map(strip, cells))
        if not any(stripped):
            continue
        if len(cells) != width:
            yield BadInput(file=name, row=reader.line_num, field=None,
                           message=f"wrong number of cells: {len(cells)} cells for {width} columns")
            continue
        values = pick(stripped)
        row = _fast_row(values, dates, digits)
        if row is None:
            try:
                row = bank_values(transaction(dict(zip(COLUMNS, values))))
            except FieldError as error:
                yield BadInput.from_field_error(name, reader.line_num, error)
                continue
        key = row[0] + "\x1f" + row[1]
        first = seen.get(key)
        if first is not None:
            if first[1] != row[-1]:
                yield BadInput(file=name, row=reader.line_num, field="txn_id",
                               message=f"transaction {row[0]}:{row[1]} appears again with different "
                                       f"content (first on row {first[0]}); the first is kept")
            continue
        seen[key] = (reader.line_num, row[-1])
        rows.append(row)
        if len(rows) >= size:
            yield BankBatch(rows)
            rows = []
    if rows:
        yield BankBatch(rows)
