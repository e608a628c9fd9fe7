"""The incremental cash step: new bank transactions against the open items in the database.

``refresh_open_items_step`` adds newly stored invoices to ``open_item`` (their names
resolved through the cache); ``settle_new_transactions`` loads only the open items and
only the transactions stored since the last run, settles them in one columnar pass per side
(``flows.settle_side``: money in against sales invoices and money out against purchase
invoices, in two processes for a nightly delta), bulk-writes the links with their evidence,
reduces or closes the open items, raises the exceptions and moves the cursor, all in one
transaction. A run that finds nothing new writes nothing. ``benchmarks/bench_scale.py``
measures it on a million transactions.
"""

from __future__ import annotations

import gc
import heapq
import multiprocessing
import os
import tempfile
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cache, partial
from itertools import islice
from multiprocessing.connection import Connection as MultiConnection
from multiprocessing.process import BaseProcess
from operator import itemgetter

from sqlalchemy import Connection, Engine
from sqlalchemy.pool import NullPool

from flows.names import cached_resolver, save_names
from flows.settle_side import SideJob, SideResult, memory_gb, settle_side, spooled_links
from ledger.settings import Tolerances
from ledger.storage.bulk import driver_value, insert_values
from ledger.storage.decisions import blocked_documents, rejected_pairs
from ledger.storage.engine import make_engine
from ledger.storage.exception_store import raise_exception_rows
from ledger.storage.matching_state import (
    CachedName,
    apply_settlement,
    get_cursor,
    last_bank_row,
    master_version,
    refresh_open_items,
    save_name_cache,
    set_cursor,
)
from ledger.storage.tables import MatchLinkRow
from matching.rules import MatchingRules
from matching.settle import SIDES

PARALLEL_FROM = 20_000    # new bank rows from which the two sides run in two processes …
PARALLEL_UPTO = 250_000   # … and up to which they do so unless told (beyond, memory decides: see settle_workers)
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
    workers: int = 1
    seconds: dict[str, float] = field(default_factory=dict)       # wall clock per step
    side_seconds: list[dict[str, float]] = field(default_factory=list)   # each side's own steps
    # peak RSS (GB, Linux): while the sides ran (in two processes: this one's resident set when it forked
    # them plus each one's own peak, an upper bound, as pages shared after the fork count twice), then
    # this process's own peak at the end
    peak_gb: list[float] = field(default_factory=list)


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
def _bulk_work(connection: Connection, cache_mb: int = 256) -> Iterator[None]:
    """Millions of short-lived objects: the cyclic collector would rescan the long-lived ones again and
    again (none of them form cycles), so it pauses; SQLite gets a page cache that holds the indexes
    (``cache_mb``: a side that only reads, in a scan, needs less)."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(f"PRAGMA cache_size = -{cache_mb * 1024}")
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


def settle_workers(transactions: int) -> int:
    """Processes for a run of ``transactions`` new bank rows: two (one per side) for a nightly delta,
    from ``PARALLEL_FROM`` up to ``PARALLEL_UPTO`` rows, where the run is short and latency counts;
    one for a larger run (an initial load), where two would hold both sides' working sets at once
    (a million rows against 1.25 million open items: 2.9 GB instead of 1.9; measured in the README).
    ``YECAI_SETTLE_WORKERS`` (1 or 2) decides instead where it is set. A run smaller than
    ``PARALLEL_FROM``, a single core or a platform without fork always stays in this process."""
    setting = os.environ.get("YECAI_SETTLE_WORKERS", "").strip()
    if setting not in ("", "1", "2"):
        raise ValueError(f"YECAI_SETTLE_WORKERS={setting!r}: expected 1 or 2 (processes for the cash step)")
    if (transactions < PARALLEL_FROM or (os.cpu_count() or 1) < 2
            or "fork" not in multiprocessing.get_all_start_methods()):
        return 1
    if setting:
        return int(setting)
    return 2 if transactions <= PARALLEL_UPTO else 1


def settle_new_transactions(engine: Engine, company_id: str, rules: MatchingRules,
                            tolerances: Tolerances, workers: int | None = None) -> SettleRun:
    """Settle the transactions stored since the last run against the open items, in one transaction.

    The two sides run in two processes where ``workers`` (default: ``settle_workers``) is 2 and the
    database is a file or a server. The rows are written in the same order either way (each side's
    links in the order of the bank transaction numbers, money in first; exceptions and names merged
    into the order of one pass), so the database ends up the same row for row."""
    run = SettleRun()
    started = time.perf_counter()
    with engine.begin() as connection, _bulk_work(connection):
        rejected = frozenset((f, n, t) for f, n, kind, t in rejected_pairs(connection, company_id)
                             if kind == "bank_txn")
        since = get_cursor(connection, company_id, "bank_txn")
        upto = last_bank_row(connection, company_id)
        if upto <= since:
            run.seconds = {"load": round(time.perf_counter() - started, 3)}
            return run
        blocked = blocked_documents(connection, company_id)
        workers = settle_workers(upto - since) if workers is None else workers
        # the master data's version, read once the sides are under way
        version = cache(partial(master_version, connection, company_id, rules.version))

        prepared, resident = time.perf_counter(), memory_gb("VmRSS")
        sides: list[SideResult] = []
        with tempfile.TemporaryDirectory(prefix="yecai-settle-") as spool:
            jobs = [SideJob(company_id, rules, tolerances, side, since, upto, "", rejected, blocked, spool)
                    for side in (0, 1)]
            # each side's links are written as they are made (in two processes: once the side is done, money
            # in while money out still matches), money in first, then its open amounts; the rest once both are in
            write_links = partial(_insert_links, connection, company_id, rules, datetime.now(UTC))
            for side in _run_sides(engine, connection, jobs, workers, version, write_links):
                sides.append(side)
                _write_side(connection, side, run, write_links)
            matched = time.perf_counter()
            run.transactions = sum(side.transactions for side in sides)
            run.open_items = sum(side.open_items for side in sides)
            run.peak_gb = [round(resident + sum(side.peak_gb for side in sides), 2) if workers > 1 else memory_gb()]
            if run.transactions:
                _write(connection, company_id, version(), sides, run)
                set_cursor(connection, company_id, "bank_txn", upto)
    written = time.perf_counter()
    run.workers = workers
    run.side_seconds = [side.seconds for side in sides]
    run.seconds = {"prepare": round(prepared - started, 3), "sides": round(matched - prepared, 3),
                   "write": round(written - matched, 3), "total": round(written - started, 3)}
    run.peak_gb.append(memory_gb())
    return run


def _run_sides(engine: Engine, connection: Connection, jobs: list[SideJob], workers: int,
               version: Callable[[], str], write_links: Callable[[Iterable[tuple]], None]) -> Iterator[SideResult]:
    """Both sides, in side order: in this process (on ``connection``, one after the other, each written
    before the next is loaded, its links by ``write_links`` as they are made) or in two forked ones at
    once, each with its own connection, their links spooled to a file for this process to write. Forked,
    the sides start loading at once and get the master data's ``version`` (which only their name cache
    needs) through a pipe as soon as this process has read it."""
    if workers < 2 or (engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:")):
        for job in jobs:
            yield settle_side(connection, replace(job, version=version()), sink=write_links)
        return
    url = engine.url.render_as_string(hide_password=False)
    context = multiprocessing.get_context("fork")
    children: list[tuple[SideJob, BaseProcess, MultiConnection]] = []
    try:
        for job in jobs:
            here, there = context.Pipe()
            child = context.Process(target=_side_process, args=(url, job, there), name=f"yecai-settle-{job.side}",
                                    daemon=True)
            child.start()
            there.close()
            children.append((job, child, here))
        for _job, _child, pipe in children:
            try:
                pipe.send(version())
            except OSError:   # that side has ended already: reading its result tells why
                pass
        for job, child, pipe in children:
            yield _side_result(job, child, pipe)
    finally:
        for _job, child, pipe in children:
            pipe.close()
            if child.is_alive():
                child.terminate()
            child.join()


def _side_process(url: str, job: SideJob, pipe: MultiConnection) -> None:
    """A forked process's whole life: settle one side, send back ("ok", result) or ("error", exception,
    its traceback)."""
    try:
        message = ("ok", _settle_side_in_child(url, replace(job, version=pipe.recv)), "")
    except BaseException as error:   # the parent re-raises it
        message = ("error", error, traceback.format_exc())
    try:
        pipe.send(message)
    except OSError:     # the parent is gone: nobody to tell
        pass
    except Exception:   # an exception that does not pickle travels as its text
        pipe.send(("error", RuntimeError(repr(message[1])), message[2]))
    finally:
        pipe.close()


def _side_result(job: SideJob, child: BaseProcess, pipe: MultiConnection) -> SideResult:
    try:
        status, payload, trace = pipe.recv()
    except (EOFError, OSError):   # it ended, or was ended, before it could answer
        child.join()
        raise RuntimeError(f"the cash step's process for {SIDES[job.side]}s ended without a result "
                           f"(exit code {child.exitcode})") from None
    if status == "error":
        payload.add_note(f"in the cash step's process for {SIDES[job.side]}s:\n{trace}")
        raise payload
    return payload


def _settle_side_in_child(url: str, job: SideJob) -> SideResult:
    engine = make_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection, _bulk_work(connection, cache_mb=32):
            return settle_side(connection, job)
    finally:
        engine.dispose()


def _write_side(connection: Connection, side: SideResult, run: SettleRun,
                write_links: Callable[[Iterable[tuple]], None]) -> None:
    """One side's spooled links (where it ran in a process of its own) and the open amounts it changed."""
    write_links(spooled_links(side))
    reduced, closed = apply_settlement(connection, side.reduced, [(row_id,) for row_id in side.closed])
    run.reduced, run.closed = run.reduced + reduced, run.closed + closed
    side.reduced, side.closed = [], []


def _write(connection: Connection, company_id: str, version: str, sides: list[SideResult], run: SettleRun) -> None:
    """What the two sides raised, merged into the order of one pass: exceptions, then new names."""
    by_place = itemgetter(0)
    exceptions = [row for part in ("findings", "unmatched", "low_confidence")
                  for _place, row in heapq.merge(*(getattr(side, part) for side in sides), key=by_place)]
    run.exceptions = len(raise_exception_rows(connection, company_id, exceptions)[0])
    names: dict[str, tuple[str, CachedName]] = {}
    for _place, name, key, decision in heapq.merge(*(side.names for side in sides), key=by_place):
        names.setdefault(name, (key, CachedName(decision.counterparty_id, decision.level, decision.score,
                                                decision.matched)))
    run.new_names = save_name_cache(connection, company_id, version, names)
    run.links = {"auto": sum(side.auto for side in sides), "suggested": sum(side.suggested for side in sides)}
    run.settled = sum(side.settled for side in sides)


def _insert_links(connection: Connection, company_id: str, rules: MatchingRules, decided_at: datetime,
                  rows: Iterable[tuple], chunk: int = 100_000) -> None:
    """Bulk-insert match_link rows in chunks, so a million rows never sit in memory twice."""
    table = MatchLinkRow.__table__
    # the same in every row: bound once (SQLite gets them as literals of the statement)
    constants = {"to_type": "bank_txn", "company_id": company_id, "rule_version": rules.version,
                 "decided_by": "yecai", "decided_at": driver_value(connection, table, "decided_at", decided_at)}
    iterator = iter(rows)
    while batch := list(islice(iterator, chunk)):
        insert_values(connection, table.name, LINK_COLUMNS, batch, constants=constants)
