"""What a connector's failures mean for the operator.

- ``RetryableError``: try again later (network, 429, 5xx); the flow retries with backoff.
- a skipped record: one bad record, yielded as ``Skipped`` (a value, not an exception), becomes
  an exception item naming source, file, row and field; the other records go on.
- ``FatalError``: the run of this connector stops and IT is alerted (bad credentials, a missing
  folder, a config that cannot work).
"""

from __future__ import annotations


class ConnectorError(Exception):
    """Base of the connector taxonomy; never raised itself."""


class RetryableError(ConnectorError):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class FatalError(ConnectorError):
    pass
