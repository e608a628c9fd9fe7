"""Users, passwords (Argon2id), sessions and the login limit.

    add_user(engine, "li.kuaiji", "s3cret-pass", roles=("reviewer",))
    login(engine, "li.kuaiji", "s3cret-pass", address="127.0.0.1", settings=…)
    → Login(token=…, csrf=…, user=…)      # a fresh token every login: the session id rotates

A session cookie carries a random token; the table keeps only its SHA-256, so a copy of the
database opens no session. A session idle past ``session.idle_minutes`` is gone. At most
``login.max_failures`` failed logins per account and per address in ``login.window_minutes``:
past that even the right password is refused until the window has passed.

Users are global (one table for every company in the database), so each change of a user
(added, roles, disabled, enabled) is appended to the audit chain of every company in the
database, in the transaction of the change: each company's auditor sees who can reach its
books, and ``yecai ledger verify`` checks it. The password (hash) is never recorded.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, delete, func, insert, select, update

from ledger.posting.audit import append_event
from ledger.posting.book import AGENT
from ledger.storage.review_tables import LoginAttempt, ReviewSession, ReviewUser
from ledger.storage.tables import Company
from review.roles import parse_roles
from review.settings import ReviewSettings

HASHER = PasswordHasher()   # argon2-cffi's defaults: Argon2id, RFC 9106 low-memory profile
MIN_PASSWORD = 10


class AuthError(ValueError):
    """A refused login or user change; the message is safe to show."""


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    display_name: str
    roles: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Login:
    token: str
    csrf: str
    user: User


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def _user(row) -> User:
    return User(row.id, row.username, row.display_name or row.username, parse_roles(row.roles))


ADMIN_ROLE = "user_admin"   # the role recorded for whoever runs ``yecai users``


def _record(connection, username: str, action: str, before: dict | None, after: dict, by: str) -> int:
    """Append the change to every company's audit chain; returns how many chains got it."""
    companies = connection.execute(select(Company.__table__.c.id).order_by(Company.__table__.c.id)).scalars().all()
    for company_id in companies:
        append_event(connection, company_id, actor=by, role=ADMIN_ROLE, action=f"user_{action}",
                     subject=f"user:{username}", before=before, after=after)
    return len(companies)


def audit_chains(engine: Engine) -> int:
    """How many companies' audit chains a user change is recorded in (every company in the database)."""
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(Company.__table__)).scalar_one()


def _state(row) -> dict:
    return {"roles": row.roles, "disabled": bool(row.disabled), "display_name": row.display_name}


def add_user(engine: Engine, username: str, password: str, roles: Sequence[str], display_name: str = "",
             by: str = "cli") -> User:
    username = username.strip()
    if not username or username == AGENT:
        raise AuthError(f"user name {username!r} is empty or reserved for the agent")
    if len(password) < MIN_PASSWORD:
        raise AuthError(f"a password needs at least {MIN_PASSWORD} characters")
    role_text = ",".join(parse_roles(roles))
    table = ReviewUser.__table__
    with engine.begin() as connection:
        if connection.execute(select(table.c.id).where(table.c.username == username)).first():
            raise AuthError(f"user {username} exists already")
        connection.execute(insert(table).values(username=username, display_name=display_name,
                                                password_hash=HASHER.hash(password), roles=role_text,
                                                disabled=False, created_at=_now()))
        row = connection.execute(select(table).where(table.c.username == username)).one()
        _record(connection, username, "add", None, _state(row), by)
        return _user(row)


def set_roles(engine: Engine, username: str, roles: Sequence[str], by: str = "cli") -> int:
    """Returns how many companies' audit chains recorded the change (0: no company yet)."""
    return _change(engine, username, "roles", by, roles=",".join(parse_roles(roles)))


def set_disabled(engine: Engine, username: str, disabled: bool = True, by: str = "cli") -> int:
    """Disabling also ends every session of the user. Returns how many audit chains recorded it."""
    return _change(engine, username, "disable" if disabled else "enable", by, disabled=disabled)


def _change(engine: Engine, username: str, action: str, by: str, **values) -> int:
    table = ReviewUser.__table__
    with engine.begin() as connection:
        row = connection.execute(select(table).where(table.c.username == username)).first()
        if row is None:
            raise AuthError(f"no user {username}")
        connection.execute(update(table).where(table.c.id == row.id).values(**values))
        if values.get("disabled"):
            connection.execute(delete(ReviewSession.__table__).where(ReviewSession.__table__.c.user_id == row.id))
        after = _state(connection.execute(select(table).where(table.c.id == row.id)).one())
        return _record(connection, username, action, _state(row), after, by)


def list_users(engine: Engine) -> list[tuple[User, bool]]:
    table = ReviewUser.__table__
    with engine.connect() as connection:
        return [(_user(r), r.disabled) for r in connection.execute(select(table).order_by(table.c.username))]


def _failures(connection, column, value: str, since: datetime) -> int:
    table = LoginAttempt.__table__
    return connection.execute(select(func.count()).select_from(table).where(
        (table.c[column] == value) & (table.c.at >= since) & table.c.succeeded.is_(False))).scalar_one()


def login(engine: Engine, username: str, password: str, address: str, settings: ReviewSettings) -> Login:
    """Check the password and open a new session; every refusal reads the same to the caller."""
    users, attempts, sessions = ReviewUser.__table__, LoginAttempt.__table__, ReviewSession.__table__
    now = _now()
    since = now - timedelta(minutes=settings.login.window_minutes)
    limit = settings.login.max_failures
    with engine.begin() as connection:
        if (_failures(connection, "username", username, since) >= limit
                or _failures(connection, "address", address, since) >= limit):
            raise AuthError(f"too many failed logins: wait {settings.login.window_minutes} minutes and try again")
        row = connection.execute(select(users).where(users.c.username == username)).first()
        ok = False
        if row is not None and not row.disabled:
            try:
                ok = HASHER.verify(row.password_hash, password)
            except (VerificationError, InvalidHashError):
                ok = False
        else:
            HASHER.hash(password)   # the same work for unknown names: no timing oracle
        connection.execute(insert(attempts).values(username=username[:64], address=address[:64], at=now,
                                                   succeeded=ok))
    if not ok:
        raise AuthError("wrong user name or password")
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    with engine.begin() as connection:
        if HASHER.check_needs_rehash(row.password_hash):
            connection.execute(update(users).where(users.c.id == row.id).values(password_hash=HASHER.hash(password)))
        connection.execute(insert(sessions).values(token_hash=_digest(token), user_id=row.id, csrf_token=csrf,
                                                   created_at=now, last_seen_at=now))
    return Login(token, csrf, _user(row))


@dataclass(frozen=True, slots=True)
class SessionInfo:
    user: User
    csrf: str


def session_user(engine: Engine, token: str | None, settings: ReviewSettings) -> SessionInfo | None:
    """The user of a live session, touching it (at most once a minute, to spare writes)."""
    if not token:
        return None
    sessions, users = ReviewSession.__table__, ReviewUser.__table__
    now = _now()
    with engine.connect() as connection:
        row = connection.execute(select(sessions.c.csrf_token, sessions.c.last_seen_at, users)
                                 .join(users, users.c.id == sessions.c.user_id)
                                 .where(sessions.c.token_hash == _digest(token))).first()
    if row is None or row.disabled:
        return None
    if now - _aware(row.last_seen_at) > timedelta(minutes=settings.session.idle_minutes):
        logout(engine, token)
        return None
    if now - _aware(row.last_seen_at) > timedelta(minutes=1):
        with engine.begin() as connection:
            connection.execute(update(sessions).where(sessions.c.token_hash == _digest(token))
                               .values(last_seen_at=now))
    return SessionInfo(_user(row), row.csrf_token)


def logout(engine: Engine, token: str | None) -> None:
    if token:
        with engine.begin() as connection:
            connection.execute(delete(ReviewSession.__table__).where(
                ReviewSession.__table__.c.token_hash == _digest(token)))
