"""The counterparty resolution cache, read before and written after each matching run."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from functools import cache, partial

from sqlalchemy import Connection

from ledger.storage.matching_state import (
    CachedName,
    load_name_cache,
    load_party_index,
    load_party_keys,
    load_party_names,
    master_version,
    save_name_cache,
    save_party_index,
)
from ledger.storage.read import load_counterparties
from matching.parties import Resolution, index_code_version
from matching.resolution import CachedResolver
from matching.rules import MatchingRules


def cached_resolver(connection: Connection, company_id: str, rules: MatchingRules,
                    names: Iterable[str] | None = None,
                    version: str | Callable[[], str] | None = None) -> tuple[CachedResolver, str]:
    """A resolver holding the decisions still valid for this master data, and that master data's version.

    With ``names`` (the incremental step): only those names' decisions are read, and the party index
    kept for this master data (else master data: only the names of each party) only if one of them is
    new, which must happen while ``connection`` is open; tax ids and bank accounts are read at once, as
    plain columns. Without (a whole company, whose resolver outlives ``connection``): every party, at once.
    ``version``: the master data's version where the caller has read it already, or where it comes
    from (called only once the names' decisions are read, with ``names``).
    """
    if names is None:
        version = _version(connection, company_id, rules, version)
        stored = load_name_cache(connection, company_id, version)
        keys = {name: c.key for name, c in stored.items() if c.key}
        return CachedResolver(load_counterparties(connection, company_id), _cache(stored), keys=keys,
                              **_options(rules)), version
    tax_ids, accounts = load_party_keys(connection, company_id)
    # the version is asked for once, when the decisions are read (the rows first, then only the valid ones)
    resolved = cache(partial(_version, connection, company_id, rules, version))
    stored = load_name_cache(connection, company_id, resolved, only=names)

    keys: dict[str, str] = {}

    def master_data() -> list:   # the keys come with the names (no reference to the resolver: see CachedResolver)
        parties, cached = load_party_names(connection, company_id)
        keys.update(cached)
        return parties

    resolver = CachedResolver(master_data, _cache(stored), tax_ids=tax_ids, accounts=accounts, keys=keys,
                              stored_index=partial(_stored_index, connection, company_id, resolved),
                              **_options(rules))
    return resolver, resolved()


def _stored_index(connection: Connection, company_id: str, version: Callable[[], str]) -> dict | None:
    return load_party_index(connection, company_id, version(), index_code_version())


def index_tables(resolver: CachedResolver) -> str:
    """The party index the resolver built in this run, as the JSON kept (``save_index``); "" where it built
    none (it read the one kept, or needed none)."""
    return json.dumps(resolver.index.tables(), ensure_ascii=False, separators=(",", ":")) if resolver.built else ""


def save_index(connection: Connection, company_id: str, version: str, tables: str) -> None:
    """Keep the tables of an index built for this master data (``index_tables``; nothing where "")."""
    if tables:
        save_party_index(connection, company_id, version, index_code_version(), tables)


def _version(connection: Connection, company_id: str, rules: MatchingRules,
             version: str | Callable[[], str] | None) -> str:
    if version is None:
        return master_version(connection, company_id, rules.version)
    return version if isinstance(version, str) else version()


def _cache(stored: dict[str, CachedName]) -> dict[str, Resolution]:
    return {name: Resolution(c.party, c.score, c.level, c.matched) for name, c in stored.items()}


def _options(rules: MatchingRules) -> dict[str, float]:
    return {"threshold": rules.name_threshold, "margin": rules.name_margin}


def save_names(connection: Connection, company_id: str, version: str, resolver: CachedResolver) -> int:
    """Keep the names this run resolved for the next one."""
    return save_name_cache(connection, company_id, version, {
        name: (key, CachedName(r.counterparty_id, r.level, r.score, r.matched))
        for name, (key, r) in resolver.new.items()})
