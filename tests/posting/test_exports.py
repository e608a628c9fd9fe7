"""Exports from the book: the spec's vouchers.csv, JSON with amounts as strings, and the Kingdee
and Yonyou Excel import layouts; and the dry run of a template change."""

from __future__ import annotations

import csv
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from ledger.money import Money
from ledger.posting.book import post, review, save_drafts
from ledger.posting.exports import (
    KINGDEE_COLUMNS,
    YONYOU_COLUMNS,
    ExportError,
    kingdee_rows,
    write_export,
)
from ledger.posting.fx import Conversion
from ledger.posting.preview import compare
from ledger.posting.stored import load_vouchers
from ledger.posting.templates import DEFAULT_TEMPLATES, PostingTemplates, load_templates
from ledger.posting.vouchers import CSV_COLUMNS, PostingEvent
from ledger.posting.vouchers import post as build
from ledger.settings import load_chart, load_company
from ledger.storage.store import sync_company
from tests.conftest import EXAMPLE_CONFIG

CONFIG = load_company(EXAMPLE_CONFIG)
CHART = load_chart(CONFIG)
TEMPLATES = load_templates(CHART)
COMPANY = CONFIG.company.id
USD = Conversion(base_currency="CNY", rate=Decimal("7.1234"), rate_date=date(2026, 11, 2), source="中国人民银行")


def invoice(number: str, gross: str, net: str, tax: str, currency: str = "CNY", conversion=None,
            templates: PostingTemplates = TEMPLATES):
    return build(PostingEvent(kind="sales_invoice", key=f"sales_invoice:{number}", date=date(2026, 11, 3),
                              doc_type="sales_invoice", doc_no=number, currency=currency, counterparty="海尔智家",
                              amounts={"gross": Money.parse(gross, currency), "net": Money.parse(net, currency),
                                       "tax": Money.parse(tax, currency)},
                              dimensions={"customer": "海尔智家", "department": "销售一部", "project": "P1"}),
                 templates, CHART, conversion)


@pytest.fixture
def posted(migrated):
    sync_company(migrated, CONFIG, CHART)
    ids = save_drafts(migrated, COMPANY, [invoice("1", "1130.00", "1000.00", "130.00"),
                                          invoice("2", "100.00", "100.00", "0", "USD", USD)])
    review(migrated, COMPANY, ids, by="li.reviewer")
    post(migrated, COMPANY, ids, by="wang.poster")
    return load_vouchers(migrated, COMPANY, state="posted")


def test_csv_follows_the_spec_and_json_keeps_amounts_as_exact_strings(posted, tmp_path: Path) -> None:
    write_export("csv", tmp_path / "v.csv", posted)
    rows = list(csv.reader((tmp_path / "v.csv").open(encoding="utf-8")))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert rows[1][:8] == ["转-2026-11-0001", "2026-11-03", "转", "1", "1122", "应收账款", "1130.00", ""]
    write_export("json", tmp_path / "v.json", posted)
    data = json.loads((tmp_path / "v.json").read_text(encoding="utf-8"), parse_float=Decimal)
    usd = data["vouchers"][1]
    assert usd["fx"] == {"rate": "7.1234", "source": "中国人民银行", "rate_date": "2026-11-02"}
    assert (usd["lines"][0]["debit"], usd["lines"][0]["base_debit"]) == ("100.00", "712.34")
    assert all(isinstance(ln["debit"], str) for v in data["vouchers"] for ln in v["lines"])


def test_kingdee_and_yonyou_workbooks_carry_base_amounts_and_the_original_currency(posted, tmp_path: Path) -> None:
    write_export("kingdee", tmp_path / "k.xlsx", posted, account_book="001", org="100")
    sheet = list(load_workbook(tmp_path / "k.xlsx").active.iter_rows(values_only=True))
    keys, captions, first, *rest = sheet
    assert keys == tuple(k for k, _ in KINGDEE_COLUMNS) and captions[0] == "*单据头(序号)"
    row = dict(zip(keys, first))
    assert (row["FAccountBookID"], row["FVOUCHERGROUPNO"], row["FACCOUNTID"], row["FDEBIT"], row["FDetailID#FFlex6"]) \
        == ("001", 1, "1122", 1130, "海尔智家")
    usd = [dict(zip(keys, r)) for r in rest if r[keys.index("FCURRENCYID#Name")] == "USD"]
    assert [(r["FAMOUNTFOR"], r["FDEBIT"], r["FCREDIT"], r["FEXCHANGERATE"]) for r in usd] == [
        (100, 712.34, None, 7.1234), (100, None, 712.34, 7.1234)]
    assert usd[0]["FBillHead(GL_VOUCHER)"] == 2 and usd[1]["FBillHead(GL_VOUCHER)"] is None   # header once
    write_export("yonyou", tmp_path / "u.xlsx", posted)
    header, *lines = list(load_workbook(tmp_path / "u.xlsx").active.iter_rows(values_only=True))
    assert header == YONYOU_COLUMNS
    by_column = [dict(zip(header, line)) for line in lines]
    assert [(r["业务号"], r["科目编码"], r["金额借方"], r["金额贷方"], r["外币"]) for r in by_column][-2:] == [
        ("转-2026-11-0002", "1122", 712.34, 0, 100), ("转-2026-11-0002", "6001", 0, 712.34, 100)]


def test_excel_refuses_an_amount_it_cannot_hold_exactly(posted) -> None:
    big = invoice("9", "12345678901234567.89", "12345678901234567.89", "0")
    stored = posted[0].__class__(**{**{f: getattr(posted[0], f) for f in posted[0].__dataclass_fields__},
                                    "voucher": big})
    with pytest.raises(ExportError, match="more than 15 significant digits"):
        kingdee_rows([stored])


def test_the_dry_run_shows_added_removed_and_changed_lines(posted, tmp_path: Path) -> None:
    changed = tmp_path / "t.toml"
    text = DEFAULT_TEMPLATES.read_text(encoding="utf-8")
    changed.write_text(text.replace('{ account = "6001", side = "credit", amount = "net", '
                                    'dimensions = ["project", "department", "product_line"] }',
                                    '{ account = "6001", side = "credit", amount = "net", '
                                    'dimensions = ["project"] }'), encoding="utf-8")
    templates = load_templates(CHART, changed)
    proposed = [invoice("1", "1130.00", "1000.00", "130.00", templates=templates),
                invoice("3", "1.13", "1.00", "0.13", templates=templates)]
    result = compare(posted, proposed, templates.version)
    assert result.counts == {"added": 1, "changed": 1, "removed": 1} and result.unchanged == 0
    by_key = {c.event_key: c for c in result.changes}
    [(old, new)] = by_key["sales_invoice:1"].changed
    assert (old.account_code, dict(old.dimensions), dict(new.dimensions)) == (
        "6001", {"project": "P1", "department": "销售一部"}, {"project": "P1"})
    assert by_key["sales_invoice:1"].voucher_no == "转-2026-11-0001"
    assert by_key["sales_invoice:2"].status == "removed" and len(by_key["sales_invoice:3"].added) == 3
    same = compare(posted[:1], [invoice("1", "1130.00", "1000.00", "130.00")])
    assert same.changes == () and same.unchanged == 1
