"""Counterparties: customers and suppliers with the names they go by.

A tax id of a Chinese party must be a valid 统一社会信用代码 (checked with python-stdnum).

    >>> Counterparty(counterparty_id="C001", role=Role.CUSTOMER, name="华为技术有限公司",
    ...              tax_id="914403001922038216").tax_id
    '914403001922038216'
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import NamedTuple

from stdnum.cn import uscc
from stdnum.exceptions import ValidationError

from ledger.errors import FieldError


class Role(StrEnum):
    CUSTOMER = "customer"
    SUPPLIER = "supplier"
    BOTH = "both"

    def covers(self, role: Role) -> bool:
        return self is Role.BOTH or self is role


def validate_uscc(value: str, field: str = "tax_id") -> str:
    """Return the compact 统一社会信用代码 or raise a FieldError saying what is wrong."""
    problem = _uscc_problem(value)
    if problem is None:
        return _compact(value)
    raise FieldError(field, value, f"a 统一社会信用代码 with {problem}")


@lru_cache(maxsize=65_536)
def _compact(value: str) -> str:
    return uscc.compact(value)


@lru_cache(maxsize=65_536)
def _uscc_problem(value: str) -> str | None:
    """None when valid, else what is wrong; cached, since the same parties recur on every document."""
    try:
        uscc.validate(value)
        return None
    except ValidationError as error:
        return {"InvalidLength": "18 characters", "InvalidFormat": "8 digits then 10 of "
                "0-9 A-H J-N P-R T U W-Y", "InvalidChecksum": "a correct check digit (last "
                "character)"}.get(type(error).__name__, "a valid code")


def normalise_tax_id(value: str | None, field: str, country: str | None) -> str | None:
    """Empty stays None; a Chinese party's tax id must validate as USCC; where the country is
    unknown (``None``), an 18-character id is taken as a USCC and must validate too."""
    if value is None or not value.strip():
        return None
    compact = _compact(value)
    if country == "CN" or len(compact) == 18:
        return validate_uscc(compact, field)
    return compact


@dataclass(frozen=True, slots=True, kw_only=True)
class Counterparty:
    counterparty_id: str
    role: Role
    name: str
    tax_id: str | None = None
    country: str = "CN"
    aliases: tuple[str, ...] = ()
    bank_accounts: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.counterparty_id.strip():
            raise FieldError("counterparty_id", self.counterparty_id, "a non-empty id")
        if not isinstance(self.role, Role):
            raise FieldError("role", self.role, "customer, supplier or both")
        if not self.name.strip():
            raise FieldError("name", self.name, "a non-empty name")
        if len(self.country) != 2 or not self.country.isupper():
            raise FieldError("country", self.country, "an ISO 3166 alpha-2 code such as CN")
        object.__setattr__(self, "tax_id", normalise_tax_id(self.tax_id, "tax_id", self.country))
        object.__setattr__(self, "aliases", tuple(a.strip() for a in self.aliases if a.strip()))
        object.__setattr__(self, "bank_accounts",
                           tuple(a.replace(" ", "") for a in self.bank_accounts if a.strip()))

    @property
    def names(self) -> tuple[str, ...]:
        """The legal name first, then every alias, without repeats."""
        return tuple(dict.fromkeys((self.name, *self.aliases)))


class PartyNames(NamedTuple):
    """What name resolution needs of a stored party: its id and the names it goes by (legal name
    first, then its aliases, without repeats). Read back from storage, where the party was
    validated when it was stored, so it is not validated again (a company can have 100,000)."""

    counterparty_id: str
    names: tuple[str, ...]
    tax_id: str | None = None
    bank_accounts: tuple[str, ...] = ()
