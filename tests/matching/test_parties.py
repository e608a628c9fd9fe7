"""Counterparty resolution: normalisation rules, the resolver, and the two public name corpora."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest

from ledger.counterparties import Counterparty, Role
from matching.parties import PartyIndex, full_key, normalise

CORPUS = os.environ.get("YECAI_EXTERNAL_CORPUS")
needs_corpus = pytest.mark.skipif(not CORPUS or not Path(CORPUS).is_dir(),
                                  reason="set YECAI_EXTERNAL_CORPUS to ../shared/fixtures to run the name corpora")


@pytest.mark.parametrize(("name", "key"), [
    ("青岛海尔智家股份有限公司", "海尔智家"),
    ("深圳市騰訊計算機系統有限公司", "腾讯计算机系统"),                # traditional → simplified, city and form
    ("成都京东方光电科技有限公司(成都分公司)", "京东方光电科技"),        # a branch in brackets
    ("宁波舜宇光学科技(集团)有限公司", "舜宇光学科技"),
    ("（上海）联影医疗科技股份有限公司", "联影医疗科技"),               # full-width brackets
    ("ＣＯＮＴＯＳＯ　Ｅｌｅｃｔｒｏｎｉｃｓ Pte. Ltd.", "contosoelectronics"),  # full-width Latin
    ("Northwind Traders GmbH", "northwindtraders"),
])
def test_normalisation(name: str, key: str) -> None:
    assert normalise(name) == key


def test_full_key_keeps_the_legal_form() -> None:
    assert full_key("Jenkins Group") != full_key("Jenkins LLC")
    assert full_key("Klein,  Daniel & Lubowitz") == "klein daniel lubowitz"


PARTIES = [
    Counterparty(counterparty_id="C1", role=Role.CUSTOMER, name="青岛海尔智家股份有限公司", tax_id="914403001922038216",
                 bank_accounts=("6222 0000 1111",)),
    Counterparty(counterparty_id="C2", role=Role.CUSTOMER, name="海尔智家（上海）有限公司"),
    Counterparty(counterparty_id="C3", role=Role.CUSTOMER, name="北京京东世纪贸易有限公司",
                 aliases=("Jingdong Century",)),
    Counterparty(counterparty_id="C4", role=Role.SUPPLIER, name="Jenkins Group", country="GB"),
    Counterparty(counterparty_id="C5", role=Role.SUPPLIER, name="Jenkins LLC", country="GB"),
]


@pytest.mark.parametrize(("name", "extra", "expected", "level"), [
    ("whatever", {"tax_ids": ["914403001922038216"]}, "C1", "tax_id"),
    ("whatever", {"accounts": ["622200001111"]}, "C1", "bank_account"),
    ("海尔智家股份有限公司", {"tax_ids": [None]}, None, "ambiguous"),  # same core name as C2: never guessed
    ("JINGDONG CENTURY", {}, "C3", "exact"),                      # alias from master data
    ("北京京东世纪贸易有限公", {}, "C3", "exact"),                   # the legal form cut short by the bank
    ("北京京东世纪贸易有限公司北京分", {}, "C3", "fuzzy"),           # cut at 35 characters mid-branch
    ("Jenkins Group", {}, "C4", "exact"),                          # the legal form tells two parties apart
    ("Jenkns LLC", {}, "C5", "fuzzy"),
    ("京东世纪", {}, "C3", "short_name"),
    ("Qingdao Haier Zhijia Co., Ltd.", {}, "C1", "pinyin"),       # pinyin with the place: only C1 is in Qingdao
    ("HAIER ZHIJIA", {}, None, "ambiguous"),                      # C1 and C2 spell alike without it
    ("BEIJING JINGDONG SHIJI MAOYI YOUXIAN GONGSI", {}, "C3", "pinyin"),   # the legal form in pinyin too
    ("青岛海尔智家股份有限公司", {}, "C1", "exact"),                 # the legal form decides
    ("南京紫金山贸易有限公司", {}, None, "none"),
])
def test_resolution(name, extra, expected, level) -> None:
    resolution = PartyIndex(PARTIES).resolve([name], **{k: v for k, v in extra.items()})[0]
    assert (resolution.counterparty_id, resolution.level) == (expected, level)


def test_what_a_name_resolves_to_does_not_depend_on_the_rest_of_the_batch() -> None:
    """'Jenkns Group' and 'Jenkns LLC' share a core key: each is scored on its own full key, in any
    batch and any order (the two sides of the cash step resolve their names apart)."""
    names = ["Jenkns Group", "Jenkns LLC", "JENKNS LLC.", "海尔智家", "京东世纪", "北京京东世纪贸易有限公司北京分"]
    alone = [PartyIndex(PARTIES).resolve([name])[0] for name in names]
    assert [r.counterparty_id for r in alone[:3]] == ["C4", "C5", "C5"]
    assert PartyIndex(PARTIES).resolve(names) == alone
    assert PartyIndex(PARTIES).resolve(names[::-1]) == alone[::-1]


def test_short_names_are_found_alike_by_the_scan_and_by_the_index(monkeypatch) -> None:
    """A few short names in a call are found by a scan of every key, more through the index of pieces:
    the same hits in the same order, so the same answers."""
    parties = [*PARTIES, Counterparty(counterparty_id="C6", role=Role.SUPPLIER, name="深圳海尔海尔电器有限公司"),
               Counterparty(counterparty_id="C7", role=Role.SUPPLIER, name="上海京东物流有限公司")]
    index = PartyIndex(parties)
    pieces = {key[start:start + size] for key in index.keys for size in (1, 2, 3, 4, 5)
              for start in range(len(key) - size + 1)}
    assert index._containing("海尔") == index.pieces["海尔"] and len(index.pieces["海尔"]) > 2
    assert all(index._containing(piece) == index.pieces.get(piece, []) for piece in pieces)
    names = ["京东世纪", "海尔", "京东", "海尔电器", "东物流", "紫金"]
    scanned = PartyIndex(parties).resolve(names)
    monkeypatch.setattr("matching.parties.SCANNED_PIECES", 0)
    assert PartyIndex(parties).resolve(names) == scanned
    assert [(r.counterparty_id, r.level) for r in scanned] == [
        ("C3", "short_name"), (None, "ambiguous"), (None, "ambiguous"), ("C6", "short_name"), ("C7", "short_name"),
        (None, "none")]


def test_an_index_made_from_its_tables_resolves_as_the_one_built() -> None:
    """The tables kept of an index (as JSON) make an index that answers every kind of name as the one built
    from the parties does; it reads the parties only for what the core keys cannot answer."""
    names = ["JINGDONG CENTURY", "北京京东世纪贸易有限公", "北京京东世纪贸易有限公司北京分", "Jenkins Group",
             "Jenkns LLC", "京东世纪", "Qingdao Haier Zhijia Co., Ltd.", "HAIER ZHIJIA", "海尔智家股份有限公司",
             "青岛海尔智家股份有限公司", "南京紫金山贸易有限公司", "海尔"]
    built = PartyIndex(PARTIES)
    asked = []
    kept = PartyIndex.from_tables(json.loads(json.dumps(built.tables())), lambda: asked.append(1) or PARTIES)
    assert kept.keys == built.keys and kept.by_key == built.by_key and kept.source == built.source
    plain = ["北京京东世纪贸易有限公", "京东世纪", "南京紫金山贸易有限公司", "海尔"]   # exact, short, fuzzy: core keys
    assert kept.resolve(plain) == built.resolve(plain) and not asked               # … and no party read
    assert kept.resolve(names) == PartyIndex(PARTIES).resolve(names) and asked == [1]   # read once, when needed
    assert kept.resolve(["x"], tax_ids=["914403001922038216"])[0].level == "tax_id"


@pytest.mark.parametrize("kept", [True, False])
def test_a_resolver_is_freed_without_the_cyclic_collector(kept: bool) -> None:
    """The cash step pauses the cyclic collector: a resolver (its index, its cache) must go as soon as the
    last reference to it does, whether its index was built or made of kept tables."""
    import gc
    import weakref

    from matching.resolution import CachedResolver

    tables = PartyIndex(PARTIES).tables()
    resolver = CachedResolver(lambda: PARTIES, {}, tax_ids={}, accounts={},
                              stored_index=(lambda: tables) if kept else None)
    assert resolver.resolve(["京东世纪", "Jenkns LLC"])[0].counterparty_id == "C3" and resolver.built != kept
    gone, index = weakref.ref(resolver), weakref.ref(resolver.index)
    enabled = gc.isenabled()
    gc.disable()
    try:
        del resolver
        assert gone() is None and index() is None
    finally:
        if enabled:
            gc.enable()


@needs_corpus
def test_short_names_resolve_to_their_legal_names() -> None:
    lines = [line.split() for line in (Path(CORPUS) / "names/companynameparser/tests/groundtruth.txt")
             .read_text(encoding="utf-8").splitlines() if line.strip()]
    legal = [line[0] for line in lines]
    labelled = [(line[0], line[1]) for line in lines if len(line) > 1]
    index = PartyIndex(Counterparty(counterparty_id=str(i), role=Role.CUSTOMER, name=n) for i, n in enumerate(legal))
    found = index.resolve([short for _, short in labelled])
    correct = sum(r.counterparty_id is not None and legal[int(r.counterparty_id)] == full
                  for (full, _), r in zip(labelled, found, strict=True))
    accuracy = correct / len(labelled)
    print(f"companynameparser short → legal name top-1: {accuracy:.1%} of {len(labelled)}")
    assert accuracy >= 0.95


@needs_corpus
def test_corrupted_names_resolve_to_their_originals() -> None:
    def names(file: str) -> list[str]:
        with (Path(CORPUS) / "names/name_matching/test" / file).open(encoding="utf-8") as handle:
            return [row["company_name"] for row in csv.DictReader(handle)]

    original, corrupted = names("test_names.csv"), names("adjusted_test_names.csv")
    index = PartyIndex(Counterparty(counterparty_id=str(i), role=Role.CUSTOMER, name=n, country="GB")
                       for i, n in enumerate(original))
    found = index.resolve(corrupted)
    correct = sum(r.counterparty_id is not None and original[int(r.counterparty_id)] == original[i]
                  for i, r in enumerate(found))
    accuracy = correct / len(corrupted)
    print(f"name_matching corrupted → original top-1: {accuracy:.1%} of {len(corrupted)}")
    assert accuracy >= 0.95


def test_names_cut_at_35_characters_by_the_bank_resolve() -> None:
    parties = [*PARTIES, Counterparty(counterparty_id="C6", role=Role.CUSTOMER, country="SG",
                                      name="Contoso Electronics International Trading Pte. Ltd."),
               Counterparty(counterparty_id="C7", role=Role.CUSTOMER, country="SG", name="Contoso Foods Pte. Ltd.")]
    cut = "CONTOSO ELECTRONICS INTERNATIONAL TRADING PTE. LTD."[:35]
    long_chinese = "中国石油天然气股份有限公司广东销售分公司湛江霞山经营部加油站管理中心有限公司"
    parties.append(Counterparty(counterparty_id="C8", role=Role.CUSTOMER, name=long_chinese))
    found = PartyIndex(parties).resolve([cut, long_chinese[:35]])
    assert [(r.counterparty_id, r.level) for r in found] == [("C6", "fuzzy"), ("C8", "fuzzy")]
