"""PDF e-invoices drawn like real 数电票 and legacy invoices, read back field by field."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from connectors.contract import Record, Skipped
from connectors.einvoice.connector import EInvoiceConnector
from connectors.registry import resolve
from ledger.documents import PurchaseInvoice, SalesInvoice
from tests.connectors.einvoice.pdfs import BUYER_ID, SELLER_ID, Sheet, legacy, shudian

SHUDIAN = Sheet(
    title="电子发票（增值税专用发票）", number="26442000000123456789",
    lines=[("*信息技术服务*技术服务费", "", "次", "1", "4197.16981132075", "4197.17", "6%", "251.83"),
           ("*计算机配套产品*键盘", "K-100", "个", "2", "100", "200.00", "13%", "26.00"),
           ("*图书*技术手册", "", "本", "3", "30", "90.00", "免税", "＊＊＊")],
    net="4487.17", tax="277.83", gross="4765.00", upper="肆仟柒佰陆拾伍圆整", remarks="合同 HT-2026-88")
LEGACY = Sheet(
    title="增值税电子普通发票", code="050001700111", number="99999951",
    check_code="14754 82292 98567 72523",
    lines=[("*餐饮服务*餐费", "", "次", "4", "25", "100.00", "6%", "6.00"),
           ("*农产品*大米", "5kg", "袋", "2", "50", "100.00", "免税", "***")],
    net="200.00", tax="6.00", gross="206.00", upper="贰佰零陆圆整", remarks="订单 SO-1001")


def read(path: Path, company: str = SELLER_ID, **options: object) -> list[Record | Skipped]:
    connector = EInvoiceConnector.from_options(
        {"path": str(path), "company_tax_id": company, **options})
    return list(connector.fetch())


def only_invoice(items: list[Record | Skipped]) -> SalesInvoice | PurchaseInvoice:
    assert [type(item) for item in items] == [Record], items
    return items[0].document  # type: ignore[union-attr, return-value]


def test_shudian_pdf_as_sales_invoice(tmp_path: Path) -> None:
    items = read(shudian(tmp_path / "a.pdf", SHUDIAN))
    invoice = only_invoice(items)
    assert isinstance(invoice, SalesInvoice)
    assert items[0].source_id == "sales_invoice:26442000000123456789"
    assert items[0].file == "a.pdf"
    assert invoice.number == "26442000000123456789"
    assert invoice.date == dt.date(2026, 11, 1)
    assert invoice.due_date == dt.date(2026, 12, 1)
    assert invoice.counterparty == "北京互联三六五科技有限公司"
    assert invoice.counterparty_tax_id == BUYER_ID
    assert [line.sku for line in invoice.lines] == [
        "*信息技术服务*技术服务费", "*计算机配套产品*键盘", "*图书*技术手册"]
    assert [line.quantity for line in invoice.lines] == [Decimal(1), Decimal(2), Decimal(3)]
    assert invoice.lines[0].unit_price == Decimal("4197.16981132075")
    assert [line.net_amount for line in invoice.lines] == [
        Decimal("4197.17"), Decimal("200.00"), Decimal("90.00")]
    assert [line.tax_rate for line in invoice.lines] == [
        Decimal("0.06"), Decimal("0.13"), Decimal(0)]
    assert [line.tax_amount for line in invoice.lines] == [
        Decimal("251.83"), Decimal("26.00"), Decimal(0)]
    assert invoice.gross_total.amount == Decimal("4765.00")


def test_legacy_pdf_as_purchase_invoice_with_payment_terms(tmp_path: Path) -> None:
    items = read(legacy(tmp_path / "b.pdf", LEGACY), company=BUYER_ID, payment_terms_days=45)
    invoice = only_invoice(items)
    assert isinstance(invoice, PurchaseInvoice)
    assert items[0].source_id == "purchase_invoice:050001700111-99999951"
    assert invoice.counterparty == "海南麒麟云服科技有限公司"
    assert invoice.counterparty_tax_id == SELLER_ID
    assert invoice.due_date == dt.date(2026, 12, 16)
    first, exempt = invoice.lines
    assert (first.sku, first.quantity, first.unit_price, first.net_amount, first.tax_rate,
            first.tax_amount) == ("*餐饮服务*餐费", Decimal(4), Decimal(25), Decimal("100.00"),
                                  Decimal("0.06"), Decimal("6.00"))
    assert (exempt.sku, exempt.tax_rate, exempt.tax_amount) == ("*农产品*大米", 0, 0)
    assert invoice.net_total.amount == Decimal("200.00")
    assert invoice.tax_total.amount == Decimal("6.00")


def test_legacy_fields_with_spaced_labels(tmp_path: Path) -> None:
    from connectors.einvoice.fields import extract
    from connectors.einvoice.readers import read_pdf
    from connectors.einvoice.sandbox import Limits
    from connectors.einvoice.templates import load_templates

    raw = read_pdf(str(legacy(tmp_path / "c.pdf", LEGACY)), Limits())
    assert "校 验 码" in raw.text and "名 称" in raw.text  # pdfplumber kept the spacing
    fields, problems = extract(raw.text, load_templates(), "c.pdf")
    assert problems == [] and fields is not None
    assert (fields.layout, fields.title, fields.code, fields.number, fields.check_code) == (
        "增值税电子发票", "增值税电子普通发票", "050001700111", "99999951", "14754822929856772523")
    assert (fields.gross_upper, fields.remarks) == ("贰佰零陆圆整", "订单 SO-1001")
    assert fields.lines[1].spec == "5kg" and fields.lines[1].unit == "袋"
    assert fields.lines[1].rate_text == "免税"


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"upper": "贰佰零柒圆整"}, "gross_upper", "(大写) 贰佰零柒圆整 is 207.00"),
    ({"upper": "贰佰零陆"}, "gross_upper", "no 圆"),
    ({"gross": "207.00", "upper": "贰佰零柒圆整"}, "gross_total", "is not net 200.00 + tax 6.00"),
    ({"net": "201.00"}, "net_total", "differs from the lines' sum 200.00"),
    ({"tax": "7.00"}, "tax_total", "differs from the lines' sum 6.00"),
    ({"buyer": ("某公司", "91110108690017781C")}, "buyer_tax_id", "correct check digit"),
])
def test_inconsistent_invoices_are_described(tmp_path: Path, change: dict, field: str,
                                             message: str) -> None:
    sheet = Sheet(**{**LEGACY.__dict__, **change})
    items = read(legacy(tmp_path / "bad.pdf", sheet))
    problems = [item.problem for item in items if isinstance(item, Skipped)]
    assert len(problems) == len(items) and problems
    assert any(p.field == field and message in p.message and p.file == "bad.pdf"
               for p in problems), problems


def test_invoice_of_another_company_is_a_problem(tmp_path: Path) -> None:
    items = read(shudian(tmp_path / "a.pdf", SHUDIAN), company="91500106MA2CE71F6X")
    assert len(items) == 1 and isinstance(items[0], Skipped)
    assert "neither buyer" in items[0].problem.message


def test_unknown_layout_and_folder_goes_on(tmp_path: Path) -> None:
    other = Sheet(**{**SHUDIAN.__dict__, "title": "收据"})
    shudian(tmp_path / "1-receipt.pdf", other)
    shudian(tmp_path / "2-invoice.pdf", SHUDIAN)
    (tmp_path / "3-notes.txt").write_text("hello", encoding="utf-8")
    items = read(tmp_path)
    assert [type(item).__name__ for item in items] == ["Skipped", "Record", "Skipped"]
    assert "no invoice template recognises" in items[0].problem.message  # type: ignore[union-attr]
    assert "UNPARSEABLE_DOCUMENT: 3-notes.txt" in items[2].problem.message  # type: ignore[union-attr]


def test_unchanged_folder_yields_nothing_and_registry_knows_it(tmp_path: Path) -> None:
    shudian(tmp_path / "a.pdf", SHUDIAN)
    connector = EInvoiceConnector.from_options({"path": str(tmp_path), "company_tax_id": SELLER_ID})
    cursor = next(iter(connector.fetch())).cursor  # type: ignore[union-attr]
    assert list(connector.fetch(since=cursor)) == []
    assert resolve("einvoice") is EInvoiceConnector


def _toml(value: object) -> str:
    if isinstance(value, str):
        return f"'''{value}'''"  # a literal string: regexes need no escaping
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    return str(value)


def test_a_template_in_config_reads_a_layout_the_built_in_ones_do_not(tmp_path: Path) -> None:
    """The template mechanism: keywords and regexes in a TOML file, no code."""
    import tomllib

    from connectors.einvoice.templates import DEFAULT_FOLDER

    (tmp_path / "invoices").mkdir()
    shudian(tmp_path / "invoices" / "r.pdf", Sheet(**{**SHUDIAN.__dict__, "title": "电子收据（财政票据）"}))
    (problem,) = read(tmp_path / "invoices")
    assert "no invoice template recognises" in problem.problem.message  # type: ignore[union-attr]
    template = tomllib.loads((DEFAULT_FOLDER / "shudianpiao.toml").read_text(encoding="utf-8"))
    template.update(name="财政电子收据", keywords=["电子收据(", "发票号码"])
    fields = {**template.pop("fields"), "title": r"(?P<value>电子收据\(财政票据\))"}
    text = "\n".join(f"{key} = {_toml(value)}" for key, value in template.items())
    text += "\n[fields]\n" + "\n".join(f"{key} = {_toml(value)}" for key, value in fields.items())
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "receipt.toml").write_text(text, encoding="utf-8")
    invoice = only_invoice(read(tmp_path / "invoices", templates=str(tmp_path / "templates")))
    assert invoice.number == SHUDIAN.number and invoice.gross_total.amount == Decimal("4765.00")
