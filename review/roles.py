"""Roles and what each may do. The agent (``yecai``) prepares; people review and approve, and
nobody approves what they prepared (ledger/posting/book.py refuses it whoever asks).

    >>> allowed({"reviewer"}, "act"), allowed({"auditor"}, "act"), allowed({"it_admin"}, "view")
    (True, False, False)
"""

from __future__ import annotations

from collections.abc import Iterable

ROLES = ("auditor", "reviewer", "approver", "finance_admin", "it_admin")

# permission → roles holding it
PERMISSIONS: dict[str, frozenset[str]] = {
    "view": frozenset({"auditor", "reviewer", "approver", "finance_admin"}),        # read finance data
    "act": frozenset({"reviewer", "approver", "finance_admin"}),                    # work the queue
    "approve": frozenset({"approver", "finance_admin"}),                            # review and post vouchers
    "connectors": frozenset({"it_admin", "finance_admin", "auditor"}),              # connector status
}


class RoleError(ValueError):
    pass


def parse_roles(text: str | Iterable[str]) -> tuple[str, ...]:
    names = [r.strip() for r in (text.split(",") if isinstance(text, str) else text) if r.strip()]
    unknown = [r for r in names if r not in ROLES]
    if unknown:
        raise RoleError(f"unknown role(s) {', '.join(unknown)}: expected some of {', '.join(ROLES)}")
    return tuple(dict.fromkeys(names))


def allowed(roles: Iterable[str], permission: str) -> bool:
    return bool(PERMISSIONS[permission] & set(roles))


def acting_role(roles: Iterable[str], permission: str) -> str:
    """The role under which an action is recorded: the most specific one holding the permission."""
    holding = [r for r in ROLES if r in PERMISSIONS[permission] and r in set(roles)]
    return holding[0] if holding else ""
