"""Seeded, varied e-invoices in both layouts: extraction must give back every field exactly,
and the connector must make each the right sales or purchase invoice."""

from __future__ import annotations

import datetime as dt
import doctest
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

import tests.connectors.einvoice.generator
from connectors.contract import Record
from connectors.einvoice.connector import EInvoiceConnector
from connectors.einvoice.document import invoice_number
from connectors.einvoice.fields import extract
from connectors.einvoice.readers import read_pdf
from connectors.einvoice.sandbox import Limits
from connectors.einvoice.templates import load_templates
from ledger.documents import PurchaseInvoice, SalesInvoice
from tests.connectors.einvoice.generator import random_invoice
from tests.connectors.einvoice.pdfs import legacy, shudian

TEMPLATES = load_templates()
DRAW = {"数电票": shudian, "增值税电子发票": legacy}


def test_generator_examples() -> None:
    result = doctest.testmod(tests.connectors.einvoice.generator)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize("layout", ["shudian", "legacy"])
@pytest.mark.parametrize("seed", range(20))
def test_every_field_round_trips(tmp_path: Path, seed: int, layout: str) -> None:
    sheet, expected = random_invoice(seed, layout)
    path = DRAW[expected.layout](tmp_path / "invoice.pdf", sheet)
    fields, problems = extract(read_pdf(str(path), Limits()).text, TEMPLATES, "invoice.pdf")
    assert problems == []
    assert fields == expected


def test_the_seeds_cover_what_real_invoices_vary_in() -> None:
    invoices = [random_invoice(seed)[1] for seed in range(40)]
    lines = [line for invoice in invoices for line in invoice.lines]
    assert {invoice.layout for invoice in invoices} == {"数电票", "增值税电子发票"}
    assert {line.rate_text for line in lines} >= {"13%", "6%", "免税", "不征税"}
    assert any(line.quantity is None for line in lines) and any(line.spec for line in lines)
    assert any(not invoice.remarks for invoice in invoices)
    assert any(invoice.gross_upper.endswith("分") for invoice in invoices)
    sheets = [random_invoice(seed)[0] for seed in range(40)]
    assert any("＊＊＊" in cells for sheet in sheets for cells in sheet.lines)


def test_sales_or_purchase_from_the_company_tax_id(tmp_path: Path) -> None:
    company = random_invoice(0)[1].seller.tax_id
    expected = {}
    for seed in range(12):
        sheet, fields = random_invoice(seed)
        if seed % 2:  # the company bought
            fields = replace(fields, buyer=replace(fields.buyer, tax_id=company))
            sheet.buyer = (fields.buyer.name, company)
        else:
            fields = replace(fields, seller=replace(fields.seller, tax_id=company))
            sheet.seller = (fields.seller.name, company)
        DRAW[fields.layout](tmp_path / f"{seed:02d}.pdf", sheet)
        expected[f"{seed:02d}.pdf"] = fields
    items = list(EInvoiceConnector.from_options(
        {"path": str(tmp_path), "company_tax_id": company, "payment_terms_days": 10}).fetch())
    assert [type(item) for item in items] == [Record] * 12, items
    for item in items:
        fields, invoice = expected[item.file], item.document
        assert isinstance(invoice, PurchaseInvoice if fields.buyer.tax_id == company else SalesInvoice)
        other = fields.seller if fields.buyer.tax_id == company else fields.buyer
        assert (invoice.number, invoice.date, invoice.due_date) == (
            invoice_number(fields), fields.date, fields.date + dt.timedelta(days=10))
        assert (invoice.counterparty, invoice.counterparty_tax_id) == (other.name, other.tax_id)
        assert [(line.sku, line.net_amount, line.tax_rate, line.tax_amount) for line in invoice.lines] == [
            (line.item, line.net_amount, line.tax_rate, line.tax_amount) for line in fields.lines]
        assert [line.quantity for line in invoice.lines] == [
            line.quantity if line.quantity is not None else Decimal(1) for line in fields.lines]
        assert invoice.gross_total.amount == fields.gross_total
