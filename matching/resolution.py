"""Counterparty resolution with a memory: each distinct name is resolved once, ever.

Tax ids and bank accounts answer first (dictionary lookups on master data); a name is
looked up in the cache of earlier decisions (a reviewer's, or the matcher's against the
same master data); only names never seen go to ``PartyIndex``, which is built on first
need, so a nightly run over familiar names never pays for it.

    >>> from ledger.counterparties import Counterparty, Role
    >>> haier = Counterparty(counterparty_id="C1", role=Role.CUSTOMER, name="青岛海尔智家股份有限公司")
    >>> resolver = CachedResolver([haier], cache={})
    >>> [r.counterparty_id for r in resolver.resolve(["海尔智家股份有限公司", "海尔智家股份有限公司"])]
    ['C1', 'C1']
    >>> sorted(resolver.new)                      # one decision to keep for the next run
    ['海尔智家股份有限公司']
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from itertools import repeat

from ledger.counterparties import Counterparty, PartyNames
from matching.parties import PartyIndex, Resolution, by_identifier, normalise


class CachedResolver:
    def __init__(self, counterparties: Sequence[Counterparty] | Callable[[], Sequence[Counterparty | PartyNames]],
                 cache: Mapping[str, Resolution], *, threshold: float = 0.80, margin: float = 0.05,
                 keys: Mapping[str, str] | None = None, tax_ids: Mapping[str, str] | None = None,
                 accounts: Mapping[str, str] | None = None,
                 stored_index: Callable[[], Mapping[str, list] | None] | None = None) -> None:
        """``counterparties`` may be a loader, called only when a name is new; then ``tax_ids`` (tax id →
        party) and ``accounts`` (account → party) come from the caller. ``keys``: normalised keys of
        names seen before (name → key), so the index skips normalising them. ``stored_index``: the
        index's tables (``PartyIndex.tables``) kept for this master data, or none, asked for when a name
        is new; ``built`` tells whether the index had to be built instead (and is worth keeping)."""
        # what loads the parties once: it holds no reference to the resolver, so that nothing makes a cycle
        # of the two (the cash step runs with the cyclic collector paused: a cycle would keep the index)
        if callable(counterparties):
            load = counterparties
            self._parties: Callable[[], list] = functools.cache(lambda: list(load()))
        else:
            listed = list(counterparties)
            self._parties = lambda: listed
        self.cache = dict(cache)
        self.keys = keys if keys is not None else {}
        self.threshold, self.margin = threshold, margin
        if tax_ids is None or accounts is None:
            tax_ids = {p.tax_id: p.counterparty_id for p in self.counterparties if p.tax_id}
            accounts = {a.replace(" ", ""): p.counterparty_id for p in self.counterparties for a in p.bank_accounts}
        self.by_tax, self.by_account = dict(tax_ids), dict(accounts)
        self._index: PartyIndex | None = None
        self._stored, self.built = stored_index, False
        self.new: dict[str, tuple[str, Resolution]] = {}    # name → (normalised key, decision) made in this run

    @property
    def counterparties(self) -> list[Counterparty | PartyNames]:
        return self._parties()

    @property
    def index(self) -> PartyIndex:
        if self._index is None:
            tables = self._stored() if self._stored is not None else None
            if tables is not None:
                self._index = PartyIndex.from_tables(tables, self._parties, threshold=self.threshold,
                                                     margin=self.margin)
            else:
                self._index = PartyIndex(self.counterparties, threshold=self.threshold, margin=self.margin,
                                         keys=self.keys)
                self.built = True
        return self._index

    def resolve(self, names: Sequence[str], tax_ids: Sequence[str | None] | None = None,
                accounts: Sequence[str | None] | None = None) -> list[Resolution]:
        # a bank statement repeats (tax id, account, name): each distinct one is decided once, in the order
        # first seen, and its Resolution shared (a million transactions would otherwise make a million)
        keys = list(zip(tax_ids if tax_ids else repeat(None), accounts if accounts else repeat(None), names))
        decided: dict[tuple[str | None, str | None, str], Resolution] = {}
        unseen: dict[str, list[tuple[str | None, str | None, str]]] = {}
        for key in dict.fromkeys(keys):
            tax_id, account, name = key
            found = by_identifier(self.by_tax, self.by_account, tax_id, account)
            if found is None:
                if not name:
                    found = Resolution(None, 0.0, "none")
                elif name in self.cache:
                    found = self.cache[name]
                else:
                    unseen.setdefault(name, []).append(key)
                    continue
            decided[key] = found
        if unseen:
            fresh = self.index.resolve(list(unseen))
            for (name, seen_as), resolution in zip(unseen.items(), fresh):
                self.cache[name] = resolution
                self.new[name] = (normalise(name), resolution)
                for key in seen_as:
                    decided[key] = resolution
        return [decided[key] for key in keys]
