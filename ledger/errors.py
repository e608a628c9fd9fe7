"""Bad input, described so that the person who owns the data can fix it.

Every message names where (file, row), what (field), what was found and what was expected.
Batch code collects these as values (see ``Problems``) instead of stopping at the first one.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class FieldError(ValueError):
    """A value of one field is not acceptable; raised by domain constructors."""

    def __init__(self, field: str, found: object, expected: str) -> None:
        self.field = field
        self.found = found
        self.expected = expected
        super().__init__(f"field '{field}': found {found!r}, expected {expected}")


@dataclass(frozen=True, slots=True, kw_only=True)
class BadInput:
    """One record that could not be read. Never fatal for the other records."""

    file: str
    row: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.field:
            where += f", field '{self.field}'"
        return f"{where}: {self.message}"

    @classmethod
    def from_field_error(cls, file: str, row: int | None, error: FieldError) -> BadInput:
        return cls(file=file, row=row, field=error.field,
                   message=f"found {error.found!r}, expected {error.expected}")


@dataclass(slots=True)
class Problems:
    """Problems gathered by a batch step, returned beside its results."""

    items: list[BadInput] = field(default_factory=list)

    def add(self, problem: BadInput) -> None:
        self.items.append(problem)

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self):
        return iter(self.items)
