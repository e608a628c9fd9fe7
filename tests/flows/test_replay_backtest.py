"""Replay re-ingests a window that the cursor had passed; backtest reports what another rule
version would decide and changes nothing."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from flows import pipeline
from flows.replay import backtest, replay
from ledger.storage.engine import make_engine
from ledger.storage.tables import BankTxnRow, SourceCursor
from matching.rules import DEFAULT_RULES, load_rules
from tests.connectors.rest.server import TOKEN, dataset
from tests.dbdump import dump, without_caches
from tests.flows.test_crash import company_file
from tests.loopback import FaultyApi, rest_source


def company(tmp_path: Path, url: str) -> Path:
    config = company_file(tmp_path, "http://unused.invalid")
    text = config.read_text(encoding="utf-8").split("[connectors.erp_api]")[0]
    config.write_text(text + rest_source("erp_api", url, "YECAI_TEST_ERP_TOKEN"), encoding="utf-8")
    return config


def stored_txn_ids(db: str) -> list[str]:
    table = BankTxnRow.__table__
    with make_engine(db).connect() as connection:
        return sorted(connection.execute(select(table.c.txn_id).where(table.c.account_no == "3105")).scalars())


def test_replay_fetches_what_the_cursor_passed_over_once_and_leaves_the_cursor(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("YECAI_TEST_ERP_TOKEN", TOKEN)
    records = dataset(40)
    missed = [r for r in records if r["booking_date"] in ("2026-11-05", "2026-11-06")]
    with FaultyApi([r for r in records if r not in missed], fault_rate=0.0) as api:
        config, db = company(tmp_path, api.url), f"sqlite:///{tmp_path / 'r.db'}"
        pipeline.run(str(config), db)
        assert len(stored_txn_ids(db)) == 40 - len(missed) == 36
        api.records = records  # the ERP is fixed; the cursor is already past the missed records
        assert pipeline.run(str(config), db)["sources"][1]["read"] == 0
        with make_engine(db).connect() as connection:
            cursor = connection.execute(select(SourceCursor.__table__.c.cursor)).scalars().all()
        summary = replay(str(config), "2026-11-05", "2026-11-06", db)
    assert stored_txn_ids(db) == sorted(r["txn_id"] for r in records)
    erp = next(s for s in summary["sources"] if s["source"] == "erp_api")
    assert (erp["read"], erp["inserted"], erp["outside_window"]) == (40, 4, 36)
    assert summary["run"] == "replay of 2026-11-05 to 2026-11-06"
    with make_engine(db).connect() as connection:
        assert connection.execute(select(SourceCursor.__table__.c.cursor)).scalars().all() == cursor
    assert summary["new_exceptions_by_code"].get("UNMATCHED_BANK_TXN", 0) >= 4  # the new ones were matched


def rules_file(tmp_path: Path, **changes) -> Path:
    text = DEFAULT_RULES.read_text(encoding="utf-8").replace(f'version = "{load_rules().version}"',
                                                             'version = "2026.12-candidate"')
    for key, value in changes.items():
        text = "\n".join(f"{key} = {value}" if line.startswith(f"{key} =") else line for line in text.splitlines())
    path = tmp_path / "candidate.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_backtest_reports_changed_decisions_and_writes_nothing(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("YECAI_TEST_ERP_TOKEN", TOKEN)
    config = company_file(tmp_path, "http://unused.invalid")
    config.write_text(config.read_text(encoding="utf-8").split("[connectors.erp_api]")[0], encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'b.db'}"
    pipeline.run(str(config), db)
    engine = make_engine(db)
    before = dump(engine, skip_volatile=False)
    stricter = backtest(str(config), str(rules_file(tmp_path, auto_accept="0.97")), db)
    same = backtest(str(config), str(rules_file(tmp_path)), db, start="2026-10-01", end="2026-11-30")
    assert dump(engine, skip_volatile=False) == before  # nothing written, not even a timestamp
    assert stricter["rules"] == {"now": load_rules().version, "candidate": "2026.12-candidate"}
    assert stricter["decisions_changed"].get("auto → suggested", 0) > 0
    assert stricter["auto_match_rate"]["would_be"] < stricter["auto_match_rate"]["now"]
    assert stricter["no_longer_settled"] and not stricter["newly_settled"]
    assert any(c["code"] == "LOW_CONFIDENCE_MATCH" and c["change"] == "would appear"
               for c in stricter["exception_changes"])
    assert same["decisions_changed"] == {} and same["exception_changes"] == [] and same["links_compared"] > 0


def test_replay_of_a_drop_folder_keeps_only_the_window_of_its_bank_batches(tmp_path: Path) -> None:
    config = company_file(tmp_path, "http://unused.invalid")
    config.write_text(config.read_text(encoding="utf-8").split("[connectors.erp_api]")[0], encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'w.db'}"
    first = pipeline.run(str(config), db)["sources"][0]
    before = without_caches(dump(make_engine(db)))
    [source] = replay(str(config), "2026-11-01", "2026-11-30", db)["sources"]
    assert source["read"] == first["read"] and 0 < source["outside_window"] < source["read"]
    assert source["inserted"] == 0 and source["changed"] == 0
    assert without_caches(dump(make_engine(db))) == before
