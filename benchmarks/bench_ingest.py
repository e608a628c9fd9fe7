"""Ingest benchmark: N canonical bank rows through the drop-folder reader into SQLite and
PostgreSQL, then the same rows again (all already present). Prints rows/second and peak memory.

    .venv/bin/python -m benchmarks.bench_ingest --rows 1000000 [--postgres URL]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import tempfile
import time
from pathlib import Path

from benchmarks.databases import temporary_postgres
from connectors.contract import Record
from connectors.dropfolder.connector import DropFolderConnector
from ledger.settings import load_chart, load_company
from ledger.storage import migrate
from ledger.storage.engine import make_engine
from ledger.storage.store import store, sync_company

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


def run(engine, folder: Path, label: str) -> None:
    """Each pass streams the file through the connector into one store transaction."""
    config = load_company(ROOT / "config" / "example" / "company.toml")
    migrate.upgrade(engine)
    sync_company(engine, config, load_chart(config))
    for attempt in ("first ingest", "re-ingest (all present)"):
        started = time.perf_counter()
        documents = (item.document for item in DropFolderConnector.from_options({"path": str(folder)}).fetch()
                     if isinstance(item, Record))
        result = store(engine, config.company.id, "bench", documents)
        seconds = time.perf_counter() - started
        n = sum(result.inserted.values()) + sum(result.unchanged.values())
        print(f"{label:10} {attempt:24} rows {n:>9,}  {n / seconds:>9,.0f} rows/s  ({seconds:6.1f} s)  "
              f"inserted {sum(result.inserted.values()):>9,}  peak RSS {peak_mb():,.0f} MB", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--postgres", default=os.environ.get("YECAI_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "drop"
        write_rows(folder, args.rows)
        print(f"{os.cpu_count()} cores; {args.rows:,} canonical bank rows")
        run(make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}"), folder, "sqlite")
        if args.postgres:
            with temporary_postgres(args.postgres) as engine:
                run(engine, folder, "postgresql")
        else:
            print("postgresql skipped: pass --postgres URL or set YECAI_TEST_POSTGRES_URL")


if __name__ == "__main__":
    main()
