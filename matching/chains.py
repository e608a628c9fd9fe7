"""Order → delivery → invoice (and PO → goods receipt → invoice): the adjacent links.

References first (``order_ref``, ``delivery_ref`` / ``receipt_ref``), then the party's
documents whose SKUs and quantities fit, since exported references are often empty or
wrong. Quantities already delivered are tracked per order line, so partial deliveries and
split invoices link to the right documents. Ties become suggestions.

    SO-1 (A×10) ← DN-1 (A×4, order_ref SO-1)      reference exact → auto
                ← DN-2 (A×6, order_ref empty)      same party, SKU fits the rest → auto 0.93
    DN-1 → INV-1 (A×4, delivery_ref DN-1)          reference exact → auto
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from ledger.documents import Invoice, Order, Shipment
from matching.model import Comparison, Decision, Evidence, Link
from matching.rules import MatchingRules

Party = dict[tuple[str, str], str | None]   # (kind, number) → resolved counterparty id


def quantities(document: Order | Shipment | Invoice) -> Counter:
    counts: Counter = Counter()
    for line in document.lines:
        counts[line.sku] += line.quantity
    return counts


@dataclass(slots=True)
class ChainResult:
    links: list[Link] = field(default_factory=list)
    order_of: dict[str, str] = field(default_factory=dict)            # shipment → order (auto links)
    invoiced: dict[str, list[str]] = field(default_factory=dict)      # shipment → invoices
    shipments_of_invoice: dict[str, list[str]] = field(default_factory=dict)
    order_of_invoice: dict[str, str] = field(default_factory=dict)


class ChainBuilder:
    def __init__(self, orders: Sequence[Order], shipments: Sequence[Shipment], invoices: Sequence[Invoice],
                 party: Party, rules: MatchingRules, rejected: frozenset[tuple[str, str, str, str]] = frozenset()
                 ) -> None:
        self.rejected = rejected   # (from_type, from_no, to_type, to_no) a reviewer rejected: never linked again
        self.orders = {o.number: o for o in orders}
        self.shipments = {s.number: s for s in shipments}
        self.invoices = list(invoices)
        self.party, self.rules = party, rules
        self.remaining = {o.number: quantities(o) for o in orders}
        self.result = ChainResult()
        # blocking: documents by resolved party, so no step scans every document
        self._parties: dict[int, str | None] = {}
        for document in (*orders, *shipments, *invoices):
            self._parties[id(document)] = party.get((document.kind.value, document.number))
        self.orders_by_party: dict[str | None, list[Order]] = defaultdict(list)
        for o in sorted(orders, key=lambda o: (o.date, o.number)):
            self.orders_by_party[self._party_of(o)].append(o)
        self.shipments_by_party: dict[str | None, list[Shipment]] = defaultdict(list)
        for s in sorted(shipments, key=lambda s: (s.date, s.number)):
            self.shipments_by_party[self._party_of(s)].append(s)
        self.shipments_of_order: dict[str, list[Shipment]] = defaultdict(list)

    def _party_of(self, document) -> str | None:
        return self._parties[id(document)]

    def _party_comparison(self, a, b) -> Comparison:
        pa, pb = self._party_of(a), self._party_of(b)
        if pa is not None and pa == pb:
            return Comparison(name="counterparty", level="same", score=1.0)
        if pa is None or pb is None:
            return Comparison(name="counterparty", level="unknown", score=0.9)
        return Comparison(name="counterparty", level="different", score=0.5)

    def _allowed(self, source, target) -> bool:
        return (source.kind.value, source.number, target.kind.value, target.number) not in self.rejected

    def _link(self, source, target, evidence: Evidence, tie: bool = False) -> Link | None:
        if not self._allowed(source, target):
            return None
        auto = evidence.score >= self.rules.auto_accept and not tie
        link = Link(from_type=source.kind.value, from_no=source.number, to_type=target.kind.value,
                    to_no=target.number, decision=Decision.AUTO if auto else Decision.SUGGESTED,
                    score=evidence.score, evidence=evidence)
        self.result.links.append(link)
        return link

    def _evidence(self, rule: str, *comparisons: Comparison) -> Evidence:
        return Evidence(rule=rule, rule_version=self.rules.version, comparisons=comparisons)

    # --- order → shipment -----------------------------------------------------------------
    def link_shipments(self) -> None:
        for shipment in sorted(self.shipments.values(), key=lambda s: (s.date, s.number)):
            shipped = quantities(shipment)
            order = self.orders.get(shipment.order_ref)
            if order is not None and self._allowed(order, shipment):
                fits = all(self.remaining[order.number][sku] >= qty for sku, qty in shipped.items())
                evidence = self._evidence("order_reference", Comparison(name="reference", level="exact", score=1.0),
                                          self._party_comparison(order, shipment),
                                          Comparison(name="sku_quantity", level="fits" if fits else "exceeds",
                                                     score=1.0 if fits else 0.8))
                self._take(order, shipment, shipped, self._link(order, shipment, evidence))
                continue
            owner = self._party_of(shipment)
            mine = self.orders_by_party[owner] if owner is not None else ()
            candidates = [o for o in mine if o.date <= shipment.date and self._allowed(o, shipment)
                          and all(self.remaining[o.number][sku] >= qty for sku, qty in shipped.items())]
            exact = [o for o in candidates if self.remaining[o.number] == shipped] or candidates
            tie = len(exact) > 1
            for order in exact[:3]:
                evidence = self._evidence("party_sku_quantity", Comparison(name="reference", level="none", score=0.93),
                                          self._party_comparison(order, shipment),
                                          Comparison(name="sku_quantity", level="fits", score=1.0),
                                          Comparison(name="uniqueness", level="tie" if tie else "unique",
                                                     score=0.6 if tie else 1.0))
                self._take(order, shipment, shipped, self._link(order, shipment, evidence, tie=tie))

    def _take(self, order: Order, shipment: Shipment, shipped: Counter, link: Link | None) -> None:
        if link is not None and link.decision is Decision.AUTO:
            self.result.order_of[shipment.number] = order.number
            self.shipments_of_order[order.number].append(shipment)
            for sku, qty in shipped.items():
                self.remaining[order.number][sku] -= qty

    # --- shipment → invoice, order → invoice ----------------------------------------------
    def link_invoices(self) -> None:
        for invoice in sorted(self.invoices, key=lambda i: (i.date, i.number)):
            billed = quantities(invoice)
            shipment = self.shipments.get(invoice.shipment_ref)
            reference = Comparison(name="reference", level="exact", score=1.0)
            if shipment is not None and self._allowed(shipment, invoice):
                fits = quantities(shipment) == billed
                evidence = self._evidence("shipment_reference", reference, self._party_comparison(shipment, invoice),
                                          Comparison(name="sku_quantity", level="equal" if fits else "differs",
                                                     score=1.0 if fits else 0.95))
                self._invoiced(shipment, invoice, self._link(shipment, invoice, evidence))
                continue
            services = all(self.rules.is_service(line.sku) for line in invoice.lines)
            order = self.orders.get(invoice.order_ref)
            if order is not None and services:
                self._order_invoice(order, invoice, reference)
                continue
            owner = self._party_of(invoice)
            source = (self.shipments_of_order[order.number] if order is not None
                      else self.shipments_by_party[owner] if owner is not None else ())
            pool = [s for s in source if s.number not in self.result.invoiced and self._allowed(s, invoice)]
            fitting = self._fitting_shipments(pool, billed)
            if not fitting and order is not None and not pool:
                # The order's shipment was not linked to it (no reference, name unresolved): the invoice
                # names the order, so an unlinked shipment of a compatible party that bills exactly fits.
                nearby = ([*self.shipments_by_party[owner], *self.shipments_by_party[None]] if owner is not None
                          else self.shipments.values())
                orphans = [s for s in nearby if s.number not in self.result.invoiced
                           and s.number not in self.result.order_of and s.date >= order.date
                           and self._party_comparison(s, invoice).level != "different"]
                fitting = [group for group in self._fitting_shipments(orphans, billed) if len(group) == 1]
                if len(fitting) == 1:
                    shipment = fitting[0][0]
                    evidence = self._evidence("via_invoice", Comparison(name="reference", level="via_invoice",
                                                                        score=0.95),
                                              self._party_comparison(order, shipment),
                                              Comparison(name="sku_quantity", level="equal", score=1.0))
                    self._take(order, shipment, quantities(shipment), self._link(order, shipment, evidence))
            if fitting:
                tie = len(fitting) > 1
                for group in fitting[:2]:
                    for shipment in group:
                        level = "via_order" if order is not None else "none"
                        evidence = self._evidence(
                            "sku_quantity", Comparison(name="reference", level=level,
                                                       score=1.0 if order is not None else 0.93),
                            self._party_comparison(shipment, invoice), Comparison(name="sku_quantity", level="equal",
                                                                                  score=1.0),
                            Comparison(name="uniqueness", level="tie" if tie else "unique", score=0.6 if tie else 1.0))
                        self._invoiced(shipment, invoice, self._link(shipment, invoice, evidence, tie=tie))
            elif order is not None and pool:
                # the order's shipments bill different quantities: link them; the three-way match flags it
                for shipment in [s for s in pool if set(quantities(s)) <= set(billed)]:
                    evidence = self._evidence("order_shipments", Comparison(name="reference", level="via_order",
                                                                            score=1.0),
                                              self._party_comparison(shipment, invoice),
                                              Comparison(name="sku_quantity", level="differs", score=0.95))
                    self._invoiced(shipment, invoice, self._link(shipment, invoice, evidence))
            elif order is not None and not self.shipments_of_order[order.number]:
                self._order_invoice(order, invoice, reference)

    def _fitting_shipments(self, pool: list[Shipment], billed: Counter) -> list[tuple[Shipment, ...]]:
        """One shipment with exactly the billed SKUs and quantities, else two that add up to them."""
        singles = [(s,) for s in sorted(pool, key=lambda s: (s.date, s.number)) if quantities(s) == billed]
        if singles:
            return singles
        pairs = []
        ordered = sorted(pool, key=lambda s: (s.date, s.number))[:20]
        for i, first in enumerate(ordered):
            for second in ordered[i + 1:]:
                if quantities(first) + quantities(second) == billed:
                    pairs.append((first, second))
        return pairs

    def _order_invoice(self, order: Order, invoice: Invoice, reference: Comparison) -> None:
        evidence = self._evidence("order_reference", reference, self._party_comparison(order, invoice))
        link = self._link(order, invoice, evidence)
        if link is not None and link.decision is Decision.AUTO:
            self.result.order_of_invoice[invoice.number] = order.number

    def _invoiced(self, shipment: Shipment, invoice: Invoice, link: Link | None) -> None:
        if link is not None and link.decision is Decision.AUTO:
            self.result.invoiced.setdefault(shipment.number, []).append(invoice.number)
            self.result.shipments_of_invoice.setdefault(invoice.number, []).append(shipment.number)

    def build(self) -> ChainResult:
        self.link_shipments()
        self.link_invoices()
        return self.result


def received_quantity(result: ChainResult, shipments: dict[str, Shipment], invoice_no: str) -> Counter:
    total: Counter = Counter()
    for number in result.shipments_of_invoice.get(invoice_no, []):
        total += quantities(shipments[number])
    return total


def order_price(order: Order | None, sku: str) -> Decimal | None:
    if order is None:
        return None
    prices = {line.unit_price for line in order.lines if line.sku == sku}
    return prices.pop() if len(prices) == 1 else None
