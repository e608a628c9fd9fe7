"""The connector contract suite: one line in a test runs it against a connector and samples.

    # tests/connectors/test_mybank.py
    TestMyBank = connector_tests(MyBankConnector, {"path": str(HERE / "sample.csv")},
                                 golden=HERE / "sample.golden.jsonl")

It checks that the config rejects unknown keys; only declared kinds come out; source ids are
unique within a file; money is Decimal at the currency's minor unit; dates are dates; two
runs give identical output; ``fetch(since=<last cursor>)`` yields nothing new; and the
output equals the golden file (``YECAI_REGENERATE_GOLDEN=1`` rewrites it). Sockets are
blocked for the whole suite: a connector's tests never reach a network (Unix-domain
sockets, local IPC, stay open).
"""

from __future__ import annotations

import json
import os
import socket
from collections import Counter
from dataclasses import fields, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from connectors.contract import Connector, Record, Skipped
from ledger.counterparties import Counterparty
from ledger.money import Money
from ledger.records import to_plain

REGENERATE = "YECAI_REGENERATE_GOLDEN"


def golden_lines(items: list[Record | Skipped]) -> list[str]:
    """One JSON line per yielded item, in order; the golden file's format."""
    lines = []
    for item in items:
        if isinstance(item, Record):
            entry: dict[str, Any] = {"source_id": item.source_id, "file": item.file, "cursor": item.cursor,
                                     "type": type(item.document).__name__, "document": to_plain(item.document)}
        else:
            entry = {"skipped": str(item.problem)}
        lines.append(json.dumps(entry, ensure_ascii=False, sort_keys=True))
    return lines


def write_golden(path: Path, items: list[Record | Skipped]) -> None:
    path.write_text("\n".join(golden_lines(items)) + "\n", encoding="utf-8")


def _walk(value: Any, where: str):
    """Yield (path, value) for every leaf of a record, to check types anywhere in it."""
    if isinstance(value, tuple):
        for index, item in enumerate(value):
            yield from _walk(item, f"{where}[{index}]")
    elif is_dataclass(value) and not isinstance(value, Money):
        for f in fields(value):
            yield from _walk(getattr(value, f.name), f"{where}.{f.name}")
    else:
        yield where, value


class _BlockedSocket(socket.socket):
    """Network sockets refused; Unix-domain sockets (local IPC, e.g. a multiprocessing fork
    server running a parsing sandbox) allowed."""

    def __init__(self, family: int = -1, type: int = -1, proto: int = -1, fileno: int | None = None) -> None:
        if fileno is None and family in (-1, socket.AF_INET, socket.AF_INET6):
            raise RuntimeError("the connector contract suite runs offline: a connector opened a socket")
        super().__init__(family, type, proto, fileno)


def _blocked_connection(*args, **kwargs):
    raise RuntimeError("the connector contract suite runs offline: a connector opened a socket")


def block_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the suite does before each check: no network socket can be opened."""
    monkeypatch.setattr(socket, "socket", _BlockedSocket)
    monkeypatch.setattr(socket, "create_connection", _blocked_connection)


def connector_tests(connector: type[Connector], options: dict[str, Any], *, golden: Path,
                    base_path: Path | None = None) -> type:
    """A pytest test class running the contract suite; assign it to a ``Test*`` name."""

    class ContractSuite:
        @pytest.fixture(autouse=True)
        def _offline(self, monkeypatch: pytest.MonkeyPatch) -> None:
            block_network(monkeypatch)

        def fetch(self, since: str | None = None) -> list[Record | Skipped]:
            return list(connector.from_options(dict(options), base_path=base_path).fetch(since))

        def records(self) -> list[Record]:
            return [item for item in self.fetch() if isinstance(item, Record)]

        def test_config_rejects_unknown_keys(self) -> None:
            with pytest.raises(ValidationError, match="yecai_no_such_key"):
                connector.from_options({**options, "yecai_no_such_key": 1}, base_path=base_path)

        def test_yields_records_and_skipped_only_of_declared_kinds(self) -> None:
            items = self.fetch()
            assert items, "the sample yields nothing: the suite would prove nothing"
            for item in items:
                assert isinstance(item, Record | Skipped), type(item)
                if isinstance(item, Record):
                    if isinstance(item.document, Counterparty):
                        assert connector.master_data, "counterparties from a connector without master_data"
                    else:
                        assert item.document.kind in connector.kinds, item.document.kind

        def test_source_ids_are_unique_within_a_file(self) -> None:
            repeated = [key for key, n in Counter((r.file, r.source_id) for r in self.records()).items() if n > 1]
            assert repeated == []

        def test_money_is_decimal_at_minor_units_and_dates_are_dates(self) -> None:
            for record in self.records():
                for where, value in _walk(record.document, type(record.document).__name__):
                    assert not isinstance(value, float), f"{where} is a float"
                    if isinstance(value, Money):
                        assert isinstance(value.amount, Decimal) and value.is_exact(), f"{where}: {value}"
                    if where.endswith(("date", "due_date")):
                        assert isinstance(value, date) and not isinstance(value, datetime), f"{where}: {value!r}"

        def test_two_runs_give_identical_output(self) -> None:
            assert golden_lines(self.fetch()) == golden_lines(self.fetch())

        def test_fetch_since_the_last_cursor_yields_nothing_new(self) -> None:
            first = self.records()
            cursors = [r.cursor for r in first if r.cursor is not None]
            assert cursors, "records carry no cursor"
            seen = set(golden_lines(first))
            again = [item for item in self.fetch(since=cursors[-1]) if isinstance(item, Record)]
            assert [line for line in golden_lines(again) if line not in seen] == []

        def test_output_equals_the_golden_file(self) -> None:
            lines = golden_lines(self.fetch())
            if os.environ.get(REGENERATE) == "1":
                write_golden(golden, self.fetch())
                pytest.skip(f"{REGENERATE}=1: rewrote {golden}")
            assert golden.is_file(), f"no golden file {golden}: run the test once with {REGENERATE}=1"
            assert lines == golden.read_text(encoding="utf-8").splitlines()

    ContractSuite.__name__ = ContractSuite.__qualname__ = f"ContractSuite_{connector.__name__}"
    return ContractSuite
