"""What matching produces: links between documents, each with the evidence behind it.

Scores are confidences in [0, 1] (floats are fine here: they are never money).

    >>> evidence = Evidence(rule="invoice_ref_in_remittance", rule_version="1",
    ...     comparisons=(Comparison(name="reference", level="exact", score=1.0),
    ...                  Comparison(name="amount", level="exact", score=1.0)))
    >>> Link(from_type="sales_invoice", from_no="44001234", to_type="bank_txn", to_no="3105:T1",
    ...      decision=Decision.AUTO, score=evidence.score, evidence=evidence).score
    1.0
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from ledger.money import Money


class Decision(StrEnum):
    AUTO = "auto"
    SUGGESTED = "suggested"


@dataclass(frozen=True, slots=True, kw_only=True)
class Comparison:
    """One named comparison and the level it reached (splink's vocabulary)."""

    name: str      # "reference", "amount", "counterparty", "date", "sku", …
    level: str     # "exact", "one_digit_off", "within_fee", "alias", "fuzzy", "none", …
    score: float   # this comparison's contribution in [0, 1]
    detail: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Evidence:
    rule: str
    rule_version: str
    comparisons: tuple[Comparison, ...]
    decided_by: str = "yecai"

    @property
    def score(self) -> float:
        """Confidence: the product of the comparisons' scores, rounded for stable output."""
        result = 1.0
        for comparison in self.comparisons:
            result *= comparison.score
        return round(result, 4)


@dataclass(frozen=True, slots=True, kw_only=True)
class Link:
    from_type: str
    from_no: str
    to_type: str
    to_no: str
    decision: Decision
    score: float
    evidence: Evidence
    amount: Money | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.score <= 1.0:
            raise ValueError(f"score {self.score} is not in [0, 1]")

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.from_type, self.from_no, self.to_type, self.to_no)


_ENCODE = json.encoder.encode_basestring   # the C string encoder json.dumps(ensure_ascii=False) uses


def evidence_json(comparisons: Iterable[tuple[str, str, float, str]]) -> str:
    """The stored evidence, exactly as ``json.dumps`` writes it, built without a dict per comparison
    (the text before each detail made once per (name, level, score), the detail encoded). The heads are
    found by name, then level, then score, in dicts of the strings themselves, which keep their hashes:
    no tuple made and hashed per comparison (577,000 links: 0.94–1.15 s → 0.64–0.82 s).

        >>> evidence_json([("reference", "exact", 1.0, "44001234")])
        '[{"name": "reference", "level": "exact", "score": 1.0, "detail": "44001234"}]'
    """
    parts = []
    for name, level, score, detail in comparisons:
        try:
            head = _HEADS[name][level][score]
        except KeyError:
            head = _HEADS.setdefault(name, {}).setdefault(level, {}).setdefault(
                score, f'{{"name": {_ENCODE(name)}, "level": {_ENCODE(level)}, "score": {score!r}, "detail": ')
        parts.append(f"{head}{_ENCODE(detail)}}}")
    return f"[{', '.join(parts)}]"


_HEADS: dict[str, dict[str, dict[float, str]]] = {}   # name → level → score → the text before the detail
