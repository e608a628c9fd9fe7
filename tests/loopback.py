"""Real servers on loopback for the flow tests: an apprise target that keeps what it is sent,
and an ERP API that fails on a share of its calls."""

from __future__ import annotations

import json
import random
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from tests.connectors.rest.server import TOKEN


class _Server:
    def __init__(self, handler) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.handle_error = lambda *args: None  # a client that timed out closed its socket
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self.server.server_port

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


class Inbox(_Server):
    """Receives apprise ``json://127.0.0.1:PORT/<audience>`` notifications."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict]] = []
        inbox = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                inbox.received.append((self.path, json.loads(body)))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        super().__init__(Handler)

    def url(self, audience: str) -> str:
        return f"json://127.0.0.1:{self.port}/{audience}"

    def to(self, audience: str) -> list[dict]:
        return [body for path, body in self.received if path == f"/{audience}"]


class FaultyApi(_Server):
    """Bank transactions, paged (``/page?page=N&page_size=M``), behind a bearer token; a share
    of the calls (seeded) fail: in turn a timeout, a 5xx, a 429 and half a body."""

    FAULTS = ("timeout", "5xx", "429", "truncated")

    def __init__(self, records: list[dict], fault_rate: float = 0.3, seed: int = 8, token: str = TOKEN,
                 stall: float = 0.6) -> None:
        self.records, self.calls, self.faults = records, 0, []
        rng, lock, api = random.Random(seed), threading.Lock(), self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def send(self, status: int, body: bytes, headers: dict | None = None) -> None:
                self.send_response(status)
                for key, value in {"Content-Type": "application/json", "Content-Length": str(len(body)),
                                   **(headers or {})}.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                with lock:
                    api.calls += 1
                    fault = api.FAULTS[len(api.faults) % 4] if rng.random() < fault_rate else None
                    if fault:
                        api.faults.append(fault)
                if self.headers.get("Authorization") != f"Bearer {token}":
                    return self.send(401, b'{"error": "bad token"}')
                if fault == "timeout":
                    time.sleep(stall)
                    return self.send(504, b"{}")
                if fault == "5xx":
                    return self.send(500 + api.calls % 4, b"server trouble")
                if fault == "429":
                    return self.send(429, b"{}", {"Retry-After": "0"})
                query = {k: v[0] for k, v in parse_qs(urlparse(self.path).query).items()}
                size = int(query.get("page_size", 10))
                start = (int(query.get("page", 1)) - 1) * size
                wanted = [r for r in api.records if r["updated_at"] > query.get("updated_since", "")]
                data = json.dumps({"data": wanted[start:start + size]}).encode("utf-8")
                self.send(200, data[: len(data) // 2] if fault == "truncated" else data)

        super().__init__(Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def rest_source(name: str, url: str, token_env: str, page_size: int = 10) -> str:
    """A company file's [connectors.NAME] table for a FaultyApi (short timeouts, quick backoff)."""
    return (f'\n[connectors.{name}]\ntype = "rest"\nbase_url = "{url}"\nendpoint = "page"\nkind = "bank_txn"\n'
            f'auth = "bearer"\ntoken_env = "{token_env}"\npagination = "page"\npage_size = {page_size}\n'
            f'timeout_seconds = 0.3\nmax_retries = 8\nbackoff_seconds = 0.01\nmax_backoff_seconds = 0.05\n')
