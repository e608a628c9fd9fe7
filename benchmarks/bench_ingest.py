"""Ingest benchmark: N canonical bank rows through the drop-folder connector and the ingest of
the nightly flow (``flows.ingest.run_source``) into SQLite and PostgreSQL, then the same rows
again from a second source reading the same folder (all already present, so nothing is new).
Prints rows/second, CPU seconds of this process and peak memory for each pass.

    .venv/bin/python -m benchmarks.bench_ingest --rows 1000000 [--postgres URL]

Goal (issue 3), on 2 cores: >= 100,000 rows/s into each database, >= 200,000 rows/s for the
re-ingest, peak RSS <= 1.5 GB (of this process). The CPU column is this process; PostgreSQL's
backends are shown as "server" CPU where the server runs on this machine. On a shared machine
compare CPU seconds, and read the load average printed first.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

from benchmarks.databases import temporary_postgres
from flows.ingest import run_source
from ledger.settings import load_chart, load_company
from ledger.storage import migrate
from ledger.storage.engine import make_engine
from ledger.storage.store import sync_company

ROOT = Path(__file__).resolve().parent.parent
HEADER = "account_no,txn_id,booking_date,value_date,amount,currency,counterparty,counterparty_account,remittance\n"


def write_rows(folder: Path, rows: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    names = ["青岛海尔智家股份有限公司", "北京京东世纪贸易有限公司", "Northwind Traders GmbH", "海康威视", "立讯精密"]
    (folder / "bank").mkdir(parents=True)
    with (folder / "bank" / "statement.csv").open("w", encoding="utf-8") as handle:
        handle.write(HEADER)
        for i in range(rows):
            day = f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}"
            amount = rng.randint(-5_000_000, 5_000_000) or 1
            handle.write(f"3105016137360000{i % 4},T{i:09d},{day},{day},{amount / 100:.2f},CNY,"
                         f"{names[i % 5]},6222{i % 99991:015d},货款 {44000000 + i % 9000000}\n")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def company_file(folder: Path, tmp: Path) -> Path:
    """The example company with two drop-folder sources reading the same folder."""
    text = (ROOT / "config" / "example" / "company.toml").read_text(encoding="utf-8")
    text = text[:text.index("[connectors.")]
    text = text.replace('chart_of_accounts = "chart_of_accounts.toml"',
                        f'chart_of_accounts = "{(ROOT / "config" / "example" / "chart_of_accounts.toml").as_posix()}"')
    for name in ("bench", "bench_again"):
        text += f'\n[connectors.{name}]\ntype = "dropfolder"\npath = "{folder.as_posix()}"\n'
    path = tmp / "company.toml"
    path.write_text(text, encoding="utf-8")
    return path


def server_cpu(engine) -> float | None:
    """CPU seconds used so far by this database's PostgreSQL backends, where the server runs on
    this machine and /proc shows them; None otherwise (SQLite works inside this process)."""
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as connection:
        pids = connection.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")).scalars()
        total, ticks = 0.0, os.sysconf("SC_CLK_TCK")
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                return None
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


def run(engine, config_path: Path, label: str) -> None:
    """Each pass streams the file through the connector into one store transaction."""
    config = load_company(config_path)
    migrate.upgrade(engine)
    sync_company(engine, config, load_chart(config))
    for source, attempt in (("bench", "first ingest"), ("bench_again", "re-ingest (all present)")):
        server = server_cpu(engine)
        started, cpu = time.perf_counter(), time.process_time()
        result = run_source(engine, config, source).result
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        server = None if server is None else (server_cpu(engine) or server) - server
        n = sum(result.inserted.values()) + sum(result.unchanged.values())
        both = "" if server is None else f", server {server:5.1f} s CPU"
        print(f"{label:10} {attempt:24} rows {n:>9,}  {n / seconds:>9,.0f} rows/s  ({seconds:5.1f} s wall, "
              f"{cpu:5.1f} s CPU: {n / cpu:>9,.0f} rows/CPU-s{both})  inserted {sum(result.inserted.values()):>9,}  "
              f"peak RSS {peak_mb():,.0f} MB", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--postgres", default=os.environ.get("YECAI_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "drop"
        write_rows(folder, args.rows)
        config_path = company_file(folder, Path(tmp))
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
        print(f"{os.cpu_count()} cores, load average {load}; {args.rows:,} canonical bank rows "
              f"({(folder / 'bank' / 'statement.csv').stat().st_size / 1e6:,.0f} MB)")
        run(make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}"), config_path, "sqlite")
        if args.postgres:
            with temporary_postgres(args.postgres) as engine:
                run(engine, config_path, "postgresql")
        else:
            print("postgresql skipped: pass --postgres URL or set YECAI_TEST_POSTGRES_URL")


if __name__ == "__main__":
    main()
