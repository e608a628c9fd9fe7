"""Invoice numbers in remittance text, found exactly or one keying slip away.

    >>> extract_numbers("货款 44001234,４４００１２３５ 及 26316900000000000110")
    ['44001234', '44001235', '26316900000000000110']
    >>> index = NumberIndex(["44001234", "44005678"])
    >>> index.lookup("44001243")          # two adjacent digits swapped
    (['44001234'], 'one_digit_off')
    >>> index.lookup("44001234")
    (['44001234'], 'exact')
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

# 8 digits (发票号码 of legacy VAT invoices) or 20 (数电票), not part of a longer digit run.
_NUMBER = re.compile(r"(?<!\d)(\d{20}|\d{8})(?!\d)")


def extract_numbers(text: str) -> list[str]:
    normalised = unicodedata.normalize("NFKC", text or "")
    return list(dict.fromkeys(_NUMBER.findall(normalised)))


def _variants(number: str) -> Iterable[str]:
    """Every number one substitution or one adjacent transposition away."""
    for i in range(len(number)):
        for digit in "0123456789":
            if digit != number[i]:
                yield number[:i] + digit + number[i + 1:]
    for i in range(len(number) - 1):
        if number[i] != number[i + 1]:
            yield number[:i] + number[i + 1] + number[i] + number[i + 2:]


class NumberIndex:
    def __init__(self, numbers: Iterable[str]) -> None:
        self.numbers = set(numbers)

    def lookup(self, token: str) -> tuple[list[str], str]:
        """(matches, level): level is exact, one_digit_off (ambiguous when several), or none."""
        if token in self.numbers:
            return [token], "exact"
        near = sorted({v for v in _variants(token) if v in self.numbers})
        return near, ("one_digit_off" if near else "none")
