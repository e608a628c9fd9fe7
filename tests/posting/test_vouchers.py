"""Posting: templates as configuration, vouchers that balance exactly, gapless numbering."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.money import Money
from ledger.posting.templates import Expression, load_templates
from ledger.posting.vouchers import PostingEvent, csv_rows, number, post
from ledger.settings import ConfigError, load_chart, load_company
from tests.conftest import EXAMPLE_CONFIG

CHART = load_chart(load_company(EXAMPLE_CONFIG))
TEMPLATES = load_templates(CHART)


def event(kind: str, day: date = date(2026, 11, 3), key: str = "1", **amounts: str) -> PostingEvent:
    return PostingEvent(kind=kind, key=key, date=day, doc_type="sales_invoice", doc_no=f"4400{key}",
                        currency="CNY", counterparty="海尔智家",
                        amounts={k: Money.parse(v, "CNY") for k, v in amounts.items()},
                        dimensions={"customer": "海尔智家", "project": "P1"})


def test_a_sales_invoice_posts_the_spec_lines() -> None:
    voucher = post(event("sales_invoice", gross="1130.00", net="1000.00", tax="130.00"), TEMPLATES, CHART)
    assert voucher.word == "转"
    assert [(ln.account_code, str(ln.debit.amount), str(ln.credit.amount)) for ln in voucher.lines] == [
        ("1122", "1130.00", "0"), ("6001", "0", "1000.00"), ("22210102", "0", "130.00")]
    assert voucher.lines[0].dimensions == {"customer": "海尔智家", "project": "P1"}
    assert voucher.lines[0].summary == "销售发票 44001 海尔智家"


def test_zero_lines_are_left_out_and_negative_amounts_change_side() -> None:
    voucher = post(event("purchase_invoice", gross="1130.00", net="1000.00", tax="130.00", accrual="1010.00"),
                   TEMPLATES, CHART)
    lines = {ln.account_code: (ln.debit.amount, ln.credit.amount) for ln in voucher.lines}
    assert lines["1405"] == (Decimal(0), Decimal("10.00"))   # invoiced 10.00 below the accrual
    receipt = post(event("customer_receipt", received="1130.00", settled="1130.00", fee="0", unapplied="0"),
                   TEMPLATES, CHART)
    assert [ln.account_code for ln in receipt.lines] == ["1002", "1122"]


amounts = st.integers(min_value=0, max_value=10**12).map(lambda units: Money.from_minor(units, "CNY"))


@given(gross=amounts, tax_share=st.integers(0, 100), accrual=amounts, settled=amounts, received=amounts)
def test_every_voucher_balances(gross, tax_share, accrual, settled, received) -> None:
    tax = Money.from_minor(gross.to_minor() * tax_share // 100, "CNY")
    gap = settled - received
    zero = Money.zero("CNY")
    events = [
        PostingEvent(kind="sales_invoice", key="a", date=date(2026, 11, 1), doc_type="x", doc_no="1", currency="CNY",
                     amounts={"gross": gross, "net": gross - tax, "tax": tax}),
        PostingEvent(kind="purchase_invoice", key="b", date=date(2026, 11, 1), doc_type="x", doc_no="2",
                     currency="CNY", amounts={"gross": gross, "net": gross - tax, "tax": tax, "accrual": accrual}),
        PostingEvent(kind="customer_receipt", key="c", date=date(2026, 11, 1), doc_type="x", doc_no="3",
                     currency="CNY", amounts={"received": received, "settled": settled,
                                              "fee": gap if gap.amount > 0 else zero,
                                              "unapplied": -gap if gap.amount < 0 else zero}),
    ]
    for e in events:
        voucher = post(e, TEMPLATES, CHART)
        debit = sum(ln.debit.to_minor() for ln in voucher.lines)
        credit = sum(ln.credit.to_minor() for ln in voucher.lines)
        assert debit == credit
        assert all((ln.debit.amount == 0) != (ln.credit.amount == 0) for ln in voucher.lines)


def test_numbers_are_gapless_per_period_and_word() -> None:
    vouchers = number(post(event("sales_invoice", day=date(2026, month, day), key=f"{month}{day}", gross="1.13",
                                 net="1.00", tax="0.13"), TEMPLATES, CHART)
                      for month, day in [(11, 5), (10, 30), (11, 1), (10, 2), (11, 30)])
    assert [v.number for v in vouchers] == ["转-2026-10-0001", "转-2026-10-0002", "转-2026-11-0001",
                                           "转-2026-11-0002", "转-2026-11-0003"]
    rows = csv_rows(vouchers[:1])
    assert rows[0][:4] == ["转-2026-10-0001", "2026-10-02", "转", "1"] and len(rows[0]) == 16


def test_expressions_and_templates_are_validated(tmp_path: Path) -> None:
    assert Expression.parse("received + fee - unapplied").terms == ((1, "received"), (1, "fee"), (-1, "unapplied"))
    with pytest.raises(ValueError, match="names joined by"):
        Expression.parse("gross * 2")
    bad = tmp_path / "t.toml"
    bad.write_text('version = "1"\n[events.sales_invoice]\nword = "转"\nsummary = "x"\nlines = [\n'
                   '{ account = "9999", side = "debit", amount = "gross" },\n'
                   '{ account = "6001", side = "credit", amount = "gross" }]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"events.sales_invoice.lines.0.account': found '9999'"):
        load_templates(CHART, bad)
    bad.write_text(bad.read_text(encoding="utf-8").replace('"9999"', '"1122"').replace('amount = "gross" }]',
                   'amount = "gross ** 2" }]'), encoding="utf-8")
    with pytest.raises(ConfigError, match="names joined by"):
        load_templates(CHART, bad)


def test_a_single_voucher_word_can_replace_the_words_of_the_events() -> None:
    single = TEMPLATES.model_copy(update={"single_word": "记"})
    receipt = event("customer_receipt", received="1.00", settled="1.00", fee="0", unapplied="0")
    assert post(receipt, TEMPLATES, CHART).word == "收" and post(receipt, single, CHART).word == "记"
    vouchers = number([post(event("sales_invoice", key="a", gross="1.13", net="1.00", tax="0.13"), single, CHART),
                       post(receipt, single, CHART)])
    assert [v.number for v in vouchers] == ["记-2026-11-0001", "记-2026-11-0002"]
