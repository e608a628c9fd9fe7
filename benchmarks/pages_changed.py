"""Which tables and indexes a run rewrote: two copies of a SQLite database compared page by page.

    .venv/bin/python -m benchmarks.pages_changed before.db after.db

A commit writes every page it changed to the WAL and its checkpoint writes them again into the
database, so the pages a run changes are what its commit costs. Each changed page is named by the
b-tree that holds it in ``after`` (SQLite's ``dbstat`` table); pages past the end of ``before`` count
as changed. Both files are checkpointed first (their WAL folded into them, which changes no row).
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
from collections import Counter
from pathlib import Path


def pages_changed(before: Path, after: Path) -> tuple[int, Counter]:
    """(page size, changed pages per table or index of ``after``)."""
    sizes = [_checkpointed(path, "PRAGMA page_size")[0][0] for path in (before, after)]
    if sizes[0] != sizes[1]:
        raise ValueError(f"{before} has pages of {sizes[0]} bytes, {after} of {sizes[1]}: not copies of one database")
    try:
        owner = dict(_checkpointed(after, "SELECT pageno, name FROM dbstat"))
    except sqlite3.OperationalError as error:
        raise RuntimeError(f"this SQLite ({sqlite3.sqlite_version}) has no dbstat table: {error}") from None
    size, changed = sizes[1], Counter()
    with open(before, "rb") as old, open(after, "rb") as new:
        page = 1
        while new_page := new.read(size):
            if old.read(size) != new_page:
                changed[owner.get(page, "(free or not in a b-tree)")] += 1
            page += 1
    return size, changed


def _checkpointed(path: Path, query: str) -> list[tuple]:
    """``query``'s rows from the database ``path``, its WAL folded into it first."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such database file")
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return connection.execute(query).fetchall()
    finally:
        connection.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("before", type=Path, help="the database before the run (a copy)")
    parser.add_argument("after", type=Path, help="the same database after it")
    args = parser.parse_args(argv)
    try:
        size, changed = pages_changed(args.before, args.after)
    except (OSError, ValueError, RuntimeError) as error:
        print(f"pages_changed: {error}", file=sys.stderr)
        return 2
    total = sum(changed.values())
    print(f"{total:,} pages of {size:,} bytes changed: {total * size / 1e6:,.1f} MB")
    for name, pages in changed.most_common():
        print(f"{pages:>9,}  {pages * size / 1e6:>8,.1f} MB  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
