"""counterparties.csv: optional master data with aliases ('|' separated) and bank accounts."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from connectors.dropfolder.csvfile import BAD, Row
from ledger.counterparties import Counterparty, Role
from ledger.errors import BadInput, FieldError

COLUMNS = ("counterparty_id", "role", "name", "tax_id", "bank_account", "aliases")


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split("|") if part.strip())


def counterparties(name: str, rows: Iterable[Row]) -> Iterator[tuple[int, Counterparty] | BadInput]:
    seen: set[str] = set()
    for row in rows:
        cells = row.cells
        if BAD in cells:
            yield BadInput(file=name, row=row.number, field=None, message=cells[BAD])
            continue
        try:
            if cells["role"] not in {r.value for r in Role}:
                raise FieldError("role", cells["role"], "customer, supplier or both")
            party = Counterparty(counterparty_id=cells["counterparty_id"], role=Role(cells["role"]),
                                 name=cells["name"], tax_id=cells["tax_id"] or None,
                                 aliases=_split(cells["aliases"]),
                                 bank_accounts=_split(cells["bank_account"]))
        except FieldError as error:
            yield BadInput.from_field_error(name, row.number, error)
            continue
        if party.counterparty_id in seen:
            yield BadInput(file=name, row=row.number, field="counterparty_id",
                           message=f"found {party.counterparty_id!r} again, expected each id once")
            continue
        seen.add(party.counterparty_id)
        yield row.number, party
