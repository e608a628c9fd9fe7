"""Which counterparty a name, tax id or bank account belongs to.

Names are compared on a normalised key: full-width → half-width (NFKC), traditional →
simplified, case and punctuation dropped, legal forms (有限公司, 股份有限公司, Co., Ltd.,
GmbH …) and a leading place name (省/市/区, or in brackets) removed. Exact keys resolve by
dictionary; the rest is scored in one vectorised rapidfuzz ``cdist`` over unique keys.

    >>> normalise("深圳市騰訊計算機系統有限公司")
    '腾讯计算机系统'
    >>> normalise("CONTOSO ELECTRONICS PTE. LTD.")
    'contosoelectronics'
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import zhconv
from rapidfuzz import fuzz, process

from ledger.counterparties import Counterparty

LEGAL_FORMS_ZH = ("股份有限公司", "有限责任公司", "集团有限公司", "集团股份有限公司", "有限公司", "股份公司",
                  "责任公司", "集团公司", "分公司", "公司", "集团")
LEGAL_FORMS_EN = ("co", "ltd", "limited", "llc", "inc", "incorporated", "gmbh", "ag", "pte", "plc", "corp",
                  "corporation", "company", "group", "branch", "the", "and", "sa", "bv", "kk", "singapore")
PLACES = ("北京", "上海", "天津", "重庆", "河北", "山西", "辽宁", "吉林", "黑龙江", "江苏", "浙江", "安徽", "福建",
          "江西", "山东", "河南", "湖北", "湖南", "广东", "海南", "四川", "贵州", "云南", "陕西", "甘肃", "青海",
          "台湾", "内蒙古", "广西", "西藏", "宁夏", "新疆", "香港", "澳门", "深圳", "广州", "杭州", "南京", "苏州",
          "无锡", "宁波", "厦门", "青岛", "大连", "成都", "武汉", "西安", "长沙", "郑州", "济南", "合肥", "福州",
          "东莞", "佛山", "珠海", "中山", "温州", "绍兴", "常州", "南通", "烟台", "沈阳", "哈尔滨", "长春",
          "石家庄", "太原", "昆明", "贵阳", "南宁", "南昌", "兰州", "乌鲁木齐", "呼和浩特")
_PLACE = re.compile("^(?:" + "|".join(sorted(PLACES, key=len, reverse=True)) + ")(?:省|市|自治区|特别行政区)?"
                    "(?:[\u4e00-\u9fff]{1,3}(?:区|县))?")
_BRACKETS = re.compile(r"[(（\[【][^)）\]】]*[)）\]】]")
_ZH_FORMS = re.compile("(?:" + "|".join(LEGAL_FORMS_ZH) + ")$")
_EN_WORD = re.compile(r"[a-z0-9]+")


@lru_cache(maxsize=200_000)
def normalise(name: str) -> str:
    text = zhconv.convert(unicodedata.normalize("NFKC", name), "zh-cn").lower().strip()
    text = _BRACKETS.sub("", text)  # (上海), (成都分公司): places and branches in brackets
    if re.search(r"[\u4e00-\u9fff]", text):
        text = re.sub(r"[\s\W_]+", "", text)
        for _ in range(3):  # 集团有限公司 → 集团 → …
            stripped = _ZH_FORMS.sub("", text)
            if stripped == text or len(stripped) < 2:
                break
            text = stripped
        placeless = _PLACE.sub("", text)
        return placeless if len(placeless) >= 2 else text
    words = [w for w in _EN_WORD.findall(text) if w not in LEGAL_FORMS_EN]
    return "".join(words) or "".join(_EN_WORD.findall(text))


@dataclass(frozen=True, slots=True)
class Resolution:
    counterparty_id: str | None
    score: float
    level: str          # tax_id, bank_account, exact, alias, fuzzy, ambiguous, none
    matched: str = ""   # the name or id it matched


class PartyIndex:
    """Resolve names, tax ids and bank accounts to counterparty ids."""

    def __init__(self, parties: Iterable[Counterparty], *, threshold: float = 0.80, margin: float = 0.05) -> None:
        self.parties = {p.counterparty_id: p for p in parties}
        self.threshold, self.margin = threshold, margin
        self.by_tax = {p.tax_id: p.counterparty_id for p in self.parties.values() if p.tax_id}
        self.by_account = {a: p.counterparty_id for p in self.parties.values() for a in p.bank_accounts}
        owners: dict[str, set[str]] = {}
        self.source: dict[str, str] = {}
        for party in self.parties.values():
            for name in party.names:
                key = normalise(name)
                if key:
                    owners.setdefault(key, set()).add(party.counterparty_id)
                    self.source.setdefault(key, name)
        self.by_key = {key: ids for key, ids in owners.items()}
        self.keys = sorted(self.by_key)

    def resolve(self, names: Sequence[str], tax_ids: Sequence[str | None] | None = None,
                accounts: Sequence[str | None] | None = None) -> list[Resolution]:
        results: list[Resolution | None] = [None] * len(names)
        pending: dict[str, list[int]] = {}
        for i, name in enumerate(names):
            tax_id = tax_ids[i] if tax_ids else None
            account = (accounts[i] or "").replace(" ", "") if accounts else ""
            if tax_id and tax_id in self.by_tax:
                results[i] = Resolution(self.by_tax[tax_id], 1.0, "tax_id", tax_id)
            elif account and account in self.by_account:
                results[i] = Resolution(self.by_account[account], 0.99, "bank_account", account)
            else:
                key = normalise(name) if name else ""
                owners = self.by_key.get(key)
                if owners and len(owners) == 1:
                    results[i] = Resolution(next(iter(owners)), 0.98, "exact", self.source[key])
                elif owners:
                    results[i] = Resolution(None, 0.98, "ambiguous", self.source[key])
                elif key:
                    pending.setdefault(key, []).append(i)
                else:
                    results[i] = Resolution(None, 0.0, "none")
        for key, resolution in self._fuzzy(list(pending)).items():
            for i in pending[key]:
                results[i] = resolution
        return results  # type: ignore[return-value]

    def _fuzzy(self, queries: list[str]) -> dict[str, Resolution]:
        if not queries or not self.keys:
            return {q: Resolution(None, 0.0, "none") for q in queries}
        # One vectorised pass over unique keys; partial_ratio catches bank truncation.
        full = process.cdist(queries, self.keys, scorer=fuzz.ratio, workers=-1, dtype=np.uint8)
        partial = process.cdist(queries, self.keys, scorer=fuzz.partial_ratio, workers=-1, dtype=np.uint8)
        lengths = np.array([[min(len(q), len(k)) / max(len(q), len(k)) for k in self.keys] for q in queries])
        scores = np.maximum(full, partial * np.clip(lengths + 0.35, 0, 1)) / 100.0
        out: dict[str, Resolution] = {}
        for row, query in enumerate(queries):
            order = np.argsort(-scores[row], kind="stable")[:2]
            best = float(scores[row, order[0]])
            best_key = self.keys[order[0]]
            second = float(scores[row, order[1]]) if len(order) > 1 else 0.0
            owners = self.by_key[best_key]
            second_owners = self.by_key[self.keys[order[1]]] if len(order) > 1 else owners
            if best < self.threshold:
                out[query] = Resolution(None, round(best, 4), "none", self.source[best_key])
            elif len(owners) > 1 or (best - second < self.margin and second_owners != owners):
                out[query] = Resolution(None, round(best, 4), "ambiguous", self.source[best_key])
            else:
                out[query] = Resolution(next(iter(owners)), round(best * 0.95, 4), "fuzzy", self.source[best_key])
        return out
