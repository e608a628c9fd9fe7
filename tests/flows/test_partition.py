"""Matching block by block (o2c, p2p) and merging equals one matching run over everything."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from benchmarks.synth import generate
from connectors.contract import Record
from connectors.dropfolder.connector import DropFolderConnector
from flows.match_step import MatchInputs
from flows.partition import match_block, merge, partition
from ledger.counterparties import Counterparty
from ledger.documents import BankTransaction
from ledger.settings import Tolerances
from matching.engine import MatchOutput, run_matching
from matching.rules import load_rules
from tests.conftest import EXAMPLE_CONFIG


def read_folder(folder: Path, as_of: date | None = None) -> MatchInputs:
    records = [item.document for item in DropFolderConnector(DropFolderConnector.Config(path=str(folder))).fetch()
               if isinstance(item, Record)]
    documents = [r for r in records if not isinstance(r, BankTransaction | Counterparty)]
    transactions = [r for r in records if isinstance(r, BankTransaction)]
    dates = [d.date for d in documents] + [t.booking_date for t in transactions]
    return MatchInputs(as_of=as_of or max(dates), documents=documents, transactions=transactions,
                       parties=[r for r in records if isinstance(r, Counterparty)])


def canonical(output: MatchOutput) -> dict:
    """What a matching run decides, independent of the order it was computed in."""
    return {"links": sorted((link.from_type, link.from_no, link.to_type, link.to_no, link.decision.value,
                             round(link.score, 6), str(link.amount), repr(link.evidence)) for link in output.links),
            "exceptions": sorted((item.fingerprint, item.code.value, item.severity.value, item.message)
                                 for item in output.exceptions),
            "settled": sorted(output.settled_txns), "fees": sorted((k, str(v)) for k, v in output.fees.items()),
            "chains": {side: repr(chain) for side, chain in sorted(output.chains.items())}}


def whole(inputs: MatchInputs) -> MatchOutput:
    return run_matching(inputs.documents, inputs.transactions, inputs.parties, inputs.as_of, load_rules(),
                        Tolerances())


@pytest.mark.parametrize("profile", ["standard", "hard"])
def test_blocks_merged_equal_one_run_on_a_synthetic_company(tmp_path: Path, profile: str) -> None:
    company = generate(tmp_path, chains=300, profile=profile, seed=11)
    as_of = date.fromisoformat(json.loads((company / "truth.json").read_text())["as_of"])
    inputs = read_folder(company / "drop", as_of)
    blocks = partition(inputs)
    assert [b.side for b in blocks] == ["o2c", "p2p"] and all(b.size for b in blocks)
    assert sum(b.size for b in blocks) == len(inputs.documents) + len(inputs.transactions)
    merged = merge([match_block(block, load_rules(), Tolerances()) for block in blocks])
    assert canonical(merged) == canonical(whole(inputs))
    assert len(merged.links) > 300 and merged.exceptions


def test_blocks_merged_equal_one_run_on_the_sample_company() -> None:
    inputs = read_folder(EXAMPLE_CONFIG.parent / "dropfolder")
    merged = merge([match_block(block, load_rules(), Tolerances()) for block in partition(inputs)])
    assert canonical(merged) == canonical(whole(inputs))
