"""Company configuration (TOML, validated with pydantic) and secrets (environment / ``.env``).

Configuration is data under version control; secrets never are. A bad file gets one message
that names the file and, for each problem, the key, what was found and what was expected:

    config/example/company.toml: key 'tolerances.amount': found 'abc', expected a decimal number
"""

from __future__ import annotations

import os
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import load_dotenv
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from ledger.counterparties import validate_uscc
from ledger.errors import FieldError
from ledger.money import MoneyError, minor_units

M = TypeVar("M", bound=BaseModel)


class ConfigError(ValueError):
    """A configuration file cannot be used; the message says where and why."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _currency(value: str) -> str:
    try:
        minor_units(value)
    except MoneyError as error:
        raise ValueError(str(error)) from None
    return value


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("an IANA time zone such as Asia/Shanghai") from None
    return value


Currency = Annotated[str, AfterValidator(_currency)]
TimeZone = Annotated[str, AfterValidator(_timezone)]
NonNegative = Annotated[Decimal, Field(ge=0)]


class CompanySection(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    name: str = Field(min_length=1)
    tax_id: str | None = None
    country: str = Field(default="CN", pattern=r"^[A-Z]{2}$")
    base_currency: Currency = "CNY"
    timezone: TimeZone = "Asia/Shanghai"
    chart_of_accounts: str = "chart_of_accounts.toml"

    @field_validator("tax_id")
    @classmethod
    def _uscc(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return validate_uscc(value)
        except FieldError as error:
            raise ValueError(error.expected) from None


class ScheduleSection(_Strict):
    """When and how the nightly sync runs (``yecai serve``, ``yecai sync``)."""

    cron: str = Field(default="0 2 * * *", pattern=r"^\S+( \S+){4}$")
    timezone: TimeZone = "Asia/Shanghai"
    concurrency: int = Field(default=4, ge=1, le=64)  # connectors ingested at once
    retries: int = Field(default=3, ge=0, le=20)  # of a connector that failed with a retryable error
    retry_delay_seconds: NonNegative = Decimal("10")  # the first retry; doubled each time, ±50 % jitter
    lock_wait_seconds: NonNegative = Decimal("0")  # a second start waits this long for the first


class Tolerances(_Strict):
    """spec/interchange-v1.md section 3; these defaults apply where the file says nothing."""

    bank_fee_max: NonNegative = Decimal("50.00")
    bank_fee_ratio: NonNegative = Decimal("0.01")
    amount: NonNegative = Decimal("1.00")
    quantity: NonNegative = Decimal("0")
    unit_price_ratio: NonNegative = Decimal("0.01")
    short_payment_ratio: NonNegative = Decimal("0.10")
    ageing_days: int = Field(default=30, ge=0)


class ConnectorInstance(_Strict):
    """A named source. ``type`` is a built-in name, an entry point or ``module:Class``;
    every other key is handed to the connector's own Config, which validates it."""

    model_config = ConfigDict(extra="allow", frozen=True)
    type: str = Field(min_length=1)


class CompanyConfig(_Strict):
    company: CompanySection
    schedule: ScheduleSection = ScheduleSection()
    tolerances: Tolerances = Tolerances()
    connectors: dict[str, ConnectorInstance] = Field(default_factory=dict)
    # Where the file was read from; relative paths in the file are relative to its folder.
    source_path: Path | None = Field(default=None, exclude=True)

    def resolve(self, relative: str | Path) -> Path:
        base = self.source_path.parent if self.source_path else Path.cwd()
        return (base / relative).resolve()


class AccountEntry(_Strict):
    code: str = Field(pattern=r"^\d{4,12}$")
    name: str = Field(min_length=1)
    category: str = Field(pattern=r"^(asset|liability|common|equity|cost|profit_loss)$")
    normal_side: str = Field(pattern=r"^(debit|credit)$")


class ChartOfAccounts(_Strict):
    standard: str = "企业会计准则"
    accounts: list[AccountEntry] = Field(min_length=1)

    @field_validator("accounts")
    @classmethod
    def _unique_codes(cls, accounts: list[AccountEntry]) -> list[AccountEntry]:
        seen: set[str] = set()
        for account in accounts:
            if account.code in seen:
                raise ValueError(f"each account code once (found {account.code} twice)")
            seen.add(account.code)
        return accounts

    def name_of(self, code: str) -> str:
        for account in self.accounts:
            if account.code == code:
                return account.name
        raise KeyError(code)


# --- loading --------------------------------------------------------------------------------
_EXPECTED = {
    "missing": "this key to be present",
    "extra_forbidden": "no such key (check the spelling)",
    "decimal_parsing": "a decimal number",
    "decimal_type": "a decimal number",
    "int_parsing": "an integer",
    "int_type": "an integer",
    "string_type": "text",
    "string_pattern_mismatch": "text matching {pattern}",
    "greater_than_equal": "a number ≥ {ge}",
    "too_short": "at least {min_length} item(s)",
    "string_too_short": "non-empty text",
    "model_type": "a table",
    "dict_type": "a table",
}


def _describe(error: Any) -> str:
    key = ".".join(str(part) for part in error["loc"]) or "(top level)"
    context = error.get("ctx") or {}
    expected = _EXPECTED.get(error["type"])
    if expected is None:
        expected = str(error["msg"]).removeprefix("Value error, ")
    else:
        expected = expected.format(**{k: v for k, v in context.items() if isinstance(v, str | int | Decimal)})
    found = "nothing" if error["type"] == "missing" else repr(error.get("input"))
    return f"key '{key}': found {found}, expected {expected}"


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path}: not UTF-8 text (byte {error.start})") from None
    try:
        # Decimal, never float: a tolerance of 0.1 must stay exactly 0.1.
        return tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None


def load_model(path: Path, model: type[M]) -> M:
    data = _read_toml(path)
    try:
        return model.model_validate(data)
    except ValidationError as error:
        problems = [_describe(e) for e in error.errors()]
        raise ConfigError(f"{path}: " + ("\n  ".join(problems) if len(problems) == 1
                                         else "\n  " + "\n  ".join(problems))) from None


def load_company(path: str | Path) -> CompanyConfig:
    path = Path(path)
    config = load_model(path, CompanyConfig)
    return config.model_copy(update={"source_path": path.resolve()})


def load_chart(config: CompanyConfig) -> ChartOfAccounts:
    return load_model(config.resolve(config.company.chart_of_accounts), ChartOfAccounts)


# --- secrets --------------------------------------------------------------------------------
def load_environment(dotenv_path: str | Path = ".env") -> None:
    """Read ``.env`` into the environment; variables already set win."""
    load_dotenv(dotenv_path, override=False)


def secret(name: str) -> str | None:
    """Secrets come only from the environment (after ``load_environment``)."""
    value = os.environ.get(name)
    return value or None
