"""HTTP with the retry policy the nightly sync needs.

Retried: 429 and 5xx responses, timeouts, dropped connections and bodies that are not
complete JSON, with exponential backoff and full jitter, honouring ``Retry-After``; after
the last try a ``RetryableError`` tells the flow to try the whole task later. Not retried:
401 / 403 (credentials: IT must act) and 404 and other 4xx, which are ``FatalError``.

    attempt 0 fails → sleep uniform(0, 0.5 s); attempt 1 → uniform(0, 1 s); … capped at 30 s;
    a Retry-After of 7 s makes that sleep at least 7 s.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any

import requests

from connectors.errors import FatalError, RetryableError


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_retries: int = 5
    backoff_seconds: float = 0.5
    max_backoff_seconds: float = 30.0

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        ceiling = min(self.max_backoff_seconds, self.backoff_seconds * 2 ** attempt)
        jittered = rng.uniform(0, ceiling)
        return max(jittered, retry_after or 0.0)


def retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


@dataclass(frozen=True, slots=True)
class Page:
    body: Any
    links: dict
    url: str


def get_json(session: requests.Session, url: str, *, params: dict[str, Any] | None, timeout: float,
             policy: RetryPolicy, sleep: Callable[[float], None] = time.sleep,
             rng: random.Random | None = None) -> Page:
    """GET ``url`` and parse its JSON with Decimal for every number that has a fraction."""
    rng = rng or random.Random()
    last_problem = ""
    for attempt in range(policy.max_retries + 1):
        retry_after = None
        try:
            response = session.get(url, params=params, timeout=timeout)
        except (requests.Timeout, requests.ConnectionError) as error:
            last_problem = f"{type(error).__name__}: {error}"
        else:
            status = response.status_code
            if status in (401, 403):
                raise FatalError(f"GET {url}: HTTP {status}: the credentials were refused; check the "
                                 f"connector's token / password environment variables")
            if status == 429 or status >= 500:
                retry_after = retry_after_seconds(response.headers.get("Retry-After"))
                last_problem = f"HTTP {status}"
            elif status >= 400:
                raise FatalError(f"GET {response.url}: HTTP {status} (not retried): {response.text[:200]}")
            else:
                try:
                    body = json.loads(response.content, parse_float=Decimal)
                except (ValueError, UnicodeDecodeError) as error:  # truncated or garbled body
                    last_problem = f"response is not complete JSON ({error})"
                else:
                    return Page(body=body, links=response.links, url=response.url)
        if attempt < policy.max_retries:
            sleep(policy.delay(attempt, retry_after, rng))
    raise RetryableError(f"GET {url}: gave up after {policy.max_retries + 1} tries: {last_problem}")
