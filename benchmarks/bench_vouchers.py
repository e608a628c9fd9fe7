"""Voucher throughput: draft N sales-invoice vouchers (3 lines each), review and post them, on
SQLite and PostgreSQL. Prints voucher lines per second for drafting and for posting.

    .venv/bin/python -m benchmarks.bench_vouchers --vouchers 50000 [--postgres URL]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select

from benchmarks.databases import temporary_postgres
from ledger.money import Money
from ledger.posting.book import post, review, save_drafts
from ledger.posting.tables import VoucherRow
from ledger.posting.templates import load_templates
from ledger.posting.vouchers import PostingEvent
from ledger.posting.vouchers import post as build
from ledger.settings import load_chart, load_company
from ledger.storage import migrate
from ledger.storage.engine import make_engine
from ledger.storage.store import sync_company

ROOT = Path(__file__).resolve().parent.parent


def run(engine, count: int, label: str) -> None:
    config = load_company(ROOT / "config" / "example" / "company.toml")
    chart = load_chart(config)
    templates = load_templates(chart)
    migrate.upgrade(engine)
    sync_company(engine, config, chart)
    started = time.perf_counter()
    vouchers = [build(PostingEvent(kind="sales_invoice", key=f"si:{i}", date=date(2026, 1, 1) + timedelta(i % 365),
                                   doc_type="sales_invoice", doc_no=str(i), currency="CNY", counterparty="c",
                                   amounts={"gross": Money.from_minor(11300 + i, "CNY"),
                                            "net": Money.from_minor(10000 + i, "CNY"),
                                            "tax": Money.from_minor(1300, "CNY")}), templates, chart)
                for i in range(count)]
    built = time.perf_counter()
    ids = save_drafts(engine, config.company.id, vouchers)
    drafted = time.perf_counter()
    review(engine, config.company.id, ids, by="reviewer")
    reviewed = time.perf_counter()
    post(engine, config.company.id, ids, by="poster")
    posted = time.perf_counter()
    lines = sum(len(v.lines) for v in vouchers)
    with engine.connect() as connection:
        assert connection.execute(select(VoucherRow.__table__.c.id).where(
            VoucherRow.__table__.c.state == "posted")).all().__len__() == count
    print(f"{label:10} {count:,} vouchers, {lines:,} lines: build {lines / (built - started):>9,.0f} lines/s  "
          f"draft {lines / (drafted - built):>9,.0f} lines/s  review {lines / (reviewed - drafted):>9,.0f} lines/s  "
          f"post {lines / (posted - reviewed):>9,.0f} lines/s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vouchers", type=int, default=50_000)
    parser.add_argument("--postgres", default=os.environ.get("YECAI_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        run(make_engine(f"sqlite:///{Path(tmp) / 'v.db'}"), args.vouchers, "sqlite")
    if args.postgres:
        with temporary_postgres(args.postgres) as engine:
            run(engine, args.vouchers, "postgresql")


if __name__ == "__main__":
    main()
