"""``yecai ingest`` and ``yecai connectors check`` on broken input: every problem is one clear
line naming file, row and field; a failing source is named and the others are still stored;
never a traceback."""

from __future__ import annotations

import random
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app
from tests.conftest import ROOT

runner = CliRunner()
HEADER = "account_no,txn_id,booking_date,value_date,amount,currency,counterparty,counterparty_account,remittance\n"


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    drop = tmp_path / "drop"
    (drop / "bank").mkdir(parents=True)
    (drop / "bank" / "ok.csv").write_text(
        HEADER + "6222,T1,2026-11-01,2026-11-01,12.50,CNY,a,b,c\n"
        "6222,T2,2026-13-01,2026-11-01,12.50,CNY,a,b,c\n"
        "6222,T3,2026-11-01,2026-11-01,12.505,CNY,a,b,c\n"
        "6222,T4\n"
        f"6222,T5,2026-11-01,2026-11-01,1.00,CNY,a,b,{'x' * 200_000}\n"
        "6222,T6,2026-11-01,2026-11-01,(1.00),CNY,a,b,c\n", encoding="utf-8")
    (drop / "bank" / "undecodable.csv").write_bytes(b"\xff\xfe\x00garbage\x81\x82")
    (drop / "bank" / "random.sta").write_bytes(random.Random(5).randbytes(3000))
    (drop / "bank" / "cut.xml").write_text("<Document><broken", encoding="utf-8")
    (drop / "bank" / "empty.ofx").write_text("OFXHEADER:100\ngarbage\n", encoding="utf-8")
    (drop / "sales_orders.csv").write_text("no,header\n1,2\n", encoding="utf-8")
    (drop / "deliveries.csv").write_bytes(b"")
    (drop / "counterparties.csv").write_text(
        "counterparty_id,role,name,tax_id,bank_account,aliases\n"
        f"C1,customer,{'海' * 200_000},,,\nC2,supplier,立讯精密,,,\n", encoding="utf-8")
    chart = (ROOT / "config" / "example" / "chart_of_accounts.toml").as_posix()
    (tmp_path / "company.toml").write_text(f"""
[company]
id = "broken"
name = "Broken Co"
chart_of_accounts = "{chart}"

[connectors.files]
type = "dropfolder"
path = "drop"

[connectors.sheet]
type = "tabular"
path = "drop/bank"
profile = "no_such_profile"
account_no = "1"

[connectors.erp]
type = "rest"
base_url = "http://127.0.0.1:{closed_port()}"
kind = "bank_txn"
max_retries = 0
timeout_seconds = 2
""", encoding="utf-8")
    return tmp_path


PROBLEMS = [
    "bank/ok.csv, row 3, field 'booking_date': found '2026-13-01', expected a real calendar date YYYY-MM-DD",
    "bank/ok.csv, row 4, field 'amount': found '12.505', expected at most 2 decimals for CNY",
    "bank/ok.csv, row 5: wrong number of cells: 2 cells for 9 columns",
    "bank/ok.csv, row 6: not valid CSV: field larger than field limit (131072)",
    "bank/ok.csv, row 7, field 'amount': found '(1.00)'",
    "bank/undecodable.csv: neither UTF-8 nor GB18030",
    "bank/random.sta: ",
    "bank/cut.xml: camt: not readable XML",
    "bank/empty.ofx: OFX: no OFX markup",
    "sales_orders.csv: missing column(s) order_no",
    "deliveries.csv: empty file",
    "counterparties.csv, row 2: not valid CSV: field larger than field limit (131072)",
]


def no_traceback(result) -> None:
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)


def test_ingest_names_every_bad_record_and_failing_source_and_stores_the_rest(broken: Path) -> None:
    result = runner.invoke(app, ["ingest", "--config", str(broken / "company.toml"),
                                 "--db", f"sqlite:///{broken / 'y.db'}"])
    no_traceback(result)
    assert result.exit_code == 2
    output = " ".join(result.output.split())  # rich wraps long lines
    for problem in PROBLEMS:
        assert f"rejected files: {problem}" in output, problem
    assert "error: source sheet: profile 'no_such_profile': no file" in output
    assert "error: source erp:" in output and "try again later" in output
    assert "│ files │ 2 │ 2 │" in output  # the good row is stored, the failing sources did not stop it


def test_connectors_check_shows_the_problems_and_fails_clearly_on_a_broken_source(broken: Path) -> None:
    config = str(broken / "company.toml")
    files = runner.invoke(app, ["connectors", "check", "files", "--config", config, "--show", "20"])
    no_traceback(files)
    assert files.exit_code == 0
    output = " ".join(files.output.split())
    assert "dry run read 2 records, 12 problems; nothing was written" in output
    for problem in PROBLEMS:
        assert f"problem {problem}" in output, problem
    for name, expected in (("sheet", "profile 'no_such_profile'"), ("erp", "127.0.0.1")):
        result = runner.invoke(app, ["connectors", "check", name, "--config", config])
        no_traceback(result)
        assert result.exit_code == 2 and expected in result.output, result.output
    assert not (broken / "y.db").exists()
