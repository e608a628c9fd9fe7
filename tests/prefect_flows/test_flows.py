"""The flows on Prefect (one session-wide temporary API, tests/prefect_flows/conftest.py):
retries only for retryable failures, a failing source does not stop the run, artifacts and
notifications, the same result on a Dask cluster of 2 workers, replay and backtest, the
schedule `yecai serve` deploys, and `yecai sync` with its one-run-at-a-time lock."""

from __future__ import annotations

import asyncio
import json
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from connectors.contract import Connector, ConnectorConfig, Record
from connectors.errors import RetryableError
from flows import pipeline
from flows.nightly import dask_runner, for_company
from ledger.settings import load_company
from ledger.storage.engine import make_engine
from ledger.storage.lock import run_lock
from matching.rules import load_rules
from tests.conftest import EXAMPLE_CONFIG
from tests.connectors.rest.server import TOKEN
from tests.dbdump import dump, without_caches
from tests.flows.test_crash import company_file
from tests.flows.test_replay_backtest import rules_file
from tests.loopback import Inbox

FLAKY_STATE = {"calls": 0}


class FlakyBank(Connector):
    """Fails once with a retryable error, then yields one transaction."""

    name = "flaky"
    kinds = frozenset()

    class Config(ConnectorConfig):
        pass

    def fetch(self, since=None):
        from ledger.documents import BankTransaction
        from ledger.money import Money

        FLAKY_STATE["calls"] += 1
        if FLAKY_STATE["calls"] == 1:
            raise RetryableError("HTTP 503 from the bank")
        yield Record(document=BankTransaction(account_no="9", txn_id="F1", booking_date=date(2026, 11, 20),
                                              value_date=date(2026, 11, 20), amount=Money.parse("1.00", "CNY")),
                     source_id="bank:9:F1", cursor="F1")


def sample_company(tmp_path: Path, extra: str = "") -> Path:
    """The sample company without the REST source, quick retries, plus ``extra`` connectors."""
    path = company_file(tmp_path, "http://unused.invalid")
    text = path.read_text(encoding="utf-8").split("[connectors.erp_api]")[0]
    text = text.replace("retry_delay_seconds = 10", "retry_delay_seconds = 0.2")
    path.write_text(text + extra, encoding="utf-8")
    return path


def artifacts(key_prefix: str) -> dict[str, object]:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        found = client.read_artifacts()
    return {a.key: a.data for a in sorted(found, key=lambda a: a.created) if a.key and a.key.startswith(key_prefix)}


def test_sync_flow_retries_survives_a_failing_source_publishes_and_notifies(tmp_path: Path, monkeypatch) -> None:
    FLAKY_STATE["calls"] = 0
    config = sample_company(tmp_path, '\n[connectors.flaky]\ntype = "tests.prefect_flows.test_flows:FlakyBank"\n'
                                      '\n[connectors.gone]\ntype = "dropfolder"\npath = "/nonexistent/yecai"\n')
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'n.db'}")
    flow = for_company(load_company(config))
    with Inbox() as inbox:
        monkeypatch.setenv("YECAI_NOTIFY_FINANCE", inbox.url("finance"))
        monkeypatch.setenv("YECAI_NOTIFY_IT", inbox.url("it"))
        summary = flow(str(config))
        assert FLAKY_STATE["calls"] == 2  # retried once after the retryable error
        again = flow(str(config))
    assert {s["source"] for s in summary["sources"]} == {"erp_and_bank", "flaky"}
    assert list(summary["failed_sources"]) == ["gone"] and "does not exist" in summary["failed_sources"]["gone"]
    assert summary["links"]["auto"] > 300 and summary["vouchers_drafted"] > 0 and summary["new_high_severity"]
    assert again["vouchers_drafted"] == 0 and sum(s["inserted"] for s in again["sources"]) == 0
    assert again["new_exceptions_by_code"] == {} and again["exceptions"] == summary["exceptions"]
    assert len(inbox.to("finance")) == 2 and len(inbox.to("it")) == 2
    assert "gone" in inbox.to("it")[0]["message"] and "QUANTITY_MISMATCH" in inbox.to("finance")[0]["message"]
    published = artifacts("yecai-example-sync-")
    assert set(published) == {f"yecai-example-sync-{k}" for k in ("sources", "exceptions", "timings", "summary")}
    exceptions = {row["code"]: row for row in json.loads(published["yecai-example-sync-exceptions"])}
    assert exceptions["QUANTITY_MISMATCH"]["found"] == summary["exceptions"]["QUANTITY_MISMATCH"]
    assert "Auto-match rate" in published["yecai-example-sync-summary"]
    stages = {row["stage"] for row in json.loads(published["yecai-example-sync-timings"])}
    assert {"ingest erp_and_bank", "load", "match", "persist", "total"} <= stages
    json.dumps(summary)  # the summary is plain data


def test_on_a_dask_cluster_of_two_workers_the_database_ends_as_in_one_process(tmp_path: Path, monkeypatch) -> None:
    config = sample_company(tmp_path)
    single, spread = f"sqlite:///{tmp_path / 'one.db'}", f"sqlite:///{tmp_path / 'dask.db'}"
    pipeline.run(str(config), single)
    monkeypatch.setenv("DATABASE_URL", spread)
    summary = for_company(load_company(config), dask_runner("local:2"))(str(config))
    assert summary["links"]["auto"] > 300
    assert dump(make_engine(spread)) == dump(make_engine(single))


def test_replay_and_backtest_commands_run_their_flows(tmp_path: Path) -> None:
    from flows.cli import app

    config = sample_company(tmp_path)
    db = f"sqlite:///{tmp_path / 'r.db'}"
    pipeline.run(str(config), db)
    before = dump(make_engine(db), skip_volatile=False)
    out = tmp_path / "backtest.json"
    tested = CliRunner().invoke(app, ["backtest", "--rules", str(rules_file(tmp_path, auto_accept="0.97")),
                                      "--out", str(out), "--config", str(config), "--db", db])
    assert tested.exit_code == 0, tested.output
    assert f"rules {load_rules().version} → 2026.12-candidate" in tested.output
    assert "nothing was changed" in tested.output
    assert dump(make_engine(db), skip_volatile=False) == before
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["decisions_changed"]["auto → suggested"] > 0
    assert json.loads(artifacts("yecai-example-backtest")["yecai-example-backtest"])[0]["would_be"] == "suggested"
    content = without_caches(dump(make_engine(db)))
    replayed = CliRunner().invoke(app, ["replay", "--from", "2026-11-01", "--to", "2026-11-30", "--config",
                                        str(config), "--db", db])
    assert replayed.exit_code == 0, replayed.output
    assert "replay of 2026-11-01 to 2026-11-30 of example" in replayed.output
    assert artifacts("yecai-example-replay-")
    assert "erp_and_bank" in replayed.output and "FAILED" not in replayed.output
    assert without_caches(dump(make_engine(db))) == content  # nothing was missing: the replay changed nothing
    bad = CliRunner().invoke(app, ["replay", "--from", "2026-12-01", "--to", "2026-11-30", "--db", db])
    assert bad.exit_code == 2 and "is after" in bad.output


def test_serve_deploys_on_the_company_cron_and_time_zone(tmp_path: Path, monkeypatch) -> None:
    from prefect.client.schemas.schedules import CronSchedule
    from prefect.server.schemas.schedules import CronSchedule as ServerCron

    from flows.serve import answers, deployment, serve

    config = load_company(EXAMPLE_CONFIG)
    deployed = deployment(config, EXAMPLE_CONFIG)
    [schedule] = deployed.schedules
    assert isinstance(schedule.schedule, CronSchedule)
    assert (schedule.schedule.cron, schedule.schedule.timezone) == ("0 2 * * *", "Asia/Shanghai")
    runs = asyncio.run(ServerCron(cron=schedule.schedule.cron, timezone=schedule.schedule.timezone).get_dates(
        3, start=datetime(2026, 12, 1, tzinfo=ZoneInfo("UTC"))))
    assert [r.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%m-%d %H:%M") for r in runs] == [
        "12-02 02:00", "12-03 02:00", "12-04 02:00"]
    assert deployed.name == "example-nightly" and deployed.parameters == {"config_path": str(EXAMPLE_CONFIG)}
    assert deployed.concurrency_limit == 1
    assert not answers("http://127.0.0.1:9/api", timeout=0.5)
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")
    with pytest.raises(RuntimeError, match="does not answer"):
        serve(config, EXAMPLE_CONFIG, say=lambda text: None)


def test_the_sync_command_runs_the_flow_once_and_a_second_start_is_refused(tmp_path: Path, monkeypatch) -> None:
    from flows.cli import app

    monkeypatch.setenv("YECAI_TEST_ERP_TOKEN", TOKEN)
    db = f"sqlite:///{tmp_path / 'c.db'}"
    result = CliRunner().invoke(app, ["sync", "--config", str(EXAMPLE_CONFIG), "--db", db])
    assert result.exit_code == 0, result.output
    assert "auto-match rate" in result.output and "erp_and_bank" in result.output
    assert "sales_order in the database" in result.output
    engine = make_engine(db)
    with run_lock(engine, "example", "sync"):
        refused = CliRunner().invoke(app, ["sync", "--config", str(EXAMPLE_CONFIG), "--db", db])
    assert refused.exit_code == 2
    assert "already being processed by a sync run" in refused.output and "Traceback" not in refused.output


def test_deploy_registers_the_nightly_sync_with_a_process_work_pool(monkeypatch, prefect_api) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate

    from flows.cli import app

    with get_client(sync_client=True) as client:
        client.create_work_pool(WorkPoolCreate(name="yecai-test", type="process"))
    monkeypatch.setenv("PREFECT_API_URL", prefect_api)
    result = CliRunner().invoke(app, ["deploy", "--pool", "yecai-test", "--config", str(EXAMPLE_CONFIG)])
    assert result.exit_code == 0, result.output
    with get_client(sync_client=True) as client:
        deployed = client.read_deployment_by_name("yecai-sync/example-nightly")
    assert deployed.work_pool_name == "yecai-test" and deployed.entrypoint == "flows/nightly.py:nightly_sync"
    [schedule] = deployed.schedules
    assert (schedule.schedule.cron, schedule.schedule.timezone) == ("0 2 * * *", "Asia/Shanghai")
    assert deployed.parameters == {"config_path": str(EXAMPLE_CONFIG)}
