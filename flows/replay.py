"""Replay a date window (re-ingest, re-match) and backtest a matching rule version.

Replay: every connector is read again from its beginning; records dated in the window are
stored effectively once (what is there already is counted, what differs raises
SOURCE_CHANGED), cursors stay where they are; then everything stored is matched again and
the links, exceptions and voucher drafts are brought up to date. Useful after an outage or
a connector fix. It holds the company's run lock like the nightly sync.

Backtest: the stored documents of a window are matched twice in memory, with the rules in
force (config/matching.toml) and with a candidate rules file, and every decision that would
change is reported: links added, dropped or decided differently, exceptions appearing or
going away, bank transactions no longer (or newly) settled. It only reads: nothing is
written, not even a migration.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import date

from flows import pipeline
from flows.match_step import MatchInputs
from matching.engine import MatchOutput


def within(inputs: MatchInputs, start: date | None, end: date | None) -> MatchInputs:
    def keep(day: date) -> bool:
        return (start is None or day >= start) and (end is None or day <= end)

    return replace(inputs, documents=[d for d in inputs.documents if keep(d.date)],
                   transactions=[t for t in inputs.transactions if keep(t.booking_date)])


def _links(output: MatchOutput) -> dict[tuple, tuple]:
    return {(link.from_type, link.from_no, link.to_type, link.to_no):
            (link.decision.value, round(link.score, 4), link.evidence.rule) for link in output.links}


def _rate(output: MatchOutput, transactions: int) -> float:
    return round(len(output.settled_txns) / transactions, 4) if transactions else 0.0


def compare(current: MatchOutput, candidate: MatchOutput, transactions: int) -> dict:
    """Every decision that differs between two matching runs of the same data."""
    before, after = _links(current), _links(candidate)
    changes = []
    for key in sorted(before.keys() | after.keys()):
        old, new = before.get(key), after.get(key)
        if old is None or new is None or old[0] != new[0]:
            changes.append({"from_type": key[0], "from_no": key[1], "to_type": key[2], "to_no": key[3],
                            "now": old[0] if old else "none", "would_be": new[0] if new else "none",
                            "rule_now": old[2] if old else "", "rule_then": new[2] if new else "",
                            "score_now": old[1] if old else None, "score_then": new[1] if new else None})
    codes_before = {i.fingerprint: i for i in current.exceptions}
    codes_after = {i.fingerprint: i for i in candidate.exceptions}
    exceptions = ([{"change": "would go away", "code": i.code.value, "message": i.message}
                   for f, i in sorted(codes_before.items()) if f not in codes_after]
                  + [{"change": "would appear", "code": i.code.value, "message": i.message}
                     for f, i in sorted(codes_after.items()) if f not in codes_before])
    return {"links_compared": len(before.keys() | after.keys()),
            "decisions_changed": dict(sorted(Counter(f"{c['now']} → {c['would_be']}" for c in changes).items())),
            "link_changes": changes, "exception_changes": exceptions,
            "newly_settled": sorted(candidate.settled_txns - current.settled_txns),
            "no_longer_settled": sorted(current.settled_txns - candidate.settled_txns),
            "auto_match_rate": {"now": _rate(current, transactions), "would_be": _rate(candidate, transactions)}}


def backtest(config_path: str, rules_path: str, db: str | None = None, start: str | None = None,
             end: str | None = None, as_of: str | None = None, mapper=None) -> dict:
    """Which decisions ``rules_path`` would change on the stored data of [start, end]; writes nothing."""
    inputs = within(pipeline.load(config_path, db, as_of or end), *(date.fromisoformat(d) if d else None
                                                                     for d in (start, end)))
    current_rules, _ = pipeline.rules_and_tolerances(config_path)
    candidate_rules, _ = pipeline.rules_and_tolerances(config_path, rules_path)
    current = pipeline.match_all(inputs, config_path, None, mapper)
    candidate = pipeline.match_all(inputs, config_path, rules_path, mapper)
    return {"window": {"from": start, "to": end, "as_of": inputs.as_of.isoformat()},
            "rules": {"now": current_rules.version, "candidate": candidate_rules.version},
            "documents": len(inputs.documents), "bank_transactions": len(inputs.transactions),
            **compare(current, candidate, len(inputs.transactions))}


def replay(config_path: str, start: str, end: str, db: str | None = None, as_of: str | None = None,
           wait: float = 0.0) -> dict:
    """Re-ingest [start, end] from every connector and match again; the run's summary."""
    return pipeline.run(config_path, db, as_of, wait, window=(start, end))
