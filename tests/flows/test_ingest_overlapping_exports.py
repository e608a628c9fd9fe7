"""End to end through the drop folder and ``run_source`` (the nightly flow's ingest): bank
exports that overlap, repeat rows and come in any order, one more each run, end with exactly
the set of transactions, each stored once, on the bulk path with small chunks."""

from __future__ import annotations

import csv
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.dropfolder import bank_csv
from flows.ingest import run_source
from ledger.settings import load_chart, load_company
from ledger.storage import migrate
from ledger.storage import store as store_module
from ledger.storage.engine import make_engine
from ledger.storage.read import load_bank_transactions
from ledger.storage.store import sync_company
from tests.conftest import ROOT

ROWS = [["3105", f"T{i:04d}", f"2026-11-{1 + i % 28:02d}", "2026-11-01",
         str(Decimal((-1) ** i * (i + 1) * 1250).scaleb(-2)), "CNY", f"客户{i % 7}", "", f"货款 {44000000 + i}"]
        for i in range(50)]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(exports=st.lists(st.lists(st.sampled_from(range(len(ROWS))), max_size=40), min_size=1, max_size=5),
       data=st.data())
def test_overlapping_repeated_shuffled_exports_end_with_exactly_the_set(tmp_path_factory, monkeypatch,
                                                                          exports, data):
    monkeypatch.setattr(bank_csv, "CHECK_ROWS", 4)
    monkeypatch.setattr(bank_csv, "BATCH_ROWS", 7)
    monkeypatch.setattr(store_module._BankStage, "CHUNK", 5)
    home = tmp_path_factory.mktemp("company")
    (home / "drop" / "bank").mkdir(parents=True)
    chart = (ROOT / "config" / "example" / "chart_of_accounts.toml").as_posix()
    (home / "company.toml").write_text(f'[company]\nid = "e2e"\nname = "E2E"\nchart_of_accounts = "{chart}"\n'
                                       f'[connectors.bank]\ntype = "dropfolder"\npath = "drop"\n', encoding="utf-8")
    config = load_company(home / "company.toml")
    engine = make_engine(f"sqlite:///{home / 'y.db'}")
    migrate.upgrade(engine)
    sync_company(engine, config, load_chart(config))
    stored: set[int] = set()
    for number, export in enumerate(exports):
        shuffled = data.draw(st.permutations(export))
        with (home / "drop" / "bank" / f"export_{number}.csv").open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(bank_csv.COLUMNS)
            writer.writerows(ROWS[i] for i in shuffled)
        run = run_source(engine, config, "bank")
        assert run.problems == [] and run.result.changed == []
        assert run.result.inserted["bank_txn"] == len(set(export) - stored)
        stored |= set(export)
    with engine.connect() as connection:
        got = {(t.txn_id, t.amount.to_minor()) for t in load_bank_transactions(connection, "e2e")}
    engine.dispose()
    assert got == {(ROWS[i][1], int(Decimal(ROWS[i][4]) * 100)) for i in stored}
