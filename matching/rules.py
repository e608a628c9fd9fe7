"""Matching rules as versioned configuration (config/matching.toml) plus the company's tolerances."""

from __future__ import annotations

import fnmatch
from decimal import Decimal
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from ledger.money import Money
from ledger.settings import Tolerances, load_model

DEFAULT_RULES = Path(__file__).resolve().parent.parent / "config" / "matching.toml"


class MatchingRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    version: str = Field(min_length=1)
    auto_accept: float = Field(default=0.90, gt=0, le=1)
    suggest: float = Field(default=0.50, gt=0, le=1)
    name_threshold: float = Field(default=0.80, gt=0, le=1)
    name_margin: float = Field(default=0.05, ge=0, le=1)
    payment_window_days: int = Field(default=180, ge=1)
    max_batch_invoices: int = Field(default=4, ge=1, le=8)
    max_open_items_searched: int = Field(default=14, ge=1, le=24)
    service_skus: tuple[str, ...] = ("SVC*", "SRV*")
    # Cross-currency payments: reference rates ("USD/CNY" = CNY per USD) and how far a payment,
    # converted at that rate, may differ from the invoice it names and still settle it.
    fx_rates: dict[str, Decimal] = Field(default_factory=dict)
    fx_tolerance: Decimal = Field(default=Decimal("0.03"), ge=0, le=1)

    def fx_rate(self, source: str, target: str) -> Decimal | None:
        """Units of ``target`` per unit of ``source`` (a quoted pair or its inverse), None when not configured."""
        if f"{source}/{target}" in self.fx_rates:
            return self.fx_rates[f"{source}/{target}"]
        inverse = self.fx_rates.get(f"{target}/{source}")
        return 1 / inverse if inverse else None

    def is_service(self, sku: str) -> bool:
        """Services are invoiced without a delivery or goods receipt."""
        return any(fnmatch.fnmatchcase(sku.upper(), pattern.upper()) for pattern in self.service_skus)


def load_rules(path: Path = DEFAULT_RULES) -> MatchingRules:
    return load_model(path, MatchingRules)


def fee_limit(settled: Money, tolerances: Tolerances) -> Money:
    """The largest bank fee booked as a fee: ≤ bank_fee_max and ≤ bank_fee_ratio of the amount."""
    ratio_cap = (abs(settled.amount) * tolerances.bank_fee_ratio).quantize(Decimal("0.01"))
    return Money(min(tolerances.bank_fee_max, ratio_cap), settled.currency)
