"""The shared contract suite against the PDF/OFD e-invoice connector and its samples: a 数电票,
a legacy invoice and a broken file (sockets blocked; the parsing sandbox still works)."""

from pathlib import Path

from connectors.einvoice.connector import EInvoiceConnector
from connectors.testkit import connector_tests
from tests.connectors.einvoice.pdfs import SELLER_ID

HERE = Path(__file__).parent / "samples"

TestEInvoiceContract = connector_tests(EInvoiceConnector, {"path": str(HERE / "einvoice"), "company_tax_id": SELLER_ID},
                                       golden=HERE / "einvoice.golden.jsonl")
