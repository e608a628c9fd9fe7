"""Learning from decisions: aliases, per-counterparty autonomy, the nightly auto-match figures.

- A person accepting a bank transaction for an invoice teaches the payer's name as an alias of
  the invoice's counterparty (``counterparty_alias``, source "review"); the matcher reads
  aliases with the master data (ledger/storage/read.py), so tomorrow the name resolves.
- Rejected pairs are in ``rejected_pair``; the matcher drops them (matching/engine.py).
- Autonomy: after ``min_confirmations`` confirmations at ≥ ``min_accept_ratio`` accepted and no
  decline in ``recent_decline_days``, a counterparty's untied suggestions are auto-accepted.

    >>> from review.settings import Autonomy
    >>> earned(Standing("C1", 10, 0, None), Autonomy(min_confirmations=10), NOW), \
        earned(Standing("C1", 10, 1, NOW), Autonomy(min_confirmations=10), NOW)
    (True, False)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Connection, insert, select, update

from ledger.storage.review_tables import NightlyMetric, PartyAutonomy
from ledger.storage.tables import CounterpartyAlias, CounterpartyRow
from review.settings import Autonomy

NOW = datetime(2026, 12, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Standing:
    counterparty: str
    confirmations: int
    declines: int
    last_decline_at: datetime | None

    @property
    def ratio(self) -> Decimal:
        total = self.confirmations + self.declines
        return Decimal(self.confirmations) / total if total else Decimal(0)


def earned(standing: Standing, rules: Autonomy, now: datetime) -> bool:
    recent = standing.last_decline_at is not None and (
        now - _aware(standing.last_decline_at) < timedelta(days=rules.recent_decline_days))
    return (standing.confirmations >= rules.min_confirmations and standing.ratio >= rules.min_accept_ratio
            and not recent)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def record_decision(connection: Connection, company_id: str, counterparty: str | None, accepted: bool) -> None:
    if not counterparty:
        return
    table = PartyAutonomy.__table__
    now = datetime.now(UTC)
    where = (table.c.company_id == company_id) & (table.c.counterparty == counterparty)
    values = {"last_decision_at": now}
    if accepted:
        values["confirmations"] = table.c.confirmations + 1
    else:
        values.update(declines=table.c.declines + 1, last_decline_at=now)
    if connection.execute(update(table).where(where).values(**values)).rowcount == 0:
        connection.execute(insert(table).values(company_id=company_id, counterparty=counterparty,
                                                confirmations=int(accepted), declines=int(not accepted),
                                                last_decision_at=now, last_decline_at=None if accepted else now))


def standings(connection: Connection, company_id: str) -> list[Standing]:
    table = PartyAutonomy.__table__
    return [Standing(r.counterparty, r.confirmations, r.declines, r.last_decline_at) for r in connection.execute(
        select(table).where(table.c.company_id == company_id).order_by(table.c.counterparty))]


def autonomous_parties(connection: Connection, company_id: str, rules: Autonomy,
                       now: datetime | None = None) -> frozenset[str]:
    """The counterparty ids whose suggestions the matcher may accept on its own."""
    now = now or datetime.now(UTC)
    return frozenset(s.counterparty for s in standings(connection, company_id) if earned(s, rules, now))


def learn_alias(connection: Connection, company_id: str, counterparty: str, name: str) -> bool:
    """Teach ``name`` as an alias of counterparty ``counterparty`` (external id); False if known."""
    name = name.strip()
    parties, aliases = CounterpartyRow.__table__, CounterpartyAlias.__table__
    party = connection.execute(select(parties.c.id, parties.c.name).where(
        (parties.c.company_id == company_id) & (parties.c.external_id == counterparty))).first()
    if party is None or not name or name == party.name:
        return False
    if connection.execute(select(aliases.c.id).where((aliases.c.counterparty_id == party.id)
                                                     & (aliases.c.alias == name))).first():
        return False
    connection.execute(insert(aliases).values(counterparty_id=party.id, alias=name, source="review"))
    return True


def record_night(connection: Connection, company_id: str, night: date, *, bank_txns: int, settled_txns: int,
                 auto_links: int, suggested_links: int) -> None:
    """The figures of one nightly run (the dashboard's auto-match rate); a rerun replaces them."""
    table = NightlyMetric.__table__
    where = (table.c.company_id == company_id) & (table.c.night == night)
    values = {"bank_txns": bank_txns, "settled_txns": settled_txns, "auto_links": auto_links,
              "suggested_links": suggested_links}
    if connection.execute(update(table).where(where).values(**values)).rowcount == 0:
        connection.execute(insert(table).values(company_id=company_id, night=night, **values))
