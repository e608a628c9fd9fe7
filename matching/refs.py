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
from collections.abc import Iterable, Sequence

import numpy as np

# 8 digits (发票号码 of legacy VAT invoices) or 20 (数电票), not part of a longer digit run.
_NUMBER = re.compile(r"(?<!\d)(\d{20}|\d{8})(?!\d)")


def extract_numbers(text: str) -> list[str]:
    normalised = unicodedata.normalize("NFKC", text or "")
    return list(dict.fromkeys(_NUMBER.findall(normalised)))


_SEPARATOR = "\x00"   # NFKC keeps it, and as a starter it never composes or reorders with a neighbour


def extract_all(texts: Sequence[str | None]) -> list[list[str]]:
    """``[extract_numbers(t) for t in texts]``, normalising all the texts in one call (a million
    remittances: one NFKC pass over one string instead of a million calls).

        >>> extract_all(["货款 44001234 44001234", None, "４４００１２３５"])
        [['44001234'], [], ['44001235']]
    """
    texts = [text or "" for text in texts]
    joined = _SEPARATOR.join(texts)
    if joined.count(_SEPARATOR) != max(len(texts) - 1, 0):   # a text holding the separator itself
        return [extract_numbers(text) for text in texts]
    parts = unicodedata.normalize("NFKC", joined).split(_SEPARATOR) if texts else []
    return [found if len(found) < 2 else list(dict.fromkeys(found)) for found in map(_NUMBER.findall, parts)]


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


_MASK = (1 << 64) - 1


def _keys(numbers: Sequence[str], length: int) -> np.ndarray:
    """Each number as its value modulo 2**64 (a hash for 20 digits: hits are checked on the text)."""
    digits = np.frombuffer("".join(numbers).encode("ascii"), dtype=np.uint8).reshape(len(numbers), length)
    weights = np.array([pow(10, length - 1 - i, 1 << 64) for i in range(length)], dtype=np.uint64)
    return ((digits - 48).astype(np.uint64) * weights).sum(axis=1, dtype=np.uint64)


def _one_edit(a: str, b: str) -> bool:
    """One substitution or one adjacent transposition apart (same length)."""
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                              and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])


def near_numbers(tokens: Sequence[str], numbers: Sequence[str]) -> dict[str, list[str]]:
    """For every token, the numbers one substitution or adjacent transposition away, sorted.

    Vectorised: every variant of every token is a key computed in numpy (a weighted digit
    sum modulo 2**64, so a variant is the token's key plus a difference) and looked up in
    the sorted keys of the numbers; only hits are checked on the text.

        >>> near_numbers(["44001243", "99999999"], ["44001234", "44001240"])
        {'44001243': ['44001234', '44001240']}
    """
    found: dict[str, set[str]] = {}
    for length in sorted({len(t) for t in tokens}):
        queries = sorted({t for t in tokens if len(t) == length and t.isascii() and t.isdigit()})
        pool = [n for n in numbers if len(n) == length and n.isascii() and n.isdigit()]
        if not queries or not pool:
            continue
        keys = _keys(pool, length)
        order = np.argsort(keys, kind="stable")
        sorted_keys = keys[order]
        digits = np.frombuffer("".join(queries).encode("ascii"), dtype=np.uint8).reshape(len(queries), length)
        digits = digits.astype(np.int64) - 48
        base = _keys(queries, length)
        weights = np.array([pow(10, length - 1 - i, 1 << 64) for i in range(length)], dtype=np.uint64)
        # substitutions: position i takes digit d; transpositions: positions i and i + 1 swap
        delta = (np.arange(10, dtype=np.int64)[None, None, :] - digits[:, :, None]).astype(np.uint64)
        substituted = (base[:, None, None] + delta * weights[None, :, None]).reshape(len(queries), -1)
        swap = (digits[:, 1:] - digits[:, :-1]).astype(np.uint64)
        transposed = base[:, None] + swap * (weights[:-1] - weights[1:])[None, :]
        variants = np.concatenate([substituted, transposed], axis=1)
        lo = np.searchsorted(sorted_keys, variants, side="left")
        hi = np.searchsorted(sorted_keys, variants, side="right")
        rows, cols = np.nonzero(hi > lo)
        for row, col in zip(rows.tolist(), cols.tolist()):
            token = queries[row]
            for position in range(lo[row, col], hi[row, col]):
                number = pool[order[position]]
                if number != token and _one_edit(token, number):
                    found.setdefault(token, set()).add(number)
    return {token: sorted(near) for token, near in sorted(found.items())}
