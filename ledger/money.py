"""Money: an exact ``Decimal`` amount in one ISO 4217 currency.

Money never touches a float. Storage keeps integer minor units plus the currency code;
the number of minor-unit digits comes from ``CURRENCY_MINOR_UNITS``.

    >>> a = Money.parse("10.005", "CNY")          # exact, not yet rounded
    >>> a.quantize()                               # half-up by default (四舍五入)
    Money('10.01', 'CNY')
    >>> Money.from_minor(1001, "CNY").to_minor()
    1001
    >>> Money.parse("1", "CNY") + Money.parse("1", "USD")
    Traceback (most recent call last):
    ...
    ledger.money.CurrencyMismatch: cannot add CNY and USD
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation

# ISO 4217 minor units for the currencies yecai's users meet. Extend here, nowhere else.
CURRENCY_MINOR_UNITS: dict[str, int] = {
    "CNY": 2, "CNH": 2, "HKD": 2, "MOP": 2, "TWD": 2, "USD": 2, "EUR": 2, "GBP": 2, "CHF": 2,
    "SGD": 2, "AUD": 2, "NZD": 2, "CAD": 2, "SEK": 2, "NOK": 2, "DKK": 2, "PLN": 2, "CZK": 2,
    "HUF": 2, "THB": 2, "MYR": 2, "PHP": 2, "INR": 2, "IDR": 2, "RUB": 2, "AED": 2, "SAR": 2,
    "ZAR": 2, "BRL": 2, "MXN": 2, "TRY": 2, "RON": 2, "BGN": 2, "ILS": 2, "EGP": 2, "KZT": 2, "UAH": 2,
    "PKR": 2, "BDT": 2, "LKR": 2, "NGN": 2, "KES": 2, "COP": 2, "PEN": 2, "ARS": 2, "DEM": 2,
    "JPY": 0, "KRW": 0, "VND": 0, "CLP": 0, "ISK": 0, "UGX": 0, "XOF": 0, "XAF": 0,
    "KWD": 3, "BHD": 3, "OMR": 3, "JOD": 3, "TND": 3, "LYD": 3, "IQD": 3,
}

_EXPONENTS = {code: Decimal(1).scaleb(-digits) for code, digits in CURRENCY_MINOR_UNITS.items()}

#: The rounding applied when nothing else is said: Chinese accounting rounds half up (四舍五入).
DEFAULT_ROUNDING = ROUND_HALF_UP
ROUNDING_MODES = frozenset({ROUND_HALF_UP, ROUND_HALF_EVEN, decimal.ROUND_DOWN, decimal.ROUND_UP,
                            decimal.ROUND_FLOOR, decimal.ROUND_CEILING, decimal.ROUND_HALF_DOWN})


class MoneyError(ValueError):
    """Money was built or combined in a way that would lose or invent value."""


class UnknownCurrency(MoneyError):
    pass


class CurrencyMismatch(MoneyError):
    pass


class InexactMoney(MoneyError):
    """An amount has more decimals than its currency's minor unit and no rounding was asked for."""


def minor_units(currency: str) -> int:
    try:
        return CURRENCY_MINOR_UNITS[currency]
    except KeyError:
        raise UnknownCurrency(f"unknown currency code {currency!r} (expected an ISO 4217 code "
                              f"such as CNY, USD, EUR, JPY)") from None


def format_minor(units: int, currency: str) -> str:
    """``str(Money.from_minor(units, currency))`` without building the Money.

        >>> format_minor(-12300, "CNY"), format_minor(5, "JPY")
        ('-123.00 CNY', '5 JPY')
    """
    return f"{Decimal(units).scaleb(-minor_units(currency))} {currency}"


def to_decimal(value: Decimal | int | str) -> Decimal:
    """The one place where outside values become Decimals. Floats are refused."""
    if isinstance(value, bool | float):
        raise TypeError(f"refusing {type(value).__name__} {value!r}: use Decimal or str for money")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise MoneyError(f"{value!r} is not a decimal number") from None
    else:
        raise TypeError(f"cannot make a Decimal from {type(value).__name__}")
    if not result.is_finite():
        raise MoneyError(f"{value!r} is not a finite number")
    return result


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise TypeError(f"Money.amount must be a Decimal, got {type(self.amount).__name__}")
        if not self.amount.is_finite():
            raise MoneyError(f"Money.amount must be finite, got {self.amount}")
        minor_units(self.currency)

    # construction --------------------------------------------------------------------------
    @classmethod
    def parse(cls, value: Decimal | int | str, currency: str) -> Money:
        return cls(to_decimal(value), currency)

    @classmethod
    def from_checked(cls, amount: Decimal, currency: str) -> Money:
        """Money of a finite ``Decimal`` and a currency in ``CURRENCY_MINOR_UNITS``, both of
        which the caller has checked (a statement parser, per line), so not checked again."""
        money = _new(cls)
        _SET_AMOUNT(money, amount)
        _SET_CURRENCY(money, currency)
        return money

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal(0), currency)

    @classmethod
    def from_minor(cls, units: int, currency: str) -> Money:
        if not isinstance(units, int) or isinstance(units, bool):
            raise TypeError(f"minor units must be an int, got {type(units).__name__}")
        return cls(Decimal(units).scaleb(-minor_units(currency)), currency)

    # rounding and storage ------------------------------------------------------------------
    @property
    def exponent(self) -> Decimal:
        return _EXPONENTS[self.currency]

    def is_exact(self) -> bool:
        """True when the amount needs no rounding to the currency's minor unit."""
        return self.amount == self.amount.quantize(self.exponent, rounding=ROUND_HALF_EVEN)

    def quantize(self, rounding: str = DEFAULT_ROUNDING) -> Money:
        if rounding not in ROUNDING_MODES:
            raise ValueError(f"unknown rounding mode {rounding!r}")
        return Money(self.amount.quantize(self.exponent, rounding=rounding), self.currency)

    def to_minor(self, rounding: str | None = None) -> int:
        """Integer minor units. Without ``rounding`` an inexact amount is an error, never rounded."""
        if rounding is not None and rounding not in ROUNDING_MODES:
            raise ValueError(f"unknown rounding mode {rounding!r}")
        quantized = self.amount.quantize(self.exponent, rounding=rounding or ROUND_HALF_EVEN)
        if rounding is None and quantized != self.amount:
            raise InexactMoney(f"{self.amount} {self.currency} has more than "
                               f"{minor_units(self.currency)} decimals")
        return int(quantized.scaleb(CURRENCY_MINOR_UNITS[self.currency]))

    # arithmetic ----------------------------------------------------------------------------
    def _same(self, other: object, verb: str) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"cannot {verb} Money and {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatch(f"cannot {verb} {self.currency} and {other.currency}")
        return other

    def __add__(self, other: Money) -> Money:
        # the sum of two checked amounts in a checked currency is checked: no __post_init__
        return Money.from_checked(self.amount + self._same(other, "add").amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        return Money.from_checked(self.amount - self._same(other, "subtract").amount, self.currency)

    def __mul__(self, factor: Decimal | int) -> Money:
        if isinstance(factor, Money):
            raise TypeError("cannot multiply Money by Money")
        return Money.from_checked(self.amount * to_decimal(factor), self.currency)

    __rmul__ = __mul__

    def __neg__(self) -> Money:
        return Money.from_checked(-self.amount, self.currency)

    def __abs__(self) -> Money:
        return Money.from_checked(abs(self.amount), self.currency)

    def __bool__(self) -> bool:
        return bool(self.amount)

    def __lt__(self, other: Money) -> bool:
        return self.amount < self._same(other, "compare").amount

    def __le__(self, other: Money) -> bool:
        return self.amount <= self._same(other, "compare").amount

    def __gt__(self, other: Money) -> bool:
        return self.amount > self._same(other, "compare").amount

    def __ge__(self, other: Money) -> bool:
        return self.amount >= self._same(other, "compare").amount

    def allocate(self, weights: Sequence[Decimal | int]) -> list[Money]:
        """Split into parts proportional to ``weights`` that add up exactly (largest remainder).

        >>> [m.amount for m in Money.parse("100.00", "CNY").allocate([1, 1, 1])]
        [Decimal('33.34'), Decimal('33.33'), Decimal('33.33')]
        """
        ws = [to_decimal(w) for w in weights]
        if not ws or any(w < 0 for w in ws) or sum(ws) == 0:
            raise ValueError("allocate needs non-negative weights with a positive sum")
        total = self.to_minor()
        total_weight = sum(ws)
        shares = [total * w / total_weight for w in ws]
        parts = [int(s.to_integral_value(rounding=decimal.ROUND_FLOOR)) for s in shares]
        remainder = total - sum(parts)
        order = sorted(range(len(ws)), key=lambda i: (-(shares[i] - parts[i]), i))
        for i in order[: abs(remainder)]:
            parts[i] += 1 if remainder > 0 else -1
        return [Money.from_minor(p, self.currency) for p in parts]

    def __repr__(self) -> str:
        return f"Money({str(self.amount)!r}, {self.currency!r})"

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


# The slots' own setters: a frozen dataclass refuses ``setattr``, these write the slot directly.
_new = object.__new__
_SET_AMOUNT, _SET_CURRENCY = Money.__dict__["amount"].__set__, Money.__dict__["currency"].__set__


def total(amounts: Iterable[Money], currency: str) -> Money:
    """Sum that is defined for an empty iterable and refuses mixed currencies."""
    minor_units(currency)
    result = Decimal(0)
    for amount in amounts:
        if not isinstance(amount, Money):
            raise TypeError(f"cannot add Money and {type(amount).__name__}")
        if amount.currency != currency:
            raise CurrencyMismatch(f"cannot add {currency} and {amount.currency}")
        result += amount.amount
    return Money.from_checked(result, currency)
