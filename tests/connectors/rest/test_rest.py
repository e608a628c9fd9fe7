"""The REST connector against a real HTTP server on loopback."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from connectors.contract import Record, Skipped
from connectors.errors import FatalError, RetryableError
from connectors.rest.connector import RestConnector
from tests.connectors.rest.server import PASSWORD, TOKEN, USER, Api, dataset


@pytest.fixture
def sleeps(monkeypatch) -> list[float]:
    recorded: list[float] = []
    monkeypatch.setattr(RestConnector, "sleep", staticmethod(recorded.append))
    return recorded


@pytest.fixture(autouse=True)
def token(monkeypatch) -> None:
    monkeypatch.setenv("YECAI_TEST_ERP_TOKEN", TOKEN)


def connector(api: Api, endpoint: str, **options) -> RestConnector:
    return RestConnector.from_options({"base_url": api.url, "endpoint": endpoint, "kind": "bank_txn",
                                       "auth": "bearer", "token_env": "YECAI_TEST_ERP_TOKEN",
                                       "pagination": endpoint.strip("/"), "page_size": 5, **options})


@pytest.mark.parametrize("mode", ["page", "offset", "cursor", "link"])
def test_every_pagination_survives_throttling_errors_and_truncation(mode, sleeps) -> None:
    records = dataset()
    with Api(records) as api:
        items = list(connector(api, f"/{mode}").fetch())
    assert all(isinstance(item, Record) for item in items)
    assert [item.document.txn_id for item in items] == [r["txn_id"] for r in records]
    assert items[0].document.amount.amount == Decimal("1234.56")
    assert items[1].document.amount.amount == Decimal("-2469.12")
    assert items[-1].cursor == records[-1]["updated_at"]
    assert len(sleeps) == 3  # 429, 502, truncated body
    assert sleeps[0] >= 2  # Retry-After honoured


def test_since_asks_only_for_newer_records(sleeps) -> None:
    records = dataset()
    with Api(records, faults=False) as api:
        items = list(connector(api, "/page").fetch(since=records[19]["updated_at"]))
    assert [item.document.txn_id for item in items] == ["T0020", "T0021", "T0022"]


def test_bad_token_is_fatal_and_not_retried(monkeypatch, sleeps) -> None:
    monkeypatch.setenv("YECAI_TEST_ERP_TOKEN", "stolen")
    with Api(dataset()) as api:
        with pytest.raises(FatalError, match="HTTP 401"):
            list(connector(api, "/page").fetch())
        assert api.calls["/page"] == 1 and sleeps == []


@pytest.mark.parametrize("auth, env", [
    ("basic", {"username_env": "YECAI_TEST_ERP_USER", "password_env": "YECAI_TEST_ERP_PASSWORD"}),
    ("api_key", {"token_env": "YECAI_TEST_ERP_TOKEN"})])
def test_basic_auth_and_api_key_from_the_environment(auth, env, monkeypatch, sleeps) -> None:
    monkeypatch.setenv("YECAI_TEST_ERP_USER", USER)
    monkeypatch.setenv("YECAI_TEST_ERP_PASSWORD", PASSWORD)
    options = {"auth": auth, "token_env": None, **env}
    with Api(dataset(7), faults=False) as api:
        items = list(connector(api, "/page", **options).fetch())
        assert [item.document.txn_id for item in items] == [f"T{i:04d}" for i in range(7)]
        monkeypatch.setenv("YECAI_TEST_ERP_PASSWORD", "wrong")
        monkeypatch.setenv("YECAI_TEST_ERP_TOKEN", "wrong")
        calls = api.calls["/page"]
        with pytest.raises(FatalError, match="HTTP 401"):
            list(connector(api, "/page", **options).fetch())
        assert api.calls["/page"] == calls + 1 and sleeps == []


def test_forbidden_is_fatal_and_not_retried(sleeps) -> None:
    with Api(dataset()) as api:
        with pytest.raises(FatalError, match="HTTP 403"):
            list(connector(api, "/forbidden", pagination="none").fetch())
        assert api.calls["/forbidden"] == 1 and sleeps == []


def test_missing_endpoint_is_fatal_and_missing_secret_is_named(monkeypatch, sleeps) -> None:
    with Api(dataset()) as api:
        with pytest.raises(FatalError, match="HTTP 404"):
            list(connector(api, "/missing", pagination="none").fetch())
        assert api.calls["/missing"] == 1
        monkeypatch.delenv("YECAI_TEST_ERP_TOKEN")
        with pytest.raises(FatalError, match="YECAI_TEST_ERP_TOKEN is not set"):
            list(connector(api, "/page").fetch())


def test_persistent_server_errors_end_retryable_after_the_budget(sleeps) -> None:
    with Api(dataset()) as api:
        with pytest.raises(RetryableError, match="gave up after 3 tries: HTTP 500"):
            list(connector(api, "/always-500", pagination="none", max_retries=2).fetch())
        assert api.calls["/always-500"] == 3
    assert len(sleeps) == 2 and all(0 <= s <= 1.0 for s in sleeps)


def test_bad_records_are_skipped_with_where_and_why(sleeps) -> None:
    records = dataset(3)
    records[1]["amount"] = 12.345  # three decimals for CNY
    records[2]["booking_date"] = "2026/11/02"
    with Api(records, faults=False) as api:
        items = list(connector(api, "/", pagination="none").fetch())
    assert isinstance(items[0], Record)
    problems = [(item.problem.row, item.problem.field) for item in items if isinstance(item, Skipped)]
    assert problems == [(2, "amount"), (3, "booking_date")]


def test_config_never_holds_secrets_and_names_its_variables() -> None:
    with pytest.raises(ValidationError, match="token"):
        RestConnector.from_options({"base_url": "http://x", "kind": "bank_txn", "token": "s3cret"})
    with pytest.raises(ValidationError, match="needs token_env"):
        RestConnector.from_options({"base_url": "http://x", "kind": "bank_txn", "auth": "bearer"})
