"""BAI2 field reading: the cursor over a record's fields, funds types, amounts and dates.

    >>> fields = Cursor(["115,1000,S,600,300", "100,R1,,WIRE IN, FROM X"])
    >>> fields.take(), fields.take(), read_funds(fields), fields.take(), fields.take(), fields.rest()
    ('115', '1000', None, 'R1', '', 'WIRE IN, FROM X')
"""

from __future__ import annotations

import re
from datetime import date

from ledger.errors import FieldError
from ledger.money import Money, MoneyError

_INTEGER = re.compile(r"^[+-]?\d+$")


class Cursor:
    """Fields of one logical record; segments (physical records) join with a newline, which
    separates fields like a comma but lets a 16's text continue with a space."""

    def __init__(self, segments: list[str]) -> None:
        self.text = "\n".join(segments)
        self.position = 0

    def take(self) -> str:
        if self.position > len(self.text):
            return ""
        ends = [i for i in (self.text.find(",", self.position), self.text.find("\n", self.position))
                if i >= 0]
        end = min(ends) if ends else len(self.text)
        value, self.position = self.text[self.position:end], end + 1
        return value.strip()

    def done(self) -> bool:
        return self.position >= len(self.text)

    def rest(self) -> str:
        value = self.text[self.position:] if self.position <= len(self.text) else ""
        self.position = len(self.text) + 1
        return " ".join(part.strip() for part in value.split("\n") if part.strip())


def read_funds(fields: Cursor) -> date | None:
    """Consume a funds type and the fields it adds; the value date of type V."""
    kind = fields.take().upper()
    if kind == "S":
        for _ in range(3):
            read_units("availability", fields.take() or "0")
    elif kind == "V":
        value = fields.take()
        fields.take()
        return read_date("value_date", value)
    elif kind == "D":
        count = fields.take()
        if not count.isdecimal():
            raise FieldError("distributions", count, "the number of availability distributions")
        for _ in range(int(count)):
            _ = fields.take(), read_units("availability", fields.take())
    elif kind not in ("", "0", "1", "2", "Z"):
        raise FieldError("funds_type", kind, "a funds type 0, 1, 2, S, V, D or Z")
    return None


def read_units(name: str, text: str) -> int:
    if not _INTEGER.match(text):
        raise FieldError(name, text, "an amount in minor units without a decimal point, e.g. 2500")
    return int(text)


def read_money(units: int, currency: str) -> Money:
    try:
        return Money.from_minor(units, currency)
    except MoneyError:
        raise FieldError("currency", currency, "an ISO 4217 currency code") from None


def read_date(name: str, text: str) -> date:
    if len(text) != 6 or not text.isdecimal():
        raise FieldError(name, text, "a date YYMMDD")
    year = int(text[:2])
    try:
        return date(2000 + year if year < 80 else 1900 + year, int(text[2:4]), int(text[4:6]))
    except ValueError:
        raise FieldError(name, text, "a real calendar date YYMMDD") from None
