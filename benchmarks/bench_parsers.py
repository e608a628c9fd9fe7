"""Parser throughput: MT940 and camt.053 in MB/s, PDF e-invoices in invoices/s.

    .venv/bin/python -m benchmarks.bench_parsers --megabytes 20 --invoices 64

Goals (issue 4, 2 cores): MT940 and camt.053 >= 20 MB/s each, PDF e-invoices >= 8/s using
both cores. Statements come from ``benchmarks.statements`` (seeded, realistic: chained daily
statements, varied amounts, references and :86: shapes, pretty-printed camt with parties,
agents and codes); they parse without a problem, so this is the normal path. The
``compact`` lines repeat the small repository sample instead (every copy breaks the balance
chain, so they also measure problem reporting). Invoices are drawn by the seeded test
generator in both layouts and read through the connector: sandboxed children, one per core,
each reading many files. Every figure comes with its CPU time, and the PDF one with the CPU
per invoice (parent, fork server with its one-off imports, children), which says what N
idle cores would do; the load average
is printed first because the wall-clock figures depend on it.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.statements import camt053_text, mt940_text
from connectors.bank.camt import parse_camt
from connectors.bank.mt940 import parse_mt940
from connectors.bank.statement import ParsedFile

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = (ROOT / "tests" / "connectors" / "samples" / "bank_statement" / "statement.sta").read_text()
CAMT_HEAD = ('<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">'
             "<BkToCstmrStmt><Stmt><Id>S1</Id><Acct><Id><IBAN>DE02100100109307118603</IBAN></Id></Acct>")
CAMT_ENTRY = ('<Ntry><NtryRef>N{i}</NtryRef><Amt Ccy="EUR">12.50</Amt><CdtDbtInd>DBIT</CdtDbtInd>'
              "<BookgDt><Dt>2026-11-02</Dt></BookgDt><ValDt><Dt>2026-11-02</Dt></ValDt><NtryDtls><TxDtls>"
              "<RltdPties><Cdtr><Nm>ACME GmbH</Nm></Cdtr></RltdPties><RmtInf><Ustrd>INV 44001234</Ustrd></RmtInf>"
              "</TxDtls></NtryDtls></Ntry>")


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children, user + system."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def fork_server_cpu() -> float:
    """CPU seconds of the sandbox's fork server (it imports the PDF stack once), on Linux."""
    from multiprocessing import forkserver

    pid = getattr(forkserver._forkserver, "_forkserver_pid", None)
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rate(label: str, data: bytes, parse: Callable[[bytes, str], ParsedFile], repeat: int) -> None:
    """The best of ``repeat`` runs, wall and CPU."""
    best_wall = best_cpu = float("inf")
    for _ in range(repeat):
        parsed = None  # the previous run's records are freed before, not inside, this timing
        started, cpu = time.perf_counter(), time.process_time()
        parsed = parse(data, label)
        best_cpu = min(best_cpu, time.process_time() - cpu)
        best_wall = min(best_wall, time.perf_counter() - started)
    megabytes = len(data) / 1e6
    print(f"{label:17} {megabytes:6.1f} MB {len(parsed.transactions):>9,} txns "
          f"{len(parsed.problems):>7,} problems  {megabytes / best_wall:6.1f} MB/s wall  "
          f"{megabytes / best_cpu:6.1f} MB/s CPU ({best_cpu:.2f} s CPU)", flush=True)


def invoices(count: int) -> None:
    from connectors.einvoice.connector import EInvoiceConnector
    from tests.connectors.einvoice.generator import random_invoice
    from tests.connectors.einvoice.pdfs import legacy, shudian

    company = random_invoice(0)[1].seller.tax_id
    with tempfile.TemporaryDirectory() as folder:
        for seed in range(count):
            sheet, fields = random_invoice(seed)
            sheet.seller = (fields.seller.name, company)  # all sales invoices of one company
            (shudian if fields.layout == "数电票" else legacy)(Path(folder) / f"{seed:04d}.pdf", sheet)
        connector = EInvoiceConnector.from_options({"path": folder, "company_tax_id": company})
        started, cpu = time.perf_counter(), cpu_seconds()
        items = list(connector.fetch())
        seconds = time.perf_counter() - started
        # the fork server's children are not ours: they report their CPU, the server is read
        used = cpu_seconds() - cpu + connector.child_cpu_seconds + fork_server_cpu()
    records = sum(1 for item in items if type(item).__name__ == "Record")
    per_invoice = used / count
    print(f"PDF e-invoices    {count} files, {records} invoices read  {count / seconds:6.1f} invoices/s "
          f"wall ({os.cpu_count()} children)  {per_invoice * 1000:5.1f} ms CPU per invoice, "
          f"so {1 / per_invoice:5.1f}/s per idle core, {2 / per_invoice:5.1f}/s on 2", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--megabytes", type=float, default=20, help="size of each statement file")
    parser.add_argument("--invoices", type=int, default=64, help="number of PDF e-invoices")
    parser.add_argument("--repeat", type=int, default=3, help="runs per statement file (best kept)")
    args = parser.parse_args()
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"{os.cpu_count()} cores, load average {load} (1, 5, 15 min)", flush=True)
    size = int(args.megabytes * 1e6)
    rate("MT940", mt940_text(size).encode(), parse_mt940, args.repeat)
    rate("camt.053", camt053_text(size).encode(), parse_camt, args.repeat)
    rate("MT940 compact", (SAMPLE * (size // len(SAMPLE) + 1)).encode(), parse_mt940, args.repeat)
    compact = (CAMT_HEAD + "".join(CAMT_ENTRY.format(i=i) for i in range(size // len(CAMT_ENTRY) + 1))
               + "</Stmt></BkToCstmrStmt></Document>")
    rate("camt.053 compact", compact.encode(), parse_camt, args.repeat)
    invoices(args.invoices)


if __name__ == "__main__":
    main()
