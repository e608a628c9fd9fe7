"""No secret reaches the logs, the database, Prefect (its logs, parameters, artifacts and its
own database file) or the notifications: the whole flow runs at DEBUG with canary secrets in
every place a secret can be (an ERP token, a revoked token that fails, webhook credentials in
the apprise URLs, the database password on PostgreSQL) and every output is searched."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from flows.nightly import for_company
from ledger.settings import load_company
from ledger.storage.engine import make_engine, normalise_url
from tests.conftest import postgres_url
from tests.connectors.rest.server import TOKEN, dataset
from tests.dbdump import everything_as_text
from tests.loopback import FaultyApi, Inbox, rest_source
from tests.prefect_flows.test_flows import sample_company

CANARIES = {"token": "canary-erp-token-5b1f9e", "revoked": "canary-revoked-token-77c3",
            "hook": "canary-hook-pass-2d8a", "db": "canary-db-pass-61e0"}


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def text(self) -> str:
        formatter = logging.Formatter()
        return "\n".join(formatter.format(record) for record in self.records)


@pytest.fixture
def debug_logs(monkeypatch):
    monkeypatch.setenv("PREFECT_LOGGING_LEVEL", "DEBUG")
    capture = Capture()
    names = ["", "prefect", *[n for n in logging.root.manager.loggerDict if n.startswith(("prefect", "apprise"))]]
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    logging.getLogger().addHandler(capture)
    logging.getLogger("prefect").addHandler(capture)
    yield capture
    logging.getLogger().removeHandler(capture)
    logging.getLogger("prefect").removeHandler(capture)
    for logger, level in zip(loggers, levels):
        logger.setLevel(level)


@pytest.fixture
def database(tmp_path: Path):
    """PostgreSQL with a password in its URL when a server is configured (trust auth ignores it), else SQLite."""
    if not postgres_url():
        yield f"sqlite:///{tmp_path / 's.db'}", False
        return
    admin = create_engine(normalise_url(postgres_url()), isolation_level="AUTOCOMMIT")
    name = f"yecai_secrets_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin.url.set(database=name, password=CANARIES["db"]).render_as_string(hide_password=False)
    try:
        yield url, True
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_canary_secrets_appear_in_no_output(tmp_path: Path, monkeypatch, capfd, debug_logs, database) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId, LogFilter, LogFilterFlowRunId
    from prefect.settings import PREFECT_SERVER_DATABASE_CONNECTION_URL

    db, on_postgres = database
    monkeypatch.setenv("DATABASE_URL", db)
    monkeypatch.setenv("YECAI_TEST_ERP_TOKEN", CANARIES["token"])
    monkeypatch.setenv("YECAI_TEST_OLD_TOKEN", CANARIES["revoked"])
    records = dataset(60)
    with (FaultyApi(records, fault_rate=0.3, token=CANARIES["token"]) as api,
          FaultyApi(records, fault_rate=0.0, token=TOKEN) as revoked, Inbox() as inbox):
        for audience, variable in (("finance", "YECAI_NOTIFY_FINANCE"), ("it", "YECAI_NOTIFY_IT")):
            monkeypatch.setenv(variable, inbox.url(audience).replace("json://", f"json://hook:{CANARIES['hook']}@"))
        config = sample_company(tmp_path, rest_source("erp_api", api.url, "YECAI_TEST_ERP_TOKEN")
                                + rest_source("old_erp", revoked.url, "YECAI_TEST_OLD_TOKEN"))
        state = for_company(load_company(config))(str(config), return_state=True)
        summary = state.result()
        assert api.faults and revoked.calls == 1
    # the secrets were in play: the token fetched every record, the revoked one failed and IT was told
    assert next(s for s in summary["sources"] if s["source"] == "erp_api")["inserted"] == 60
    assert "HTTP 401" in summary["failed_sources"]["old_erp"] and inbox.to("it") and inbox.to("finance")
    assert any(record.levelno == logging.DEBUG for record in debug_logs.records)

    run_id = state.state_details.flow_run_id
    with get_client(sync_client=True) as client:
        flow_run = client.read_flow_run(run_id)
        task_runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id])))
        api_logs = client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run_id])))
        published = client.read_artifacts()
    assert api_logs and published
    prefect_db = Path(PREFECT_SERVER_DATABASE_CONNECTION_URL.value().split("///", 1)[1])
    prefect_files = b"".join(path.read_bytes() for path in prefect_db.parent.glob(prefect_db.name + "*"))
    assert str(config).encode() in prefect_files  # the search sees what Prefect stores (the parameters)
    captured = capfd.readouterr()
    outputs = {
        "captured logs": debug_logs.text(),
        "stdout and stderr": captured.out + captured.err,
        "database": everything_as_text(make_engine(db)),
        "Prefect flow run": repr(flow_run) + repr(task_runs),
        "Prefect logs": "\n".join(log.message for log in api_logs),
        "Prefect artifacts": repr([(a.key, a.data, a.description) for a in published]),
        "Prefect database file": prefect_files.decode("utf-8", "replace"),
        "notifications": repr(inbox.received),
        "summary": repr(summary),
    }
    for where, content in outputs.items():
        for name, canary in CANARIES.items():
            if name == "db" and not on_postgres:
                continue
            assert canary not in content, f"the {name} secret leaked into {where}"
