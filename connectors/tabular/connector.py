"""The tabular connector: CSV/xlsx/xls exports of any bank or ERP, mapped by a profile.

    [[connectors]]
    type = "tabular"
    path = "inbox/icbc"            # a file or a folder (files matching the profile's patterns)
    profile = "icbc_debit"         # a name in config/profiles, or a path to a .toml
    account_no = "6222..."         # optional; else the profile's fixed or header-line number

Source ids are ``bank:account_no:txn_id``. A bad row is yielded as ``Skipped`` and the other
rows go on; a file that cannot be read at all is one ``Skipped`` naming the file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from connectors.contract import Connector, ConnectorConfig, Record, Skipped
from connectors.dropfolder.csvfile import FileError
from connectors.errors import FatalError
from connectors.files import files_digest
from connectors.tabular.profile import Profile, ProfileError, load_profile
from connectors.tabular.rows import RowCounts, transactions
from connectors.tabular.sheet import Header, find_header, read_sheet
from ledger.documents import DocumentKind
from ledger.errors import BadInput


class TabularConnector(Connector):
    name = "tabular"
    kinds = frozenset({DocumentKind.BANK_TXN})

    class Config(ConnectorConfig):
        path: str
        profile: str
        account_no: str | None = None

    def __init__(self, config: Config, *, base_path: Path | None = None) -> None:
        super().__init__(config, base_path=base_path)
        try:
            self.profile: Profile = load_profile(config.profile, self.base_path)
        except ProfileError as error:
            raise FatalError(str(error)) from None
        self.counts: dict[str, RowCounts] = {}

    def files(self) -> list[Path]:
        target = (self.base_path / self.config.path).resolve()
        if target.is_file():
            return [target]
        if not target.is_dir():
            raise FatalError(f"tabular input {target} does not exist")
        found = {path for pattern in self.profile.files for path in target.glob(pattern)}
        return sorted(path for path in found if path.is_file())

    def fetch(self, since: str | None = None) -> Iterator[Record | Skipped]:
        """The cursor is a digest of the files read: unchanged files since it yield nothing."""
        self.counts = {}
        paths = self.files()
        base = self.base_path / self.config.path
        self._cursor = files_digest(paths, base if base.is_dir() else base.parent)
        if since == self._cursor:
            return
        for path in paths:
            yield from self._file(path)

    def _account_no(self, header: Header) -> str | None:
        if self.config.account_no:
            return self.config.account_no
        if self.profile.account_no_pattern:
            pattern = re.compile(self.profile.account_no_pattern)
            for row in header.preamble:
                match = pattern.search(" ".join(row.cells))
                if match:
                    return match.group(1).strip()
        return self.profile.account_no

    def _file(self, path: Path) -> Iterator[Record | Skipped]:
        name = path.name
        counts = self.counts[name] = RowCounts()
        try:
            rows = read_sheet(path, name, encoding=self.profile.encoding, sheet=self.profile.sheet)
            header = find_header(rows, name, sorted(self.profile.columns))
        except FileError as error:
            counts.problems += 1
            yield Skipped(problem=BadInput(file=name, row=None, field=None, message=str(error)))
            return
        account_no = self._account_no(header)
        if not account_no:
            counts.problems += 1
            yield Skipped(problem=BadInput(file=name, row=None, field="account_no", message=(
                "no account number: set account_no in the connector config or the profile, "
                "or a profile account_no_pattern that matches a line above the header")))
            return
        cursor = self._cursor
        for item in transactions(self.profile, name, header, rows, account_no, counts):
            if isinstance(item, BadInput):
                yield Skipped(problem=item)
            else:
                _row, txn = item
                yield Record(document=txn, source_id=f"bank:{txn.number}", cursor=cursor, file=name)
