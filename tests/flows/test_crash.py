"""SIGKILL at every checkpoint of the nightly run, rerun, and the database holds exactly what a
run without faults leaves: no duplicate, nothing lost (SQLite; PostgreSQL when
YECAI_TEST_POSTGRES_URL is set).

The crashing process runs ``flows.pipeline.run``, the plain sequence of the steps the Prefect
flow calls as tasks (flows/nightly.py): the checkpoints are inside those steps, so they are the
same code. The process is forked from the test (imports already loaded, so each crash costs
only the work) and kills itself with SIGKILL when it reaches ``YECAI_CRASH_AT``: no rollback
handler, ``finally`` or atexit hook runs, and the run lock it held is left behind.
"""

from __future__ import annotations

import os
import signal
import traceback
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from flows import pipeline
from ledger.faults import CRASH_VARIABLE
from ledger.posting.book import post, review
from ledger.posting.fx import Rate, save_rates
from ledger.posting.tables import VoucherRow
from ledger.storage.engine import make_engine, normalise_url
from ledger.storage.tables import IngestBatch
from tests.conftest import EXAMPLE_CONFIG, postgres_url
from tests.connectors.rest.server import TOKEN, Api, dataset
from tests.dbdump import dump

CRASH_POINTS = ["fetched", "fetched:2", "staged", "staged:2", "cursor_advanced", "cursor_advanced:2", "committed",
                "committed:2", "matched", "links_saved", "exceptions_raised", "vouchers_drafted", "notified",
                "vouchers_numbered", "posted"]


def company_file(tmp: Path, api_url: str) -> Path:
    base = EXAMPLE_CONFIG.parent
    text_ = EXAMPLE_CONFIG.read_text(encoding="utf-8").replace('path = "dropfolder"', f'path = "{base / "dropfolder"}"')
    text_ = text_.replace('chart_of_accounts = "chart_of_accounts.toml"',
                          f'chart_of_accounts = "{base / "chart_of_accounts.toml"}"')
    text_ += (f'\n[connectors.erp_api]\ntype = "rest"\nbase_url = "{api_url}"\nendpoint = "page"\nkind = "bank_txn"\n'
              f'auth = "bearer"\ntoken_env = "YECAI_TEST_ERP_TOKEN"\npagination = "page"\npage_size = 5\n')
    path = tmp / "company.toml"
    path.write_text(text_, encoding="utf-8")
    return path


def scenario(config: str, db: str) -> None:
    """The nightly run, then people review (审核) and post (记账) the drafts. The sample company
    has a USD account, so a USD/CNY rate is on file first (a foreign voucher needs one to post)."""
    pipeline.prepare(config, db)
    engine = make_engine(db)
    save_rates(engine, "example", [Rate(currency="USD", rate_date=date(2026, 1, 1), rate=Decimal("7.1000"),
                                        source="PBOC central parity")], by="li.kuaiji")
    pipeline.run(config, db)
    table = VoucherRow.__table__
    with engine.connect() as connection:
        drafts = connection.execute(select(table.c.id).where(table.c.state == "draft")).scalars().all()
    if drafts:
        review(engine, "example", drafts, by="li.kuaiji")
    with engine.connect() as connection:
        reviewed = connection.execute(select(table.c.id).where(table.c.state == "reviewed")).scalars().all()
    post(engine, "example", reviewed, by="wang.zhuguan")
    engine.dispose()


def in_child(work: Callable[[], None], env: dict[str, str]) -> int:
    """Run ``work`` in a forked process (the ERP token set, no notification URLs); its wait status."""
    pid = os.fork()
    if pid == 0:  # the child never returns into pytest
        code = 1
        try:
            for variable in (CRASH_VARIABLE, "YECAI_NOTIFY_FINANCE", "YECAI_NOTIFY_IT"):
                os.environ.pop(variable, None)
            os.environ.update({"YECAI_TEST_ERP_TOKEN": TOKEN, **env})
            work()
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)
    return os.waitpid(pid, 0)[1]


@pytest.fixture(scope="module")
def api() -> Iterator[Api]:
    with Api(dataset(), faults=False) as server:
        yield server


class Databases:
    """Fresh databases of one kind: SQLite files, or PostgreSQL schemas (cheaper to make and
    drop than databases) in the server's database, dropped at the end."""

    def __init__(self, kind: str, tmp: Path) -> None:
        self.kind, self.tmp, self.made = kind, tmp, []
        self.admin = create_engine(normalise_url(postgres_url()), isolation_level="AUTOCOMMIT") \
            if kind == "postgres" else None

    def new(self) -> str:
        name = f"yecai_crash_{uuid.uuid4().hex[:10]}"
        if self.admin is None:
            return f"sqlite:///{self.tmp / (name + '.db')}"
        with self.admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{name}"'))
        self.made.append(name)
        url = self.admin.url.update_query_dict({"options": f"-csearch_path={name}"})
        return url.render_as_string(hide_password=False)

    def close(self) -> None:
        if self.admin is not None:
            with self.admin.connect() as connection:
                for name in self.made:
                    connection.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
            self.admin.dispose()


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def databases(request, tmp_path_factory) -> Iterator[Databases]:
    if request.param == "postgres" and not postgres_url():
        pytest.skip("PostgreSQL tests need YECAI_TEST_POSTGRES_URL")
    made = Databases(request.param, tmp_path_factory.mktemp(f"crash-{request.param}"))
    yield made
    made.close()


def content(db: str) -> dict:
    engine = make_engine(db)
    try:
        found = dump(engine)
        with engine.connect() as connection:
            states = set(connection.execute(select(IngestBatch.__table__.c.status)).scalars())
    finally:
        engine.dispose()
    assert states <= {"committed"}  # a killed source run leaves no half-written batch
    return found


@pytest.fixture(scope="module")
def reference(databases: Databases, api: Api, tmp_path_factory) -> tuple[str, dict]:
    config = str(company_file(tmp_path_factory.mktemp("company"), api.url))
    db = databases.new()
    assert in_child(lambda: scenario(config, db), {}) == 0
    found = content(db)
    assert sum(found["bank_txn"].values()) == 70 + 23 and sum(found["document"].values()) == 362
    assert found["run_lock"] == {} and all(row[0] == ("state", "posted") for row in [
        [(name, value) for name, value in key if name == "state"] for key in found["voucher"]])
    return config, found


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_a_kill_at_each_checkpoint_then_a_rerun_leaves_what_a_clean_run_leaves(point, databases, reference) -> None:
    config, expected = reference
    db = databases.new()
    status = in_child(lambda: scenario(config, db), {CRASH_VARIABLE: point})
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, f"{point} was never reached"
    assert in_child(lambda: scenario(config, db), {}) == 0  # takes over the dead run's lock
    found = content(db)
    for table in expected:
        assert found[table] == expected[table], f"{table} differs after a crash at {point}"
