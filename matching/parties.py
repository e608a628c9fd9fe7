"""Which counterparty a name, tax id or bank account belongs to.

Names are compared on a normalised key: full-width → half-width (NFKC), traditional →
simplified, case and punctuation dropped, legal forms (有限公司, 股份有限公司, Co., Ltd.,
GmbH …) and a leading place name (省/市/区, or in brackets) removed. Exact keys resolve by
dictionary; the rest is scored in one vectorised rapidfuzz ``cdist`` over unique keys.

    >>> normalise("深圳市騰訊計算機系統有限公司")
    '腾讯计算机系统'
    >>> normalise("青岛海尔智家股份有限公")        # cut short by the bank
    '海尔智家'
    >>> normalise("CONTOSO ELECTRONICS PTE. LTD.")
    'contosoelectronics'
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib.metadata import version
from pathlib import Path
from typing import NamedTuple

import numpy as np
import zhconv
from rapidfuzz import fuzz, process

from ledger.counterparties import Counterparty, PartyNames
from matching import places
from matching.places import load_places, strip_leading_places

LEGAL_FORMS_ZH = ("股份有限公司", "有限责任公司", "集团有限公司", "集团股份有限公司", "有限公司", "股份公司",
                  "责任公司", "集团公司", "分公司", "公司", "集团")
LEGAL_FORMS_EN = ("co", "ltd", "limited", "llc", "inc", "incorporated", "gmbh", "ag", "pte", "plc", "corp",
                  "corporation", "company", "group", "branch", "the", "and", "sa", "bv", "kk", "singapore",
                  "youxian", "gongsi", "gufen", "zeren", "jituan", "fengongsi")   # the Chinese forms in pinyin
_BRACKETS = re.compile(r"[(（\[【][^)）\]】]*[)）\]】]")
_ZH_FORMS = re.compile("(?:" + "|".join(LEGAL_FORMS_ZH) + ")$")
# A legal form the bank cut short (35 characters, or a field shorter still): 股份有限公, 有限责…
_ZH_CUT_FORMS = re.compile("(?:" + "|".join(sorted({form[:n] for form in LEGAL_FORMS_ZH for n in range(2, len(form))},
                                                    key=len, reverse=True)) + ")$")
_EN_WORD = re.compile(r"[a-z0-9]+")
_CJK = re.compile(r"[\u4e00-\u9fff]")
SCANNED_PIECES = 100   # short names in one call up to which a scan answers them, beyond: the index of pieces


@lru_cache(maxsize=200_000)
def normalise(name: str, *, keep_places: bool = False) -> str:
    text = zhconv.convert(unicodedata.normalize("NFKC", name), "zh-cn").lower().strip()
    text = _BRACKETS.sub("", text)  # (上海), (成都分公司): places and branches in brackets
    if re.search(r"[\u4e00-\u9fff]", text):
        text = re.sub(r"[\s\W_]+", "", text)
        if not _ZH_FORMS.search(text):
            cut = _ZH_CUT_FORMS.sub("", text)
            text = cut if len(cut) >= 2 else text
        for _ in range(3):  # 集团有限公司 → 集团 → …
            stripped = _ZH_FORMS.sub("", text)
            if stripped == text or len(stripped) < 2:
                break
            text = stripped
        if keep_places:
            return text
        placeless, _removed = strip_leading_places(text, load_places())
        return placeless
    words = [w for w in _EN_WORD.findall(text) if w not in LEGAL_FORMS_EN]
    return "".join(words) or "".join(_EN_WORD.findall(text))


@lru_cache(maxsize=20_000)
def _syllable(character: str) -> str:
    from pypinyin import lazy_pinyin  # its phrase tables take ~50 MB: loaded only where pinyin is needed

    return "".join(lazy_pinyin(character))


def pinyin_key(name: str) -> str:
    """A Chinese name as toneless pinyin without spaces, the way banks and foreign systems spell it.

        >>> pinyin_key("青岛海尔智家股份有限公司"), pinyin_key("海尔智家")
        ('qingdaohaierzhijia', 'haierzhijia')
    """
    return "".join(_syllable(c) if _CJK.match(c) else c for c in normalise(name, keep_places=True))


@lru_cache(maxsize=200_000)
def full_key(name: str) -> str:
    """The whole name, legal form included, without case and punctuation: for Latin-script names,
    where 'Jenkins Group' and 'Jenkins LLC' are different parties."""
    text = zhconv.convert(unicodedata.normalize("NFKC", name), "zh-cn").lower()
    return " ".join(re.sub(r"[\W_]+", " ", text).split())


@dataclass(frozen=True, slots=True)
class Resolution:
    counterparty_id: str | None
    score: float
    level: str          # tax_id, bank_account, exact, alias, fuzzy, ambiguous, none
    matched: str = ""   # the name or id it matched


def by_identifier(by_tax: dict[str, str], by_account: dict[str, str], tax_id: str | None,
                  account: str | None) -> Resolution | None:
    """A tax id (统一社会信用代码) or a bank account on file names the party outright."""
    if tax_id and tax_id in by_tax:
        return Resolution(by_tax[tax_id], 1.0, "tax_id", tax_id)
    account = (account or "").replace(" ", "")
    if account and account in by_account:
        return Resolution(by_account[account], 0.99, "bank_account", account)
    return None


@lru_cache(maxsize=1)
def index_code_version() -> str:
    """What an index's keys depend on besides the master data: the code and place table that normalise
    names, and the Unicode and Chinese conversion tables of the libraries doing it (an index kept by
    other code is not used)."""
    digest = hashlib.sha256(f"{unicodedata.unidata_version} zhconv {version('zhconv')}".encode())
    for path in (Path(__file__), Path(places.__file__), places.PLACES_FILE):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:32]


class FullKeys(NamedTuple):
    owners: dict[str, set[str]]   # full key → parties
    keys: list[str]               # those keys, sorted
    source: dict[str, str]        # full key → the first name it came from


class PartyIndex:
    """Resolve names, tax ids and bank accounts to counterparty ids."""

    def __init__(self, parties: Iterable[Counterparty | PartyNames], *, threshold: float = 0.80, margin: float = 0.05,
                 keys: Mapping[str, str] | None = None) -> None:
        """``keys``: normalised keys already known (name → key), e.g. from the resolution cache."""
        keys = keys or {}
        self.parties = {p.counterparty_id: p for p in parties}
        self.threshold, self.margin = threshold, margin
        # core key → parties, and core (later pinyin) key → the name it came from
        self.by_key, self.source = self._key_table(lambda name: keys.get(name) or normalise(name))
        self.keys = sorted(self.by_key)

    def tables(self) -> dict[str, list]:
        """What resolving a name needs, as plain lists (JSON): every core key in order, its parties, and
        the name it came from. ``from_tables`` makes the same index of them without reading or normalising
        a single master name (``flows.names`` keeps them for the master data they were made of)."""
        return {"keys": self.keys, "owners": [sorted(self.by_key[key]) for key in self.keys],
                "source": [self.source[key] for key in self.keys]}

    @classmethod
    def from_tables(cls, tables: Mapping[str, list], parties: Callable[[], Iterable[Counterparty | PartyNames]], *,
                    threshold: float = 0.80, margin: float = 0.05) -> PartyIndex:
        """The index ``tables`` was made of; ``parties`` gives the parties themselves, asked only where
        a name needs more than the core keys (a Latin name's full key, pinyin, a tax id or an account)."""
        index = cls.__new__(cls)
        index._parties = parties
        index.threshold, index.margin = threshold, margin
        index.keys = list(tables["keys"])
        index.by_key = dict(zip(index.keys, map(set, tables["owners"]), strict=True))
        index.source = dict(zip(index.keys, tables["source"], strict=True))
        return index

    @cached_property
    def parties(self) -> dict[str, Counterparty | PartyNames]:   # an index made ``from_tables``: read on first need
        return {p.counterparty_id: p for p in self._parties()}

    @cached_property
    def by_tax(self) -> dict[str, str]:
        return {p.tax_id: p.counterparty_id for p in self.parties.values() if p.tax_id}

    @cached_property
    def by_account(self) -> dict[str, str]:
        return {a: p.counterparty_id for p in self.parties.values() for a in p.bank_accounts}

    def _key_table(self, key_of: Callable[[str], str]) -> tuple[dict[str, set[str]], dict[str, str]]:
        """(key → parties, key → the first name it came from) over every party's names."""
        owners: dict[str, set[str]] = {}
        source: dict[str, str] = {}
        for party in self.parties.values():
            for name in party.names:
                key = key_of(name)
                if key:
                    owners.setdefault(key, set()).add(party.counterparty_id)
                    source.setdefault(key, name)
        return owners, source

    @cached_property
    def full(self) -> FullKeys:
        """Full keys (legal form kept), built on first need (a Latin name, or a core key two parties
        share): most runs have neither, and a full key costs a conversion per master name."""
        owners, source = self._key_table(full_key)
        return FullKeys(owners, sorted(owners), source)

    @cached_property
    def pinyin(self) -> dict[str, set[str]]:
        """Pinyin of every Chinese name, with and without its leading place (built on first need)."""
        table: dict[str, set[str]] = {}
        for party in self.parties.values():
            for name in party.names:
                if _CJK.search(name):
                    spelled = pinyin_key(name)
                    bare = "".join(_syllable(c) if _CJK.match(c) else c for c in normalise(name))
                    for key in {spelled, bare}:
                        table.setdefault(key, set()).add(party.counterparty_id)
                        self.source.setdefault(key, name)
        return table

    @cached_property
    def pieces(self) -> dict[str, list[tuple[int, str]]]:
        """Short names (简称) are a piece of the legal name: an index of 2–4 character pieces of
        every Chinese key, with where the piece starts, answers them without a scan (built on first need,
        for more than ``SCANNED_PIECES`` short names in one call: see ``_containing``)."""
        pieces: dict[str, list[tuple[int, str]]] = {}
        for key in self.keys:
            if _CJK.search(key):
                for size in (2, 3, 4):
                    for start in range(len(key) - size + 1):
                        pieces.setdefault(key[start:start + size], []).append((start, key))
        return pieces

    @cached_property
    def _chinese(self) -> tuple[str, list[int], list[str]]:
        """Every Chinese key in one text, in key order, a NUL between two; where each key starts; the keys."""
        keys = [key for key in self.keys if _CJK.search(key)]
        starts, at = [], 0
        for key in keys:
            starts.append(at)
            at += len(key) + 1
        return "\x00".join(keys), starts, keys

    def _containing(self, piece: str) -> list[tuple[int, str]]:
        """``pieces[piece]`` found by a scan of every Chinese key at once (a millisecond for 78,000 keys; the
        index takes 0.8 s to build, so a run with a few short names scans), in the index's order: by key,
        then where in it."""
        if not 2 <= len(piece) <= 4:
            return []
        text, starts, keys = self._chinese
        hits, at = [], text.find(piece)
        while at >= 0:
            n = bisect_right(starts, at) - 1
            hits.append((at - starts[n], keys[n]))
            at = text.find(piece, at + 1)
        return hits

    def resolve(self, names: Sequence[str], tax_ids: Sequence[str | None] | None = None,
                accounts: Sequence[str | None] | None = None) -> list[Resolution]:
        results: list[Resolution | None] = [None] * len(names)
        pending: dict[str, list[int]] = {}
        identified = bool(tax_ids or accounts)   # else no party need be read for its tax id or accounts
        for i, name in enumerate(names):
            results[i] = by_identifier(self.by_tax, self.by_account, tax_ids[i] if tax_ids else None,
                                       accounts[i] if accounts else None) if identified else None
            if results[i] is None:
                key = normalise(name) if name else ""
                owners = self.by_key.get(key)
                if owners and len(owners) > 1:  # 'Jenkins Group' / 'Jenkins LLC': the legal form decides
                    owners = self.full.owners.get(full_key(name)) or owners
                if owners and len(owners) == 1:
                    results[i] = Resolution(next(iter(owners)), 0.98, "exact", self.source.get(key, name))
                elif owners:
                    results[i] = Resolution(None, 0.98, "ambiguous", self.source[key])
                elif key:
                    pending.setdefault(key, []).append(i)
                else:
                    results[i] = Resolution(None, 0.0, "none")
        brief = [key for key in pending if _CJK.search(key) and len(key) <= 4]
        hits = (lambda key: self.pieces.get(key, [])) if len(brief) > SCANNED_PIECES else self._containing
        short = {key: self._short_name(hits(key)) for key in brief}
        chinese = [key for key in pending if short.get(key) is None and _CJK.search(key)]
        for key in [k for k in pending if not _CJK.search(k)]:   # 'Qingdao Haier Zhijia Co., Ltd.'
            owners = self.pinyin.get(key) if len(key) >= 6 else None
            if owners:
                short[key] = (Resolution(next(iter(owners)), 0.95, "pinyin", self.source[key]) if len(owners) == 1
                              else Resolution(None, 0.95, "ambiguous", self.source[key]))
        # Latin names are scored on their full key, each on its own: 'Jenkins Group' and 'Jenkins LLC'
        # share a core key, and what one of them resolves to never depends on the other being in the batch
        latin = {key for key in pending if not _CJK.search(key) and key not in short}
        full = {i: full_key(names[i]) for key in latin for i in pending[key]}
        fuzzy = self._fuzzy(chinese, self.keys, self.by_key, self.source, partial=True)
        fuzzy_latin = self._fuzzy(list(dict.fromkeys(full.values())), self.full.keys, self.full.owners,
                                  self.full.source, partial=False) if full else {}
        for key, indexes in pending.items():
            for i in indexes:
                results[i] = short.get(key) or (fuzzy_latin[full[i]] if key in latin else fuzzy[key])
        return results  # type: ignore[return-value]

    def _short_name(self, hits: Sequence[tuple[int, str]]) -> Resolution | None:
        """A 简称 is found inside one party's name (``hits``: where in which keys), best where the brand
        stands (the start of the key)."""
        owners = {owner for _start, k in hits for owner in self.by_key[k]}
        if not owners:
            return None
        if len(owners) > 1:
            leading = {owner for start, k in hits if start == 0 for owner in self.by_key[k]}
            if len(leading) != 1:
                return Resolution(None, 0.85, "ambiguous", self.source[hits[0][1]])
            owners = leading
            hits = [(start, k) for start, k in hits if start == 0]
        return Resolution(next(iter(owners)), 0.9, "short_name", self.source[hits[0][1]])

    def _fuzzy(self, queries: list[str], keys: list[str], owners_of: dict[str, set[str]], source: dict[str, str],
               partial: bool) -> dict[str, Resolution]:
        """Score unique queries against unique keys in one vectorised pass (rapidfuzz cdist).

        Chinese core keys add partial_ratio, damped when lengths differ, for bank truncation;
        Latin full keys add token_sort_ratio for reordered words.
        """
        if not queries or not keys:
            return {q: Resolution(None, 0.0, "none") for q in queries}
        scores = process.cdist(queries, keys, scorer=fuzz.ratio, workers=-1, dtype=np.float32)
        if partial:
            part = process.cdist(queries, keys, scorer=fuzz.partial_ratio, workers=-1, dtype=np.float32)
            q_len = np.array([len(q) for q in queries], dtype=np.float32)[:, None]
            k_len = np.array([len(k) for k in keys], dtype=np.float32)[None, :]
            damping = np.clip(np.minimum(q_len, k_len) / np.maximum(q_len, k_len) + 0.35, 0, 1)
            scores = np.maximum(scores, part * damping)
        else:
            scores = np.maximum(scores, process.cdist(queries, keys, scorer=fuzz.token_sort_ratio, workers=-1,
                                                      dtype=np.float32))
        scores /= 100.0
        out: dict[str, Resolution] = {}
        top = np.argsort(-scores, axis=1, kind="stable")[:, :6]
        for row, query in enumerate(queries):
            best_key = keys[top[row, 0]]
            best = float(scores[row, top[row, 0]])
            owners = owners_of[best_key]
            rival = next((float(scores[row, j]) for j in top[row, 1:] if owners_of[keys[j]] != owners), 0.0)
            # Below the threshold only a clear winner counts: far ahead of every other party.
            clear = best >= self.threshold - 0.15 and best - rival >= 3 * self.margin
            if best < self.threshold and not clear:
                out[query] = Resolution(None, round(best, 4), "none", source[best_key])
            elif len(owners) > 1 or best - rival < self.margin:
                out[query] = Resolution(None, round(best, 4), "ambiguous", source[best_key])
            else:
                out[query] = Resolution(next(iter(owners)), round(best * 0.95, 4), "fuzzy", source[best_key])
        return out
