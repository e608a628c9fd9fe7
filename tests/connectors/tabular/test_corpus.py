"""External corpus: each shipped profile on the real export layouts in
$YECAI_EXTERNAL_CORPUS/bank/cn/example, compared with the expected ``.beancount`` there.

The expected files come from another tool with its own rules (it drops some rows, names
payees its own way, and signs postings by account type), so a transaction matches on
(date, absolute amount, currency) and its counterparty agrees when the expected payee or
narration appears in our counterparty/remittance text (or the payee is a fixed bank name).
Each case records how many of the expected transactions must match; the differences are
explained in the case's note.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from connectors.contract import Record, Skipped
from connectors.tabular.connector import TabularConnector
from ledger.documents import BankTransaction

CORPUS_ENV = "YECAI_EXTERNAL_CORPUS"
_HEADER = re.compile(r'^(\d{4}-\d{2}-\d{2}) [*!] "([^"]*)"(?: "([^"]*)")?')
_POSTING = re.compile(r"^\s+[A-Z][\w:-]*\s+(-?[\d.]+) ([A-Z]{3})\s*$")


@dataclass(frozen=True)
class Expected:
    date: str
    amount: Decimal
    currency: str
    payee: str
    narration: str


def expected_transactions(path: Path) -> list[Expected]:
    found: list[Expected] = []
    header: re.Match[str] | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if match := _HEADER.match(line):
            header = match
        elif header and (posting := _POSTING.match(line)):
            found.append(Expected(header.group(1), abs(Decimal(posting.group(1))),
                                  posting.group(2), header.group(2), header.group(3) or ""))
            header = None
    return found


def corpus() -> Path:
    root = os.environ.get(CORPUS_ENV)
    if not root:
        pytest.skip(f"{CORPUS_ENV} is unset; point it at the shared fixtures "
                    f"(e.g. {CORPUS_ENV}=/work/shared/fixtures) to run the external corpus")
    return Path(root) / "bank" / "cn" / "example"


def _squash(text: str) -> str:
    return "".join(text.split())


def counterparty_agrees(txn: BankTransaction, expected: Expected, bank_names: set[str]) -> bool:
    ours = _squash(f"{txn.counterparty}{txn.counterparty_account}{txn.remittance}")
    if expected.payee in bank_names or not expected.payee:
        # the other tool joins the columns of its narration with ' - '
        return all(_squash(part) in ours for part in expected.narration.split(" - "))
    payee = _squash(expected.payee)
    return payee in ours or (_squash(txn.counterparty) in payee and bool(txn.counterparty))


# (profile, file under the corpus folder, expected file, matched by date+amount, of which
#  the counterparty agrees)
CASES = [
    ("icbc_credit", "icbc/credit/example-icbc-credit-records.csv",
     "icbc/credit/example-icbc-credit-output.beancount", 4, 4),
    ("icbc_debit", "icbc/debit-v1/example-icbc-debit-v1-records.csv",
     "icbc/debit-v1/example-icbc-debit-v1-output.beancount", 7, 7),
    ("icbc_debit", "icbc/debit-v2/example-icbc-debit-v2-records.csv",
     "icbc/debit-v2/example-icbc-debit-v2-output.beancount", 7, 7),
    ("cmb_debit", "cmb/debit/example-cmb-records.csv",
     "cmb/debit/example-cmb-debit-output.beancount", 5, 5),
    ("ccb", "ccb/交易明细_xxxx_2025xxxx_2025xxxx.xls", "ccb/example-ccb-output.beancount", 6, 6),
    ("boc_credit", "boc/credit/example-boc-records.csv",
     "boc/credit/example-boc-credit-output.beancount", 7, 7),
    ("boc_debit", "boc/debit/example-boc-records.csv",
     "boc/debit/example-boc-debit-output.beancount", 8, 8),
    ("bocom_debit", "bocom_debit/example-bocom_debit-records.csv",
     "bocom_debit/example-bocom_debit-output.beancount", 6, 6),
    ("bocom_credit", "bocom_credit/example-bocom_credit-records.csv",
     "bocom_credit/example-bocom_credit-output.beancount", 8, 8),
    # 2 of 7 expected are 不计收支 rows (a fund sale, a refund) that the profile declares ignored
    ("alipay", "alipay/example-alipay-records.csv", "alipay/example-alipay-output.beancount", 5, 5),
    # 11 of 27 expected are neutral rows (收/支 '/': withdrawals, 理财通, top-ups), declared
    # ignored; 2 payees differ because the export itself mis-quotes a cell (a stray '"')
    ("wechat", "wechat/example-wechat-records.csv", "wechat/example-wechat-output.beancount", 16, 14),
    ("wechat", "wechat/example-wechat-records.xlsx", "wechat/example-wechat-output.beancount", 16, 14),
    # the other tool keeps 利息税 +0.00, a zero amount, which is no bank transaction (rejected, named)
    ("abc_debit", "abc_debit/example-abc_debit-records.csv", "abc_debit/example-abc_debit-output.beancount", 4, 4),
    ("cgb_credit", "cgb_credit/example-cgb_credit-records.csv",
     "cgb_credit/example-cgb_credit-output.beancount", 4, 4),
    ("citic_credit", "citic/credit/example-citic-records.xls", "citic/credit/example-citic-credit-output.beancount",
     12, 12),
    ("spdb_debit", "spdb_debit/example-spdb_debit-records.xls", "spdb_debit/example-spdb_debit-output.beancount",
     4, 4),
    # 7 of 22 expected are refunds the export marks 不计收支 (declared ignored, and counted)
    ("jd", "jd/example-jd-records.csv", "jd/example-jd-output.beancount", 15, 15),
    ("meituan", "mt/example-mt-records.csv", "mt/example-mt-output.beancount", 18, 18),
]
BANK_NAMES = {"CMB", "BOCOM Credit", "ICBC", "BOC", "CCB", "ABC Debit", "CGB Credit", "CITIC"}

# Exports in the corpus without a profile, and why (each is listed, so a new one is noticed):
# cmb/credit prints dates without the year ('12/29', the year only in a title line); hsbchk
# prints day-first dates (24/03/2025) that a profile cannot yet declare; htsec and hxsec are
# securities trade records, not bank statements; bmo and td are Canadian banks.
WITHOUT_PROFILE = {"cmb/credit/example-cmb-records.csv", "hsbchk/credit/example-hsbchk-credit-records.csv",
                   "hsbchk/debit/example-hsbchk-debit-records.csv", "htsec/example-htsec-records.xlsx",
                   "hxsec/example-hxsec-records.xls", "bmo/credit/example-bmo-records.csv",
                   "bmo/debit/example-bmo-records.csv", "td/example-td-records.csv"}


def compare(profile: str, export: Path, expected_file: Path) -> tuple[int, int, list[str]]:
    connector = TabularConnector.from_options({"path": str(export), "profile": profile,
                                               "account_no": "TEST"})
    items = list(connector.fetch())
    problems = [str(item.problem) for item in items if isinstance(item, Skipped)]
    ours = [item.document for item in items if isinstance(item, Record)]
    remaining = list(ours)
    matched = agreed = 0
    for expected in expected_transactions(expected_file):
        # the other tool books some layouts on the transaction date, ours on the posting date
        candidates = [t for t in remaining
                      if expected.date in (t.booking_date.isoformat(), t.value_date.isoformat())
                      and (abs(t.amount.amount), t.amount.currency) == (expected.amount, expected.currency)]
        if not candidates:
            problems.append(f"not parsed: {expected}")
            continue
        matched += 1
        agreeing = [t for t in candidates if counterparty_agrees(t, expected, BANK_NAMES)]
        if agreeing:
            agreed += 1
        else:
            problems.append(f"counterparty differs: expected {expected.payee!r}/{expected.narration!r}, "
                            f"parsed {[t.counterparty for t in candidates]}")
        remaining.remove((agreeing or candidates)[0])
    return matched, agreed, problems


@pytest.mark.parametrize(("profile", "export", "expected", "matched", "agreed"), CASES,
                         ids=[case[1] for case in CASES])
def test_profile_reads_the_example_export(profile: str, export: str, expected: str,
                                          matched: int, agreed: int) -> None:
    root = corpus()
    got_matched, got_agreed, problems = compare(profile, root / export, root / expected)
    print(f"{profile} {export}: matched {got_matched}, counterparty agrees {got_agreed}")
    for problem in problems:
        print("   ", problem)
    assert (got_matched, got_agreed) >= (matched, agreed), problems


def test_every_export_of_the_corpus_has_a_case_or_a_reason() -> None:
    root = corpus()
    exports = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.suffix.lower() in (".csv", ".xls", ".xlsx")}
    assert exports == {case[1] for case in CASES} | WITHOUT_PROFILE
