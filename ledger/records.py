"""Domain records as plain JSON-able values: for content hashes and golden files."""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Any

from ledger.money import Money


def to_plain(value: Any) -> Any:
    """Money → [amount, currency]; Decimal → normalised text ('1.0' and '1.00' agree); date → ISO."""
    if isinstance(value, Money):
        return [str(value.amount), value.currency]
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value else "0"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [to_plain(v) for v in value]
    if is_dataclass(value):
        return {f.name: to_plain(getattr(value, f.name)) for f in fields(value)}
    return value
