"""Matching quality on a seeded synthetic company, scored against its ground truth.

The numbers the README quotes come from ``make bench`` at larger sizes; this guards the
same measurements on a small company so that a regression fails the tests.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from benchmarks.baseline import run_baseline
from benchmarks.score import score
from benchmarks.synth import generate
from flows.reconcile import reconcile


@pytest.fixture(scope="module")
def company(tmp_path_factory) -> Path:
    return generate(tmp_path_factory.mktemp("synth"), chains=400, profile="standard", seed=7)


def test_ours_meets_the_standard_profile_goals(company: Path) -> None:
    as_of = date.fromisoformat(json.loads((company / "truth.json").read_text())["as_of"])
    reconcile(company / "drop", company / "ours", as_of=as_of)
    result = score(company / "truth.json", company / "ours")
    assert result.auto_precision >= 0.995
    assert result.all_recall >= 0.98
    assert result.settled_correctly >= 0.85
    assert result.macro_f1 >= 0.90


def test_the_scorer_tells_the_exact_reference_baseline_apart(company: Path) -> None:
    run_baseline(company / "drop", company / "baseline")
    result = score(company / "truth.json", company / "baseline")
    assert result.all_recall < 0.9 and result.settled_correctly < 0.7
