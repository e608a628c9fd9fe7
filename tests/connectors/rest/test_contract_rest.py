"""The shared contract suite against the REST connector, replaying a recorded API (offline)."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import requests
from requests.adapters import BaseAdapter

from connectors.rest.connector import RestConnector
from connectors.testkit import connector_tests

SAMPLES = Path(__file__).parent.parent / "samples"


class ReplayAdapter(BaseAdapter):
    """Serves the recorded sales invoices, honouring ``updated_since`` like the real API."""

    def send(self, request, **kwargs) -> requests.Response:
        records = json.loads((SAMPLES / "rest" / "sales_invoices.json").read_text(encoding="utf-8"))
        since = parse_qs(urlparse(request.url).query).get("updated_since", [""])[0]
        response = requests.Response()
        response.status_code = 200
        response.url = request.url
        response._content = json.dumps({"data": [r for r in records if r["updated_at"] > since]}).encode()
        return response

    def close(self) -> None:
        pass


def replay_session() -> requests.Session:
    session = requests.Session()
    session.mount("https://", ReplayAdapter())
    return session


class ReplayedRest(RestConnector):
    session_factory = staticmethod(replay_session)


TestRestContract = connector_tests(ReplayedRest, {"base_url": "https://erp.example.com/api", "endpoint": "invoices",
                                                  "kind": "sales_invoice"},
                                   golden=SAMPLES / "rest.golden.jsonl")
