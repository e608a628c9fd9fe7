"""The dry run of a template change: the vouchers new templates would produce, against the
vouchers the book holds now, event by event. Nothing is written.

    sales_invoice:44001234  changed
      ~ 6001 主营业务收入 credit 1000.00 → 6051 …   (a line whose amount or dimensions change)
      + 6051 其他业务收入 credit 1000.00            (a line only the new templates produce)
      - 6001 主营业务收入 credit 1000.00            (a line only the current voucher has)

Lines are paired by account and side, in line order; a pair whose amount, base amount,
summary or dimensions differ is a changed line.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ledger.posting.stored import StoredVoucher
from ledger.posting.vouchers import Voucher, VoucherLine


@dataclass(frozen=True, slots=True)
class LineView:
    account_code: str
    account_name: str
    side: str
    amount: str
    base_amount: str
    summary: str
    dimensions: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, line: VoucherLine) -> LineView:
        base_debit, base_credit = line.base
        debit = bool(line.debit) or (not line.credit and bool(base_debit))
        amount, base = (line.debit, base_debit) if debit else (line.credit, base_credit)
        return cls(line.account_code, line.account_name, "debit" if debit else "credit", format(amount.amount, "f"),
                   format(base.amount, "f"), line.summary, tuple(sorted(line.dimensions.items())))

    def __str__(self) -> str:
        dims = "".join(f" {k}={v}" for k, v in self.dimensions)
        return f"{self.account_code} {self.account_name} {self.side} {self.amount}{dims}"


@dataclass(frozen=True, slots=True)
class EventChange:
    event_key: str
    status: str                                  # added, removed or changed
    voucher_no: str = ""                         # the current voucher's number, if posted
    added: tuple[LineView, ...] = ()
    removed: tuple[LineView, ...] = ()
    changed: tuple[tuple[LineView, LineView], ...] = ()


@dataclass(frozen=True, slots=True)
class Preview:
    changes: tuple[EventChange, ...]
    unchanged: int
    template_version: str = ""
    counts: dict[str, int] = field(default_factory=dict)


def _pair(current: Sequence[LineView], proposed: Sequence[LineView]):
    remaining = list(proposed)
    added, removed, changed = [], [], []
    for old in current:
        match = next((new for new in remaining if (new.account_code, new.side) == (old.account_code, old.side)), None)
        if match is None:
            removed.append(old)
            continue
        remaining.remove(match)
        if match != old:
            changed.append((old, match))
    added.extend(remaining)
    return tuple(added), tuple(removed), tuple(changed)


def compare(current: Iterable[StoredVoucher], proposed: Iterable[Voucher], template_version: str = "") -> Preview:
    """``current``: the book's standing vouchers (no reversals); ``proposed``: the new templates' vouchers."""
    now = {stored.base_event_key: stored for stored in current}
    new = {voucher.event.key: voucher for voucher in proposed}
    changes, unchanged = [], 0
    for key in sorted(now.keys() | new.keys()):
        stored, voucher = now.get(key), new.get(key)
        if stored is None:
            changes.append(EventChange(key, "added", added=tuple(LineView.of(ln) for ln in voucher.lines)))
        elif voucher is None:
            changes.append(EventChange(key, "removed", stored.voucher.number,
                                       removed=tuple(LineView.of(ln) for ln in stored.voucher.lines)))
        else:
            old_word, new_word = stored.voucher.word, voucher.word
            added, removed, changed = _pair([LineView.of(ln) for ln in stored.voucher.lines],
                                            [LineView.of(ln) for ln in voucher.lines])
            if added or removed or changed or old_word != new_word:
                changes.append(EventChange(key, "changed" if old_word == new_word
                                           else f"changed (word {old_word} → {new_word})",
                                           stored.voucher.number, added, removed, changed))
            else:
                unchanged += 1
    counts: dict[str, int] = {}
    for change in changes:
        status = change.status.split(" ")[0]
        counts[status] = counts.get(status, 0) + 1
    return Preview(tuple(changes), unchanged, template_version, counts)
