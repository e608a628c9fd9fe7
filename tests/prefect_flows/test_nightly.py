"""The nightly flow on Prefect: sources ingested as tasks, retries only for retryable
failures, a failing source does not stop the run, summary artifact and notifications."""

from __future__ import annotations

import json
from pathlib import Path

from connectors.contract import Connector, ConnectorConfig, Record
from connectors.errors import RetryableError
from flows.nightly import nightly_sync, notify
from tests.conftest import EXAMPLE_CONFIG

FLAKY_STATE = {"calls": 0}


class FlakyBank(Connector):
    """Fails once with a retryable error, then yields one transaction."""

    name = "flaky"
    kinds = frozenset()

    class Config(ConnectorConfig):
        pass

    def fetch(self, since=None):
        from datetime import date

        from ledger.documents import BankTransaction
        from ledger.money import Money

        FLAKY_STATE["calls"] += 1
        if FLAKY_STATE["calls"] == 1:
            raise RetryableError("HTTP 503 from the bank")
        yield Record(document=BankTransaction(account_no="9", txn_id="F1", booking_date=date(2026, 11, 20),
                                              value_date=date(2026, 11, 20), amount=Money.parse("1.00", "CNY")),
                     source_id="bank:9:F1", cursor="F1")


def company(tmp_path: Path) -> Path:
    text = EXAMPLE_CONFIG.read_text(encoding="utf-8").replace('path = "dropfolder"',
                                                              f'path = "{EXAMPLE_CONFIG.parent / "dropfolder"}"')
    text = text.replace('chart_of_accounts = "chart_of_accounts.toml"',
                        f'chart_of_accounts = "{EXAMPLE_CONFIG.parent / "chart_of_accounts.toml"}"')
    text += ('\n[connectors.flaky]\ntype = "tests.prefect_flows.test_nightly:FlakyBank"\n'
             '\n[connectors.gone]\ntype = "dropfolder"\npath = "/nonexistent/yecai"\n')
    path = tmp_path / "company.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_nightly_flow_ingests_matches_and_survives_a_failing_source(tmp_path: Path, monkeypatch) -> None:
    FlakyBank.kinds = frozenset()
    sent: list[tuple[str, str]] = []
    monkeypatch.setattr("flows.nightly.notify", lambda variable, title, body: sent.append((variable, title)) or True)
    db = f"sqlite:///{tmp_path / 'n.db'}"
    summary = nightly_sync(str(company(tmp_path)), db)
    assert {s["source"] for s in summary["sources"]} == {"erp_and_bank", "flaky"}
    assert FLAKY_STATE["calls"] == 2  # retried once after the retryable error
    assert list(summary["failed_sources"]) == ["gone"] and "does not exist" in summary["failed_sources"]["gone"]
    assert summary["links"]["auto"] > 300 and summary["vouchers_drafted"] > 0
    assert [v for v, _ in sent] == ["YECAI_NOTIFY_FINANCE", "YECAI_NOTIFY_IT"]
    again = nightly_sync(str(company(tmp_path)), db)
    assert again["vouchers_drafted"] == 0 and sum(s["inserted"] for s in again["sources"]) == 0
    json.dumps(summary)  # the summary is plain data


def test_notify_without_urls_sends_nothing(monkeypatch) -> None:
    monkeypatch.delenv("YECAI_NOTIFY_IT", raising=False)
    assert notify("YECAI_NOTIFY_IT", "t", "b") is False


def test_the_nightly_command_runs_the_flow_once(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from flows.cli import app

    result = CliRunner().invoke(app, ["nightly", "--config", str(EXAMPLE_CONFIG), "--db",
                                      f"sqlite:///{tmp_path / 'c.db'}"])
    assert result.exit_code == 0, result.output
    assert "auto-match rate" in result.output and "erp_and_bank" in result.output
    assert "sales_order in the database" in result.output
