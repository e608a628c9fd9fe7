from __future__ import annotations

from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.money import (
    CURRENCY_MINOR_UNITS,
    CurrencyMismatch,
    InexactMoney,
    Money,
    MoneyError,
    UnknownCurrency,
    minor_units,
    total,
)

currencies = st.sampled_from(sorted(CURRENCY_MINOR_UNITS))


@st.composite
def exact_money(draw, currency=None):
    code = draw(currencies) if currency is None else currency
    units = draw(st.integers(min_value=-(10**15), max_value=10**15))
    return Money.from_minor(units, code)


def test_minor_units_come_from_the_currency_table() -> None:
    assert (minor_units("JPY"), minor_units("CNY"), minor_units("KWD")) == (0, 2, 3)
    assert Money.from_minor(1234, "KWD").amount == Decimal("1.234")
    assert Money.from_minor(1234, "JPY").amount == Decimal("1234")
    with pytest.raises(UnknownCurrency, match="XXZ"):
        Money.parse("1", "XXZ")


def test_floats_are_refused_everywhere() -> None:
    with pytest.raises(TypeError, match="float"):
        Money.parse(0.1, "CNY")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money(0.1, "CNY")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="float"):
        Money.parse("1", "CNY") * 1.5  # type: ignore[operator]


def test_mixed_currencies_are_refused() -> None:
    cny, usd = Money.parse("1.00", "CNY"), Money.parse("1.00", "USD")
    for operation in (lambda: cny + usd, lambda: cny - usd, lambda: cny < usd):
        with pytest.raises(CurrencyMismatch, match="CNY and USD"):
            operation()
    with pytest.raises(CurrencyMismatch):
        total([cny, usd], "CNY")


def test_rounding_mode_is_explicit() -> None:
    half = Money.parse("2.345", "CNY")
    assert half.quantize().amount == Decimal("2.35")  # default: half up (四舍五入)
    assert half.quantize(ROUND_HALF_UP).amount == Decimal("2.35")
    assert half.quantize(ROUND_HALF_EVEN).amount == Decimal("2.34")
    assert Money.parse("-2.345", "CNY").quantize().amount == Decimal("-2.35")
    assert Money.parse("0.5", "JPY").quantize().amount == Decimal("1")
    with pytest.raises(InexactMoney, match="more than 2 decimals"):
        half.to_minor()
    assert half.to_minor(rounding=ROUND_HALF_EVEN) == 234
    with pytest.raises(ValueError, match="rounding"):
        half.quantize("ROUND_SIDEWAYS")


def test_bad_text_is_a_clear_error() -> None:
    for text in ("abc", "1,234.00", "NaN", "Infinity", ""):
        with pytest.raises(MoneyError):
            Money.parse(text, "CNY")


@given(exact_money())
def test_minor_units_round_trip_exactly(money: Money) -> None:
    assert Money.from_minor(money.to_minor(), money.currency) == money


@given(st.data(), currencies)
def test_addition_is_exact_and_associative(data, currency: str) -> None:
    a, b, c = (data.draw(exact_money(currency)) for _ in range(3))
    assert (a + b) + c == a + (b + c)
    assert (a + b - b) == a
    assert (a + b).to_minor() == a.to_minor() + b.to_minor()


@given(exact_money(), st.lists(st.integers(min_value=0, max_value=1000), min_size=1, max_size=12)
       .filter(lambda ws: sum(ws) > 0))
def test_allocation_adds_up_exactly(money: Money, weights: list[int]) -> None:
    parts = money.allocate(weights)
    assert sum(p.to_minor() for p in parts) == money.to_minor()
    assert all(p.is_exact() for p in parts)
    for part, weight in zip(parts, weights, strict=True):
        if weight == 0:
            assert part.to_minor() == 0


def test_money_from_checked_parts_equals_the_constructed_one() -> None:
    checked = Money.from_checked(Decimal("-12.50"), "EUR")
    assert type(checked) is Money and checked == Money(Decimal("-12.50"), "EUR")
    assert repr(checked) == "Money('-12.50', 'EUR')" and hash(checked) == hash(Money.parse("-12.50", "EUR"))
    with pytest.raises(AttributeError):
        checked.amount = Decimal(1)  # type: ignore[misc]
