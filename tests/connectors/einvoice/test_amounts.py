"""The 大写 amount parser and the small-amount parser: many real spellings, and refusals."""

from decimal import Decimal

import pytest

from connectors.einvoice.amounts import AmountError, parse_money, parse_uppercase


@pytest.mark.parametrize(("text", "expected"), [
    ("壹万贰仟叁佰肆拾伍圆陆角柒分", "12345.67"),
    ("叁佰壹拾捌圆整", "318.00"),
    ("肆仟肆佰肆拾玖圆整", "4449.00"),
    ("叁佰零伍圆整", "305.00"),
    ("壹仟零壹万圆整", "10010000.00"),
    ("壹亿零贰佰万圆整", "102000000.00"),
    ("贰拾亿圆整", "2000000000.00"),
    ("拾伍圆正", "15.00"),
    ("壹佰圆零伍分", "100.05"),
    ("壹佰圆伍角", "100.50"),
    ("壹佰圆伍角整", "100.50"),
    ("伍角", "0.50"),
    ("陆分", "0.06"),
    ("零圆整", "0.00"),
    ("壹拾元整", "10.00"),
    ("负壹佰圆整", "-100.00"),
    ("（负数）壹佰圆整", "-100.00"),
    ("玖万玖仟玖佰玖拾玖圆玖角玖分", "99999.99"),
    ("壹 万 圆 整", "10000.00"),
])
def test_uppercase_amounts(text: str, expected: str) -> None:
    assert parse_uppercase(text) == Decimal(expected)


@pytest.mark.parametrize(("text", "why"), [
    ("", "empty"),
    ("壹贰圆整", "two digits"),
    ("壹佰贰仟圆整", "out of order"),
    ("佰圆整", "without a digit"),
    ("壹佰圆伍分整", "角 and 分"),
    ("壹佰", "no 圆"),
    ("圆整", "nothing before 圆"),
    ("壹佰圆X", "角 and 分"),
    ("一百圆整", "unexpected character"),
])
def test_malformed_uppercase_amounts_say_why(text: str, why: str) -> None:
    with pytest.raises(AmountError, match=why):
        parse_uppercase(text)


@pytest.mark.parametrize(("text", "expected"), [
    ("¥1,234.50", "1234.50"), ("￥ -12.00", "-12.00"), ("318.00", "318.00"), ("25", "25")])
def test_small_amounts_are_exact_decimals(text: str, expected: str) -> None:
    assert parse_money(text) == Decimal(expected)


@pytest.mark.parametrize("text", ["", "¥", "1.2.3", "壹佰", "1e5"])
def test_malformed_small_amounts(text: str) -> None:
    with pytest.raises(AmountError, match="not an amount"):
        parse_money(text)
