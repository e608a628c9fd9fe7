"""Exchange rates and the conversion of voucher lines into the base currency (本位币).

A rate says how many units of the base currency one unit of a currency buys on a date,
with its source (中国人民银行 人民币汇率中间价, a bank's rate, …). A voucher in a foreign
currency is converted at the latest rate on or before its date; every line is rounded on
its own, and what rounding leaves between base debits and base credits goes to the FX
account on a line of its own (no foreign amount, base amount only):

    USD 100.01 receipt, rate 7.1234 (2026-11-02, PBOC)
    Dr 1002  USD 100.01 → CNY 712.41   (100.01 × 7.1234 = 712.411…)
    Cr 1122  USD  33.34 → CNY 237.49   (237.494…)
    Cr 1122  USD  66.67 → CNY 474.92   (474.917…)   base credits 712.41 = debits: no FX line

The rate, its date and its source stay with the voucher, so every conversion can be redone.
"""

from __future__ import annotations

import bisect
import csv
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from sqlalchemy import Engine, delete, select

from ledger.money import DEFAULT_ROUNDING, Money, minor_units, to_decimal
from ledger.posting.tables import FxRateRow


class MissingRate(LookupError):
    """No rate for a currency on or before a date: add one (file, ``yecai fx add``) and convert."""


class RateFileError(ValueError):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class Rate:
    currency: str
    rate_date: date
    rate: Decimal          # base-currency units for one unit of ``currency``
    source: str

    def __post_init__(self) -> None:
        minor_units(self.currency)
        if not isinstance(self.rate, Decimal) or not self.rate.is_finite() or self.rate <= 0:
            raise ValueError(f"rate {self.rate!r} for {self.currency}: expected a positive Decimal")
        if not self.source.strip():
            raise ValueError(f"rate for {self.currency} on {self.rate_date}: the source is required")


@dataclass(frozen=True, slots=True, kw_only=True)
class Conversion:
    """How a voucher's amounts became base-currency amounts."""

    base_currency: str
    rate: Decimal
    rate_date: date | None
    source: str

    @classmethod
    def identity(cls, currency: str) -> Conversion:
        """A voucher kept in its own currency (the base currency, or no rate known yet)."""
        return cls(base_currency=currency, rate=Decimal(1), rate_date=None, source="")


class RateTable:
    """Rates by currency, looked up by date: the latest on or before it."""

    def __init__(self, base_currency: str, rates: Iterable[Rate] = ()) -> None:
        minor_units(base_currency)
        self.base_currency = base_currency
        self._dates: dict[str, list[date]] = {}
        self._rates: dict[str, list[Rate]] = {}
        for rate in sorted(rates, key=lambda r: (r.currency, r.rate_date)):
            self.add(rate)

    def add(self, rate: Rate) -> None:
        dates = self._dates.setdefault(rate.currency, [])
        rates = self._rates.setdefault(rate.currency, [])
        index = bisect.bisect_left(dates, rate.rate_date)
        if index < len(dates) and dates[index] == rate.rate_date:
            rates[index] = rate
        else:
            dates.insert(index, rate.rate_date)
            rates.insert(index, rate)

    def __len__(self) -> int:
        return sum(len(r) for r in self._rates.values())

    def __iter__(self):
        for currency in sorted(self._rates):
            yield from self._rates[currency]

    def conversion(self, currency: str, on: date) -> Conversion:
        if currency == self.base_currency:
            return Conversion.identity(currency)
        dates = self._dates.get(currency, [])
        index = bisect.bisect_right(dates, on) - 1
        if index < 0:
            raise MissingRate(f"no {currency}/{self.base_currency} rate on or before {on.isoformat()}: add one "
                              f"(yecai fx add {currency} {on.isoformat()} RATE --source …) and convert the drafts")
        rate = self._rates[currency][index]
        return Conversion(base_currency=self.base_currency, rate=rate.rate, rate_date=rate.rate_date,
                          source=rate.source)


def to_base(amount: Money, conversion: Conversion) -> Money:
    """One line's amount in the base currency, rounded half up (四舍五入) on its own."""
    if amount.currency == conversion.base_currency:
        return amount
    return Money(amount.amount * conversion.rate, conversion.base_currency).quantize(DEFAULT_ROUNDING)


RATE_COLUMNS = ("currency", "rate_date", "rate", "source")


def read_rates_csv(path: Path) -> tuple[list[Rate], list[str]]:
    """Rates from a CSV file (currency, rate_date, rate, source); bad rows come back as messages
    naming the file, row and field, and never stop the good ones."""
    rates, problems = [], []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in RATE_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise RateFileError(f"{path}: missing column(s) {', '.join(missing)} (expected {', '.join(RATE_COLUMNS)})")
        for row_no, row in enumerate(reader, start=2):
            field = "currency"
            try:
                currency = row["currency"].strip().upper()
                minor_units(currency)
                field = "rate_date"
                rate_date = date.fromisoformat(row["rate_date"].strip())
                field = "rate"
                rate = to_decimal(row["rate"] or "")
                field = "source"
                rates.append(Rate(currency=currency, rate_date=rate_date, rate=rate, source=row["source"].strip()))
            except (ValueError, InvalidOperation, LookupError) as error:
                problems.append(f"{path}: row {row_no}, field {field}: {row.get(field)!r} ({error})")
    return rates, problems


def save_rates(engine: Engine, company_id: str, rates: Iterable[Rate], by: str) -> int:
    """Store rates (a rate for the same currency and date replaces the earlier one); returns how many."""
    table = FxRateRow.__table__
    rows = [{"company_id": company_id, "currency": r.currency, "rate_date": r.rate_date, "rate": format(r.rate, "f"),
             "source": r.source, "added_by": by, "added_at": datetime.now(UTC)} for r in rates]
    with engine.begin() as connection:
        for row in rows:
            connection.execute(delete(table).where((table.c.company_id == company_id)
                                                   & (table.c.currency == row["currency"])
                                                   & (table.c.rate_date == row["rate_date"])))
        if rows:
            connection.execute(table.insert(), rows)
    return len(rows)


def load_rates(engine: Engine, company_id: str, base_currency: str) -> RateTable:
    table = FxRateRow.__table__
    with engine.connect() as connection:
        rows = connection.execute(select(table).where(table.c.company_id == company_id)).all()
    return RateTable(base_currency, (Rate(currency=r.currency, rate_date=r.rate_date, rate=Decimal(r.rate),
                                          source=r.source) for r in rows))
