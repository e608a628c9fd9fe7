"""Notifications through apprise: URLs from the environment, one variable per audience.

    YECAI_NOTIFY_FINANCE   the run summary and new high-severity exceptions
    YECAI_NOTIFY_IT        a connector that failed (credentials, an unreachable system)

Each variable holds one or more apprise URLs separated by commas or spaces (``dingtalk://…``,
``wecombot://…``, ``slack://…``, ``mailtos://…``). The URLs carry webhook tokens, so they are
secrets: they are never logged (apprise's own logger is kept at WARNING while sending) and
every body goes through ``redact`` first.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable

from sqlalchemy.engine import make_url

FINANCE = "YECAI_NOTIFY_FINANCE"
IT = "YECAI_NOTIFY_IT"
_log = logging.getLogger(__name__)


def urls(variable: str) -> list[str]:
    return [url for url in re.split(r"[,\s]+", os.environ.get(variable, "")) if url]


def secret_values(connector_options: Iterable[dict], database_url: str | None = None) -> list[str]:
    """The values of every secret a run can see: connector variables named by ``*_env`` keys,
    the database password and the notification URLs."""
    found = []
    for options in connector_options:
        for key, value in options.items():
            if key.endswith("_env") and isinstance(value, str) and os.environ.get(value):
                found.append(os.environ[value])
    if database_url:
        password = make_url(database_url).password
        if password:
            found.append(str(password))
    found += [url for variable in (FINANCE, IT) for url in urls(variable)]
    return sorted({value for value in found if len(value) >= 4}, key=len, reverse=True)


def redact(text: str, secrets: Iterable[str]) -> str:
    for value in secrets:
        text = text.replace(value, "***")
    return text


def send(variable: str, title: str, body: str, secrets: Iterable[str] = ()) -> bool:
    """Send to the URLs in ``variable``; False when none are set or none accepted the message."""
    targets = urls(variable)
    if not targets:
        return False
    import apprise

    secrets = list(secrets)
    quiet = logging.getLogger("apprise")
    level = quiet.level
    quiet.setLevel(logging.WARNING)  # apprise logs its URLs at DEBUG and INFO
    try:
        sender = apprise.Apprise()
        for url in targets:
            if not sender.add(url):
                _log.warning("%s: an apprise URL was not understood (the URL itself is not shown)", variable)
        ok = bool(sender) and bool(sender.notify(title=redact(title, secrets), body=redact(body, secrets)))
    finally:
        quiet.setLevel(level)
    if not ok:
        _log.warning("%s: the notification was not delivered", variable)
    return ok
