"""Review UI latency with a big queue: seeds N open exceptions (default 100,000) with their bank
transactions, invoices and suggested links, then requests the queue page (several filters, deep
keyset pages) and item pages through the ASGI app, logged in, and prints p50/p95/max per page
kind with the CPU time per request. Goal: p95 ≤ 300 ms on 2 cores.

    .venv/bin/python -m benchmarks.bench_review [--items 100000] [--requests 200] [--postgres URL]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from benchmarks.databases import temporary_postgres
from ledger.exceptions import DEFAULT_SEVERITY, ExceptionCode
from ledger.storage import migrate
from ledger.storage.bulk import insert_rows
from ledger.storage.engine import make_engine
from ledger.storage.store import sync_company
from ledger.storage.tables import BankTxnRow, DocumentRow, ExceptionDocumentRow, ExceptionItemRow, MatchLinkRow
from matching.model import evidence_json

ROOT = Path(__file__).resolve().parent.parent
PARTIES = [f"{city}{brand}{kind}有限公司" for city in ("上海", "北京", "深圳", "杭州", "成都")
           for brand in ("云杉", "海川", "星河", "青松", "远航", "金石", "明德", "瑞丰")
           for kind in ("贸易", "科技", "电子", "物流", "食品")]
CODES = [ExceptionCode.UNMATCHED_BANK_TXN, ExceptionCode.LOW_CONFIDENCE_MATCH, ExceptionCode.SHORT_PAYMENT,
         ExceptionCode.OVERPAYMENT, ExceptionCode.UNKNOWN_COUNTERPARTY, ExceptionCode.INVOICE_OVERDUE]


def seed(engine: Engine, company: str, count: int, rng: random.Random) -> None:
    now, account = datetime.now(UTC), "31050161373600001234"
    invoices = count // 2
    with engine.begin() as connection:
        insert_rows(connection, DocumentRow.__table__, [
            {"company_id": company, "kind": "sales_invoice", "doc_no": f"INV{i:07d}",
             "doc_date": date(2026, 1, 1) + timedelta(i % 330), "due_date": date(2026, 12, 31),
             "counterparty": PARTIES[i % len(PARTIES)], "counterparty_tax_id": None, "currency": "CNY",
             "order_ref": "", "shipment_ref": "", "net_minor": 100_000 + i, "tax_minor": 13_000, "project": "",
             "department": "", "source": "bench", "content_hash": str(i), "batch_id": None}
            for i in range(invoices)])
        insert_rows(connection, BankTxnRow.__table__, [
            {"company_id": company, "account_no": account, "txn_id": f"T{i:07d}",
             "booking_date": date(2026, 1, 1) + timedelta(i % 330), "value_date": date(2026, 1, 1) + timedelta(i % 330),
             "amount_minor": 113_000 + i, "currency": "CNY", "counterparty": PARTIES[i % len(PARTIES)][:6],
             "counterparty_account": "", "remittance": f"货款 INV{i % invoices:07d}", "source": "bench",
             "content_hash": str(i), "batch_id": None} for i in range(count)])
        ids = insert_rows(connection, ExceptionItemRow.__table__, [
            {"company_id": company, "fingerprint": f"fp{i:09d}", "code": (code := CODES[i % len(CODES)]).value,
             "severity": DEFAULT_SEVERITY[code].value, "status": "open", "message": f"bench item {i}",
             "source": "bench", "detail": "", "first_seen_at": now - timedelta(hours=rng.randrange(24 * 40)),
             "last_seen_at": now, "times_seen": 1, "batch_id": None, "version": 1, "assignee": None,
             "snoozed_until": None, "resolution": "", "resolved_by": None, "resolved_at": None,
             "amount_minor": 113_000 + i, "currency": "CNY", "counterparty": PARTIES[i % len(PARTIES)]}
            for i in range(count)], return_ids=True)
        insert_rows(connection, ExceptionDocumentRow.__table__, [
            row for n, item_id in enumerate(ids) for row in (
                {"exception_id": item_id, "doc_type": "bank_txn", "doc_no": f"{account}:T{n:07d}",
                 "amount_minor": 113_000 + n, "currency": "CNY"},
                {"exception_id": item_id, "doc_type": "sales_invoice", "doc_no": f"INV{n % invoices:07d}",
                 "amount_minor": None, "currency": None})])
        evidence = evidence_json([("amount", "exact", 1.0, ""), ("counterparty", "fuzzy", 0.8, "")])
        insert_rows(connection, MatchLinkRow.__table__, [
            {"company_id": company, "from_type": "sales_invoice", "from_no": f"INV{n % invoices:07d}",
             "to_type": "bank_txn", "to_no": f"{account}:T{n:07d}", "decision": "suggested", "score": 0.8,
             "amount_minor": 113_000 + n, "currency": "CNY", "rule": "party_amount", "rule_version": "bench",
             "decided_by": "yecai", "evidence": evidence, "decided_at": now} for n in range(count)])


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def measure(engine: Engine, label: str, count: int, requests: int) -> None:
    from fastapi.testclient import TestClient

    from flows.cli_review import books_for
    from ledger.settings import load_chart, load_company
    from review.auth import add_user
    from review.web.app import create_app

    config_path = ROOT / "config" / "example" / "company.toml"
    config = load_company(config_path)
    migrate.upgrade(engine)
    sync_company(engine, config, load_chart(config))
    rng = random.Random(7)
    started = time.perf_counter()
    seed(engine, config.company.id, count, rng)
    with engine.begin() as connection:   # fresh statistics, as autovacuum (or SQLite's optimize) would keep them
        connection.exec_driver_sql("ANALYZE")
    print(f"{label}: seeded {count:,} open exceptions in {time.perf_counter() - started:.1f} s")
    add_user(engine, "bench", "bench-password-1", ["reviewer"])
    http = TestClient(create_app(engine, books_for(config_path)), follow_redirects=False)
    token = http.get("/login").text.split('name="csrf_token" value="')[1].split('"')[0]
    assert http.post("/login", data={"username": "bench", "password": "bench-password-1",
                                     "csrf_token": token}).status_code == 303
    queue_urls = ["/queue", "/queue?code=SHORT_PAYMENT", "/queue?severity=high&min_age_hours=48",
                  f"/queue?counterparty={PARTIES[3]}", "/queue?min_amount=1500", "/queue?assignee=-",
                  f"/queue?after={count // 2}", f"/queue?code=UNMATCHED_BANK_TXN&after={count - 500}"]
    kinds = {"queue": lambda i: queue_urls[i % len(queue_urls)], "item": lambda _i: f"/items/{rng.randint(1, count)}"}
    for kind, url_of in kinds.items():
        for i in range(5):                     # warm the caches and the template compiler
            http.get(url_of(i))
        wall, cpu = [], []
        for i in range(requests):
            url = url_of(i)
            c0, w0 = time.process_time(), time.perf_counter()
            response = http.get(url)
            wall.append((time.perf_counter() - w0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        print(f"{label} {kind:5s} page: p50 {statistics.median(wall):6.1f} ms  p95 {percentile(wall, 0.95):6.1f} ms  "
              f"max {max(wall):6.1f} ms  | CPU p50 {statistics.median(cpu):6.1f} ms  p95 {percentile(cpu, 0.95):6.1f}"
              f" ms  ({requests} requests)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--postgres", default=os.environ.get("YECAI_BENCH_POSTGRES_URL"),
                        help="also measure on a throwaway database on this PostgreSQL server")
    args = parser.parse_args()
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} "
          f"(1/5/15 min) on {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
        measure(engine, "SQLite", args.items, args.requests)
        engine.dispose()
    if args.postgres:
        with temporary_postgres(args.postgres) as engine:
            measure(engine, "PostgreSQL", args.items, args.requests)


if __name__ == "__main__":
    main()
