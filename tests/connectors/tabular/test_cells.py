"""Cell parsing rules: every form a Chinese bank or ERP export writes an amount or a date in."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from connectors.tabular.cells import clean, parse_amount, parse_currency, parse_date, text_field
from ledger.errors import FieldError


@pytest.mark.parametrize(("raw", "expected"), [
    ("1234.56", Decimal("1234.56")),
    ("-1234.56", Decimal("-1234.56")),
    ("+12.00", Decimal("12.00")),
    ("1,234,567.89", Decimal("1234567.89")),
    ("(1,234.56)", Decimal("-1234.56")),
    ("¥28.16", Decimal("28.16")),
    ("￥28.16", Decimal("28.16")),
    ("$5", Decimal("5")),
    ("-¥3.00", Decimal("-3.00")),
    ("１２３４．５６", Decimal("1234.56")),
    ("－１２．３０", Decimal("-12.30")),
    ("（１，２３４．５６）", Decimal("-1234.56")),
    ("18.00               \t", Decimal("18.00")),
    ('="1234.50"', Decimal("1234.50")),
    ("CNY 13.50", Decimal("13.50")),
    ("CNY13.50", Decimal("13.50")),
    ("12.50元", Decimal("12.50")),
    ("1.230", Decimal("1.23")),
])
def test_amount_forms(raw: str, expected: Decimal) -> None:
    assert parse_amount("amount", raw, "CNY") == expected


@pytest.mark.parametrize("raw", ["", "   \t", "-", "/", "--------"])
def test_empty_amount_cells_are_none(raw: str) -> None:
    assert parse_amount("amount", raw, "CNY") is None


@pytest.mark.parametrize("raw", ["12,34.00", "1.2.3", "abc", "12-", "USD 13.50", "1e5", "xx,yyyy.zz"])
def test_malformed_amounts_name_the_field(raw: str) -> None:
    with pytest.raises(FieldError) as error:
        parse_amount("交易金额", raw, "CNY")
    assert error.value.field == "交易金额"


def test_more_decimals_than_the_currency_is_refused_not_rounded() -> None:
    with pytest.raises(FieldError, match="at most 2 decimals"):
        parse_amount("amount", "12.345", "CNY")
    with pytest.raises(FieldError, match="at most 0 decimals"):
        parse_amount("amount", "100.5", "JPY")
    assert parse_amount("amount", "1000", "JPY") == Decimal(1000)


@pytest.mark.parametrize("raw", [
    "2026-11-01", "2026/11/01", "2026.11.01", "2026年11月1日", "2026年11月01日", "20261101",
    "2026-11-01 09:30:15", "2026/11/1 9:30", "2026-11-01T09:30:15", "20261101 093015",
    "２０２６－１１－０１", "2026-11-01     \t", '="2026-11-01"',
])
def test_date_forms(raw: str) -> None:
    assert parse_date("交易日期", raw) == date(2026, 11, 1)


@pytest.mark.parametrize("raw", ["2026-02-30", "11/01/2026", "12/29", "", "2026-13-01", "202611"])
def test_bad_dates_name_the_field(raw: str) -> None:
    with pytest.raises(FieldError) as error:
        parse_date("交易日期", raw)
    assert error.value.field == "交易日期"


def test_excel_artefacts_are_removed_from_text() -> None:
    assert clean('="6222021234"') == "6222021234"
    assert clean("'6222021234") == "6222021234"
    assert clean('3985734\t') == "3985734"
    assert text_field("深圳市财付通    支付科技   \t") == "深圳市财付通 支付科技"
    assert text_field("-------------------") == ""


def test_currency_names_and_codes() -> None:
    assert parse_currency("币种", "人民币", {}) == "CNY"
    assert parse_currency("币种", " usd ", {}) == "USD"
    assert parse_currency("币种", "美金", {"美金": "USD"}) == "USD"
    with pytest.raises(FieldError, match="a currency"):
        parse_currency("币种", "贝壳", {})
