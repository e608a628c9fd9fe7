"""OFD e-invoices from the external corpus (ofdrw's samples), and the template model."""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from pathlib import Path

import pytest
from defusedxml import ElementTree

from connectors.contract import Record, Skipped
from connectors.einvoice.connector import EInvoiceConnector
from connectors.einvoice.fields import extract
from connectors.einvoice.ofd import fields_from_embedded, read_ofd
from connectors.einvoice.sandbox import Limits
from connectors.einvoice.templates import InvoiceTemplate, TemplateError, load_templates

CORPUS = os.environ.get("YECAI_EXTERNAL_CORPUS")
needs_corpus = pytest.mark.skipif(
    not CORPUS, reason="set YECAI_EXTERNAL_CORPUS to the shared fixtures folder (invoices/ ofdrw "
                       "OFD samples) to run the OFD e-invoice tests")
RESOURCES = Path(CORPUS or ".") / "invoices" / "ofdrw-converter" / "src" / "test" / "resources"
WITH_XML = RESOURCES / "发票示例.ofd"
TEXT_ONLY = Path(CORPUS or ".") / "invoices" / "ofdrw-reader" / "src" / "test" / "resources" / "发票示例.ofd"


@needs_corpus
def test_embedded_invoice_xml_matches_the_extracted_copy() -> None:
    raw = read_ofd(str(WITH_XML), Limits())
    assert raw.embedded is not None
    fields, problems = fields_from_embedded(raw.embedded, "发票示例.ofd")
    assert problems == [] and fields is not None
    root = ElementTree.parse(str(RESOURCES / "发票示例.ofd.original_invoice.xml")).getroot()
    ns = {"fp": "http://www.edrm.org.cn/schema/e-invoice/2019"}

    def xml(path: str) -> str:
        return root.findtext(path, namespaces=ns) or ""

    assert (fields.code, fields.number) == (xml("fp:InvoiceCode"), xml("fp:InvoiceNo"))
    assert fields.check_code == xml("fp:InvoiceCheckCode")
    assert fields.date == dt.date(2020, 10, 10)
    assert fields.buyer.name == xml("fp:Buyer/fp:BuyerName") == "科游迈利有限公司"
    assert fields.buyer.tax_id == xml("fp:Buyer/fp:BuyerTaxID")
    assert fields.seller.name == xml("fp:Seller/fp:SellerName")
    assert fields.seller.tax_id == xml("fp:Seller/fp:SellerTaxID")
    assert fields.net_total == Decimal(xml("fp:TaxExclusiveTotalAmount")) == Decimal("300.00")
    assert fields.tax_total == Decimal(xml("fp:TaxTotalAmount"))
    assert fields.gross_total == Decimal(xml("fp:TaxInclusiveTotalAmount"))
    goods = root.findall("fp:GoodsInfos/fp:GoodsInfo", ns)
    assert len(fields.lines) == len(goods) == 3
    for line, good in zip(fields.lines, goods, strict=True):
        assert line.item == good.findtext("fp:Item", namespaces=ns)
        assert line.net_amount == Decimal(good.findtext("fp:Amount", namespaces=ns) or "")
        assert line.tax_amount == Decimal(good.findtext("fp:TaxAmount", namespaces=ns) or "")
        assert (line.quantity, line.unit_price, line.tax_rate) == (4, 25, Decimal("0.06"))
        assert line.quantity == Decimal(good.findtext("fp:Quantity", namespaces=ns) or "")
        assert line.unit_price == Decimal(good.findtext("fp:Price", namespaces=ns) or "")
        assert line.spec == (good.findtext("fp:Specification", namespaces=ns) or "")
        assert line.unit == good.findtext("fp:MeasurementDimension", namespaces=ns) == "次"
        assert line.rate_text == good.findtext("fp:TaxScheme", namespaces=ns) == "6%"
    assert fields.remarks == xml("fp:Note")
    assert xml("fp:IssueDate") == "2020年10月10日"


@needs_corpus
def test_text_layer_of_the_same_file_agrees_with_its_xml() -> None:
    raw = read_ofd(str(WITH_XML), Limits())
    from_text, problems = extract(raw.text, load_templates(), "发票示例.ofd")
    from_xml, _ = fields_from_embedded(raw.embedded or {}, "发票示例.ofd")
    assert problems == [] and from_text is not None and from_xml is not None
    assert from_text.layout == "增值税电子发票"
    assert from_text.gross_upper == "叁佰壹拾捌圆整"
    for name in ("code", "number", "check_code", "date", "buyer", "seller", "net_total",
                 "tax_total", "gross_total"):
        assert getattr(from_text, name) == getattr(from_xml, name), name
    assert [line.net_amount for line in from_text.lines] == [x.net_amount for x in from_xml.lines]


@needs_corpus
def test_sample_tax_ids_fail_their_check_digit() -> None:
    """ofdrw's sample carries made-up tax ids; both are reported, the file is not ingested."""
    connector = EInvoiceConnector.from_options(
        {"path": str(WITH_XML), "company_tax_id": "91500106MA2CE71F65"})
    items = list(connector.fetch())
    assert [item.problem.field for item in items if isinstance(item, Skipped)] == [
        "buyer_tax_id", "seller_tax_id"]


@needs_corpus
def test_shudian_ofd_without_xml_is_read_from_its_text_layer() -> None:
    connector = EInvoiceConnector.from_options(
        {"path": str(TEXT_ONLY), "company_tax_id": "91460300MAA92DJN95"})
    (record,) = list(connector.fetch())
    assert isinstance(record, Record)
    invoice = record.document
    assert record.source_id == "purchase_invoice:24112000000048542163"
    assert invoice.counterparty == "北京互联三六五科技有限公司"  # type: ignore[union-attr]
    assert invoice.date == dt.date(2024, 5, 28)  # type: ignore[union-attr]
    assert invoice.gross_total.amount == Decimal("4449.00")  # type: ignore[union-attr]
    assert invoice.lines[0].tax_amount == Decimal("251.83")  # type: ignore[union-attr]


def test_templates_reject_unknown_keys_and_bad_regexes(tmp_path: Path) -> None:
    good = load_templates()[0].model_dump()
    with pytest.raises(ValueError, match="extra"):
        InvoiceTemplate.model_validate({**good, "colour": "red"})
    with pytest.raises(ValueError, match="not a regular expression"):
        InvoiceTemplate.model_validate({**good, "party_name": "名称(("})
    with pytest.raises(ValueError, match="named groups"):
        InvoiceTemplate.model_validate({**good, "line": r"(?P<item>\S+)"})
    with pytest.raises(ValueError, match="missing"):
        InvoiceTemplate.model_validate({**good, "fields": {"number": "(?P<value>x)"}})
    (tmp_path / "bad.toml").write_text('name = "x"\n', encoding="utf-8")
    with pytest.raises(TemplateError, match=r"bad\.toml"):
        load_templates(tmp_path)
