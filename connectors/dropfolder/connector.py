"""The drop-folder connector: every canonical file of spec/interchange-v1.md section 1.

Source ids: business documents ``kind:number``; bank transactions ``bank:account_no:txn_id``;
master data ``counterparty:id``. Files other than the spec's are reported, not fatal.

The cursor is a digest of the folder's files (names and bytes): ``fetch(since=digest)`` of an
unchanged folder yields nothing; any change re-reads the folder, and storage keeps only what
is new.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from connectors.bank import connector as bank_statements
from connectors.contract import Batch, Connector, ConnectorConfig, Record, Skipped, expand
from connectors.dropfolder import bank_csv, masterdata
from connectors.dropfolder.business import SCHEMAS, group_documents
from connectors.dropfolder.csvfile import FileError, open_table, read_rows
from connectors.einvoice.connector import EInvoiceConnector
from connectors.errors import FatalError
from connectors.files import files_digest
from ledger.documents import DocumentKind
from ledger.errors import BadInput

#: Bank statement suffixes some other connector reads; every format yecai parses is in
#: ``bank_statements.SUFFIXES`` and routed there, so none is left to skip silently.
BANK_FORMATS_ELSEWHERE: tuple[str, ...] = ()


@dataclass(slots=True)
class FileReport:
    """What one input file gave: the spec's ``summary.json`` ``files`` entry."""

    kind: str
    records: int = 0
    rejected: int = 0
    error: str | None = None

    @property
    def status(self) -> str:
        return "error" if self.error else "ok"


@dataclass(slots=True)
class FolderReport:
    files: dict[str, FileReport] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)


def folder_digest(folder: Path) -> str:
    """Digest of every file below ``folder``: relative names and contents."""
    return files_digest((p for p in folder.rglob("*") if p.is_file()), folder)


class DropFolderConnector(Connector):
    name = "dropfolder"
    kinds = frozenset(DocumentKind)
    master_data = True

    class Config(ConnectorConfig):
        path: str
        #: The company's 统一社会信用代码: tells sales from purchase e-invoices in invoices_pdf/.
        company_tax_id: str | None = None

    def __init__(self, config: Config, *, base_path: Path | None = None) -> None:
        super().__init__(config, base_path=base_path)
        self.report = FolderReport()
        self._digest: str | None = None

    @property
    def folder(self) -> Path:
        return (self.base_path / self.config.path).resolve()

    def fetch(self, since: str | None = None) -> Iterator[Record | Skipped]:
        return expand(self.fetch_bulk(since))

    def fetch_bulk(self, since: str | None = None) -> Iterator[Record | Skipped | Batch]:
        """Canonical bank CSVs come as ``Batch``es (``bank_csv.batches``), the rest as records."""
        folder = self.folder
        if not folder.is_dir():
            raise FatalError(f"drop folder {folder} does not exist or is not a folder")
        self.report = FolderReport()
        digest = self._digest = folder_digest(folder)
        if since == digest:
            return
        known = {schema.filename for schema in SCHEMAS} | {"counterparties.csv"}
        for entry in sorted(folder.iterdir()):
            if entry.is_file() and entry.name not in known:
                self.report.unknown.append(entry.name)
            elif entry.is_dir() and entry.name not in ("bank", "invoices_pdf"):
                self.report.unknown.append(entry.name + "/")
        yield from self._file(folder, "counterparties.csv", "counterparty", masterdata.COLUMNS,
                              masterdata.counterparties, lambda p: f"counterparty:{p.counterparty_id}")
        for schema in SCHEMAS:
            yield from self._file(folder, schema.filename, schema.kind.value, schema.columns,
                                  lambda name, rows, s=schema: group_documents(s, rows),
                                  lambda doc: f"{doc.kind.value}:{doc.number}")
        bank = folder / "bank"
        if bank.is_dir():
            for path in sorted(bank.rglob("*")):
                relative = path.relative_to(folder).as_posix()
                if path.is_dir():
                    continue
                if path.suffix.lower() == ".csv":
                    yield from self._bank_csv(path, relative)
                elif path.suffix.lower() in bank_statements.SUFFIXES:
                    yield from self._statement(path, relative)
                elif path.suffix.lower() not in BANK_FORMATS_ELSEWHERE:
                    self.report.unknown.append(relative)
        if (folder / "invoices_pdf").is_dir():
            yield from self._einvoices(folder)

    def _einvoices(self, folder: Path) -> Iterator[Record | Skipped]:
        """PDF and OFD VAT e-invoices, parsed in sandboxed child processes (``EInvoiceConnector``)."""
        files = sorted(p for p in (folder / "invoices_pdf").rglob("*") if p.is_file())
        if not self.config.company_tax_id:
            for path in files:
                relative = path.relative_to(folder).as_posix()
                self.report.files[relative] = FileReport(kind="invoice", error="set company_tax_id to read e-invoices")
                yield Skipped(problem=BadInput(file=relative, row=None, field=None, message=(
                    "UNPARSEABLE_DOCUMENT: the company's tax id is needed to tell a sales from a purchase "
                    "e-invoice; set company_tax_id (or company.tax_id in the company file)")))
            return
        reader = EInvoiceConnector(EInvoiceConnector.Config(path=str(folder / "invoices_pdf"),
                                                            company_tax_id=self.config.company_tax_id))
        relatives = [path.relative_to(folder).as_posix() for path in files]
        for relative, items in zip(relatives, reader.read_files(files, relatives), strict=True):
            report = self.report.files[relative] = FileReport(kind="invoice")
            for item in items:
                if isinstance(item, BadInput):
                    report.rejected += 1
                    report.error = report.error or item.message
                    yield Skipped(problem=item)
                else:
                    report.records += 1
                    report.kind = item.kind.value
                    yield Record(document=item, source_id=f"{item.kind.value}:{item.number}", cursor=self._digest,
                                 file=relative)

    def _statement(self, path: Path, relative: str) -> Iterator[Record | Skipped]:
        """MT940/MT942, camt, BAI2 or OFX through the bank parsers; a file giving no transaction and a
        problem failed as a whole, and its report entry says why."""
        report = self.report.files[relative] = FileReport(kind="bank_txn")
        parsed = bank_statements.parse_file(path, relative)
        if parsed.problems and not parsed.transactions:
            report.error = str(parsed.problems[0])
        for item in bank_statements.records(parsed, self._digest):
            if isinstance(item, Skipped):
                report.rejected += 1
            else:
                report.records += 1
            yield item

    def _bank_csv(self, path: Path, relative: str) -> Iterator[Batch | Skipped]:
        report = self.report.files[relative] = FileReport(kind="bank_txn")
        try:
            header, reader, handle = open_table(path, relative, bank_csv.COLUMNS)
        except FileError as error:
            report.error = str(error)
            yield Skipped(problem=BadInput(file=relative, row=None, field=None,
                                           message=str(error).removeprefix(f"{relative}: ")))
            return
        with handle:
            for item in bank_csv.batches(relative, header, reader):
                if isinstance(item, BadInput):
                    report.rejected += 1
                    yield Skipped(problem=item)
                else:
                    report.records += len(item)
                    yield Batch(rows=item, cursor=self._digest, file=relative)

    def _file(self, folder: Path, relative: str, kind: str, columns, parse, source_id):
        path = folder / relative
        if not path.is_file():
            return
        report = self.report.files[relative] = FileReport(kind=kind)
        try:
            rows = read_rows(path, relative, columns)
        except FileError as error:
            report.error = str(error)
            yield Skipped(problem=BadInput(file=relative, row=None, field=None,
                                           message=str(error).removeprefix(f"{relative}: ")))
            return
        for item in parse(relative, rows):
            if isinstance(item, BadInput):
                report.rejected += 1
                yield Skipped(problem=item)
            else:
                _row, document = item
                report.records += 1
                yield Record(document=document, source_id=source_id(document), cursor=self._digest,
                             file=relative)
