"""The yecai command line: the run command on the sample company, idempotence, clear errors."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from flows import pipeline
from flows.cli import app
from ledger.storage import migrate
from tests.conftest import EXAMPLE_CONFIG

runner = CliRunner()


def counts(output: str) -> dict[str, int]:
    stored_table = output.split("records in database", 1)[1]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"│ (\w+)\s+│\s+(\d+) │", stored_table)}


def test_help_lists_only_working_commands() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("ingest", "db", "config"):
        assert command in result.output


def test_ingest_sample_twice_stores_each_record_once(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'y.db'}"
    first = runner.invoke(app, ["ingest", "--config", str(EXAMPLE_CONFIG), "--db", db])
    assert first.exit_code == 0, first.output
    stored = counts(first.output)
    assert stored["sales_order"] == 70 and stored["bank_txn"] > 0 and stored["counterparty"] == 16
    assert "rejected" not in first.output.split("this run")[1].split("\n", 8)[-1]
    second = runner.invoke(app, ["ingest", "--config", str(EXAMPLE_CONFIG), "--db", db])
    assert second.exit_code == 0, second.output
    assert counts(second.output) == stored
    run_row = next(line for line in second.output.splitlines() if "erp_and_bank" in line)
    read, inserted = [int(cell) for cell in re.findall(r"│\s+(\d+)", run_row)][:2]
    assert (read, inserted) == (0, 0)  # the folder's cursor says nothing changed


def test_bad_config_is_one_clear_message(tmp_path: Path) -> None:
    bad = tmp_path / "company.toml"
    bad.write_text('[company]\nid = "x"\nname = "X"\n[tolerances]\namount = "lots"\n', encoding="utf-8")
    result = runner.invoke(app, ["config", "check", str(bad)])
    assert result.exit_code == 2
    assert "key 'tolerances.amount': found 'lots', expected a decimal number" in result.output
    assert "Traceback" not in result.output


def test_bad_database_url_is_a_clear_message() -> None:
    result = runner.invoke(app, ["db", "upgrade", "--db", "mysql://x@y/z"])
    assert result.exit_code == 2
    assert "not supported" in result.output


def test_db_upgrade_and_current(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'y.db'}"
    head = migrate.head_revision()
    result = runner.invoke(app, ["db", "upgrade", "--db", db])
    assert result.exit_code == 0 and f"(empty) → {head}" in result.output
    result = runner.invoke(app, ["db", "current", "--db", db])
    assert f"current {head}, newest {head}" in result.output


def test_sync_ingests_matches_and_a_rerun_adds_nothing(tmp_path: Path) -> None:
    """The steps of `yecai sync` (its Prefect flow is tested in tests/prefect_flows)."""
    from sqlalchemy import func, select

    from ledger.storage.engine import make_engine
    from ledger.storage.tables import ExceptionItemRow, MatchLinkRow

    db = f"sqlite:///{tmp_path / 'y.db'}"
    first = pipeline.run(str(EXAMPLE_CONFIG), db)
    assert first["links"]["auto"] > 300 and first["vouchers_drafted"] > 0

    def stored() -> tuple[int, int, int]:
        engine = make_engine(db)
        with engine.connect() as connection:
            links = connection.execute(select(func.count()).select_from(MatchLinkRow.__table__)).scalar_one()
            items = connection.execute(select(func.count()).select_from(ExceptionItemRow.__table__)).scalar_one()
            seen = connection.execute(select(func.max(ExceptionItemRow.__table__.c.times_seen))).scalar_one()
        engine.dispose()
        return links, items, seen

    links, items, seen = stored()
    assert links > 300 and items > 0 and seen == 1
    again = pipeline.run(str(EXAMPLE_CONFIG), db)
    assert again["new_exceptions_by_code"] == {} and again["exceptions"] == first["exceptions"]
    assert stored() == (links, items, 2)  # updated, not duplicated


def test_vouchers_from_sync_are_reviewed_posted_and_verified(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'y.db'}"
    common = ["--config", str(EXAMPLE_CONFIG), "--db", db]
    assert pipeline.run(str(EXAMPLE_CONFIG), db)["vouchers_drafted"] > 2
    assert runner.invoke(app, ["vouchers", "review", "1", "2", "--by", "li", *common]).exit_code == 0
    refused = runner.invoke(app, ["vouchers", "post", "1", "2", "--by", "yecai", *common])
    assert refused.exit_code == 2 and "segregation of duties" in refused.output
    posted = runner.invoke(app, ["vouchers", "post", "1", "2", "--by", "wang", *common])
    assert posted.exit_code == 0 and "-0001" in posted.output
    assert "hash chain intact" in runner.invoke(app, ["ledger", "verify", *common]).output
    reversed_ = runner.invoke(app, ["vouchers", "reverse", "1", "--by", "li", "--reason", "wrong", *common])
    assert reversed_.exit_code == 0 and "reversal drafted" in reversed_.output
    assert pipeline.run(str(EXAMPLE_CONFIG), db)["vouchers_drafted"] == 0
