"""Reading the rows of many values at once (``driver_rows_in``): chunks of an IN list on SQLite, one
array on PostgreSQL; the same rows either way."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from ledger.storage.bulk import driver_rows_in


def test_the_rows_of_many_values_come_back_whole_and_only_theirs(migrated) -> None:
    names = [f"客户{n:05d} 有限公司'{n % 7}" for n in range(1_234)]   # more than two chunks; quotes and CJK
    with migrated.begin() as connection:
        connection.execute(text("INSERT INTO company (id, name, base_currency) VALUES ('c1', 'c1', 'CNY'), "
                                "('c2', 'c2', 'CNY')"))
        for company, chosen in (("c1", names), ("c2", names[:10])):
            connection.execute(text(
                "INSERT INTO party_name (company_id, name, name_key, level, score, matched, master_version, "
                "decided_by, decided_at) VALUES (:c, :n, :k, 'exact', 1.0, '', 'v1', 'yecai', CURRENT_TIMESTAMP)"),
                [{"c": company, "n": name, "k": name.lower()} for name in chosen])
        asked = [*names[::3], "没有这个名字"]
        found = driver_rows_in(connection, "SELECT name, name_key FROM party_name WHERE company_id = {} "
                               "AND name IN ({values})", ("c1",), asked)
        assert sorted(found) == sorted((name, name.lower()) for name in names[::3])
        other = driver_rows_in(connection, "SELECT name FROM party_name WHERE company_id = {} AND name IN ({values})",
                               ("c2",), asked)
        assert sorted(other) == [(names[n],) for n in range(0, 10, 3)]
        assert driver_rows_in(connection, "SELECT name FROM party_name WHERE name IN ({values})", (), []) == []
        with pytest.raises(ValueError, match="IN"):
            driver_rows_in(connection, "SELECT name FROM party_name WHERE name = {}", (), ["x"])
