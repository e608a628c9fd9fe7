"""The canonical bank CSV of spec section 1.3: one row per transaction, signed amounts.

The same transaction arriving twice (overlapping exports) is one transaction. The same
(account_no, txn_id) with different content is reported, and the first one is kept.

``batches`` is the bulk reader for statements of millions of rows: it checks chunks of rows
column by column (C-level maps, sets and one regex per amount column; seen dates and
currencies cached), builds integer minor units from the text, and yields ``BankBatch`` rows
without one object per transaction. A chunk with a row that fails a check is read row by
row, and a row that fails there goes through ``transaction``, the one definition of what is
valid, which accepts it or names the field: the readers accept and reject the same rows.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from itertools import islice, repeat
from operator import add, itemgetter

from connectors.dropfolder.csvfile import parse_date, parse_decimal
from ledger.bank_rows import BankBatch, bank_row, bank_rows, bank_values
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


def _learn_date(day: str, dates: set[str]) -> bool:
    try:
        parse_date("booking_date", day)
    except FieldError:
        return False
    dates.add(day)
    return True


def _learn_currency(currency: str, digits: dict[str, int]) -> int | None:
    try:
        places = digits[currency] = minor_units(currency)
    except MoneyError:
        return None
    return places


def _fast_row(values: tuple[str, ...], dates: set[str], digits: dict[str, int]) -> tuple | None:
    """The row of a transaction that passes every check, or None to let ``transaction`` judge.

    Seen dates and currencies are remembered; the usual amount (no leading zero, exactly the
    currency's decimals) is read inline, any other through ``_amount``."""
    account_no, txn_id, booking, value, amount, currency, counterparty, counterparty_account, remittance = values
    places = digits.get(currency)
    if not (account_no and txn_id and ":" not in account_no
            and (booking in dates or _learn_date(booking, dates)) and (value in dates or _learn_date(value, dates))
            and (places is not None or (places := _learn_currency(currency, digits)) is not None)):
        return None
    whole, _dot, fraction = amount.partition(".")
    number = whole[1:] if whole[:1] == "-" else whole
    if (places and len(fraction) == places and fraction.isdigit() and amount.isascii() and number.isdigit()
            and (number[0] != "0" or number == "0") and (minor := int(whole + fraction))):
        fraction = fraction.rstrip("0")
        plain = whole + "." + fraction if fraction else whole
    elif (parsed := _amount(amount, places)) is not None:
        minor, plain = parsed
    else:
        return None
    return bank_row(account_no, txn_id, booking, value, minor, plain, currency, counterparty,
                    counterparty_account, remittance)


def _amount_pattern(places: int) -> re.Pattern:
    """Amounts of one chunk joined by newlines, each in the usual form: no leading zero and
    exactly ``places`` decimals (other forms are valid too, but read row by row)."""
    decimals = rf"\.[0-9]{{{places}}}" if places else ""
    return re.compile(rf"(?:-?(?:0|[1-9][0-9]*){decimals}\n)*")


_AMOUNTS = {places: _amount_pattern(places) for places in range(5)}


def _bulk(columns: list[tuple[str, ...]], dates: set[str], digits: dict[str, int],
          seen: dict[str, str]) -> tuple[list[tuple], list[str]] | None:
    """Rows and keys of a chunk in which every row passes every check, each check run over a
    whole column at C speed; None when a row fails one (the chunk is then read row by row)."""
    account_no, txn_id, booking, value, amount, currency, counterparty, counterparty_account, remittance = (
        list(map(str.strip, column)) for column in columns)
    currencies = set(currency)
    if len(currencies) != 1 or not all(account_no) or not all(txn_id):
        return None
    code = next(iter(currencies))
    places = digits[code] if code in digits else _learn_currency(code, digits)
    if places is None or places not in _AMOUNTS or any(":" in account for account in set(account_no)):
        return None
    for day in set(booking).union(value) - dates:
        if not _learn_date(day, dates):
            return None
    if not _AMOUNTS[places].fullmatch("\n".join(amount) + "\n"):
        return None
    if places:
        minor = list(map(int, map(str.replace, amount, repeat("."), repeat(""))))
        plain = list(map(str.rstrip, map(str.rstrip, amount, repeat("0")), repeat(".")))
    else:
        minor, plain = list(map(int, amount)), amount
    if 0 in minor:
        return None
    keys = list(map("\x1f".join, zip(account_no, txn_id)))
    if len(set(keys)) != len(keys) or not seen.keys().isdisjoint(keys):
        return None
    return bank_rows(account_no, txn_id, booking, value, minor, plain, currency, counterparty,
                     counterparty_account, remittance), keys


def _line_numbers(chunk: list[list[str]], start: int, end: int) -> Iterable[int]:
    """The row number (its last physical line, as csv's ``line_num``) of each row of a chunk
    read after line ``start``: line breaks inside quoted cells make a row span lines."""
    if end - start == len(chunk):
        return range(start + 1, end + 1)
    numbers, line = [], start
    for cells in chunk:
        line += 1 + sum(cell.count("\n") + cell.count("\r") - cell.count("\r\n") for cell in cells)
        numbers.append(line)
    return numbers


def _one_by_one(name: str, width: int, pick: itemgetter, chunk: list[list[str]], lines: Iterable[int],
                dates: set[str], digits: dict[str, int], seen: dict[str, str],
                rows: list[tuple]) -> Iterator[BadInput]:
    """Rows of a chunk one at a time (appended to ``rows``), each bad one yielded, named."""
    for cells, line in zip(chunk, lines):
        values = pick(list(map(str.strip, cells))) if len(cells) == width else None
        row = None if values is None else _fast_row(values, dates, digits)
        if row is None:  # something is off: blank, wrong width or a field to name
            if not any(cell.strip() for cell in cells):
                continue
            if values is None:
                yield BadInput(file=name, row=line, field=None,
                               message=f"wrong number of cells: {len(cells)} cells for {width} columns")
                continue
            try:
                row = bank_values(transaction(dict(zip(COLUMNS, values))))
            except FieldError as error:
                yield BadInput.from_field_error(name, line, error)
                continue
        key = row[0] + "\x1f" + row[1]
        first = seen.get(key)
        if first is not None:
            if first[:64] != row[-1]:
                yield BadInput(file=name, row=line, field="txn_id",
                               message=f"transaction {row[0]}:{row[1]} appears again with different "
                                       f"content (first on row {first[64:]}); the first is kept")
            continue
        seen[key] = row[-1] + str(line)
        rows.append(row)


_last = itemgetter(-1)

#: Rows checked together: few enough that a chunk's columns stay in the CPU cache.
CHECK_ROWS = 256


def batches(name: str, header: list[str], reader: Iterable[list[str]],
            size: int = BATCH_ROWS) -> Iterator[BankBatch | BadInput]:
    """The bulk reader: ``reader`` is a csv reader after ``header``; its ``line_num`` numbers rows.

    Each chunk of rows is checked column by column (``_bulk``); a chunk with a row that fails a
    check is read row by row, so every bad row is named and the others kept. A batch is yielded
    once it holds ``size`` rows or more (it fills a chunk at a time); the bad rows found while
    filling it come before it.
    """
    width = len(header)
    indexes = [header.index(column) for column in COLUMNS]
    pick = itemgetter(*indexes)
    # account_no + US + txn_id -> its content hash (64 hex digits) and first row number, as one
    # string: a million of them take less memory than tuples and leave the GC nothing to track
    seen: dict[str, str] = {}
    dates: set[str] = set()
    digits: dict[str, int] = {}
    rows: list[tuple] = []
    while True:
        start, chunk, broken = reader.line_num, [], None
        try:
            chunk.extend(islice(reader, CHECK_ROWS))
        except csv.Error as error:  # this row only (a cell over the size limit): read on after it
            broken = BadInput(file=name, row=reader.line_num, field=None, message=f"not valid CSV: {error}")
        if not chunk and not broken:
            break
        bulk = None
        if not broken and reader.line_num - start == len(chunk) and set(map(len, chunk)) == {width}:
            columns = list(zip(*chunk))  # one physical line per row: row numbers follow from start
            bulk = _bulk([columns[i] for i in indexes], dates, digits, seen)
        if bulk is not None:
            checked, keys = bulk
            seen.update(zip(keys, map(add, map(_last, checked), map(str, range(start + 1, reader.line_num + 1)))))
            rows += checked
        else:
            end = reader.line_num - 1 if broken else reader.line_num
            yield from _one_by_one(name, width, pick, chunk, _line_numbers(chunk, start, end), dates, digits,
                                   seen, rows)
        if broken:
            yield broken
        if len(rows) >= size:
            yield BankBatch(rows)
            rows = []
    if rows:
        yield BankBatch(rows)
