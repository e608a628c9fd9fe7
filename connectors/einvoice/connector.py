"""The e-invoice connector: a folder (or one file) of PDF and OFD VAT e-invoices.

Each file is one invoice. It is read in a sandboxed child process (``sandbox``; as many
at once as there are cores, each child reading file after file while it stays healthy), its fields
found with the embedded OFD invoice XML when there is one, else with the layout templates of
``config/invoice_templates/`` on its text, and it becomes a ``SalesInvoice`` (we are the
seller) or a ``PurchaseInvoice`` (we are the buyer) with ``due_date = date +
payment_terms_days``, since e-invoices carry no due date. Source id: ``kind:number``. Any
file that cannot be read is a ``Skipped`` whose message starts ``UNPARSEABLE_DOCUMENT`` and
names the file and the reason; the next file is read all the same.

The cursor is a digest of the files' names and bytes: an unchanged folder yields nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pydantic import Field

from connectors.contract import Connector, ConnectorConfig, Record, Skipped
from connectors.einvoice.document import to_invoice
from connectors.einvoice.fields import extract
from connectors.einvoice.ofd import fields_from_embedded
from connectors.einvoice.readers import RawDocument
from connectors.einvoice.sandbox import Limits, SandboxPool, Worker, read_isolated
from connectors.einvoice.templates import DEFAULT_FOLDER, TemplateError, load_templates
from connectors.errors import FatalError
from connectors.files import files_digest
from ledger.documents import DocumentKind
from ledger.errors import BadInput

SUFFIXES = {".pdf": "pdf", ".ofd": "ofd"}


class EInvoiceConnector(Connector):
    name = "einvoice"
    kinds = frozenset({DocumentKind.SALES_INVOICE, DocumentKind.PURCHASE_INVOICE})

    class Config(ConnectorConfig):
        path: str
        company_tax_id: str = Field(min_length=15)
        payment_terms_days: int = Field(default=30, ge=0)
        templates: str | None = None
        limits: Limits = Limits()

    worker: Worker | None = None  # tests replace the child's work; None is the real reader
    child_cpu_seconds = 0.0  # CPU the sandboxed children spent on the last read_files

    def __init__(self, config: Config, *, base_path: Path | None = None) -> None:
        super().__init__(config, base_path=base_path)
        folder = Path(config.templates) if config.templates else DEFAULT_FOLDER
        try:
            self.templates = load_templates(self.base_path / folder)
        except TemplateError as error:
            raise FatalError(str(error)) from None

    def _files(self) -> tuple[Path, list[Path]]:
        target = (self.base_path / self.config.path).resolve()
        if target.is_file():
            return target.parent, [target]
        if not target.is_dir():
            raise FatalError(f"e-invoice path {target} does not exist")
        return target, sorted(p for p in target.rglob("*") if p.is_file()
                              and not p.name.startswith("."))

    def fetch(self, since: str | None = None) -> Iterator[Record | Skipped]:
        root, files = self._files()
        cursor = files_digest(files, root)
        if since == cursor:
            return
        relatives = [path.relative_to(root).as_posix() for path in files]
        for relative, items in zip(relatives, self.read_files(files, relatives), strict=True):
            yield from self._records(items, relative, cursor)

    def read_files(self, paths: list[Path], relatives: list[str]) -> Iterator[list]:
        """``read_file`` for each path, in order: as many files at once as there are cores,
        each in a sandboxed child that goes on to read others while it stays healthy."""
        workers = max(1, min(os.cpu_count() or 1, len(paths)))
        with (SandboxPool(self.config.limits, **({"worker": self.worker} if self.worker else {}))
              as pool, ThreadPoolExecutor(max_workers=workers) as threads):
            yield from threads.map(lambda path, relative: self.read_file(path, relative, pool),
                                   paths, relatives)
            self.child_cpu_seconds = pool.cpu_seconds

    @staticmethod
    def _records(items: list, relative: str, cursor: str) -> Iterator[Record | Skipped]:
        for item in items:
            if isinstance(item, BadInput):
                yield Skipped(problem=item)
            else:
                yield Record(document=item, source_id=f"{item.kind.value}:{item.number}", cursor=cursor,
                             file=relative)

    def read_file(self, path: Path, relative: str, pool: SandboxPool | None = None) -> list:
        """The invoice in one file, or its problems; read in ``pool`` or a child of its own."""
        kind = SUFFIXES.get(path.suffix.lower())
        if kind is None:
            return [_unparseable(relative, "not a .pdf or .ofd e-invoice")]
        if pool is not None:
            raw = pool.read(path, kind)  # type: ignore[arg-type]
        else:
            raw = read_isolated(path, kind, self.config.limits,  # type: ignore[arg-type]
                                **({"worker": self.worker} if self.worker else {}))
        if isinstance(raw, str):
            return [_unparseable(relative, raw)]
        fields, problems = self._fields(raw, relative)
        if fields is None:
            return problems
        invoice, problems = to_invoice(fields, company_tax_id=self.config.company_tax_id,
                                       payment_terms_days=self.config.payment_terms_days,
                                       file=relative)
        return [invoice] if invoice else problems

    def _fields(self, raw: RawDocument, relative: str):
        if raw.embedded is not None:
            return fields_from_embedded(raw.embedded, relative)
        return extract(raw.text, self.templates, relative)


def _unparseable(file: str, reason: str) -> BadInput:
    return BadInput(file=file, row=None, field=None,
                    message=f"UNPARSEABLE_DOCUMENT: {file}: {reason}")
