"""Rows below the header → bank transactions, under a profile.

Every row after the header is exactly one of: a transaction, a blank row, a declared
``ignore`` row, a declared ``footer`` row (a footer match ends the table: the rest of the
file is footer), or a problem naming file, row and field. Nothing is dropped unaccounted.

Worked example with ``footer = ["^合计"]`` and a debit/credit profile:

    row 6  2023-05-02,消费,,13.40      → transaction, amount -13.40
    row 7  2023-05-03,工资,100.00,      → transaction, amount 100.00
    row 8                               → blank
    row 9  合计,,100.00,13.40           → footer (and so is everything after it)

Without a ``txn_id`` column the id is derived: a hash of the normalised row (date, amount,
currency, counterparty, remittance) plus an occurrence index for identical rows, so the
same export read twice gives the same ids.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal

from connectors.tabular.cells import parse_amount, parse_currency, parse_date, text_field
from connectors.tabular.profile import Direction, Profile
from connectors.tabular.sheet import Header, SheetRow, header_name
from ledger.documents import BankTransaction
from ledger.errors import BadInput, FieldError
from ledger.money import Money


@dataclass(slots=True)
class RowCounts:
    transactions: int = 0
    blank: int = 0
    ignored: int = 0
    footer: int = 0
    problems: int = 0
    ignored_rows: list[int] = field(default_factory=list)


class _Cells:
    def __init__(self, header: Header, row: SheetRow) -> None:
        self.header = header
        self.row = row

    def __getitem__(self, column: str) -> str:
        position = self.header.positions[header_name(column)]
        return self.row.cells[position] if position < len(self.row.cells) else ""

    def joined(self, columns: list[str]) -> str:
        return " ".join(part for part in (text_field(self[c]) for c in columns) if part)


def _direction(directions: dict[str, Direction], marker: str) -> Direction | None:
    """The declared direction of a marker: an exact key, else the longest key it starts with
    ('消费 美团' is '消费')."""
    if marker in directions:
        return directions[marker]
    prefixes = [key for key in directions if key and marker.startswith(key)]
    return directions[max(prefixes, key=len)] if prefixes else None


def _amount(profile: Profile, cells: _Cells, currency: str) -> Decimal | None:
    """The signed amount, or None when the profile says to ignore this row's direction."""
    rule = profile.amount
    if rule.column is None:
        debit = parse_amount(rule.debit or "", cells[rule.debit or ""], currency)
        credit = parse_amount(rule.credit or "", cells[rule.credit or ""], currency)
        if bool(debit) == bool(credit):
            raise FieldError(f"{rule.debit}/{rule.credit}", f"{debit}/{credit}",
                             "an amount in exactly one of the two columns")
        value = (credit or Decimal(0)) - (debit or Decimal(0))
    else:
        raw = cells[rule.column]
        if rule.note is not None:
            raw = re.sub(f"(?:{rule.note})\\s*$", "", raw.strip())
        value = parse_amount(rule.column, raw, currency)
        if value is None:
            raise FieldError(rule.column, cells[rule.column], "an amount (the cell is empty)")
        if rule.direction is not None:
            marker = text_field(cells[rule.direction])
            direction = _direction(rule.directions, text_field(cells[rule.direction]))
            if direction is None:
                raise FieldError(rule.direction, marker, "one of the profile's directions: "
                                 + ", ".join(repr(key) for key in rule.directions))
            if direction == "ignore":
                return None
            value = abs(value) if direction == "in" else -abs(value)
    return -value if rule.negate else value


def _transaction(profile: Profile, cells: _Cells, account_no: str) -> BankTransaction | None:
    currency = profile.currency or parse_currency(profile.currency_column or "",
                                                  cells[profile.currency_column or ""],
                                                  profile.currency_names)
    value = _amount(profile, cells, currency)
    if value is None:
        return None
    booking = parse_date(profile.date, cells[profile.date])
    value_date = booking
    if profile.value_date and text_field(cells[profile.value_date]):
        value_date = parse_date(profile.value_date, cells[profile.value_date])
    txn_id = text_field(cells[profile.txn_id]) if profile.txn_id else ""
    if profile.txn_id and not txn_id:
        raise FieldError(profile.txn_id, cells[profile.txn_id], "a transaction id")
    return BankTransaction(account_no=account_no, txn_id=txn_id or "derived",
                           booking_date=booking, value_date=value_date,
                           amount=Money(value, currency),
                           counterparty=cells.joined(profile.counterparty),
                           counterparty_account=cells.joined(profile.counterparty_account),
                           remittance=cells.joined(profile.remittance))


def derived_id(txn: BankTransaction, occurrence: int) -> str:
    basis = "|".join((txn.booking_date.isoformat(), str(txn.amount.amount), txn.amount.currency,
                      txn.counterparty, txn.remittance))
    return f"{hashlib.sha256(basis.encode()).hexdigest()[:16]}-{occurrence}"


def transactions(profile: Profile, name: str, header: Header, rows: list[SheetRow],
                 account_no: str, counts: RowCounts) -> Iterator[tuple[int, BankTransaction] | BadInput]:
    footer = [re.compile(pattern) for pattern in profile.footer]
    ignore = [re.compile(pattern) for pattern in profile.ignore]
    seen_ids: Counter[str] = Counter()
    in_footer = False
    for row in (r for r in rows if r.number > header.row):
        texts = [text_field(cell) for cell in row.cells]
        first = next((text for text in texts if text), "")
        if in_footer or any(p.search(first) for p in footer):
            in_footer = True
            counts.footer += 1
            continue
        if not first:
            counts.blank += 1
            continue
        if any(p.search(first) for p in ignore):
            counts.ignored += 1
            counts.ignored_rows.append(row.number)
            continue
        try:
            txn = _transaction(profile, _Cells(header, row), account_no)
        except FieldError as error:
            counts.problems += 1
            yield BadInput.from_field_error(name, row.number, error)
            continue
        if txn is None:
            counts.ignored += 1
            counts.ignored_rows.append(row.number)
            continue
        key = txn.txn_id if profile.txn_id else derived_id(txn, 0)
        seen_ids[key] += 1
        if profile.txn_id and seen_ids[key] > 1:
            counts.problems += 1
            yield BadInput(file=name, row=row.number, field=profile.txn_id,
                           message=f"transaction id {key!r} appears more than once in the file")
            continue
        if not profile.txn_id:
            txn = replace(txn, txn_id=derived_id(txn, seen_ids[key] - 1))
        counts.transactions += 1
        yield row.number, txn
