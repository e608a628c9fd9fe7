"""Making valid 统一社会信用代码 for synthetic data (GB 32100-2015 with a GB 11714 org code)."""

from __future__ import annotations

import random

from stdnum.cn import uscc

_ORG_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
REGIONS = ("110108", "310115", "440300", "330106", "320505", "510107", "420106", "370202")


def _org_check(body: str) -> str:
    value = 11 - sum(int(c, 36) * w for c, w in zip(body, _ORG_WEIGHTS)) % 11
    return {10: "X", 11: "0"}.get(value, str(value))


def make_uscc(rng: random.Random, region: str | None = None) -> str:
    """A code that passes stdnum's cn.uscc check (and the inner organisation-code check)."""
    body = "".join(rng.choice("0123456789") for _ in range(8))
    org = body + _org_check(body)
    if org[-1] not in _ORG_ALPHABET:  # pragma: no cover - 'X' is in the alphabet
        raise AssertionError(org)
    first17 = "91" + (region or rng.choice(REGIONS)) + org
    return uscc.validate(first17 + uscc.calc_check_digit(first17))
