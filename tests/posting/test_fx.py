"""Foreign-currency vouchers: rates with date and source, per-line conversion, balance in the
voucher currency and in the base currency, the FX line, VAT per invoice line, rate files."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flows.vouchers import invoice_amounts
from ledger.documents import InvoiceLine, SalesInvoice
from ledger.money import Money
from ledger.posting.fx import Conversion, MissingRate, Rate, RateTable, read_rates_csv, to_base
from ledger.posting.templates import load_templates
from ledger.posting.vouchers import PostingEvent, post, post_all
from ledger.settings import load_chart, load_company
from tests.conftest import EXAMPLE_CONFIG

CHART = load_chart(load_company(EXAMPLE_CONFIG))
TEMPLATES = load_templates(CHART)
PBOC = "中国人民银行 人民币汇率中间价"


def rates(*entries: tuple[str, str, str]) -> RateTable:
    return RateTable("CNY", [Rate(currency=c, rate_date=date.fromisoformat(d), rate=Decimal(r), source=PBOC)
                             for c, d, r in entries])


def receipt(received: str, *settled: str, currency: str = "USD", day: date = date(2026, 11, 3)) -> PostingEvent:
    amounts = {"received": Money.parse(received, currency), "settled": Money.parse(settled[0], currency)}
    return PostingEvent(kind="customer_receipt", key="r", date=day, doc_type="bank_txn", doc_no="T1",
                        currency=currency, amounts=amounts, counterparty="Contoso")


def totals(voucher) -> tuple[int, int, int, int]:
    debit = sum(ln.debit.to_minor() for ln in voucher.lines)
    credit = sum(ln.credit.to_minor() for ln in voucher.lines)
    base_debit = sum(ln.base[0].to_minor() for ln in voucher.lines)
    base_credit = sum(ln.base[1].to_minor() for ln in voucher.lines)
    return debit, credit, base_debit, base_credit


def test_the_latest_rate_on_or_before_the_date_is_used_and_kept_with_its_source() -> None:
    table = rates(("USD", "2026-11-01", "7.1000"), ("USD", "2026-11-03", "7.1234"))
    assert table.conversion("USD", date(2026, 11, 2)).rate == Decimal("7.1000")
    found = table.conversion("USD", date(2026, 11, 30))
    assert (found.rate, found.rate_date, found.source) == (Decimal("7.1234"), date(2026, 11, 3), PBOC)
    assert table.conversion("CNY", date(2026, 11, 2)) == Conversion.identity("CNY")
    with pytest.raises(MissingRate, match=r"no USD/CNY rate on or before 2026-10-31: add one"):
        table.conversion("USD", date(2026, 10, 31))
    with pytest.raises(ValueError, match="source is required"):
        Rate(currency="USD", rate_date=date(2026, 1, 1), rate=Decimal("7"), source=" ")


def test_lines_are_converted_one_by_one_with_the_rate_kept_on_the_voucher() -> None:
    conversion = rates(("USD", "2026-11-01", "7.1235")).conversion("USD", date(2026, 11, 3))
    event = receipt("1.00", "1.01")
    event.amounts["fee"] = Money.parse("0.01", "USD")
    voucher = post(event, TEMPLATES, CHART, conversion)
    # 1.00 × 7.1235 = 7.1235 → 7.12 and 0.01 × 7.1235 → 0.07 debited; 1.01 × 7.1235 = 7.1947… → 7.19 credited
    assert [ln.base for ln in voucher.lines] == [
        (Money.parse("7.12", "CNY"), Money.zero("CNY")), (Money.parse("0.07", "CNY"), Money.zero("CNY")),
        (Money.zero("CNY"), Money.parse("7.19", "CNY"))]
    assert totals(voucher) == (101, 101, 719, 719)
    assert (voucher.conversion.rate, voucher.conversion.rate_date, voucher.conversion.source) == (
        Decimal("7.1235"), date(2026, 11, 1), PBOC)


def test_an_fx_line_takes_the_rounding_difference() -> None:
    conversion = Conversion(base_currency="CNY", rate=Decimal("0.5"), rate_date=date(2026, 11, 1), source=PBOC)
    event = PostingEvent(kind="sales_invoice", key="s", date=date(2026, 11, 3), doc_type="sales_invoice",
                         doc_no="1", currency="USD", amounts={"gross": Money.parse("0.02", "USD"),
                                                              "net": Money.parse("0.01", "USD"),
                                                              "tax": Money.parse("0.01", "USD")})
    voucher = post(event, TEMPLATES, CHART, conversion)  # 0.02→0.01 debit; 0.01→0.01 (half up) twice: 0.02 credit
    fx = voucher.lines[-1]
    assert (fx.account_code, fx.debit, fx.credit, fx.base) == (
        "660302", Money.zero("USD"), Money.zero("USD"), (Money.parse("0.01", "CNY"), Money.zero("CNY")))
    assert totals(voucher)[2] == totals(voucher)[3] == 2


usd = st.integers(min_value=1, max_value=10**11).map(lambda units: Money.from_minor(units, "USD"))
rate_values = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("200"), places=4)


@given(gross=usd, tax_share=st.integers(0, 30), received=usd, rate=rate_values)
def test_every_foreign_voucher_balances_in_its_currency_and_in_the_base_currency(gross, tax_share, received,
                                                                                  rate) -> None:
    conversion = Conversion(base_currency="CNY", rate=rate, rate_date=date(2026, 11, 1), source=PBOC)
    tax = Money.from_minor(gross.to_minor() * tax_share // 100, "USD")
    events = [PostingEvent(kind="sales_invoice", key="s", date=date(2026, 11, 3), doc_type="x", doc_no="1",
                           currency="USD", amounts={"gross": gross, "net": gross - tax, "tax": tax}),
              receipt(format(received.amount, "f"), format(gross.amount, "f"))]
    events[1].amounts.update(fee=max(gross - received, Money.zero("USD")),
                             unapplied=max(received - gross, Money.zero("USD")))
    for event in events:
        voucher = post(event, TEMPLATES, CHART, conversion)
        debit, credit, base_debit, base_credit = totals(voucher)
        assert debit == credit and base_debit == base_credit
        converted = [ln for ln in voucher.lines if ln.debit or ln.credit]
        for line in voucher.lines:
            if line not in converted:   # the FX line: rounding only, at most half a minor unit per line
                assert 2 * (line.base[0].to_minor() + line.base[1].to_minor()) <= len(converted)
                continue
            amount = line.debit if line.debit else line.credit
            base = line.base[0] if line.debit else line.base[1]
            assert abs(base.amount - amount.amount * rate) <= Decimal("0.005")


net_amounts = st.integers(min_value=0, max_value=10**9).map(lambda units: Decimal(units).scaleb(-2))
vat_rates = st.sampled_from([Decimal("0"), Decimal("0.01"), Decimal("0.03"), Decimal("0.06"), Decimal("0.09"),
                             Decimal("0.13")])


@given(lines=st.lists(st.tuples(net_amounts, vat_rates), min_size=1, max_size=12))
def test_vat_is_rounded_per_line_and_the_voucher_balances(lines) -> None:
    invoice_lines = tuple(InvoiceLine(line_no=i, sku=f"SKU{i}", quantity=Decimal(1), unit_price=net, tax_rate=rate,
                                      net_amount=net, tax_amount=(net * rate).quantize(Decimal("0.01"), ROUND_HALF_UP))
                          for i, (net, rate) in enumerate(lines, start=1))
    invoice = SalesInvoice(number="44001", date=date(2026, 11, 3), counterparty="海尔智家", currency="CNY",
                           due_date=date(2026, 12, 3), lines=invoice_lines)
    amounts = invoice_amounts(invoice)
    assert amounts["tax"].amount == sum(line.tax_amount for line in invoice_lines)
    for line in invoice_lines:
        assert abs(line.tax_amount - line.net_amount * line.tax_rate) <= Decimal("0.01")
    voucher = post(PostingEvent(kind="sales_invoice", key="s", date=invoice.date, doc_type="sales_invoice",
                                doc_no=invoice.number, currency="CNY", amounts=amounts), TEMPLATES, CHART)
    debit, credit, *_ = totals(voucher)
    assert debit == credit
    tax_lines = [ln for ln in voucher.lines if ln.account_code == "22210102"]
    assert sum(ln.credit.amount for ln in tax_lines) == amounts["tax"].amount


def test_a_foreign_event_without_a_rate_stays_in_its_own_currency() -> None:
    vouchers = post_all([receipt("1.00", "1.00", day=date(2026, 1, 5))], TEMPLATES, CHART,
                        rates(("USD", "2026-11-01", "7.1")))
    assert vouchers[0].conversion is None and vouchers[0].base_currency == "USD"
    assert to_base(Money.parse("1.005", "USD"), Conversion(base_currency="CNY", rate=Decimal(1), rate_date=None,
                                                          source=PBOC)) == Money.parse("1.01", "CNY")


def test_rate_files_report_bad_rows_by_row_and_field(tmp_path: Path) -> None:
    path = tmp_path / "rates.csv"
    path.write_text("currency,rate_date,rate,source\nUSD,2026-11-01,7.1234,PBOC\nXYZ,2026-11-01,1,PBOC\n"
                    "EUR,2026-13-01,7.9,PBOC\nEUR,2026-11-01,7.9e0x,PBOC\nHKD,2026-11-01,0.91,\n", encoding="utf-8")
    found, problems = read_rates_csv(path)
    assert [(r.currency, r.rate) for r in found] == [("USD", Decimal("7.1234"))]
    assert [p.split(": ", 1)[1].split(":")[0] for p in problems] == [
        "row 3, field currency", "row 4, field rate_date", "row 5, field rate", "row 6, field source"]
    assert all(str(path) in p for p in problems)
