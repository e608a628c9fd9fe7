"""Posting templates (TOML), validated against the chart of accounts.

An amount expression is names joined by + and −, parsed here (never evaluated as code):

    >>> Expression.parse("net - accrual").terms
    ((1, 'net'), (-1, 'accrual'))
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ledger.settings import ChartOfAccounts, ConfigError, load_model

DEFAULT_TEMPLATES = Path(__file__).resolve().parent.parent.parent / "config" / "posting" / "default.toml"
DIMENSIONS = ("customer", "supplier", "project", "department", "product_line")
_EXPRESSION = re.compile(r"^\s*[a-z_]+(\s*[+-]\s*[a-z_]+)*\s*$")


@dataclass(frozen=True, slots=True)
class Expression:
    terms: tuple[tuple[int, str], ...]

    @classmethod
    def parse(cls, text: str) -> Expression:
        if not _EXPRESSION.match(text):
            raise ValueError(f"amount {text!r}: expected names joined by + and -, such as 'net - accrual'")
        tokens = re.findall(r"[+-]|[a-z_]+", text)
        terms, sign = [], 1
        for token in tokens:
            if token in "+-":
                sign = 1 if token == "+" else -1
            else:
                terms.append((sign, token))
                sign = 1
        return cls(tuple(terms))


class LineTemplate(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    account: str = Field(pattern=r"^\d{4,12}$")
    side: Literal["debit", "credit"]
    amount: str
    dimensions: tuple[str, ...] = ()

    @field_validator("amount")
    @classmethod
    def _expression(cls, value: str) -> str:
        Expression.parse(value)
        return value

    @field_validator("dimensions")
    @classmethod
    def _dimensions(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [d for d in value if d not in DIMENSIONS]
        if unknown:
            raise ValueError(f"unknown dimension(s) {unknown}: expected some of {', '.join(DIMENSIONS)}")
        return value

    @property
    def expression(self) -> Expression:
        return Expression.parse(self.amount)


class EventTemplate(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    word: str = Field(min_length=1, max_length=2)   # 记 / 收 / 付 / 转
    summary: str
    lines: tuple[LineTemplate, ...] = Field(min_length=2)


class PostingTemplates(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    version: str = Field(min_length=1)
    fx_account: str | None = Field(default=None, pattern=r"^\d{4,12}$")   # exchange differences (汇兑损益)
    # one voucher word for every event (a company that numbers all vouchers as 记), else each event's own
    single_word: str | None = Field(default=None, min_length=1, max_length=2)
    events: dict[str, EventTemplate]


def load_templates(chart: ChartOfAccounts, path: Path = DEFAULT_TEMPLATES) -> PostingTemplates:
    templates = load_model(path, PostingTemplates)
    codes = {account.code for account in chart.accounts}
    if templates.fx_account is not None and templates.fx_account not in codes:
        raise ConfigError(f"{path}: key 'fx_account': found {templates.fx_account!r}, "
                          f"expected an account code of the chart of accounts")
    for event, template in templates.events.items():
        for index, line in enumerate(template.lines):
            if line.account not in codes:
                raise ConfigError(f"{path}: key 'events.{event}.lines.{index}.account': found {line.account!r}, "
                                  f"expected an account code of the chart of accounts")
    return templates
