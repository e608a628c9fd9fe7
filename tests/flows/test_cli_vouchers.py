"""``yecai vouchers preview|export|unmatch`` and ``yecai fx`` on the sample company."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import func, select
from typer.testing import CliRunner

from flows.cli import app
from ledger.posting.tables import FxRateRow, VoucherLineRow, VoucherRow
from ledger.posting.templates import DEFAULT_TEMPLATES
from ledger.storage.engine import make_engine
from ledger.storage.tables import ExceptionItemRow, MatchLinkRow
from tests.conftest import EXAMPLE_CONFIG

runner = CliRunner()


def snapshot(db: str) -> tuple:
    engine = make_engine(db)
    with engine.connect() as connection:
        found = tuple(connection.execute(select(func.count(), func.max(t.c.id))).one()
                      for t in (VoucherRow.__table__, VoucherLineRow.__table__, MatchLinkRow.__table__,
                                ExceptionItemRow.__table__))
        found += (connection.execute(select(func.count()).select_from(FxRateRow.__table__)).scalar(),)
    engine.dispose()
    return found


def test_preview_shows_what_a_template_change_would_do_and_writes_nothing(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'y.db'}"
    common = ["--config", str(EXAMPLE_CONFIG), "--db", db]
    assert runner.invoke(app, ["sync", *common]).exit_code == 0
    changed = tmp_path / "templates.toml"
    changed.write_text(DEFAULT_TEMPLATES.read_text(encoding="utf-8").replace(
        '{ account = "22210102", side = "credit", amount = "tax" }',
        '{ account = "22210102", side = "credit", amount = "tax", dimensions = ["customer"] }'), encoding="utf-8")
    before = snapshot(db)
    result = runner.invoke(app, ["vouchers", "preview", "--templates", str(changed), "--show", "1", *common])
    assert result.exit_code == 0, result.output
    assert "changed" in result.output and "~ 22210102" in result.output and "Nothing was written" in result.output
    assert snapshot(db) == before
    same = runner.invoke(app, ["vouchers", "preview", "--templates", str(DEFAULT_TEMPLATES), *common])
    assert same.exit_code == 0 and "events no changes" in same.output
    broken = tmp_path / "broken.toml"
    broken.write_text(DEFAULT_TEMPLATES.read_text(encoding="utf-8").replace("[events.unmatched_payment]",
                                                                            "[events.unused]"), encoding="utf-8")
    refused = runner.invoke(app, ["vouchers", "preview", "--templates", str(broken), *common])
    assert refused.exit_code == 2 and "[events.unmatched_payment]" in refused.output


def test_rates_exports_and_unmatching_from_the_command_line(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'y.db'}"
    common = ["--config", str(EXAMPLE_CONFIG), "--db", db]
    assert runner.invoke(app, ["sync", *common]).exit_code == 0
    rates = tmp_path / "rates.csv"
    rates.write_text("currency,rate_date,rate,source\nUSD,2026-01-01,7.1000,illustrative\nUSD,2026-13-01,7,x\n",
                     encoding="utf-8")
    imported = runner.invoke(app, ["fx", "import", str(rates), "--by", "li", *common])
    assert imported.exit_code == 1 and "imported 1 rate(s)" in imported.output and "row 3, field rate_date" in \
        imported.output
    added = runner.invoke(app, ["fx", "add", "USD", "2026-11-02", "7.1234", "--source", "中国人民银行", "--by", "li",
                                *common])
    assert added.exit_code == 0, added.output
    resynced = runner.invoke(app, ["sync", *common])
    assert resynced.exit_code == 0 and "0 new voucher draft(s)" not in resynced.output   # USD drafts converted
    for kind in ("csv", "json", "kingdee", "yonyou"):
        out = tmp_path / f"v.{kind}"
        result = runner.invoke(app, ["vouchers", "export", "--format", kind, "--out", str(out), "--state", "all",
                                     *common])
        assert result.exit_code == 0 and out.stat().st_size > 0, result.output
    data = json.loads((tmp_path / "v.json").read_text(encoding="utf-8"), parse_float=Decimal)
    usd = [v for v in data["vouchers"] if v["currency"] == "USD"]
    assert usd and all(v["base_currency"] == "CNY" and v["fx"]["rate"] in ("7.1000", "7.1234") for v in usd)
    # USD invoices booked at 7.1000 and settled after 2026-11-02 at 7.1234: exchange differences in CNY
    fx = [v for v in data["vouchers"] if v["event_kind"].startswith("fx_difference")]
    assert fx, "the sample has USD settlements after the rate changed"
    for voucher in fx:
        assert voucher["currency"] == "CNY" and {ln["account_code"] for ln in voucher["lines"]} in (
            {"1122", "660302"}, {"660302", "2202"})
        assert sum(Decimal(ln["debit"]) for ln in voucher["lines"]) == sum(
            Decimal(ln["credit"]) for ln in voucher["lines"]) > 0
    coded = runner.invoke(app, ["vouchers", "export", "-f", "kingdee", "-o", str(tmp_path / "k.xlsx"), "--state",
                                "all", "--word-codes", "转=PRE004,收=PRE002", *common])
    assert coded.exit_code == 0, coded.output
    words = {row[6] for row in load_workbook(tmp_path / "k.xlsx").active.iter_rows(min_row=3, values_only=True)
             if row[6]}
    assert words <= {"PRE004", "PRE002", "付"} and "PRE004" in words
    wrong = runner.invoke(app, ["vouchers", "export", "-f", "kingdee", "-o", str(tmp_path / "k.xlsx"),
                                "--word-codes", "转PRE004", *common])
    assert wrong.exit_code == 2 and "NAME=CODE" in wrong.output
    bad = runner.invoke(app, ["vouchers", "export", "--format", "xml", "--out", str(tmp_path / "x"), *common])
    assert bad.exit_code == 2 and "expected one of" in bad.output
    nothing = runner.invoke(app, ["vouchers", "unmatch", "no:such", "--by", "li", "--reason", "test", *common])
    assert nothing.exit_code == 0 and "no standing voucher" in nothing.output
    txn = next(v["event_key"] for v in data["vouchers"] if v["event_kind"] == "customer_receipt")
    undone = runner.invoke(app, ["vouchers", "unmatch", txn.removeprefix("bank_txn:"), "--by", "li", "--reason",
                                 "wrong invoice", *common])
    assert undone.exit_code == 0 and "discarded" in undone.output
