"""Matching at scale: bank transactions against open invoices already in the database.

    .venv/bin/python -m benchmarks.bench_scale                      # 1,000,000 vs ~1,250,000, delta 50,000
    .venv/bin/python -m benchmarks.bench_scale --chains 130000 --transactions 100000 --delta 5000
    YECAI_SETTLE_WORKERS=2 .venv/bin/python -m benchmarks.bench_scale   # both phases in two processes (1: in one)

Seeds a database once (SQLite file, kept under ``--work`` and copied for each run; or a
throwaway PostgreSQL database with ``--postgres URL``) from the synthetic generator's
standard profile through the bulk paths: counterparties, invoice headers, the first
``--transactions`` bank lines by booking date, and the open items built from the
invoices. Then, each in a fresh child process so that its peak memory is its own:

1. full: load the open items and the new transactions, resolve payers, settle, write
   links, open amounts and exceptions (``flows.settle_step.settle_new_transactions``);
2. delta: store the next ``--delta`` bank lines and run the same step again, which
   touches only them and the open items left.

Each phase starts once the writes before it have reached the disk (``os.sync``). Prints wall
seconds, CPU seconds (user + system of the child and of the processes it forks for the two
sides) and peak memory per phase (the proportional set size of the child and the processes it
forks, summed, sampled every 2 s; and their resident sets summed every 0.1 s, an upper bound), the
machine's load, and its speed (a fixed Python loop timed: a virtual machine's speed moves from
hour to hour, and runs far apart compare through it). Goals
(issue 5, 2 cores): full ≤ 30 s and ≤ 2.5 GB; delta ≤ 5 s.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine, text

from benchmarks.synth import PROFILES, Synth
from ledger.settings import Tolerances
from ledger.storage import migrate
from ledger.storage.bulk import insert_values
from ledger.storage.engine import PAGE_SIZE, make_engine
from matching.rules import load_rules

COMPANY = "scale"
GOALS = {"full": (30.0, 2.5), "delta": (5.0, None)}


def _minor(text_amount: str) -> int:
    return int(Decimal(text_amount).scaleb(2))


def seed(engine: Engine, chains: int, transactions: int, delta: int, seed_value: int) -> dict:
    """Write the synthetic company; returns counts. The delta's bank lines go to a side file."""
    started = time.perf_counter()
    gc.disable()   # millions of rows held, none in cycles: the collector would only rescan them
    synth = Synth(chains, PROFILES["standard"], seed_value, files=("sales_invoices", "purchase_invoices", "bank"))
    synth.build()
    generated = time.perf_counter()
    migrate.upgrade(engine)
    bank = sorted(synth.rows["bank"], key=lambda r: (r[2], r[0], r[1]))
    full, later = bank[:transactions], bank[transactions:transactions + delta]
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO company (id, name, base_currency) VALUES (:id, 'scale', 'CNY')"),
                           {"id": COMPANY})
        parties = synth.customers + synth.suppliers
        insert_values(connection, "counterparty", ("id", "company_id", "external_id", "role", "name", "tax_id",
                                                   "country"),
                      [(n, COMPANY, p.pid, p.role, p.legal, p.tax_id, "CN") for n, p in enumerate(parties, 1)])
        insert_values(connection, "counterparty_alias", ("counterparty_id", "alias", "source"),
                      [(n, p.short, "master") for n, p in enumerate(parties, 1)])
        insert_values(connection, "counterparty_bank_account", ("counterparty_id", "account_no"),
                      [(n, p.account) for n, p in enumerate(parties, 1)])
        headers: dict[tuple[str, str], list] = {}
        totals: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
        for kind, rows in (("sales_invoice", synth.rows["sales_invoices"]),
                           ("purchase_invoice", synth.rows["purchase_invoices"])):
            for row in rows:
                key = (kind, row[0])
                headers.setdefault(key, row)
                totals[key][0] += _minor(row[13])
                totals[key][1] += _minor(row[14])
        insert_values(connection, "document", (
            "company_id", "kind", "doc_no", "doc_date", "due_date", "counterparty", "counterparty_tax_id", "currency",
            "order_ref", "shipment_ref", "net_minor", "tax_minor", "project", "department", "source", "content_hash"),
            [(COMPANY, kind, number, row[1], row[2], row[3], row[4] or None, row[7], row[5], row[6], *totals[(kind,
              number)], "", "", "synth", "") for (kind, number), row in headers.items()])
        _bank(connection, full)
    stored = time.perf_counter()
    from flows.settle_step import refresh_open_items_step

    items = refresh_open_items_step(engine, COMPANY, load_rules())
    indexed = time.perf_counter()
    gc.enable()
    return {"invoices": len(headers), "open_items": items, "transactions": len(full), "delta": later,
            "seconds": {"generate": round(generated - started, 1), "store": round(stored - generated, 1),
                        "open_items (names resolved cold)": round(indexed - stored, 1)}}


def _bank(connection, rows: list[list[str]]) -> None:
    insert_values(connection, "bank_txn", (
        "company_id", "account_no", "txn_id", "booking_date", "value_date", "amount_minor", "currency", "counterparty",
        "counterparty_account", "remittance", "source", "content_hash"),
        [(COMPANY, r[0], r[1], r[2], r[3], _minor(r[4]), r[5], r[6], r[7], r[8], "synth", "") for r in rows])


def phase(url: str) -> None:
    """One timed settle run in this (child) process; prints a JSON line."""
    from flows.settle_step import settle_new_transactions

    engine = make_engine(url)
    wall, cpu = time.perf_counter(), _cpu()
    with _PssSampler() as sampler:
        run = settle_new_transactions(engine, COMPANY, load_rules(), Tolerances())
    print(json.dumps({"wall": round(time.perf_counter() - wall, 2), "cpu": round(_cpu() - cpu, 2),
                      "rss_gb": sampler.peak_gb or max(run.peak_gb), "rss_sum_gb": sampler.rss_peak_gb,
                      "transactions": run.transactions,
                      "open_items": run.open_items, "links": run.links, "settled": run.settled,
                      "closed": run.closed, "exceptions": run.exceptions, "new_names": run.new_names,
                      "workers": run.workers, "steps": run.seconds, "side_steps": run.side_seconds,
                      "peak_steps": dict(zip(("with the sides", "end"), run.peak_gb))}))


class _PssSampler:
    """The peak of this process's and its children's memory together: their proportional set size (shared
    pages split between the processes sharing them) sampled every ``pss_every`` seconds, and the sum of
    their resident sets, an upper bound (pages shared after a fork count once per process), every
    ``rss_every`` seconds. From /proc (Linux; 0 elsewhere).

    A read of ``smaps_rollup`` walks the page tables of a process, 18 ms for a gigabyte, in this process,
    which the sides need the two cores for: every 0.5 s the samples took 5 s of CPU in a run of 50 s
    (every 50 ms: 9.5 s of CPU and 5.4 s of wall in a run of 29 s). ``statm`` costs 0.04 ms."""

    def __init__(self, pss_every: float = 2.0, rss_every: float = 0.1) -> None:
        self.peak_gb = self.rss_peak_gb = 0.0
        self.pss_every, self.rss_every = pss_every, rss_every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> _PssSampler:
        if Path("/proc/self/smaps_rollup").exists():
            self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _sample(self) -> None:
        me, page = os.getpid(), os.sysconf("SC_PAGE_SIZE")
        every = round(self.pss_every / self.rss_every)
        for tick in itertools.count():
            if self._stop.wait(self.rss_every):
                return
            pids = [me] + [int(c) for c in Path(f"/proc/{me}/task/{me}/children").read_text().split()]
            resident = sum(int(_read(f"/proc/{pid}/statm", "0 0").split()[1]) for pid in pids) * page
            self.rss_peak_gb = max(self.rss_peak_gb, round(resident / 1024 ** 3, 2))
            if tick % every == 0:
                total = sum(int(line.split()[1]) for pid in pids
                            for line in _read(f"/proc/{pid}/smaps_rollup", "").splitlines() if line.startswith("Pss:"))
                self.peak_gb = max(self.peak_gb, round(total / 1024 / 1024, 2))


def _read(path: str, missing: str) -> str:
    """A /proc file's text; ``missing`` for a child that has just ended."""
    try:
        return Path(path).read_text()
    except OSError:
        return missing


def _speed() -> float:
    """Seconds for 20 million additions in a Python loop: how fast this machine runs Python now (a virtual
    machine's speed moves from hour to hour; runs far apart compare through it)."""
    started, total = time.perf_counter(), 0
    for n in range(20_000_000):
        total += n
    return time.perf_counter() - started


def _cpu() -> float:
    """CPU seconds (user + system) of this process and of its children that have ended."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def _child(url: str) -> dict:
    # the writes before (the copy of the seed, the full run's checkpoint, the stored delta) reach the disk
    # first: a nightly run starts long after the load before it, not while the kernel still writes it back
    os.sync()
    time.sleep(1)
    output = subprocess.run([sys.executable, "-m", "benchmarks.bench_scale", "--phase", url], check=True,
                            capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chains", type=int, default=1_300_000, help="synthetic chains (≈0.96 invoices each)")
    parser.add_argument("--transactions", type=int, default=1_000_000)
    parser.add_argument("--delta", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", type=Path, default=Path("benchmarks/out/scale"))
    parser.add_argument("--postgres", help="a PostgreSQL server URL; a throwaway database is made and dropped")
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        phase(args.phase)
        return
    print(f"{os.cpu_count()} cores; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
          f"{args.chains:,} chains, {args.transactions:,} transactions, delta {args.delta:,}; "
          f"this machine's speed: {_speed():.2f} s for 20M Python additions", flush=True)
    if args.postgres:
        from benchmarks.databases import temporary_postgres

        with temporary_postgres(args.postgres) as engine:
            url = engine.url.render_as_string(hide_password=False)
            seeded = seed(engine, args.chains, args.transactions, args.delta, args.seed)
            _report(seeded, url, lambda: _store_delta(engine, seeded["delta"]))
        return
    args.work.mkdir(parents=True, exist_ok=True)
    # the page size in the name: a seed made before 16 KiB pages is not measured as if it had them
    pristine = args.work / f"seed-{args.chains}-{args.transactions}-{args.delta}-{args.seed}-p{PAGE_SIZE}.db"
    delta_file = pristine.with_suffix(".delta.json")
    if not pristine.exists():
        engine = make_engine(f"sqlite:///{pristine}.tmp")
        seeded = seed(engine, args.chains, args.transactions, args.delta, args.seed)
        engine.dispose()
        Path(f"{pristine}.tmp").rename(pristine)
        delta_file.write_text(json.dumps(seeded), encoding="utf-8")
    else:
        seeded = json.loads(delta_file.read_text(encoding="utf-8"))
        seeded["seconds"] = {"(seeded earlier)": 0}
    working = args.work / "run.db"
    shutil.copyfile(pristine, working)
    engine = make_engine(f"sqlite:///{working}")
    migrate.upgrade(engine)   # a database seeded by an earlier version gets the schema of this one
    _report(seeded, f"sqlite:///{working}", lambda: _store_delta(engine, seeded["delta"]))


def _store_delta(engine: Engine, rows: list[list[str]]) -> None:
    with engine.begin() as connection:
        _bank(connection, rows)


def _report(seeded: dict, url: str, store_delta) -> None:
    print(f"seeded: {seeded['invoices']:,} invoices ({seeded['open_items']:,} open items), "
          f"{seeded['transactions']:,} transactions; " + ", ".join(f"{k} {v}s" for k, v in seeded["seconds"].items()),
          flush=True)
    results = {"full": _child(url)}
    store_delta()
    results["delta"] = _child(url)
    print(f"{'phase':6} {'txns':>9} {'open items':>10} {'auto':>9} {'suggested':>9} {'settled':>9} "
          f"{'wall s':>7} {'cpu s':>7} {'peak GB':>8}  goal")
    for name, r in results.items():
        seconds, memory = GOALS[name]
        goal = f"≤ {seconds:.0f} s" + (f", ≤ {memory} GB" if memory else "")
        print(f"{name:6} {r['transactions']:>9,} {r['open_items']:>10,} {r['links'].get('auto', 0):>9,} "
              f"{r['links'].get('suggested', 0):>9,} {r['settled']:>9,} {r['wall']:>7.1f} {r['cpu']:>7.1f} "
              f"{r['rss_gb']:>8.2f}  {goal}")
        print(f"       wall per step: {r['steps']}; {r['workers']} process(es) for the sides, each side's "
              f"steps: {r['side_steps']}")
        print(f"       peak RSS (GB; with the sides: parent's at the fork + each side's peak, an upper bound): "
              f"{r.get('peak_steps', {})}; resident sets summed, sampled every 0.1 s (an upper bound): "
              f"{r.get('rss_sum_gb', 0):.2f}")
        print(f"       exceptions {r['exceptions']:,}; open items closed {r['closed']:,}; "
              f"new names {r['new_names']:,}")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())} (date {date.today()})")


if __name__ == "__main__":
    main()
