"""Match, post and raise exceptions for everything a company has stored: one step of both
``yecai reconcile`` and ``yecai sync``.

Links (with evidence) and exception items are written in one transaction; vouchers are
built from the templates and returned (their gapless storage comes with the vouchers feature).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Engine

from flows.names import cached_resolver, save_names
from flows.vouchers import posting_events
from ledger.documents import BankTransaction, BusinessDocument
from ledger.exceptions import MATCH_CODES, ExceptionItem
from ledger.posting.fx import RateTable
from ledger.posting.templates import PostingTemplates
from ledger.posting.vouchers import Voucher, number, post_all
from ledger.settings import ChartOfAccounts, Tolerances
from ledger.storage.decisions import applied_by_people, blocked_documents, rejected_pairs, settled_by_people
from ledger.storage.exception_store import raise_exceptions, settle_gone
from ledger.storage.links import save_links
from ledger.storage.read import load_bank_transactions, load_documents
from matching.engine import MatchOutput, run_matching
from matching.model import Decision, Link, evidence_json
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


def match_company(engine: Engine, company_id: str, *, chart: ChartOfAccounts, templates: PostingTemplates,
                  rules: MatchingRules, tolerances: Tolerances, as_of: date | None = None,
                  extra_exceptions: Sequence[ExceptionItem] = (), rates: RateTable | None = None,
                  review_settings: ReviewSettings | None = None, persist: bool = True) -> MatchRun:
    """Match the company's stored documents and build their vouchers. Rejected pairs and earned
    autonomy (the review queue's decisions) steer the matcher. With ``persist`` (the default)
    links and exceptions are stored; without it nothing is written (a dry run)."""
    review_settings = review_settings or load_review_settings()
    started = time.perf_counter()
    with engine.connect() as connection:
        documents = load_documents(connection, company_id)
        transactions = load_bank_transactions(connection, company_id)
        resolver, version = cached_resolver(connection, company_id, rules)
        rejected, blocked = rejected_pairs(connection, company_id), blocked_documents(connection, company_id)
        decided, applied = settled_by_people(connection, company_id), applied_by_people(connection, company_id)
        autonomous = autonomous_parties(connection, company_id, review_settings.autonomy)
    dates = [d.date for d in documents] + [t.booking_date for t in transactions]
    as_of = as_of or (max(dates) if dates else date.today())
    loaded = time.perf_counter()
    unsettled = [t for t in transactions if t.number not in decided]
    output = run_matching(documents, unsettled, resolver.counterparties, as_of, rules, tolerances,
                          rejected=rejected, autonomous=autonomous, resolver=resolver, blocked=blocked,
                          applied=applied)
    matched = time.perf_counter()
    events = posting_events(documents, transactions, output, rates, blocked)   # a duplicate invoice gets none
    vouchers = number(post_all(events, templates, chart, rates))
    posted = time.perf_counter()
    if persist:
        with engine.begin() as connection:
            save_links(connection, company_id, [link_row(link) for link in output.links])
            raise_exceptions(connection, company_id, [*output.exceptions, *extra_exceptions])
            # causes gone since the last run: their open items are resolved by yecai
            settle_gone(connection, company_id, [*output.exceptions, *extra_exceptions], MATCH_CODES)
            save_names(connection, company_id, version, resolver)
            enrich(connection, company_id)
            record_night(connection, company_id, date.today(), bank_txns=len(transactions),
                         settled_txns=len(output.settled_txns),
                         auto_links=sum(link.decision is Decision.AUTO for link in output.links),
                         suggested_links=sum(link.decision is Decision.SUGGESTED for link in output.links))
    return MatchRun(as_of=as_of, documents=documents, transactions=transactions, output=output, vouchers=vouchers,
                    seconds={"load": round(loaded - started, 3), "match": round(matched - loaded, 3),
                             "post": round(posted - matched, 3)})
