"""The incremental cash step: new bank transactions against the open items in the database.

``refresh_open_items_step`` adds newly stored invoices to ``open_item`` (their names
resolved through the cache); ``settle_new_transactions`` loads only the open items and
only the transactions stored since the last run, settles them in one columnar pass
(``matching.settle``), bulk-writes the links with their evidence, reduces or closes the
open items, raises the exceptions and moves the cursor, all in one transaction. The
nightly flow calls both after ingest; a run that finds nothing new writes nothing.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine

from flows.names import cached_resolver, save_names
from ledger.exceptions import ExceptionRow
from ledger.settings import Tolerances
from ledger.storage.bulk import driver_value, insert_values
from ledger.storage.decisions import blocked_documents, rejected_pairs
from ledger.storage.exception_store import raise_exception_rows
from ledger.storage.matching_state import (
    apply_settlement,
    load_new_transactions,
    load_open_items,
    refresh_open_items,
    set_cursor,
)
from ledger.storage.tables import MatchLinkRow
from matching.findings import low_confidence_row, unknown_counterparty_row, unmatched_bank_txn_row
from matching.model import evidence_json
from matching.parties import Resolution
from matching.rules import MatchingRules
from matching.settle import SIDES, OpenItems, Payments, Settler

LINK_COLUMNS = ("from_type", "from_no", "to_no", "decision", "score", "amount_minor", "currency", "rule", "evidence")


@dataclass(slots=True)
class SettleRun:
    transactions: int = 0
    open_items: int = 0
    links: dict[str, int] = field(default_factory=dict)
    settled: int = 0
    exceptions: int = 0
    new_names: int = 0
    reduced: int = 0
    closed: int = 0
    seconds: dict[str, float] = field(default_factory=dict)       # wall clock per step
    cpu_seconds: dict[str, float] = field(default_factory=dict)   # this process's CPU time per step
    peak_gb: list[float] = field(default_factory=list)   # the process's peak RSS at the end of each step (Linux)


def _peak_gb() -> float:
    """The process's peak resident set so far (VmHWM) in GB; 0 where /proc is not there."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024 / 1024, 2)
    except OSError:
        pass
    return 0.0


def refresh_open_items_step(engine: Engine, company_id: str, rules: MatchingRules) -> int:
    """Add the invoices stored since the last call to the open items; how many were added."""
    with engine.begin() as connection:
        resolver, version = cached_resolver(connection, company_id, rules)
        # master names and aliases join the cache, keys included, so a later index skips normalising them
        resolver.resolve([name for party in resolver.counterparties for name in party.names])
        added = refresh_open_items(connection, company_id, lambda names, tax_ids: [
            r.counterparty_id for r in resolver.resolve(names, tax_ids=tax_ids)])
        save_names(connection, company_id, version, resolver)
    return added


@contextmanager
def _bulk_work(connection: Connection) -> Iterator[None]:
    """Millions of short-lived objects: the cyclic collector would rescan the long-lived ones again and
    again (none of them form cycles), so it pauses; SQLite gets a page cache that holds the indexes."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("PRAGMA cache_size = -262144")
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            # everything allocated meanwhile sits in the youngest generation: the first collection after
            # enabling would scan millions of objects (seconds). Moved to the oldest one without a scan.
            gc.freeze()
            gc.unfreeze()
            gc.enable()


def settle_new_transactions(engine: Engine, company_id: str, rules: MatchingRules,
                            tolerances: Tolerances) -> SettleRun:
    run = SettleRun()
    started, cpu = time.perf_counter(), [time.process_time()]

    def lap() -> float:
        cpu.append(time.process_time())
        run.peak_gb.append(_peak_gb())
        return time.perf_counter()
    with engine.begin() as connection, _bulk_work(connection):
        rejected = {(f, n, t) for f, n, kind, t in rejected_pairs(connection, company_id) if kind == "bank_txn"}
        stored = load_open_items(connection, company_id)
        bank = load_new_transactions(connection, company_id)
        resolver, version = cached_resolver(connection, company_id, rules, names={n for n in bank.counterparty if n})
        loaded = lap()
        run.transactions, run.open_items = len(bank.row_id), len(stored.row_id)
        if not bank.row_id:
            run.seconds = {"load": round(loaded - started, 3)}
            return run
        payer = resolver.resolve(bank.counterparty, accounts=bank.counterparty_account)
        resolved = lap()
        party_ids = sorted({p for p in stored.party if p is not None}
                           | {r.counterparty_id for r in payer if r.counterparty_id is not None})
        party_of = {p: n for n, p in enumerate(party_ids)}
        accounts: dict[int, tuple[str, ...]] = {}
        for account, party in sorted(resolver.by_account.items()):
            if party in party_of:
                accounts[party_of[party]] = (*accounts.get(party_of[party], ()), account)
        items = OpenItems(side=[SIDES.index(t) for t in stored.doc_type], number=stored.doc_no,
                          party=[party_of[p] if p is not None else -1 for p in stored.party],
                          currency=stored.currency, open_minor=stored.open_minor, day=stored.day)
        numbers = [f"{a}:{t}" for a, t in zip(bank.account_no, bank.txn_id)]
        payments = Payments(number=numbers, account_no=bank.account_no, txn_id=bank.txn_id, day=bank.day,
                            amount_minor=bank.amount_minor, currency=bank.currency, remittance=bank.remittance,
                            counterparty_account=bank.counterparty_account,
                            party=[party_of[r.counterparty_id] if r.counterparty_id is not None else -1 for r in payer],
                            party_level=[r.level for r in payer], party_score=[r.score for r in payer],
                            party_matched=[r.matched for r in payer])
        settlement = Settler(items, rules, tolerances, party_ids, accounts, rejected,
                             blocked_documents(connection, company_id)).run(payments)
        matched = lap()
        _write_links(connection, company_id, rules, items, payments, settlement.links)
        run.reduced, run.closed = apply_settlement(connection, stored.row_id, stored.open_minor, settlement.open_minor)
        exceptions = _exceptions(items, payments, bank.counterparty, payer, settlement)
        run.exceptions = len(raise_exception_rows(connection, company_id, exceptions)[0])
        run.new_names = save_names(connection, company_id, version, resolver)
        set_cursor(connection, company_id, "bank_txn", max(bank.row_id))
    written = lap()
    auto = sum(link.auto for link in settlement.links)
    run.links = {"auto": auto, "suggested": len(settlement.links) - auto}
    run.settled = len(settlement.settled)
    run.seconds = {"load": round(loaded - started, 3), "resolve": round(resolved - loaded, 3),
                   "match": round(matched - resolved, 3), "write": round(written - matched, 3),
                   "total": round(written - started, 3)}
    run.cpu_seconds = {step: round(cpu[n + 1] - cpu[n], 3) for n, step in enumerate(("load", "resolve", "match",
                                                                                      "write"))}
    return run


def _write_links(connection: Connection, company_id: str, rules: MatchingRules, items: OpenItems,
                 payments: Payments, links, chunk: int = 100_000) -> None:
    """Bulk-insert the links in chunks, so a million rows never sit in memory as tuples at once.
    Each link's comparisons are released once written (the exceptions need only the rest)."""
    table = MatchLinkRow.__table__
    # the same in every row: bound once (SQLite gets them as literals of the statement)
    constants = {"to_type": "bank_txn", "company_id": company_id, "rule_version": rules.version,
                 "decided_by": "yecai", "decided_at": driver_value(connection, table, "decided_at", datetime.now(UTC))}
    rows: list[tuple] = []
    payment, seen = -1, set()
    sides, numbers, currencies, txns = items.side, items.number, items.currency, payments.number
    for link in links:
        if link.payment != payment:   # a payment's links are contiguous: de-duplicate within it
            payment, seen = link.payment, set()
        comparisons, link.comparisons = link.comparisons, ()   # written once: a million evidence tuples go early
        if link.item in seen:         # a pair found twice in one run (two tokens naming it) is stored once
            continue
        seen.add(link.item)
        rows.append((SIDES[sides[link.item]], numbers[link.item], txns[link.payment],
                     "auto" if link.auto else "suggested", link.score, link.amount_minor, currencies[link.item],
                     link.rule, evidence_json(comparisons)))
        if len(rows) == chunk:
            insert_values(connection, table.name, LINK_COLUMNS, rows, constants=constants)
            rows = []
    insert_values(connection, table.name, LINK_COLUMNS, rows, constants=constants)


def _exceptions(items: OpenItems, payments: Payments, names: list[str], payer: list[Resolution],
                settlement) -> list[ExceptionRow]:
    """The run's exceptions as plain rows (``ExceptionItem.row()``, in the same order and words)."""
    found: list[ExceptionRow] = [finding.row() for finding in settlement.findings]
    linked = {link.payment for link in settlement.links}
    auto_linked = {link.payment for link in settlement.links if link.auto}
    numbers, amounts, currencies = payments.number, payments.amount_minor, payments.currency
    for p in range(len(payments)):
        if p not in linked:
            found.append(unmatched_bank_txn_row(numbers[p], amounts[p], currencies[p], names[p],
                                                payments.remittance[p]))
        if payer[p].counterparty_id is None and names[p] and p not in auto_linked:
            found.append(unknown_counterparty_row(numbers[p], amounts[p], currencies[p], names[p], payer[p].matched,
                                                  payer[p].score))
    for link in settlement.links:
        if not link.auto:
            found.append(low_confidence_row(SIDES[items.side[link.item]], items.number[link.item], "bank_txn",
                                            numbers[link.payment], link.amount_minor, items.currency[link.item],
                                            link.score, link.rule))
    return found
