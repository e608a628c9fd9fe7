"""Chain scenarios: orders, shipments and invoices in; adjacent links and exceptions out."""

from __future__ import annotations

from datetime import timedelta

from ledger.documents import Delivery, GoodsReceipt, PurchaseOrder, SalesOrder
from tests.matching.scenario import DAY, LUX, codes, links, order, purchase_invoice, run, sales_invoice, shipment


def test_partial_deliveries_and_split_invoices_link_without_references() -> None:
    documents = [
        order(SalesOrder, "SO1", ("A", 10, "500.00"), ("B", 4, "20.00")),
        shipment(Delivery, "DN1", ("A", 4), ("B", 4), order_ref="SO1"),
        shipment(Delivery, "DN2", ("A", 6), days=8),                      # no reference: found by party + SKU
        sales_invoice("44000001", ("A", 4, "500.00"), ("B", 4, "20.00"), days=2, shipment_ref="DN1"),
        sales_invoice("44000002", ("A", 6, "500.00"), days=9, order_ref="SO1"),   # via the order's shipments
    ]
    out = run(documents)
    assert links(out) == {("SO1", "DN1", "auto", None), ("SO1", "DN2", "auto", None),
                          ("DN1", "44000001", "auto", None), ("DN2", "44000002", "auto", None)}


def test_services_link_order_to_invoice_directly() -> None:
    out = run([order(SalesOrder, "SO9", ("SVC-INSTALL", 1, "3500.00")),
               sales_invoice("44000009", ("SVC-INSTALL", 1, "3500.00"), order_ref="SO9")])
    assert links(out) == {("SO9", "44000009", "auto", None)}
    assert "DELIVERED_NOT_INVOICED" not in codes(out)


def test_three_way_match_flags_quantity_and_price() -> None:
    documents = [
        order(PurchaseOrder, "PO1", ("A", 10, "100.00"), party=LUX),
        shipment(GoodsReceipt, "GR1", ("A", 9), party=LUX, order_ref="PO1"),
        purchase_invoice("44100001", ("A", 10, "103.00"), days=3, order_ref="PO1", shipment_ref="GR1"),
    ]
    out = run(documents)
    assert ("GR1", "44100001", "auto", None) in links(out)
    assert codes(out)["QUANTITY_MISMATCH"] == {("44100001", "GR1")}
    assert codes(out)["PRICE_MISMATCH"] == {("44100001", "PO1")}   # 3 % over the 1 % tolerance
    within = run([order(PurchaseOrder, "PO1", ("A", 10, "100.00"), party=LUX),
                  shipment(GoodsReceipt, "GR1", ("A", 10), party=LUX, order_ref="PO1"),
                  purchase_invoice("44100001", ("A", 10, "100.50"), days=3, shipment_ref="GR1")])
    assert "PRICE_MISMATCH" not in codes(within) and "QUANTITY_MISMATCH" not in codes(within)


def test_goods_invoiced_without_a_receipt() -> None:
    out = run([order(PurchaseOrder, "PO2", ("A", 5, "100.00"), party=LUX),
               purchase_invoice("44100002", ("A", 5, "100.00"), order_ref="PO2")])
    assert codes(out)["INVOICE_WITHOUT_RECEIPT"] == {("44100002", "PO2")}


def test_ageing_of_uninvoiced_deliveries_and_receipts() -> None:
    documents = [order(SalesOrder, "SO1", ("A", 1, "10.00")), shipment(Delivery, "DN-OLD", ("A", 1), order_ref="SO1"),
                 order(PurchaseOrder, "PO1", ("A", 1, "10.00"), party=LUX),
                 shipment(GoodsReceipt, "GR-NEW", ("A", 1), party=LUX, order_ref="PO1", days=25)]
    out = run(documents, as_of=DAY + timedelta(days=40))
    assert codes(out)["DELIVERED_NOT_INVOICED"] == {("DN-OLD",)}
    assert "RECEIVED_NOT_INVOICED" not in codes(out)  # 15 days old: within the 30-day ageing


def test_same_supplier_amount_and_date_under_two_numbers_is_a_duplicate_invoice() -> None:
    out = run([purchase_invoice("44100003", ("A", 5, "100.00")), purchase_invoice("44100004", ("A", 5, "100.00"))])
    assert codes(out)["DUPLICATE_INVOICE"] == {("44100003", "44100004")}


def test_ambiguous_orders_for_a_shipment_are_suggestions() -> None:
    out = run([order(SalesOrder, "SO1", ("A", 5, "10.00")), order(SalesOrder, "SO2", ("A", 5, "10.00")),
               shipment(Delivery, "DN1", ("A", 5), days=2)])
    assert links(out) == {("SO1", "DN1", "suggested", None), ("SO2", "DN1", "suggested", None)}


def test_a_rejected_link_is_never_made_again_and_the_other_candidate_stands() -> None:
    from ledger.settings import Tolerances
    from matching.engine import run_matching
    from matching.rules import load_rules
    from tests.matching.scenario import PARTIES

    documents = [order(SalesOrder, "SO1", ("A", 5, "10.00")), order(SalesOrder, "SO2", ("A", 5, "10.00")),
                 shipment(Delivery, "DN1", ("A", 5), days=2, order_ref="SO1")]
    rejected = frozenset({("sales_order", "SO1", "delivery", "DN1")})   # the reference was wrong, said a reviewer
    out = run_matching(documents, [], PARTIES, DAY + timedelta(days=10), load_rules(), Tolerances(), rejected=rejected)
    assert links(out) == {("SO2", "DN1", "auto", None)}
