"""Notifications through apprise to a real loopback target, and connector faults: 30 % of the
ERP's calls time out, fail with 5xx or 429 or send half a body, and every record still arrives
exactly once; a refused token is not retried and IT hears about it."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from flows import pipeline
from flows.notify import send
from ledger.storage.engine import make_engine
from ledger.storage.tables import BankTxnRow
from tests.connectors.rest.server import TOKEN, dataset
from tests.flows.test_crash import company_file
from tests.loopback import FaultyApi, Inbox, rest_source


@pytest.fixture
def inbox(monkeypatch):
    with Inbox() as target:
        monkeypatch.setenv("YECAI_NOTIFY_FINANCE", target.url("finance"))
        monkeypatch.setenv("YECAI_NOTIFY_IT", target.url("it"))
        yield target


def test_send_without_urls_sends_nothing(monkeypatch) -> None:
    monkeypatch.delenv("YECAI_NOTIFY_IT", raising=False)
    assert send("YECAI_NOTIFY_IT", "t", "b") is False


def test_send_reaches_every_url_and_redacts(monkeypatch, inbox: Inbox) -> None:
    monkeypatch.setenv("YECAI_NOTIFY_IT", f"{inbox.url('it')}, {inbox.url('oncall')}")
    assert send("YECAI_NOTIFY_IT", "title", "the token is s3cr3t-value", ["s3cr3t-value"])
    assert [body["message"] for _, body in inbox.received] == ["the token is ***"] * 2


def test_faults_on_30_percent_of_calls_are_survived_and_a_refused_token_alerts_it(tmp_path: Path, monkeypatch,
                                                                                 inbox: Inbox) -> None:
    records = dataset(200)
    monkeypatch.setenv("YECAI_TEST_ERP_TOKEN", TOKEN)
    monkeypatch.setenv("YECAI_TEST_OLD_TOKEN", "revoked-token")
    with FaultyApi(records, fault_rate=0.3) as api, FaultyApi(records, fault_rate=0.0) as locked:
        config = company_file(tmp_path, "http://unused.invalid")
        text = config.read_text(encoding="utf-8").split("[connectors.erp_api]")[0]
        config.write_text(text + rest_source("erp_api", api.url, "YECAI_TEST_ERP_TOKEN")
                          + rest_source("old_erp", locked.url, "YECAI_TEST_OLD_TOKEN"), encoding="utf-8")
        db = f"sqlite:///{tmp_path / 'f.db'}"
        summary = pipeline.run(str(config), db)
        assert len(api.faults) >= 0.2 * api.calls and set(api.faults) == set(FaultyApi.FAULTS)
        assert locked.calls == 1  # 401: not retried
    erp = next(s for s in summary["sources"] if s["source"] == "erp_api")
    assert erp["read"] == 200 and erp["inserted"] == 200
    engine = make_engine(db)
    with engine.connect() as connection:
        stored = connection.execute(select(func.count()).select_from(BankTxnRow.__table__).where(
            BankTxnRow.__table__.c.account_no == "3105")).scalar_one()
    assert stored == 200
    assert list(summary["failed_sources"]) == ["old_erp"] and "HTTP 401" in summary["failed_sources"]["old_erp"]
    [alert] = inbox.to("it")
    assert "old_erp" in alert["title"] or "old_erp" in alert["message"]
    assert "credentials were refused" in alert["message"] and "revoked-token" not in alert["message"]
    [report] = inbox.to("finance")
    assert "Auto-match rate" in report["message"] and "New high-severity exceptions" in report["message"]
    assert "QUANTITY_MISMATCH (high)" in report["message"]
    assert summary["notified"] == {"finance": True, "it": True}
