"""Match, post and raise exceptions for everything a company has stored: one step of both
``yecai reconcile`` and ``yecai sync``.

    load_inputs (documents, decisions, the name cache) → match (per block, see flows.partition)
      → persist (vouchers built; links, exceptions and names stored in one transaction)

Links (with evidence) and exception items are written in one transaction; vouchers are
built from the templates and returned for drafting (ledger.posting.book).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Engine

from flows.names import cached_resolver, save_names
from flows.vouchers import posting_events
from ledger.counterparties import Counterparty
from ledger.documents import BankTransaction, BusinessDocument
from ledger.exceptions import MATCH_CODES, ExceptionItem
from ledger.faults import checkpoint
from ledger.posting.fx import RateTable
from ledger.posting.templates import PostingTemplates
from ledger.posting.vouchers import Voucher, number, post_all
from ledger.settings import ChartOfAccounts, Tolerances
from ledger.storage.decisions import applied_by_people, blocked_documents, rejected_pairs, settled_by_people
from ledger.storage.exception_store import RaisedCounts, raise_exceptions, settle_gone
from ledger.storage.links import save_links
from ledger.storage.read import load_bank_transactions, load_documents
from matching.engine import MatchOutput, run_matching
from matching.model import Decision, Link, evidence_json
from matching.resolution import CachedResolver
from matching.rules import MatchingRules
from review.learning import autonomous_parties, record_night
from review.queue import enrich
from review.settings import ReviewSettings, load_review_settings


@dataclass(slots=True)
class MatchRun:
    as_of: date
    documents: list[BusinessDocument]
    transactions: list[BankTransaction]
    output: MatchOutput
    vouchers: list[Voucher]
    raised: RaisedCounts = field(default_factory=lambda: RaisedCounts(0, 0))
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def auto_match_rate(self) -> float:
        return round(len(self.output.settled_txns) / len(self.transactions), 4) if self.transactions else 0.0


def link_row(link: Link) -> dict:
    return {"from_type": link.from_type, "from_no": link.from_no, "to_type": link.to_type, "to_no": link.to_no,
            "decision": link.decision.value, "score": link.score,
            "amount_minor": link.amount.to_minor() if link.amount is not None else None,
            "currency": link.amount.currency if link.amount is not None else None, "rule": link.evidence.rule,
            "rule_version": link.evidence.rule_version, "decided_by": link.evidence.decided_by,
            "evidence": evidence_json((c.name, c.level, c.score, c.detail) for c in link.evidence.comparisons)}


@dataclass(slots=True)
class MatchInputs:
    """Everything a company has stored that matching reads, and the review queue's decisions
    that steer it: pairs people rejected for good, parties whose suggestions they trust,
    invoices blocked as duplicates, bank transactions people settled (the matcher leaves them
    alone) and what people applied to each invoice (ledger.storage.decisions). ``resolver``
    holds the names resolved in earlier runs (and reviewers' answers) for this master data,
    whose version is ``master_version``."""

    as_of: date
    documents: list[BusinessDocument]
    transactions: list[BankTransaction]
    parties: list[Counterparty]
    rejected: frozenset = frozenset()
    autonomous: frozenset = frozenset()
    blocked: frozenset = frozenset()
    decided: frozenset = frozenset()
    applied: dict = field(default_factory=dict)
    resolver: CachedResolver | None = None
    master_version: str = ""
    rules_version: str = ""      # the rules the resolver's thresholds came from


def load_inputs(engine: Engine, company_id: str, rules: MatchingRules, as_of: date | None = None,
                review_settings: ReviewSettings | None = None) -> MatchInputs:
    review_settings = review_settings or load_review_settings()
    with engine.connect() as connection:
        documents = load_documents(connection, company_id)
        transactions = load_bank_transactions(connection, company_id)
        resolver, version = cached_resolver(connection, company_id, rules)
        rejected, blocked = rejected_pairs(connection, company_id), blocked_documents(connection, company_id)
        decided, applied = settled_by_people(connection, company_id), applied_by_people(connection, company_id)
        autonomous = autonomous_parties(connection, company_id, review_settings.autonomy)
    dates = [d.date for d in documents] + [t.booking_date for t in transactions]
    return MatchInputs(as_of=as_of or (max(dates) if dates else date.today()), documents=documents,
                       transactions=transactions, parties=list(resolver.counterparties), rejected=frozenset(rejected),
                       autonomous=frozenset(autonomous), blocked=frozenset(blocked), decided=frozenset(decided),
                       applied=dict(applied), resolver=resolver, master_version=version,
                       rules_version=rules.version)


def match(inputs: MatchInputs, rules: MatchingRules, tolerances: Tolerances) -> MatchOutput:
    """Match what people have not settled themselves. Other rules than the inputs were loaded
    with (a backtest) resolve names afresh under their own thresholds."""
    unsettled = [t for t in inputs.transactions if t.number not in inputs.decided]
    resolver = inputs.resolver if inputs.rules_version == rules.version else None
    return run_matching(inputs.documents, unsettled, inputs.parties, inputs.as_of, rules, tolerances,
                        rejected=inputs.rejected, autonomous=inputs.autonomous, blocked=inputs.blocked,
                        applied=inputs.applied, resolver=resolver)


def persist(engine: Engine, company_id: str, inputs: MatchInputs, output: MatchOutput, *, chart: ChartOfAccounts,
            templates: PostingTemplates, extra_exceptions: Sequence[ExceptionItem] = (),
            rates: RateTable | None = None, store: bool = True) -> MatchRun:
    """Build the vouchers of a matching run; store its links, exception items (with the review
    queue's enrichment and the night's figures) and resolved names in one transaction. Without
    ``store`` nothing is written (a dry run)."""
    checkpoint("matched")
    started = time.perf_counter()
    # a document marked as a duplicate gets no voucher
    events = posting_events(inputs.documents, inputs.transactions, output, rates, inputs.blocked)
    vouchers = number(post_all(events, templates, chart, rates))
    posted = time.perf_counter()
    raised = RaisedCounts(0, 0)
    if store:
        with engine.begin() as connection:
            save_links(connection, company_id, [link_row(link) for link in output.links])
            checkpoint("links_saved")
            raised = raise_exceptions(connection, company_id, [*output.exceptions, *extra_exceptions])
            # causes gone since the last run: their open items are resolved by yecai
            settle_gone(connection, company_id, [*output.exceptions, *extra_exceptions], MATCH_CODES)
            if inputs.resolver is not None:
                save_names(connection, company_id, inputs.master_version, inputs.resolver)
            enrich(connection, company_id)
            record_night(connection, company_id, date.today(), bank_txns=len(inputs.transactions),
                         settled_txns=len(output.settled_txns),
                         auto_links=sum(link.decision is Decision.AUTO for link in output.links),
                         suggested_links=sum(link.decision is Decision.SUGGESTED for link in output.links))
        checkpoint("exceptions_raised")
    return MatchRun(as_of=inputs.as_of, documents=inputs.documents, transactions=inputs.transactions, output=output,
                    vouchers=vouchers, raised=raised,
                    seconds={"post": round(posted - started, 3), "store": round(time.perf_counter() - posted, 3)})


def match_company(engine: Engine, company_id: str, *, chart: ChartOfAccounts, templates: PostingTemplates,
                  rules: MatchingRules, tolerances: Tolerances, as_of: date | None = None,
                  extra_exceptions: Sequence[ExceptionItem] = (), rates: RateTable | None = None,
                  review_settings: ReviewSettings | None = None, store: bool = True) -> MatchRun:
    """Match the company's stored documents and build their vouchers in one process. Rejected
    pairs and earned autonomy (the review queue's decisions) steer the matcher. Without
    ``store`` nothing is written (a dry run)."""
    started = time.perf_counter()
    inputs = load_inputs(engine, company_id, rules, as_of, review_settings)
    loaded = time.perf_counter()
    output = match(inputs, rules, tolerances)
    matched = time.perf_counter()
    run = persist(engine, company_id, inputs, output, chart=chart, templates=templates,
                  extra_exceptions=extra_exceptions, rates=rates, store=store)
    run.seconds = {"load": round(loaded - started, 3), "match": round(matched - loaded, 3), **run.seconds}
    return run
