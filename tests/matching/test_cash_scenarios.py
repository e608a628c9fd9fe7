"""Cash scenarios: invoices and bank transactions in, links and exceptions out."""

from __future__ import annotations

from datetime import timedelta

from ledger.documents import SalesInvoice
from tests.matching.scenario import HIK, codes, links, purchase_invoice, run, sales_invoice, txn

# 44001234: 2 × 500.00 + 13 % VAT = 1130.00
INV = sales_invoice("44001234", ("A", 2, "500.00"))


def test_reference_in_remittance_settles_one_invoice_automatically() -> None:
    out = run([INV], [txn("T1", "1130.00", remittance="货款 44001234")])
    assert links(out) == {("44001234", "T1", "auto", "1130.00")}
    assert out.settled_txns == {"3105:T1"} and "UNMATCHED_BANK_TXN" not in codes(out)


def test_a_transposed_digit_in_the_reference_still_finds_the_invoice() -> None:
    out = run([INV], [txn("T1", "1130.00", remittance="付货款 发票号44001243")])
    assert links(out) == {("44001234", "T1", "auto", "1130.00")}
    assert out.links[0].evidence.comparisons[0].level == "one_digit_off"


def test_batch_payment_without_references_is_found_by_subset_sum() -> None:
    invoices = [sales_invoice("44000001", ("A", 1, "100.00")), sales_invoice("44000002", ("A", 2, "100.00")),
                sales_invoice("44000003", ("A", 5, "100.00")), sales_invoice("44000004", ("A", 7, "100.00"))]
    # 113.00 + 226.00 + 791.00 = 1130.00, no other combination adds up to it
    out = run(invoices, [txn("T1", "1130.00", remittance="货款")])
    assert links(out) == {("44000001", "T1", "auto", "113.00"), ("44000002", "T1", "auto", "226.00"),
                          ("44000004", "T1", "auto", "791.00")}


def test_bank_fee_within_tolerance_is_settled_and_booked() -> None:
    out = run([sales_invoice("44001234", ("A", 20, "500.00"))], [txn("T1", "11285.00", remittance="44001234")])
    assert links(out) == {("44001234", "T1", "auto", "11300.00")}
    assert str(out.fees["3105:T1"].amount) == "15.00"


def test_two_equal_open_invoices_without_reference_are_a_tie_never_auto() -> None:
    out = run([sales_invoice("44000001", ("A", 2, "500.00")), sales_invoice("44000002", ("A", 2, "500.00"))],
              [txn("T1", "1130.00", remittance="货款")])
    assert {link[2] for link in links(out)} == {"suggested"}
    assert codes(out)["LOW_CONFIDENCE_MATCH"] == {("44000001", "T1"), ("44000002", "T1")}
    assert out.settled_txns == set()


def test_overpayment_short_payment_and_instalments() -> None:
    over = run([INV], [txn("T1", "1200.00", remittance="44001234")])
    assert codes(over)["OVERPAYMENT"] == {("44001234", "T1")}
    short = run([INV], [txn("T1", "1080.00", remittance="44001234")])  # 50.00 short: > fee tolerance, < 10 %
    assert codes(short)["SHORT_PAYMENT"] == {("44001234", "T1")}
    instalments = run([INV], [txn("T1", "452.00", remittance="预付 44001234 40%"),
                              txn("T2", "678.00", remittance="尾款 44001234", days=15)])
    assert links(instalments) == {("44001234", "T1", "auto", "452.00"), ("44001234", "T2", "auto", "678.00")}
    assert "SHORT_PAYMENT" not in codes(instalments) and "INVOICE_OVERDUE" not in codes(instalments)


def test_a_second_payment_of_a_settled_invoice_is_a_duplicate_payment() -> None:
    out = run([INV], [txn("T1", "1130.00", remittance="44001234"), txn("T2", "1130.00", remittance="44001234",
                                                                        days=8)])
    assert codes(out)["DUPLICATE_PAYMENT"] == {("44001234", "T1", "T2")}


def test_unknown_payer_and_unrelated_transactions_are_flagged() -> None:
    out = run([INV], [txn("T1", "8800.00", counterparty="南京紫金山贸易有限公司", remittance="往来款")])
    assert codes(out)["UNMATCHED_BANK_TXN"] == {("T1",)}
    assert codes(out)["UNKNOWN_COUNTERPARTY"] == {("T1",)}


def test_supplier_paid_to_an_account_not_on_file() -> None:
    bill = purchase_invoice("26310500000000000085", ("B", 4, "100.00"))
    ok = run([bill], [txn("T1", "-452.00", counterparty="立讯精密", remittance="付26310500000000000085货款",
                          account="6222999988887777")])
    assert "BANK_ACCOUNT_MISMATCH" not in codes(ok) and links(ok) == {
        ("26310500000000000085", "T1", "auto", "452.00")}
    wrong = run([bill], [txn("T1", "-452.00", counterparty="立讯精密", remittance="付26310500000000000085货款",
                             account="6228000000000000")])
    assert codes(wrong)["BANK_ACCOUNT_MISMATCH"] == {("26310500000000000085", "T1")}


def test_overdue_invoices_with_money_open() -> None:
    out = run([INV, sales_invoice("44009999", ("A", 1, "10.00"), party=HIK, due=5)],
              [txn("T1", "1130.00", remittance="44001234")])
    assert codes(out)["INVOICE_OVERDUE"] == {("44009999",)}


def test_a_digit_mistyped_in_the_reference_still_finds_the_invoice() -> None:
    out = run([INV], [txn("T1", "1130.00", remittance="货款 44001284")])
    assert links(out) == {("44001234", "T1", "auto", "1130.00")}


def test_a_reference_one_digit_off_from_two_invoices_is_never_decided() -> None:
    out = run([INV, sales_invoice("44001236", ("A", 2, "500.00"), party=HIK)],
              [txn("T1", "1130.00", counterparty="个人", remittance="货款 44001235")])
    assert {(link[0], link[2]) for link in links(out)} == {("44001234", "suggested"), ("44001236", "suggested")}


def test_a_payment_in_another_currency_settles_at_the_configured_rate() -> None:
    usd = SalesInvoice(number="44007777", date=INV.date, due_date=INV.due_date, counterparty=HIK.name, currency="USD",
                       lines=INV.lines)                                                 # USD 1130.00
    at_rate = run([usd], [txn("T1", "8010.00", counterparty=HIK.name, remittance="货款 44007777")])  # 7.09 CNY/USD
    assert links(at_rate) == {("44007777", "T1", "auto", "1130.00")} and at_rate.settled_txns == {"3105:T1"}
    assert at_rate.links[0].evidence.comparisons[2].level == "fx_within_tolerance"
    far_off = run([usd], [txn("T1", "1130.00", counterparty=HIK.name, remittance="货款 44007777")])  # CNY 1130
    assert {link[2] for link in links(far_off)} == {"suggested"} and far_off.settled_txns == set()


def test_several_transactions_settle_one_invoice_and_the_rest_stays_open() -> None:
    out = run([INV], [txn("T1", "500.00", remittance="44001234 第一笔"), txn("T2", "300.00", remittance="44001234",
                                                                          days=9)], as_of=INV.due_date + timedelta(5))
    assert links(out) == {("44001234", "T1", "auto", "500.00"), ("44001234", "T2", "auto", "300.00")}
    assert codes(out)["INVOICE_OVERDUE"] == {("44001234",)}   # 330.00 still open past the due date


def test_a_reviewers_name_decision_is_reused_and_a_rejected_pair_never_returns() -> None:
    from ledger.settings import Tolerances
    from matching.engine import run_matching
    from matching.parties import Resolution
    from matching.resolution import CachedResolver
    from matching.rules import load_rules
    from tests.matching.scenario import DAY, PARTIES

    payment = txn("T1", "1130.00", counterparty="HAIER SMART HOME", remittance="货款")
    unknown = run([INV], [payment])
    assert {link[2] for link in links(unknown)} == {"suggested"}          # amount only: a person decides
    taught = CachedResolver(PARTIES, {"HAIER SMART HOME": Resolution("C1", 1.0, "reviewer", "C1")})
    known = run_matching([INV], [payment], PARTIES, DAY + timedelta(20), load_rules(), Tolerances(), resolver=taught)
    assert links(known) == {("44001234", "T1", "auto", "1130.00")} and "HAIER SMART HOME" not in taught.new
    rejected = frozenset({("sales_invoice", "44001234", "bank_txn", "3105:T1")})
    never = run_matching([INV], [payment], PARTIES, DAY + timedelta(20), load_rules(), Tolerances(), resolver=taught,
                         rejected=rejected)
    assert links(never) == set() and codes(never)["UNMATCHED_BANK_TXN"] == {("T1",)}


def test_no_payment_settles_a_document_marked_as_a_duplicate() -> None:
    from ledger.settings import Tolerances
    from matching.engine import run_matching
    from matching.rules import load_rules
    from tests.matching.scenario import DAY, PARTIES

    twin = sales_invoice("44001299", ("A", 2, "500.00"), days=1)
    out = run_matching([INV, twin], [txn("T1", "1130.00", remittance="货款 44001299")], PARTIES, DAY + timedelta(20),
                       load_rules(), Tolerances(), blocked=frozenset({("sales_invoice", "44001299")}))
    assert ("44001299", "T1", "auto", "1130.00") not in links(out)
    assert links(out) == {("44001234", "T1", "auto", "1130.00")}   # the party's one other open item of that amount
