"""The bank statement connector: MT940/MT942 (``.sta``, ``.mt940``), camt (``.xml``),
BAI2 (``.bai``, ``.bai2``) and OFX 1.x/2.x (``.ofx``, ``.qfx``) files.

Source ids are ``bank:account_no:txn_id``; the cursor is the file's content hash, so a
changed file is read again. Every problem (undecodable bytes, impossible dates, balance
breaks) is yielded as ``Skipped`` naming the file; ``report`` says which encoding each
file was decoded with.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from connectors.bank.bai2 import parse_bai2
from connectors.bank.camt import parse_camt
from connectors.bank.mt940 import parse_mt940
from connectors.bank.ofx import parse_ofx
from connectors.bank.statement import ParsedFile
from connectors.contract import Connector, ConnectorConfig, Record, Skipped
from connectors.errors import FatalError
from connectors.files import files_digest
from ledger.documents import DocumentKind

MT940_SUFFIXES = (".sta", ".mt940")
CAMT_SUFFIXES = (".xml",)
BAI2_SUFFIXES = (".bai", ".bai2")
OFX_SUFFIXES = (".ofx", ".qfx")
SUFFIXES = MT940_SUFFIXES + CAMT_SUFFIXES + BAI2_SUFFIXES + OFX_SUFFIXES


def parse_file(path: Path, relative: str, *, encoding_fallback: str = "cp1252") -> ParsedFile:
    data = path.read_bytes()
    suffix = path.suffix.lower()
    if suffix in CAMT_SUFFIXES:
        return parse_camt(data, relative)
    if suffix in BAI2_SUFFIXES:
        return parse_bai2(data, relative, encoding_fallback=encoding_fallback)
    if suffix in OFX_SUFFIXES:
        return parse_ofx(data, relative)
    return parse_mt940(data, relative, encoding_fallback=encoding_fallback)


def records(parsed: ParsedFile, cursor: str) -> Iterator[Record | Skipped]:
    for problem in parsed.problems:
        yield Skipped(problem=problem)
    for txn in parsed.transactions:
        yield Record(document=txn, source_id=f"bank:{txn.account_no}:{txn.txn_id}",
                     cursor=cursor, file=parsed.file)


class BankStatementConnector(Connector):
    name = "bank_statement"
    kinds = frozenset({DocumentKind.BANK_TXN})

    class Config(ConnectorConfig):
        path: str
        #: Code page tried, strictly, when a file is not UTF-8; bytes neither can decode are
        #: a problem, never dropped. cp1252 is the Western-European bank default.
        encoding_fallback: str = "cp1252"

    def __init__(self, config: Config, *, base_path: Path | None = None) -> None:
        super().__init__(config, base_path=base_path)
        self.report: dict[str, ParsedFile] = {}

    def fetch(self, since: str | None = None) -> Iterator[Record | Skipped]:
        root = (self.base_path / self.config.path).resolve()
        if root.is_file():
            paths, base = [root], root.parent
        elif root.is_dir():
            paths = sorted(p for p in root.rglob("*") if p.suffix.lower() in SUFFIXES and p.is_file())
            base = root
        else:
            raise FatalError(f"bank statement path {root} does not exist")
        self.report = {}
        cursor = files_digest(paths, base)  # unchanged files since this cursor yield nothing
        if since == cursor:
            return
        for path in paths:
            relative = path.relative_to(base).as_posix()
            parsed = parse_file(path, relative, encoding_fallback=self.config.encoding_fallback)
            self.report[relative] = parsed
            yield from records(parsed, cursor)
