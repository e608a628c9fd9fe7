"""Profiles: every shipped profile validates; a bad one gives one message naming file, key,
what was found and what was expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.tabular.profile import PROFILES_DIR, ProfileError, load_profile, parse_profile

MINIMAL = """
name = "t"
header = ["日期", "金额"]
date = "日期"
currency = "CNY"
[amount]
column = "金额"
"""


@pytest.mark.parametrize("path", sorted(PROFILES_DIR.glob("*.toml")), ids=lambda p: p.stem)
def test_shipped_profiles_validate(path: Path) -> None:
    profile = load_profile(path.stem)
    assert profile.name == path.stem
    assert set(profile.header) <= profile.columns


def test_at_least_the_required_banks_ship() -> None:
    names = {path.stem for path in PROFILES_DIR.glob("*.toml")}
    assert {"icbc_credit", "icbc_debit", "cmb_debit", "ccb", "boc_credit", "boc_debit",
            "bocom_debit", "alipay", "wechat"} <= names


def test_minimal_profile() -> None:
    profile = parse_profile(MINIMAL, "t.toml")
    assert profile.amount.column == "金额" and profile.currency == "CNY"


@pytest.mark.parametrize(("text", "key", "fragment"), [
    ("colour = 'red'\n" + MINIMAL, "colour", "Extra inputs are not permitted"),
    (MINIMAL.replace('date = "日期"\n', ""), "date", "found nothing"),
    (MINIMAL + 'colour = "red"\n', "amount.colour", "Extra inputs"),
    (MINIMAL.replace('column = "金额"', 'column = "金额"\ndebit = "借"\ncredit = "贷"'), "amount",
     "either 'column'"),
    (MINIMAL.replace('column = "金额"', 'debit = "借"'), "amount", "'debit' and 'credit' go together"),
    (MINIMAL.replace('column = "金额"', 'column = "金额"\ndirection = "收/支"'), "amount",
     "'direction' needs 'directions'"),
    (MINIMAL.replace('column = "金额"', 'column = "金额"\ndirection = "收/支"\n'
                                       'directions = { "收入" = "sideways" }'),
     "amount.directions.收入", "'in', 'out' or 'ignore'"),
    (MINIMAL.replace('currency = "CNY"', 'currency = "XXX"'), "(top level)", "unknown currency"),
    (MINIMAL.replace('currency = "CNY"', 'currency_column = "币种"\ncurrency = "CNY"'),
     "(top level)", "exactly one of"),
    (MINIMAL.replace('header = ["日期", "金额"]', 'header = "日期"'), "header", "valid list"),
    (MINIMAL.replace('column = "金额"', 'column = "金额"\nnote = "(已退款"'), "amount",
     "'note' is not a regular expression"),
])
def test_bad_profile_names_file_and_key(text: str, key: str, fragment: str) -> None:
    with pytest.raises(ProfileError) as error:
        parse_profile(text, "bank.toml")
    message = str(error.value)
    assert message.startswith(f"bank.toml: key '{key}'"), message
    assert fragment in message and "found" in message


def test_profile_that_is_not_toml() -> None:
    with pytest.raises(ProfileError, match=r"bank.toml: not valid TOML"):
        parse_profile("name = ", "bank.toml")


def test_unknown_profile_lists_the_known_ones() -> None:
    with pytest.raises(ProfileError, match=r"known profiles: .*icbc_debit"):
        load_profile("nosuchbank")
