"""A real HTTP server on loopback that behaves like a difficult ERP API: it paginates four
ways, throttles with 429 + Retry-After, fails with 500, truncates a body once, takes a bearer
token, basic auth or an API key header, rejects bad ones (401) and forbids a path (403)."""

from __future__ import annotations

import base64
import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

TOKEN = "good-token"
USER, PASSWORD = "erp-reader", "pa:ss word"


def dataset(count: int = 23) -> list[dict]:
    return [{"account_no": "3105", "txn_id": f"T{i:04d}", "booking_date": f"2026-11-{1 + i % 28:02d}",
             "value_date": f"2026-11-{1 + i % 28:02d}", "amount": f"{(i + 1) * 1234.56 * (-1) ** i:.2f}",
             "currency": "CNY", "counterparty": f"客户{i}", "counterparty_account": "", "remittance": f"货款 {i}",
             "updated_at": f"2026-11-20T00:{i:02d}:00Z"} for i in range(count)]


class Api:
    def __init__(self, records: list[dict], faults: bool = True) -> None:
        self.records = records
        self.faults = faults
        self.calls: Counter = Counter()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def __enter__(self) -> Api:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self):
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def send(self, status: int, body: bytes = b"", headers: dict | None = None) -> None:
                self.send_response(status)
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                url = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                api.calls[url.path] += 1
                call = api.calls[url.path]
                basic = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
                if (self.headers.get("Authorization") not in (f"Bearer {TOKEN}", f"Basic {basic}")
                        and self.headers.get("X-API-Key") != TOKEN):
                    return self.send(401, b'{"error": "bad token"}')
                if url.path.startswith("/forbidden"):
                    return self.send(403, b'{"error": "not your ledger"}')
                if url.path == "/always-500":
                    return self.send(500)
                if url.path.startswith("/missing"):
                    return self.send(404, b'{"error": "no such endpoint"}')
                if api.faults and call == 1:
                    return self.send(429, b"{}", {"Retry-After": "2"})
                if api.faults and call == 3:
                    return self.send(502, b"bad gateway")
                records = [r for r in api.records if r["updated_at"] > query.get("updated_since", "")]
                body, headers = self.page(url.path, query, records)
                data = json.dumps(body, ensure_ascii=False).encode("utf-8")
                if api.faults and call == 4:
                    data = data[: len(data) // 2]  # a truncated body
                self.send(200, data, headers)

            def page(self, path: str, query: dict, records: list[dict]):
                size = 5
                if path == "/page":
                    start = (int(query.get("page", "1")) - 1) * int(query.get("page_size", size))
                    return {"data": records[start:start + int(query.get("page_size", size))]}, {}
                if path == "/offset":
                    start, limit = int(query.get("offset", 0)), int(query.get("limit", size))
                    return {"data": records[start:start + limit]}, {}
                if path == "/cursor":
                    start = int(query.get("cursor", 0))
                    more = start + size < len(records)
                    return {"data": records[start:start + size], "next_cursor": str(start + size) if more else None}, {}
                if path == "/link":
                    start = int(query.get("from", 0))
                    headers = {}
                    if start + size < len(records):
                        headers["Link"] = f'<{api.url}/link?from={start + size}>; rel="next"'
                    return {"data": records[start:start + size]}, headers
                return records, {}

        return Handler
