"""One side of the cash step: money in against sales invoices, or money out against purchase invoices.

The settler never lets a payment touch an invoice of the other side (references, blocks and
amount keys all carry the side), so the two sides are independent: each loads only its own
open items and transactions, resolves its payers, settles, and turns its links and findings
into the rows the database takes: first its settlement (open amounts, exceptions, new names),
then its links. ``flows.settle_step`` runs the two in two processes where it can, writes the
links side by side (money in first, each side's in the order of the bank transaction numbers)
and merges the exceptions and names both raise into the order one pass over everything would
have made: everything a payment produced is tagged with the payment's place in that pass
(booking date, account, transaction id), open items with their row id.

    side 0: +113000 CNY "货款 44001234" → link sales_invoice 44001234, open item 17 closed
    side 1: -45200 CNY to 立讯精密     → link purchase_invoice 2631…0085, open item 21 closed
"""

from __future__ import annotations

import ctypes
import pickle
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import Connection

from flows.names import cached_resolver, index_tables
from ledger.exceptions import ExceptionRow
from ledger.settings import Tolerances
from ledger.storage.engine import PAGE_SIZE
from ledger.storage.matching_state import load_new_transactions, load_open_items
from matching.findings import low_confidence_row, unknown_counterparty_row, unmatched_bank_txn_row
from matching.model import evidence_json
from matching.rules import MatchingRules
from matching.settle import SIDES, OpenItems, Payments, Settler

Place = tuple[int, str, str]   # a payment's place in the pass: (booking day, account, transaction id)
# a link row's own columns, in the order of ``_link_rows``'s tuples (the rest is the same in every row)
LINK_COLUMNS = ("from_type", "from_no", "to_no", "decision", "score", "amount_minor", "currency", "rule", "evidence")


@dataclass(frozen=True, slots=True)
class SideJob:
    company_id: str
    rules: MatchingRules
    tolerances: Tolerances
    side: int                    # 0: money in, sales invoices; 1: money out, purchase invoices
    since: int                   # bank rows after this id …
    upto: int                    # … up to this one
    version: str | Callable[[], str]   # the master data's version, or where it comes from (in a process of
                                      # its own: from the parent, which reads it while the side loads)
    rejected: frozenset = frozenset()   # (doc_type, doc_no, bank txn number) never to be linked again
    blocked: frozenset = frozenset()    # (doc_type, doc_no) no payment may settle
    spool: str = ""                     # a file for the link rows (a million would crowd the memory): see _spool


@dataclass(slots=True)
class SideResult:
    transactions: int = 0
    open_items: int = 0
    auto: int = 0                # auto links made (before a pair found twice is stored once)
    suggested: int = 0
    settled: int = 0
    links: str = ""              # the spool file of its match_link rows (see _spool), or none
    findings: list[tuple[Place, ExceptionRow]] = field(default_factory=list)
    unmatched: list[tuple[Place, ExceptionRow]] = field(default_factory=list)   # per payment, in booking order
    low_confidence: list[tuple[Place, ExceptionRow]] = field(default_factory=list)
    closed: list[int] = field(default_factory=list)                  # open item ids settled in full, ascending
    reduced: list[tuple[int, int]] = field(default_factory=list)     # (new open amount, id), ascending ids
    names: list[tuple[Place, str, str, object]] = field(default_factory=list)   # (first seen, name, key, decision)
    index: str = ""              # the party index it built, to keep (``flows.names.index_tables``), or none
    seconds: dict[str, float] = field(default_factory=dict)
    peak_gb: float = 0.0         # the process's peak resident set when it finished (Linux; 0 elsewhere)


def _spool(path: str, chunks: Iterable[list[tuple]]) -> None:
    """The link rows into ``path``: a SQLite file (``.db``) with a table ``links`` of ``LINK_COLUMNS``,
    which a SQLite database copies in one INSERT … SELECT once it has attached the file (no row passes
    through Python there); else pickled chunks, for ``spooled_links``. Temporary data, never
    read after a crash: no journal, no sync."""
    if not path.endswith(".db"):
        with open(path, "wb") as spool:
            for rows in chunks:
                pickle.dump(rows, spool, protocol=pickle.HIGHEST_PROTOCOL)
        return
    spool = sqlite_spool(path)
    try:
        spool.execute("BEGIN")
        for rows in chunks:
            spool.executemany(f"INSERT INTO links VALUES ({', '.join('?' * len(LINK_COLUMNS))})", rows)
        spool.execute("COMMIT")
    finally:
        spool.close()


def sqlite_spool(path: str) -> sqlite3.Connection:
    """A connection to the SQLite spool file ``path``, its table made (the writing process makes it before
    it attaches the file, so that its schema already holds the table the side fills)."""
    spool = sqlite3.connect(path, isolation_level=None)
    spool.execute(f"PRAGMA page_size = {PAGE_SIZE}")   # as the database it is copied into (a quarter faster)
    spool.execute("PRAGMA journal_mode = OFF")
    spool.execute("PRAGMA synchronous = OFF")
    spool.execute(f"CREATE TABLE IF NOT EXISTS links ({', '.join(LINK_COLUMNS)})")
    return spool


def spooled_links(result: SideResult) -> Iterator[tuple]:
    """A side's match_link rows pickled to its spool, read back a chunk at a time (none where they went
    to a sink)."""
    if not result.links:
        return
    with open(result.links, "rb") as spool:
        while True:
            try:
                chunk = pickle.load(spool)
            except EOFError:
                return
            yield from chunk


def memory_gb(field: str = "VmHWM") -> float:
    """This process's peak resident set so far (``VmRSS``: its resident set now), in GB; 0 where /proc
    is not there."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(f"{field}:"):
                    return round(int(line.split()[1]) / 1024 / 1024, 2)
    except OSError:
        pass
    return 0.0


def _trim() -> None:
    """Hand the memory freed back to the system (glibc keeps freed blocks of a large heap for reuse):
    a side whose settler and loads are gone needs 0.1 GB less while it makes its links' rows, beside a
    writing process that grows meanwhile. A no-op where the C library has no ``malloc_trim``."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def settle_side(connection: Connection, job: SideJob, sink: Callable[[list[tuple]], None] | None = None,
                ready: Callable[[SideResult], None] | None = None) -> SideResult:
    """Load, resolve and settle one side; its rows come back tagged for the merge. ``sink``: where the link
    rows go, a chunk at a time, in a process that writes them itself (else: to a spool file in
    ``job.spool``, ``SideResult.links``). ``ready``: called with the result once everything but the links
    is in it (a side in a process of its own sends it then, so that its open amounts and exceptions are
    written while it still turns its links into rows; the lists sent are emptied here after)."""
    result, laps = SideResult(), [time.perf_counter()]
    stored = load_open_items(connection, job.company_id, SIDES[job.side])
    bank = load_new_transactions(connection, job.company_id, job.since, job.upto, money_in=job.side == 0)
    result.transactions, result.open_items = len(bank.row_id), len(stored.row_id)
    if not bank.row_id:
        if ready is not None:
            ready(result)
        return result
    # the version (from the parent, in a process of its own) is waited for only once the names' decisions are read
    resolver, _version = cached_resolver(connection, job.company_id, job.rules,
                                         names={n for n in bank.counterparty if n}, version=job.version)
    laps.append(time.perf_counter())
    payer = resolver.resolve(bank.counterparty, accounts=bank.counterparty_account)
    new_names, by_account, result.index = resolver.new, resolver.by_account, index_tables(resolver)
    del resolver   # the party index and the name cache (at a million rows 0.2 GB): only the new names are left
    laps.append(time.perf_counter())
    party_ids = sorted({p for p in stored.party if p is not None}
                       | {r.counterparty_id for r in payer if r.counterparty_id is not None})
    party_of = {p: n for n, p in enumerate(party_ids)}
    accounts: dict[int, tuple[str, ...]] = {}
    for account, party in sorted(by_account.items()):
        if party in party_of:
            accounts[party_of[party]] = (*accounts.get(party_of[party], ()), account)
    items = OpenItems(side=[job.side] * len(stored.row_id), number=stored.doc_no,
                      party=[party_of[p] if p is not None else -1 for p in stored.party],
                      currency=stored.currency, open_minor=stored.open_minor, day=stored.day)
    payments = Payments(number=[f"{a}:{t}" for a, t in zip(bank.account_no, bank.txn_id)],
                        account_no=bank.account_no, txn_id=bank.txn_id, day=bank.day,
                        amount_minor=bank.amount_minor, currency=bank.currency, remittance=bank.remittance,
                        counterparty_account=bank.counterparty_account,
                        party=[party_of[r.counterparty_id] if r.counterparty_id is not None else -1 for r in payer],
                        party_level=[r.level for r in payer], party_score=[r.score for r in payer],
                        party_matched=[r.matched for r in payer])
    settler = Settler(items, job.rules, job.tolerances, party_ids, accounts, job.rejected, job.blocked)
    settlement = settler.run(payments)
    del settler    # its indexes of the open items (0.1 GB at a million): the rows need only the settlement
    laps.append(time.perf_counter())
    places = list(zip(bank.day, bank.account_no, bank.txn_id))
    result.auto = sum(link.auto for link in settlement.links)
    result.suggested = len(settlement.links) - result.auto
    result.settled = len(settlement.settled)
    result.findings = [(places[p], finding.row()) for p, finding in zip(settlement.finding_payment,
                                                                         settlement.findings)]
    result.unmatched, result.low_confidence = _exception_rows(items, payments, bank.counterparty, payer,
                                                              settlement, places)
    for row_id, old, new in zip(stored.row_id, stored.open_minor, settlement.open_minor):
        if new != old:
            if new <= 0:
                result.closed.append(row_id)
            else:
                result.reduced.append((new, row_id))
    first = {}
    for n, name in enumerate(bank.counterparty):
        if name in new_names and name not in first:
            first[name] = n
    result.names = [(places[first[name]], name, key, decision) for name, (key, decision) in new_names.items()]
    laps.append(time.perf_counter())
    if ready is not None:
        ready(result)
        result.findings, result.unmatched, result.low_confidence = [], [], []
        result.closed, result.reduced, result.names, result.index = [], [], [], ""
    link_rows = _link_rows(items.side, items.number, items.currency, payments.number, settlement.links)
    # what the links' rows need is bound above; the rest goes (a million rows: 0.1 GB less while they are made)
    del items, payments, settlement, bank, stored, payer, places
    _trim()
    if sink is not None:   # in the writing process: straight into the database
        for rows in link_rows:
            sink(rows)
    else:                  # a million rows would crowd the memory of the process that writes them
        result.links = job.spool
        _spool(job.spool, link_rows)
    laps.append(time.perf_counter())
    result.seconds = {step: round(laps[n + 1] - laps[n], 3) for n, step in enumerate(
        ("load", "resolve", "match", "rows", "links"))}
    result.peak_gb = memory_gb()
    return result


def _link_rows(sides: list[int], numbers: list[str], currencies: list[str], txns: list[str], links: list,
               chunk: int = 50_000) -> Iterator[list[tuple]]:
    """The links as match_link rows (``LINK_COLUMNS``), ``chunk`` at a time, a pair found
    twice for one payment (two tokens naming it) stored once; the open items' sides, numbers and
    currencies and the payments' numbers are the columns of ``OpenItems`` and ``Payments``. Each link
    is released once it is a row, so the rows never sit in memory beside all the links.

    The rows come in the order of the bank transaction numbers (each payment's own links in the order
    they were made), the order of ``match_link``'s index on the bank side: inserted so, that index
    grows at one end instead of at a random leaf per row (SQLite, inserts and commit: a million links
    19 s → 14 s; a nightly delta's 56,000 2.6 s → 1.0 s)."""
    rows: list[tuple] = []
    payment, seen = -1, set()
    # a payment's links are contiguous in ``links`` and stay so: a stable sort on the payment's number
    order = sorted(range(len(links)), key=lambda n: txns[links[n].payment])
    for n in order:
        link, links[n] = links[n], None
        if link.payment != payment:   # a payment's links are contiguous: de-duplicate within it
            payment, seen = link.payment, set()
        if link.item in seen:
            continue
        seen.add(link.item)
        rows.append((SIDES[sides[link.item]], numbers[link.item], txns[link.payment],
                     "auto" if link.auto else "suggested", link.score, link.amount_minor, currencies[link.item],
                     link.rule, evidence_json(link.comparisons)))
        if len(rows) == chunk:
            yield rows
            rows = []
    if rows:
        yield rows


def _exception_rows(items: OpenItems, payments: Payments, names: list[str], payer, settlement,
                    places: list[Place]) -> tuple[list, list]:
    """(unmatched and unknown payers, per payment in booking order; links left to a person, in link order)."""
    linked = {link.payment for link in settlement.links}
    auto_linked = {link.payment for link in settlement.links if link.auto}
    numbers, amounts, currencies = payments.number, payments.amount_minor, payments.currency
    unmatched = []
    for p in range(len(payments)):
        if p not in linked:
            unmatched.append((places[p], unmatched_bank_txn_row(numbers[p], amounts[p], currencies[p], names[p],
                                                                payments.remittance[p])))
        if payer[p].counterparty_id is None and names[p] and p not in auto_linked:
            unmatched.append((places[p], unknown_counterparty_row(numbers[p], amounts[p], currencies[p], names[p],
                                                                  payer[p].matched, payer[p].score)))
    low = [(places[link.payment], low_confidence_row(
        SIDES[items.side[link.item]], items.number[link.item], "bank_txn", numbers[link.payment],
        link.amount_minor, items.currency[link.item], link.score, link.rule))
        for link in settlement.links if not link.auto]
    return unmatched, low
