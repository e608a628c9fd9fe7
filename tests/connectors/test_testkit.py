"""The contract suite itself must fail on connectors that break the contract."""

from __future__ import annotations

import socket
from datetime import date
from pathlib import Path

import pytest

from connectors.contract import Connector, ConnectorConfig, Record
from connectors.testkit import block_network, connector_tests, write_golden
from ledger.documents import BankTransaction, DocumentKind
from ledger.money import Money


def txn(i: int) -> BankTransaction:
    return BankTransaction(account_no="1", txn_id=f"T{i}", booking_date=date(2026, 11, i + 1),
                           value_date=date(2026, 11, i + 1), amount=Money.parse("1.00", "CNY"))


class GoodConnector(Connector):
    name = "good"
    kinds = frozenset({DocumentKind.BANK_TXN})

    class Config(ConnectorConfig):
        count: int = 3

    def fetch(self, since=None):
        start = int(since) + 1 if since else 0
        for i in range(start, self.config.count):
            yield Record(document=txn(i), source_id=f"T{i}", cursor=str(i), file="f")


class WrongKind(GoodConnector):
    kinds = frozenset({DocumentKind.SALES_ORDER})


class RepeatsAfterCursor(GoodConnector):
    def fetch(self, since=None):
        for i in range(self.config.count):
            yield Record(document=txn(i) if not since else txn(i + 5), source_id=f"T{i}", cursor=str(i), file="f")


class DuplicateIds(GoodConnector):
    def fetch(self, since=None):
        for i in range(self.config.count):
            yield Record(document=txn(i), source_id="same", cursor=str(i), file="f")


class Networked(GoodConnector):
    def fetch(self, since=None):
        socket.create_connection(("127.0.0.1", 9))
        yield from ()


class RawSocket(GoodConnector):
    def fetch(self, since=None):
        socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        yield from ()


class LocalIpc(GoodConnector):
    def fetch(self, since=None):
        left, right = socket.socketpair()  # Unix-domain: local, allowed
        left.close()
        right.close()
        yield from super().fetch(since)


def run(cls: type[Connector], test: str, golden: Path, monkeypatch) -> None:
    """One check of the suite, called directly, with sockets blocked as the suite's fixture does."""
    suite = connector_tests(cls, {"count": 3}, golden=golden)()
    block_network(monkeypatch)
    getattr(suite, test)()


def test_a_good_connector_passes_every_check(tmp_path, monkeypatch) -> None:
    golden = tmp_path / "g.jsonl"
    write_golden(golden, list(GoodConnector.from_options({"count": 3}).fetch()))
    for test in [t for t in dir(connector_tests(GoodConnector, {}, golden=golden)) if t.startswith("test_")]:
        run(GoodConnector, test, golden, monkeypatch)


@pytest.mark.parametrize(("cls", "test"), [
    (WrongKind, "test_yields_records_and_skipped_only_of_declared_kinds"),
    (RepeatsAfterCursor, "test_fetch_since_the_last_cursor_yields_nothing_new"),
    (DuplicateIds, "test_source_ids_are_unique_within_a_file"),
])
def test_contract_breaches_fail(cls, test, tmp_path, monkeypatch) -> None:
    with pytest.raises(AssertionError):
        run(cls, test, tmp_path / "g.jsonl", monkeypatch)


def test_golden_mismatch_fails_and_sockets_are_blocked(tmp_path, monkeypatch) -> None:
    golden = tmp_path / "g.jsonl"
    write_golden(golden, list(GoodConnector.from_options({"count": 2}).fetch()))
    with pytest.raises(AssertionError):
        run(GoodConnector, "test_output_equals_the_golden_file", golden, monkeypatch)
    for cls in (Networked, RawSocket):
        with pytest.raises(RuntimeError, match="offline"):
            run(cls, "test_two_runs_give_identical_output", golden, monkeypatch)
    run(LocalIpc, "test_two_runs_give_identical_output", golden, monkeypatch)
