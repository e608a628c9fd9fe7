"""The REST connector: one endpoint, one document kind, records in the interchange shape.

Configuration names environment variables, never secrets (``token_env = "ACME_TOKEN"``).
Pagination: ``page`` (page=1,2,… until an empty page), ``offset`` (offset/limit), ``cursor``
(the body names the next cursor), ``link`` (RFC 8288 ``Link: <…>; rel="next"``) or ``none``.
Incremental: ``since`` is sent as ``since_param``; the cursor is the largest ``cursor_field``
value seen (ISO timestamps or zero-padded ids compare correctly as text).

    [connectors.erp_invoices]
    type = "rest"
    base_url = "https://erp.example.com/api/v1"
    endpoint = "sales-invoices"
    kind = "sales_invoice"
    auth = "bearer"
    token_env = "ERP_API_TOKEN"
    pagination = "cursor"
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any, ClassVar, Literal

import requests
from pydantic import Field, model_validator

from connectors.contract import Connector, ConnectorConfig, Record, Skipped
from connectors.errors import FatalError
from connectors.rest.http import Page, RetryPolicy, get_json
from connectors.rest.mapping import lookup, to_document
from ledger.documents import DocumentKind
from ledger.errors import BadInput, FieldError


class RestConfig(ConnectorConfig):
    base_url: str = Field(pattern=r"^https?://")
    endpoint: str = ""
    kind: DocumentKind
    auth: Literal["none", "bearer", "basic", "api_key"] = "none"
    token_env: str | None = None
    username_env: str | None = None
    password_env: str | None = None
    api_key_header: str = "X-API-Key"
    pagination: Literal["none", "page", "offset", "cursor", "link"] = "none"
    page_size: int = Field(default=100, ge=1, le=10_000)
    page_param: str = "page"
    page_size_param: str = "page_size"
    offset_param: str = "offset"
    limit_param: str = "limit"
    cursor_param: str = "cursor"
    next_cursor_field: str = "next_cursor"
    records_field: str = "data"
    since_param: str | None = "updated_since"
    cursor_field: str = "updated_at"
    fields: dict[str, str] = Field(default_factory=dict)
    lines_field: str = "lines"
    defaults: dict[str, str] = Field(default_factory=dict)
    timeout_seconds: float = Field(default=30.0, gt=0)
    max_retries: int = Field(default=5, ge=0, le=20)
    backoff_seconds: float = Field(default=0.5, ge=0)
    max_backoff_seconds: float = Field(default=30.0, ge=0)

    @model_validator(mode="after")
    def _auth_names_its_variables(self) -> RestConfig:
        needed = {"bearer": ["token_env"], "api_key": ["token_env"], "basic": ["username_env", "password_env"]}
        missing = [key for key in needed.get(self.auth, []) if not getattr(self, key)]
        if missing:
            raise ValueError(f"auth = {self.auth!r} needs {', '.join(missing)} (the name of an environment "
                             f"variable holding the secret)")
        return self


class RestConnector(Connector):
    name = "rest"
    kinds = frozenset(DocumentKind)
    Config = RestConfig
    #: Tests swap the transport (a replay adapter) or the sleep; production uses the defaults.
    session_factory: ClassVar = requests.Session
    sleep: ClassVar = staticmethod(time.sleep)

    def _secret(self, variable: str) -> str:
        value = os.environ.get(variable)
        if not value:
            raise FatalError(f"connector {self.name}: environment variable {variable} is not set "
                             f"(put it in the environment or .env, never in the company file)")
        return value

    def _session(self) -> requests.Session:
        session = self.session_factory()
        config = self.config
        if config.auth == "bearer":
            session.headers["Authorization"] = f"Bearer {self._secret(config.token_env)}"
        elif config.auth == "api_key":
            session.headers[config.api_key_header] = self._secret(config.token_env)
        elif config.auth == "basic":
            session.auth = (self._secret(config.username_env), self._secret(config.password_env))
        session.headers["Accept"] = "application/json"
        return session

    def _pages(self, session: requests.Session, since: str | None) -> Iterator[Page]:
        config = self.config
        policy = RetryPolicy(config.max_retries, config.backoff_seconds, config.max_backoff_seconds)
        url = config.base_url.rstrip("/") + ("/" + config.endpoint.lstrip("/") if config.endpoint else "")
        params: dict[str, Any] = {}
        if since is not None and config.since_param:
            params[config.since_param] = since
        if config.pagination == "page":
            params |= {config.page_param: 1, config.page_size_param: config.page_size}
        elif config.pagination == "offset":
            params |= {config.offset_param: 0, config.limit_param: config.page_size}
        while True:
            page = get_json(session, url, params=params, timeout=config.timeout_seconds, policy=policy,
                            sleep=self.sleep)
            yield page
            records = self._records(page)
            if config.pagination == "page" and records:
                params[config.page_param] += 1
            elif config.pagination == "offset" and records:
                params[config.offset_param] += len(records)
            elif config.pagination == "cursor" and lookup(page.body, config.next_cursor_field):
                params[config.cursor_param] = lookup(page.body, config.next_cursor_field)
            elif config.pagination == "link" and "next" in page.links:
                url, params = page.links["next"]["url"], {}
            else:
                return

    def _records(self, page: Page) -> list:
        records = page.body if isinstance(page.body, list) else lookup(page.body, self.config.records_field)
        if not isinstance(records, list):
            raise FatalError(f"GET {page.url}: expected a list of records at {self.config.records_field!r}")
        return records

    def fetch(self, since: str | None = None) -> Iterator[Record | Skipped]:
        config = self.config
        cursor = since
        with self._session() as session:
            for page in self._pages(session, since):
                for index, record in enumerate(self._records(page)):
                    position = lookup(record, config.cursor_field) if isinstance(record, dict) else None
                    if position is not None and (cursor is None or str(position) > cursor):
                        cursor = str(position)
                    try:
                        if not isinstance(record, dict):
                            raise FieldError("record", record, "a JSON object")
                        document = to_document(config.kind, record, config.fields, config.lines_field,
                                               config.defaults)
                    except FieldError as error:
                        yield Skipped(problem=BadInput(file=page.url, row=index + 1, field=error.field,
                                                       message=f"found {error.found!r}, expected {error.expected}"))
                        continue
                    prefix = "bank" if config.kind is DocumentKind.BANK_TXN else config.kind.value
                    yield Record(document=document, source_id=f"{prefix}:{document.number}", cursor=cursor,
                                 file=config.endpoint or config.base_url)
