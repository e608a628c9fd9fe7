"""The incremental cash step against the database: open items, the delta, cached names,
reviewers' aliases and rejected pairs, and agreement with the whole-company matcher."""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, delete, select, text

from benchmarks.synth import generate
from flows.reconcile import reconcile
from flows.settle_step import refresh_open_items_step, settle_new_transactions
from ledger.counterparties import Counterparty, PartyNames, Role
from ledger.settings import Tolerances
from ledger.storage.matching_state import (
    apply_settlement,
    decide_name,
    id_ranges,
    load_name_cache,
    load_party_keys,
    load_party_names,
)
from ledger.storage.read import load_counterparties
from ledger.storage.review_tables import RejectedPair
from ledger.storage.store import store
from ledger.storage.tables import MatchLinkRow, OpenItemRow, PartyIndexRow, PartyNameRow
from matching.model import evidence_comparisons
from matching.rules import load_rules
from review.learning import learn_alias
from tests.matching.scenario import PARTIES, purchase_invoice, sales_invoice, txn

COMPANY = "acme"
RULES, TOLERANCES = load_rules(), Tolerances()


def _company(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO company (id, name, base_currency) VALUES ('acme', 'Acme', 'CNY')"))


def _links(engine: Engine) -> set[tuple]:
    table = MatchLinkRow.__table__
    with engine.connect() as connection:
        return {(r.from_no, r.to_no.removeprefix("3105:"), r.decision, r.amount_minor)
                for r in connection.execute(select(table))}


def _open(engine: Engine) -> dict[str, int]:
    table = OpenItemRow.__table__
    with engine.connect() as connection:
        return dict(connection.execute(select(table.c.doc_no, table.c.open_minor)).all())


def test_a_delta_touches_only_new_transactions_and_the_items_still_open(migrated: Engine) -> None:
    _company(migrated)
    store(migrated, COMPANY, "erp", [*PARTIES, sales_invoice("44001234", ("A", 2, "500.00")),
                                      sales_invoice("44005678", ("A", 1, "100.00")),
                                      purchase_invoice("26310500000000000085", ("B", 4, "100.00"))])
    assert refresh_open_items_step(migrated, COMPANY, RULES) == 3
    assert refresh_open_items_step(migrated, COMPANY, RULES) == 0          # nothing new stored
    store(migrated, COMPANY, "bank", [txn("T1", "1130.00", remittance="货款 44001243"),   # one digit off
                                      txn("T2", "-452.00", counterparty="立讯精密", remittance="付货款",
                                          account="6222999988887777")])
    first = settle_new_transactions(migrated, COMPANY, RULES, TOLERANCES)
    assert (first.transactions, first.open_items, first.links) == (2, 3, {"auto": 2, "suggested": 0})
    assert _links(migrated) == {("44001234", "T1", "auto", 113000), ("26310500000000000085", "T2", "auto", 45200)}
    assert _open(migrated) == {"44005678": 11300}                           # settled items leave the working set
    with migrated.connect() as connection:                                  # every link keeps its evidence
        table = MatchLinkRow.__table__
        stored = connection.execute(select(table).where(table.c.to_no == "3105:T1")).one()
    assert (stored.rule, stored.rule_version, stored.decided_by) == ("reference", RULES.version, "yecai")
    assert [(c["name"], c["level"], c["score"]) for c in evidence_comparisons(stored.evidence)] == [
        ("reference", "one_digit_off", 0.97), ("counterparty", "exact", 1.0), ("amount", "exact", 1.0)]
    again = settle_new_transactions(migrated, COMPANY, RULES, TOLERANCES)
    assert again.transactions == 0 and again.links == {}                    # nothing new: nothing written
    store(migrated, COMPANY, "bank", [txn("T3", "100.00", remittance="44005678", days=9)])
    delta = settle_new_transactions(migrated, COMPANY, RULES, TOLERANCES)
    assert (delta.transactions, delta.open_items) == (1, 1)
    assert ("44005678", "T3", "auto", 10000) in _links(migrated) and _open(migrated) == {"44005678": 1300}


def test_names_are_resolved_once_and_reviewers_decisions_are_honoured(migrated: Engine) -> None:
    _company(migrated)
    store(migrated, COMPANY, "erp", [*PARTIES, sales_invoice("44000001", ("A", 2, "500.00")),
                                      sales_invoice("44000002", ("A", 3, "500.00"))])
    refresh_open_items_step(migrated, COMPANY, RULES)
    store(migrated, COMPANY, "bank", [txn("T1", "1130.00", counterparty="HAIER SMART HOME", remittance="货款")])
    first = settle_new_transactions(migrated, COMPANY, RULES, TOLERANCES)
    assert first.links == {"auto": 0, "suggested": 1} and first.new_names == 1   # an English name nobody taught us
    with migrated.begin() as connection:
        names = PartyNameRow.__table__
        cached = connection.execute(select(names.c.level).where(names.c.name == "HAIER SMART HOME")).scalar_one()
        assert cached == "none"
        assert learn_alias(connection, COMPANY, "C1", "HAIER SMART HOME")   # the review queue's answer
    store(migrated, COMPANY, "bank", [txn("T2", "1695.00", counterparty="HAIER SMART HOME", remittance="货款")])
    second = settle_new_transactions(migrated, COMPANY, RULES, TOLERANCES)
    # the alias changed the master data, so the matcher's own cached answers are made afresh, once
    assert second.new_names >= 1 and ("44000002", "T2", "auto", 169500) in _links(migrated)
    with migrated.begin() as connection:
        decide_name(connection, COMPANY, "海尔", None, decided_by="li.hua")   # "this name is nobody we know"
    store(migrated, COMPANY, "bank", [txn("T3", "1130.00", counterparty="海尔", remittance="货款", days=6)])
    third = settle_new_transactions(migrated, COMPANY, RULES, TOLERANCES)
    assert third.new_names == 0 and "3105:T3" in _unknown_payers(migrated)   # else 海尔 is short for C1


def test_decisions_read_before_the_version_is_known_are_those_valid_for_it(migrated: Engine) -> None:
    """A side of the cash step reads its names' decisions while another process works the master data's
    version out: the rows come first, the version after (asked for once), and what is kept is what the
    version given at once would have read: the matcher's decisions for that version and every reviewer's."""
    _company(migrated)
    rows = [("海尔智家", "yecai", "v2", "exact"), ("立讯", "yecai", "v1", "fuzzy"),   # v1: before an alias changed
            ("海尔", "li.hua", "v1", "reviewer"), ("大华", "yecai", "v2", "none")]
    with migrated.begin() as connection:
        for name, decided_by, version, level in rows:
            connection.execute(PartyNameRow.__table__.insert().values(
                company_id=COMPANY, name=name, name_key=name, party_id=None, level=level, score=0.9, matched="",
                master_version=version, decided_by=decided_by, decided_at=datetime.now(UTC)))
    asked: list[str] = []
    with migrated.connect() as connection:
        for only in (None, ["海尔智家", "立讯", "海尔"]):
            known = load_name_cache(connection, COMPANY, "v2", only=only)
            later = load_name_cache(connection, COMPANY, lambda: asked.append("v2") or "v2", only=only)
            assert later == known and set(known) == ({"海尔智家", "海尔", "大华"} & set(only or known))
    assert asked == ["v2", "v2"]     # once per read


def test_new_names_are_resolved_on_the_index_kept_for_the_master_data(migrated: Engine, monkeypatch) -> None:
    """The first run that needs the party index builds it and keeps it for its master data; a later
    run's new names are resolved on the one kept, without reading every party's names, until master
    data changes: then it is built again and kept for the new version."""
    import flows.names as names

    _company(migrated)
    store(migrated, COMPANY, "erp", [*PARTIES, sales_invoice("44000001", ("A", 2, "500.00")),
                                      sales_invoice("44000002", ("A", 3, "500.00"))])
    refresh_open_items_step(migrated, COMPANY, RULES)   # the master names are resolved: the index is built
    kept = PartyIndexRow.__table__
    with migrated.connect() as connection:
        first = connection.execute(select(kept.c.master_version, kept.c.tables)).one()
    built = []
    monkeypatch.setattr(names, "load_party_names", lambda *a: built.append(1) or load_party_names(*a))
    store(migrated, COMPANY, "bank", [txn("T1", "1130.00", counterparty="青岛海尔智家股份有限公", remittance="货款"),
                                      txn("T2", "1695.00", counterparty="海康威视", remittance="货款")])
    run = settle_new_transactions(migrated, COMPANY, RULES, TOLERANCES)
    assert run.new_names == 2 and not built                             # resolved on the index kept
    assert ("44000001", "T1", "auto", 113000) in _links(migrated)       # the bank's cut name is still 海尔
    with migrated.begin() as connection:
        assert learn_alias(connection, COMPANY, "C1", "HAIER SMART HOME")  # master data changes
    store(migrated, COMPANY, "bank", [txn("T3", "1695.00", counterparty="海尔智家股份有限公", remittance="货款",
                                          days=6)])
    settle_new_transactions(migrated, COMPANY, RULES, TOLERANCES)
    with migrated.connect() as connection:
        again = connection.execute(select(kept.c.master_version, kept.c.tables)).all()
    assert built == [1] and len(again) == 1 and again[0].master_version != first.master_version
    assert json.loads(again[0].tables)["keys"] == sorted({*json.loads(first.tables)["keys"], "haiersmarthome"})
    with migrated.begin() as connection:   # what is kept is damaged: built again, and kept in its place
        connection.execute(kept.update().values(tables='{"keys": ["海尔智家"], "owners": []'))
    store(migrated, COMPANY, "bank", [txn("T4", "1695.00", counterparty="海尔智家股份", remittance="货款", days=7)])
    settle_new_transactions(migrated, COMPANY, RULES, TOLERANCES)
    with migrated.connect() as connection:
        assert built == [1, 1] and connection.execute(select(kept.c.tables)).scalar() == again[0].tables


def _unknown_payers(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(connection.execute(text(
            "SELECT d.doc_no FROM exception_item e JOIN exception_document d ON d.exception_id = e.id "
            "WHERE e.code = 'UNKNOWN_COUNTERPARTY'")).scalars())


def test_a_rejected_pair_is_never_proposed_again(migrated: Engine) -> None:
    _company(migrated)
    store(migrated, COMPANY, "erp", [*PARTIES, sales_invoice("44000001", ("A", 2, "500.00")),
                                      sales_invoice("44000002", ("A", 2, "500.00"), days=1)])
    refresh_open_items_step(migrated, COMPANY, RULES)
    with migrated.begin() as connection:
        connection.execute(RejectedPair.__table__.insert().values(   # what the review queue's "ignore" writes
            company_id=COMPANY, from_type="sales_invoice", from_no="44000001", to_type="bank_txn", to_no="3105:T1",
            rejected_by="li.hua", rejected_at=datetime.now(UTC), reason="paid by the subsidiary"))
    store(migrated, COMPANY, "bank", [txn("T1", "1130.00", remittance="货款")])  # a tie without the rejection
    settle_new_transactions(migrated, COMPANY, RULES, TOLERANCES)
    assert _links(migrated) == {("44000002", "T1", "auto", 113000)}


def test_the_incremental_step_links_as_the_whole_company_matcher_does(tmp_path: Path) -> None:
    company = generate(tmp_path / "synth", chains=400, profile="standard", seed=11)
    as_of = date.fromisoformat(json.loads((company / "truth.json").read_text())["as_of"])
    database = tmp_path / "reconcile.db"
    reconcile(company / "drop", tmp_path / "out", as_of=as_of, db=f"sqlite:///{database}")
    from ledger.storage.engine import make_engine

    engine = make_engine(f"sqlite:///{database}")
    table = MatchLinkRow.__table__
    with engine.begin() as connection:
        whole = {tuple(r) for r in connection.execute(select(
            table.c.from_no, table.c.to_no, table.c.decision, table.c.amount_minor, table.c.rule, table.c.evidence)
            .where(table.c.to_type == "bank_txn"))}
        connection.execute(delete(table).where(table.c.to_type == "bank_txn"))
    refresh_open_items_step(engine, "reconcile", RULES)
    run = settle_new_transactions(engine, "reconcile", RULES, TOLERANCES)
    with engine.connect() as connection:
        incremental = {tuple(r) for r in connection.execute(select(
            table.c.from_no, table.c.to_no, table.c.decision, table.c.amount_minor, table.c.rule, table.c.evidence)
            .where(table.c.to_type == "bank_txn"))}
    engine.dispose()
    assert run.transactions > 300 and incremental == whole


def _state(engine: Engine) -> dict[str, list[tuple]]:
    """Every row the step writes, in id order (``decided_at``/``last_seen_at`` aside: clock times)."""
    queries = {
        "links": "SELECT id, from_type, from_no, to_type, to_no, decision, score, amount_minor, currency, rule, "
                 "evidence FROM match_link ORDER BY id",
        "exceptions": "SELECT id, fingerprint, code, status, message FROM exception_item ORDER BY id",
        "documents": "SELECT exception_id, doc_type, doc_no, amount_minor, currency FROM exception_document "
                     "ORDER BY exception_id, doc_type, doc_no",
        "open items": "SELECT id, doc_no, open_minor FROM open_item ORDER BY id",
        "names": "SELECT id, name, name_key, party_id, level, score, matched FROM party_name ORDER BY id",
        "cursors": "SELECT company_id, name, position FROM match_cursor ORDER BY company_id, name"}
    with engine.connect() as connection:
        return {name: [tuple(r) for r in connection.execute(text(sql))] for name, sql in queries.items()}


def test_two_processes_write_what_one_does(tmp_path: Path, monkeypatch) -> None:
    """The two sides in two forked processes, merged, leave the database exactly as one process does:
    the same rows with the same ids, over a first run and a delta. (On SQLite the sides' links come
    through spool files attached to the run's connection.)"""
    import flows.settle_step as step

    copied, copy_links = [], step._LinkWriter.copy
    monkeypatch.setattr(step._LinkWriter, "copy", lambda self, alias: copied.append(alias) or copy_links(self, alias))
    company = generate(tmp_path / "synth", chains=600, profile="standard", seed=5)
    as_of = date.fromisoformat(json.loads((company / "truth.json").read_text())["as_of"])
    first = tmp_path / "first.db"
    reconcile(company / "drop", tmp_path / "out", as_of=as_of, db=f"sqlite:///{first}")
    from ledger.storage.engine import make_engine

    engine = make_engine(f"sqlite:///{first}")
    with engine.begin() as connection:     # the bank lines come again as a later statement would bring them
        connection.execute(text("DELETE FROM match_link WHERE to_type = 'bank_txn'"))
        connection.execute(text("DELETE FROM exception_document"))
        connection.execute(text("DELETE FROM exception_item"))
        later = connection.execute(text("SELECT max(id) - 150 FROM bank_txn")).scalar()
    refresh_open_items_step(engine, "reconcile", RULES)
    engine.dispose()
    states = []
    for workers in (1, 2):
        copy = tmp_path / f"workers-{workers}.db"
        copy.write_bytes(first.read_bytes())
        engine = make_engine(f"sqlite:///{copy}")
        with engine.begin() as connection:   # the last 150 bank lines arrive in a second run
            connection.execute(text("INSERT INTO match_cursor (company_id, name, position) "
                                    "VALUES ('reconcile', 'bank_txn', 0)"))
            connection.execute(text(f"CREATE TABLE later_lines AS SELECT * FROM bank_txn WHERE id > {later}"))
            connection.execute(text(f"DELETE FROM bank_txn WHERE id > {later}"))
        runs = [settle_new_transactions(engine, "reconcile", RULES, TOLERANCES, workers=workers)]
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO bank_txn SELECT * FROM later_lines"))
        runs.append(settle_new_transactions(engine, "reconcile", RULES, TOLERANCES, workers=workers))
        states.append((_state(engine), [(r.transactions, r.links, r.settled, r.closed, r.exceptions, r.workers)
                                        for r in runs]))
        with engine.connect() as connection:   # the sides' link spools were attached, and are detached again
            assert [row[1] for row in connection.exec_driver_sql("PRAGMA database_list")] == ["main"]
        engine.dispose()
    (one, one_runs), (two, two_runs) = states
    assert [r[-1] for r in two_runs] == [2, 2] and [r[-1] for r in one_runs] == [1, 1]
    assert [r[:-1] for r in one_runs] == [r[:-1] for r in two_runs]
    assert one_runs[0][0] > 300 and one_runs[1][0] == 150 and len(one["links"]) > 300
    assert one == two
    assert copied == ["yecai_spool_0", "yecai_spool_1"] * 2


def test_two_processes_for_a_nightly_delta_one_for_a_large_load_or_when_told(monkeypatch) -> None:
    from flows.settle_step import PARALLEL_FROM, PARALLEL_UPTO, settle_workers

    two = 2 if (os.cpu_count() or 1) >= 2 else 1
    monkeypatch.delenv("YECAI_SETTLE_WORKERS", raising=False)
    assert settle_workers(PARALLEL_FROM - 1) == 1                  # too small to pay for two
    assert settle_workers(PARALLEL_FROM) == two == settle_workers(PARALLEL_UPTO)   # a delta, a first million
    assert settle_workers(PARALLEL_UPTO + 1) == 1                  # a larger load: memory first
    monkeypatch.setenv("YECAI_SETTLE_WORKERS", "2")
    assert settle_workers(10 * PARALLEL_UPTO) == two and settle_workers(PARALLEL_FROM - 1) == 1
    monkeypatch.setenv("YECAI_SETTLE_WORKERS", "1")
    assert settle_workers(PARALLEL_FROM) == 1
    monkeypatch.setenv("YECAI_SETTLE_WORKERS", "4")
    with pytest.raises(ValueError, match="YECAI_SETTLE_WORKERS='4': expected 1 or 2"):
        settle_workers(PARALLEL_FROM)


def test_the_index_reads_each_partys_names_and_their_cached_keys_of_its_own_company(migrated: Engine) -> None:
    with migrated.begin() as connection:
        connection.execute(text("INSERT INTO company (id, name, base_currency) VALUES "
                                "('acme', 'Acme', 'CNY'), ('other', 'Other', 'CNY')"))
    ours = Counterparty(counterparty_id="C1", role=Role.CUSTOMER, name="青岛海尔智家股份有限公司",
                        aliases=("海尔智家", "青岛海尔智家股份有限公司", "Haier Smart Home"),
                        bank_accounts=("6222 0001",))
    theirs = Counterparty(counterparty_id="C1", role=Role.SUPPLIER, name="立讯精密工业股份有限公司",
                          aliases=("立讯精密",), bank_accounts=("6222 0002",))
    store(migrated, COMPANY, "erp", [ours, Counterparty(counterparty_id="C2", role=Role.SUPPLIER,
                                                        name="杭州海康威视数字技术股份有限公司")])
    store(migrated, "other", "erp", [theirs])
    refresh_open_items_step(migrated, COMPANY, RULES)   # caches the normalised key of every master name
    with migrated.connect() as connection:
        parties, keys = load_party_names(connection, COMPANY)
        assert parties == [PartyNames("C1", ("青岛海尔智家股份有限公司", "海尔智家", "Haier Smart Home")),
                           PartyNames("C2", ("杭州海康威视数字技术股份有限公司",))]
        assert keys == {"青岛海尔智家股份有限公司": "海尔智家", "海尔智家": "海尔智家",
                        "Haier Smart Home": "haiersmarthome", "杭州海康威视数字技术股份有限公司": "海康威视数字技术"}
        assert [p.names for p in load_counterparties(connection, COMPANY)] == [p.names for p in parties]
        assert load_party_keys(connection, COMPANY)[1] == {"62220001": "C1"}   # the other company's account stays out


def _two_sides_stored(engine: Engine) -> None:
    _company(engine)
    store(engine, COMPANY, "erp", [*PARTIES, sales_invoice("44001234", ("A", 2, "500.00")),
                                   purchase_invoice("26310500000000000085", ("B", 4, "100.00"))])
    refresh_open_items_step(engine, COMPANY, RULES)
    store(engine, COMPANY, "bank", [txn("T1", "1130.00", remittance="货款 44001234"),
                                    txn("T2", "-452.00", counterparty="立讯精密", remittance="付货款",
                                        account="6222999988887777")])


@pytest.mark.skipif("fork" not in __import__("multiprocessing").get_all_start_methods(), reason="needs fork")
def test_two_processes_write_both_sides_links_money_in_first_on_either_database(migrated: Engine) -> None:
    """Forked sides on SQLite (links copied from attached spools) and on PostgreSQL (links pickled and
    inserted): each side's links written once, money in's first, whichever side ends first."""
    _two_sides_stored(migrated)
    run = settle_new_transactions(migrated, COMPANY, RULES, TOLERANCES, workers=2)
    assert run.workers == 2 and run.links == {"auto": 2, "suggested": 0} and _open(migrated) == {}
    table = MatchLinkRow.__table__
    with migrated.connect() as connection:
        assert connection.execute(select(table.c.from_no).order_by(table.c.id)).scalars().all() == [
            "44001234", "26310500000000000085"]


@pytest.mark.skipif("fork" not in __import__("multiprocessing").get_all_start_methods(), reason="needs fork")
def test_a_side_failing_in_its_own_process_fails_the_run_and_writes_nothing(tmp_path: Path, monkeypatch) -> None:
    """An error in a forked side comes back as itself, with the side's traceback; a side process that
    dies without a word is reported with its exit code. Either way the run's transaction is rolled
    back and the next run starts from the same place."""
    import flows.settle_step as step
    from ledger.storage import migrate
    from ledger.storage.engine import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'sides.db'}")
    migrate.upgrade(engine)
    _two_sides_stored(engine)
    real = step.settle_side

    def money_out_fails(connection, job, **how):
        if job.side == 1:
            raise ValueError("no payee today")
        return real(connection, job, **how)

    monkeypatch.setattr(step, "settle_side", money_out_fails)
    with pytest.raises(ValueError, match="no payee today") as raised:
        settle_new_transactions(engine, COMPANY, RULES, TOLERANCES, workers=2)
    assert "in the cash step's process for purchase_invoices" in raised.value.__notes__[0]
    assert "money_out_fails" in raised.value.__notes__[0]          # the side's own traceback

    def money_in_dies(connection, job, **how):
        if job.side == 0:
            os._exit(3)
        return real(connection, job, **how)

    monkeypatch.setattr(step, "settle_side", money_in_dies)
    with pytest.raises(RuntimeError, match=r"process for sales_invoices ended without a result \(exit code 3\)"):
        settle_new_transactions(engine, COMPANY, RULES, TOLERANCES, workers=2)
    assert _links(engine) == set() and len(_open(engine)) == 2     # nothing written

    def money_in_fails_spooling(connection, job, ready, **how):
        def then_fail(part):   # its settlement is sent (and written by the parent), its links never come
            ready(part)
            if job.side == 0:
                raise OSError("no space left for the links")
        return real(connection, job, ready=then_fail, **how)

    monkeypatch.setattr(step, "settle_side", money_in_fails_spooling)
    with pytest.raises(OSError, match="no space left for the links"):
        settle_new_transactions(engine, COMPANY, RULES, TOLERANCES, workers=2)
    assert _links(engine) == set() and len(_open(engine)) == 2     # the open amounts written are rolled back
    with engine.connect() as connection:   # and so is the drop of the indexes a first load builds after
        assert {name for (name,) in connection.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE tbl_name IN ('match_link', 'open_item') AND type = 'index'")} == {
            "ix_match_link_to", "ux_match_link_pair", "ix_open_item_kind", "ux_open_item_doc"}

    monkeypatch.setattr(step, "settle_side", real)
    run = settle_new_transactions(engine, COMPANY, RULES, TOLERANCES, workers=2)
    assert run.workers == 2 and run.links == {"auto": 2, "suggested": 0} and _open(engine) == {}
    engine.dispose()


@given(st.lists(st.integers(min_value=1, max_value=60), max_size=40))
def test_closed_ids_become_the_runs_of_consecutive_ids_they_are_made_of(ids: list[int]) -> None:
    ranges = id_ranges(ids)
    assert [n for first, last in ranges for n in range(first, last + 1)] == sorted(set(ids))
    assert all(later[0] > earlier[1] + 1 for earlier, later in pairwise(ranges))   # no two runs touch


def test_closing_by_runs_of_ids_deletes_exactly_the_closed_items(migrated: Engine) -> None:
    _company(migrated)
    store(migrated, COMPANY, "erp", [*PARTIES, *(sales_invoice(f"4400{n:04d}", ("A", 1, "100.00"))
                                                 for n in range(1, 10))])
    refresh_open_items_step(migrated, COMPANY, RULES)
    table = OpenItemRow.__table__
    with migrated.begin() as connection:
        ids = dict(connection.execute(select(table.c.doc_no, table.c.id)).all())
        closed = [ids[f"4400{n:04d}"] for n in (9, 1, 2, 3, 5, 7, 8)]   # three runs, out of order
        assert apply_settlement(connection, [(4000, ids["44000004"])], closed) == (1, 7)
    assert _open(migrated) == {"44000004": 4000, "44000006": 11300}
