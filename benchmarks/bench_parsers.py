"""Parser throughput: MT940 and camt.053 in MB/s, PDF e-invoices in invoices/s.

    .venv/bin/python -m benchmarks.bench_parsers --megabytes 20 --invoices 16

Statements are built by repeating small valid statements; invoices are generated with the
test generator (reportlab) and read through the sandboxed connector.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from connectors.bank.camt import parse_camt
from connectors.bank.mt940 import parse_mt940

ROOT = Path(__file__).resolve().parent.parent
STATEMENT = (ROOT / "tests" / "connectors" / "samples" / "bank_statement" / "statement.sta").read_text()
CAMT_HEAD = ('<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">'
             "<BkToCstmrStmt><Stmt><Id>S1</Id><Acct><Id><IBAN>DE02100100109307118603</IBAN></Id></Acct>")
CAMT_ENTRY = ('<Ntry><NtryRef>N{i}</NtryRef><Amt Ccy="EUR">12.50</Amt><CdtDbtInd>DBIT</CdtDbtInd>'
              "<BookgDt><Dt>2026-11-02</Dt></BookgDt><ValDt><Dt>2026-11-02</Dt></ValDt><NtryDtls><TxDtls>"
              "<RltdPties><Cdtr><Nm>ACME GmbH</Nm></Cdtr></RltdPties><RmtInf><Ustrd>INV 44001234</Ustrd></RmtInf>"
              "</TxDtls></NtryDtls></Ntry>")


def rate(label: str, data: bytes, parse) -> None:
    started = time.perf_counter()
    parsed = parse(data, label)
    seconds = time.perf_counter() - started
    print(f"{label:8} {len(data) / 1e6:6.1f} MB  {len(parsed.transactions):>8,} transactions  "
          f"{len(data) / 1e6 / seconds:6.1f} MB/s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--megabytes", type=float, default=20)
    parser.add_argument("--invoices", type=int, default=16)
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores")
    size = int(args.megabytes * 1e6)
    rate("MT940", (STATEMENT * (size // len(STATEMENT) + 1)).encode(), parse_mt940)
    entries = size // len(CAMT_ENTRY) + 1
    camt = CAMT_HEAD + "".join(CAMT_ENTRY.format(i=i) for i in range(entries)) + "</Stmt></BkToCstmrStmt></Document>"
    rate("camt.053", camt.encode(), parse_camt)
    from connectors.einvoice.connector import EInvoiceConnector
    from tests.connectors.einvoice.pdfs import SELLER_ID, shudian
    from tests.connectors.einvoice.test_pdf_invoices import SHUDIAN

    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.invoices):
            shudian(Path(tmp) / f"{i:03d}.pdf", SHUDIAN)
        started = time.perf_counter()
        items = list(EInvoiceConnector.from_options({"path": tmp, "company_tax_id": SELLER_ID}).fetch())
        seconds = time.perf_counter() - started
    print(f"PDF      {args.invoices} e-invoices ({len(items)} records)  {args.invoices / seconds:6.1f} invoices/s "
          f"(one sandboxed child per file)")


if __name__ == "__main__":
    main()
