"""Column-mapping profiles: how one export layout maps onto a bank transaction.

A profile is TOML, validated by a pydantic model that rejects unknown keys:

    name = "cmb_debit"
    files = ["*.csv"]
    header = ["记账日期", "交易金额"]          # the reader finds the first row holding these
    date = "记账日期"
    currency = "CNY"                          # or currency_column = "币种"
    counterparty = ["对手信息"]
    remittance = ["交易摘要", "客户摘要"]       # several columns are joined with a space
    [amount]
    column = "交易金额"                        # signed; or debit/credit; or column + direction

A profile that does not validate gives one message naming the file, key, found and expected.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from ledger.money import CURRENCY_MINOR_UNITS

PROFILES_DIR = Path(__file__).resolve().parents[2] / "config" / "profiles"

Direction = Literal["in", "out", "ignore"]


class ProfileError(ValueError):
    """A profile that cannot work; the message names file, key, found and expected."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AmountRule(Strict):
    column: str | None = None
    debit: str | None = None
    credit: str | None = None
    direction: str | None = None
    directions: dict[str, Direction] = {}
    negate: bool = False  # card statements print spending as positive
    #: a regular expression of a note some exports print after the amount in its cell
    #: (JD: '131.77(已退款89.84)'); it is removed before the amount is read
    note: str | None = None

    @model_validator(mode="after")
    def _one_shape(self) -> AmountRule:
        signed = self.column is not None
        split = self.debit is not None or self.credit is not None
        if signed == split:
            raise ValueError("either 'column' (optionally with 'direction') or 'debit' and 'credit'")
        if split and (self.debit is None or self.credit is None):
            raise ValueError("'debit' and 'credit' go together")
        if self.note is not None:
            try:
                re.compile(self.note)
            except re.error as error:
                raise ValueError(f"'note' is not a regular expression ({error})") from None
        if (self.direction is None) != (not self.directions):
            raise ValueError("'direction' needs 'directions' (cell value → in/out/ignore)")
        return self


class Profile(Strict):
    name: str
    files: list[str] = ["*.csv", "*.xlsx", "*.xls"]
    encoding: str | None = None
    sheet: int = 0
    header: list[str]
    date: str
    value_date: str | None = None
    amount: AmountRule
    currency: str | None = None
    currency_column: str | None = None
    currency_names: dict[str, str] = {}
    counterparty: list[str] = []
    counterparty_account: list[str] = []
    remittance: list[str] = []
    txn_id: str | None = None
    account_no: str | None = None
    account_no_pattern: str | None = None
    footer: list[str] = []
    ignore: list[str] = []

    @model_validator(mode="after")
    def _consistent(self) -> Profile:
        if (self.currency is None) == (self.currency_column is None):
            raise ValueError("exactly one of 'currency' (fixed) or 'currency_column'")
        for code in [self.currency or "CNY", *self.currency_names.values()]:
            if code not in CURRENCY_MINOR_UNITS:
                raise ValueError(f"unknown currency code {code!r}")
        return self

    @property
    def columns(self) -> set[str]:
        """Every column the profile reads; each must be in the header."""
        named = [self.date, self.value_date, self.currency_column, self.txn_id, self.amount.column,
                 self.amount.debit, self.amount.credit, self.amount.direction,
                 *self.counterparty, *self.counterparty_account, *self.remittance]
        return {column for column in named if column} | set(self.header)


def _describe(error: ValidationError, source: str) -> str:
    first = error.errors()[0]
    key = ".".join(str(part) for part in first["loc"]) or "(top level)"
    found = first.get("input")
    found_text = "nothing" if first["type"] == "missing" else repr(found)[:80]
    return (f"{source}: key '{key}': found {found_text}, expected {first['msg'].removeprefix('Value error, ')}"
            + (f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""))


def parse_profile(text: str, source: str) -> Profile:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ProfileError(f"{source}: not valid TOML ({error})") from None
    try:
        return Profile.model_validate(data)
    except ValidationError as error:
        raise ProfileError(_describe(error, source)) from None


def load_profile(name_or_path: str, base_path: Path | None = None) -> Profile:
    """A profile by name (config/profiles/NAME.toml) or by path."""
    candidate = Path(name_or_path)
    if candidate.suffix != ".toml":
        candidate = PROFILES_DIR / f"{name_or_path}.toml"
    elif base_path is not None and not candidate.is_absolute():
        candidate = base_path / candidate
    if not candidate.is_file():
        known = ", ".join(sorted(p.stem for p in PROFILES_DIR.glob("*.toml")))
        raise ProfileError(f"profile {name_or_path!r}: no file {candidate} (known profiles: {known})")
    return parse_profile(candidate.read_text(encoding="utf-8"), str(candidate))
