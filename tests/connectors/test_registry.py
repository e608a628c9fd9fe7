"""The connector registry: built-in names, ``module:Class`` paths, and entry points of group
``yecai.connectors``, so that a connector ships as its own pip package. The package here is
a real one on sys.path (its module and a ``.dist-info`` with ``entry_points.txt``), found by
importlib.metadata as an installed distribution would be."""

from __future__ import annotations

import sys
from pathlib import Path
from textwrap import dedent

import pytest
from typer.testing import CliRunner

from connectors.contract import Connector
from connectors.errors import FatalError
from connectors.registry import BUILTIN, ENTRY_POINT_GROUP, available, resolve
from flows.cli import app
from flows.ingest import run_source
from ledger.settings import load_chart, load_company
from ledger.storage import migrate
from ledger.storage.engine import make_engine
from ledger.storage.read import counts_by_kind
from ledger.storage.store import sync_company
from tests.conftest import ROOT

CONNECTOR = dedent('''
    from collections.abc import Iterator
    from datetime import date

    from connectors.contract import Connector, ConnectorConfig, Record
    from ledger.documents import BankTransaction, DocumentKind
    from ledger.money import Money


    class AcmeConnector(Connector):
        name = "acme"
        kinds = frozenset({DocumentKind.BANK_TXN})

        class Config(ConnectorConfig):
            account_no: str

        def fetch(self, since: str | None = None) -> Iterator[Record]:
            for i in range(3):
                if since is None or int(since) < i:
                    txn = BankTransaction(account_no=self.config.account_no, txn_id=f"A{i}",
                                          booking_date=date(2026, 11, 1 + i), value_date=date(2026, 11, 1 + i),
                                          amount=Money.parse(f"{i + 1}.50", "CNY"))
                    yield Record(document=txn, source_id=f"bank:{txn.number}", cursor=str(i))


    class NotAConnector:
        pass
''')


@pytest.fixture
def acme_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    site = tmp_path / "site-packages"
    (site / "yecai_acme").mkdir(parents=True)
    (site / "yecai_acme" / "__init__.py").write_text(CONNECTOR, encoding="utf-8")
    info = site / "yecai_acme-1.0.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: yecai-acme\nVersion: 1.0.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\nacme = yecai_acme:AcmeConnector\nbroken = yecai_acme:NotAConnector\n"
        "missing = yecai_acme_gone:Connector\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(site))
    yield site
    sys.modules.pop("yecai_acme", None)


def test_builtins_resolve_by_name() -> None:
    for name in BUILTIN:
        cls = resolve(name)
        assert issubclass(cls, Connector)


def test_an_installed_package_is_found_by_its_entry_point(acme_package: Path) -> None:
    assert available()["acme"] == "yecai_acme:AcmeConnector"
    cls = resolve("acme")
    assert cls.__module__ == "yecai_acme" and cls.__name__ == "AcmeConnector"
    assert [r.document.txn_id for r in cls.from_options({"account_no": "9"}).fetch(since="0")] == ["A1", "A2"]


def test_an_import_path_resolves_and_bad_names_are_clear_errors(acme_package: Path) -> None:
    assert resolve("yecai_acme:AcmeConnector").__name__ == "AcmeConnector"
    with pytest.raises(FatalError, match="not a Connector subclass"):
        resolve("broken")
    with pytest.raises(FatalError, match=r"entry point 'yecai_acme_gone:Connector' .* does not load"):
        resolve("missing")
    with pytest.raises(FatalError, match="expected a built-in name"):
        resolve("no_such_connector")
    with pytest.raises(FatalError, match="cannot import yecai_nothing"):
        resolve("yecai_nothing:Connector")
    with pytest.raises(FatalError, match="has no Missing"):
        resolve("yecai_acme:Missing")


def test_a_packaged_connector_runs_in_ingest_and_is_listed(acme_package: Path, tmp_path: Path) -> None:
    chart = (ROOT / "config" / "example" / "chart_of_accounts.toml").as_posix()
    config_path = tmp_path / "company.toml"
    config_path.write_text(f'[company]\nid = "acme"\nname = "Acme"\nchart_of_accounts = "{chart}"\n'
                           f'[connectors.bank]\ntype = "acme"\naccount_no = "6222"\n', encoding="utf-8")
    config = load_company(config_path)
    engine = make_engine(f"sqlite:///{tmp_path / 'y.db'}")
    migrate.upgrade(engine)
    sync_company(engine, config, load_chart(config))
    first, second = run_source(engine, config, "bank"), run_source(engine, config, "bank")
    assert (first.read, first.result.inserted["bank_txn"]) == (3, 3)
    assert second.read == 0  # the cursor of the first run
    assert counts_by_kind(engine, "acme")["bank_txn"] == 3
    engine.dispose()
    listed = CliRunner().invoke(app, ["connectors", "list", "--config", str(config_path)])
    assert listed.exit_code == 0 and "acme" in listed.output and "yecai_acme:AcmeConnector" in listed.output
