"""Voucher throughput: draft N sales-invoice vouchers (3 lines each), review and post them, on
SQLite and PostgreSQL. Prints voucher lines per second for each step, by wall clock and by
CPU time (this process, plus the PostgreSQL server's backends when /proc shows them), so a
figure taken on a shared machine can still be compared.

    .venv/bin/python -m benchmarks.bench_vouchers --vouchers 50000 [--postgres URL]

The goal (issue 6): posting at ≥ 150,000 voucher lines per second on 2 cores, on both.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import Engine, func, select, text

from benchmarks.databases import temporary_postgres
from ledger.money import Money
from ledger.posting.book import post, review, save_drafts, verify_chain
from ledger.posting.tables import VoucherRow
from ledger.posting.templates import load_templates
from ledger.posting.vouchers import PostingEvent
from ledger.posting.vouchers import post as build
from ledger.settings import load_chart, load_company
from ledger.storage import migrate
from ledger.storage.engine import make_engine
from ledger.storage.store import sync_company

ROOT = Path(__file__).resolve().parent.parent


def _server_cpu(engine: Engine) -> float | None:
    """CPU seconds of this database's PostgreSQL backends so far (None where /proc hides them)."""
    if engine.dialect.name != "postgresql":
        return 0.0
    with engine.connect() as connection:
        pids = connection.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")).scalars()
        total = 0
        try:
            for pid in pids:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])
        except OSError:
            return None
    return total / os.sysconf("SC_CLK_TCK")


class Step:
    def __init__(self, engine: Engine, lines: int) -> None:
        self.engine, self.lines, self.figures = engine, lines, []

    def __call__(self, name: str, action):
        server, cpu, wall = _server_cpu(self.engine), time.process_time(), time.perf_counter()
        result = action()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        after = _server_cpu(self.engine)
        server_cpu = None if server is None or after is None else after - server
        self.figures.append((name, wall, cpu, server_cpu))
        return result

    def report(self, label: str, count: int) -> None:
        print(f"{label}: {count:,} vouchers, {self.lines:,} lines")
        for name, wall, cpu, server in self.figures:
            total = cpu + (server or 0.0)
            server_text = "server CPU n/a" if server is None else f"server CPU {server:6.2f} s"
            print(f"  {name:7} {self.lines / wall:>9,.0f} lines/s wall ({wall:6.2f} s)   "
                  f"{self.lines / total:>9,.0f} lines/s of CPU (client {cpu:6.2f} s, {server_text})", flush=True)


def run(engine: Engine, count: int, label: str) -> None:
    config = load_company(ROOT / "config" / "example" / "company.toml")
    chart = load_chart(config)
    templates = load_templates(chart)
    migrate.upgrade(engine)
    sync_company(engine, config, chart)
    lines = 3 * count
    step = Step(engine, lines)
    vouchers = step("build", lambda: [build(PostingEvent(
        kind="sales_invoice", key=f"si:{i}", date=date(2026, 1, 1) + timedelta(i % 365), doc_type="sales_invoice",
        doc_no=str(i), currency="CNY", counterparty="c", amounts={"gross": Money.from_minor(11300 + i, "CNY"),
                                                                   "net": Money.from_minor(10000 + i, "CNY"),
                                                                   "tax": Money.from_minor(1300, "CNY")}),
        templates, chart) for i in range(count)])
    assert sum(len(v.lines) for v in vouchers) == lines
    ids = step("draft", lambda: save_drafts(engine, config.company.id, vouchers))
    step("review", lambda: review(engine, config.company.id, ids, by="reviewer"))
    step("post", lambda: post(engine, config.company.id, ids, by="poster"))
    step("verify", lambda: verify_chain(engine, config.company.id))
    with engine.connect() as connection:
        posted = connection.execute(select(func.count()).where(VoucherRow.__table__.c.state == "posted")).scalar()
    assert posted == count and verify_chain(engine, config.company.id) is None
    step.report(label, count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vouchers", type=int, default=50_000)
    parser.add_argument("--postgres", default=os.environ.get("YECAI_TEST_POSTGRES_URL"),
                        help="a PostgreSQL server URL (default $YECAI_TEST_POSTGRES_URL); a throwaway database "
                             "is created on it and dropped afterwards")
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as tmp:
        run(make_engine(f"sqlite:///{Path(tmp) / 'v.db'}"), args.vouchers, "sqlite")
    if args.postgres:
        with temporary_postgres(args.postgres) as engine:
            run(engine, args.vouchers, "postgresql")
    else:
        print("postgresql: skipped (give --postgres URL or set YECAI_TEST_POSTGRES_URL)")


if __name__ == "__main__":
    main()
