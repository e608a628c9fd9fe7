"""The matching stage split into independent blocks, so a task runner can spread it.

The blocks are the two sides of the business: order-to-cash (sales orders, deliveries, sales
invoices, money coming in) and procure-to-pay (purchase orders, goods receipts, purchase
invoices, money going out). Nothing in matching/engine.py compares across them: the chains
are built per side, the cash matcher looks for sales invoices for incoming money and purchase
invoices for outgoing money only, and every finding is about documents of one side. So
matching each block and merging gives the links and exceptions of one matching run over
everything (tests/flows/test_partition.py checks it on synthetic companies).

    blocks = partition(inputs)
    output = merge([match_block(block, rules, tolerances) for block in blocks])   # or on Dask
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from flows.match_step import MatchInputs, match
from ledger.documents import Delivery, GoodsReceipt, PurchaseInvoice, PurchaseOrder, SalesInvoice, SalesOrder
from ledger.settings import Tolerances
from matching.engine import MatchOutput
from matching.resolution import CachedResolver
from matching.rules import MatchingRules

SIDES = {"o2c": (SalesOrder, Delivery, SalesInvoice), "p2p": (PurchaseOrder, GoodsReceipt, PurchaseInvoice)}


@dataclass(slots=True)
class Block:
    side: str
    inputs: MatchInputs

    @property
    def size(self) -> int:
        return len(self.inputs.documents) + len(self.inputs.transactions)


def partition(inputs: MatchInputs) -> list[Block]:
    blocks = []
    for side, classes in SIDES.items():
        incoming = side == "o2c"
        blocks.append(Block(side, replace(
            inputs, documents=[d for d in inputs.documents if type(d) in classes],
            transactions=[t for t in inputs.transactions if (t.amount.amount > 0) == incoming])))
    return blocks


def match_block(block: Block, rules: MatchingRules, tolerances: Tolerances) -> tuple[str, MatchOutput, dict]:
    """The block's matching output and the names it resolved for the first time (on a Dask
    worker the block's resolver is a copy, so they travel back with the result)."""
    output = match(block.inputs, rules, tolerances)
    resolver = block.inputs.resolver
    return block.side, output, dict(resolver.new) if resolver is not None else {}


def merge(results: Sequence[tuple[str, MatchOutput, dict]], resolver: CachedResolver | None = None) -> MatchOutput:
    """One output of the blocks' outputs; the names they resolved are kept in ``resolver`` (the
    run's own, whose new names are stored with the links)."""
    merged = MatchOutput()
    for side, output, names in results:
        if resolver is not None:
            resolver.new.update(names)
        merged.links += output.links
        merged.exceptions += output.exceptions
        merged.settled_txns |= output.settled_txns
        merged.fees.update(output.fees)
        merged.parties.update(output.parties)
        merged.chains[side] = output.chains[side]
    merged.exceptions = list({item.fingerprint: item for item in merged.exceptions}.values())
    return merged
