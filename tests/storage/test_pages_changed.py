"""benchmarks.pages_changed names the b-trees a write rewrote, and only those."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from benchmarks.pages_changed import main, pages_changed


def _database(path: Path) -> None:
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA page_size = 4096")
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("CREATE TABLE a (id INTEGER PRIMARY KEY, v TEXT)")
    connection.execute("CREATE TABLE b (id INTEGER PRIMARY KEY, v TEXT)")
    connection.execute("CREATE INDEX ix_b ON b (v)")
    with connection:
        connection.executemany("INSERT INTO a (v) VALUES (?)", [(f"a{n:06}" * 20,) for n in range(3000)])
        connection.executemany("INSERT INTO b (v) VALUES (?)", [(f"b{n:06}",) for n in range(3000)])
    connection.close()


def test_a_write_to_one_index_is_found_there(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    before, after = tmp_path / "before.db", tmp_path / "after.db"
    _database(before)
    shutil.copyfile(before, after)
    connection = sqlite3.connect(after)
    with connection:   # one row's indexed value: its table page and the index's leaves, nothing of table a
        connection.execute("UPDATE b SET v = 'zzz' WHERE id = 1500")
    connection.close()
    size, changed = pages_changed(before, after)
    assert size == 4096
    assert set(changed) <= {"b", "ix_b", "sqlite_schema"} and changed["b"] == 1 and changed["ix_b"] >= 1
    assert main([str(before), str(after)]) == 0
    assert "ix_b" in capsys.readouterr().out
    assert pages_changed(before, before)[1] == {}


def test_a_missing_file_is_named(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    _database(tmp_path / "before.db")
    assert main([str(tmp_path / "before.db"), str(tmp_path / "gone.db")]) == 2
    assert "gone.db: no such database file" in capsys.readouterr().err
