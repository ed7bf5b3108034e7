"""A real HTTP receiver on 127.0.0.1 (threading http.server) that records every request and answers from a
script; webhook tests point endpoints at it through the test-only allowlist."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.integration.conftest import (  # noqa: F401 — shared fixtures
    broker,
    clean_broker,
    module_workers,
    shared_worker,
    start_worker,
)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Receiver:
    """`script`: answers in order (status, body) or ("sleep", seconds); the last one repeats."""

    url: str
    requests: list[Received] = field(default_factory=list)
    script: list[tuple] = field(default_factory=lambda: [(200, b"ok")])
    redirect_to: str = ""

    def next_answer(self) -> tuple:
        index = min(len(self.requests) - 1, len(self.script) - 1)
        return self.script[index]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            state.requests.append(
                Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body, time.time())
            )
            answer = state.next_answer()
            if answer[0] == "sleep":
                time.sleep(answer[1])
                answer = (200, b"late")
            status, text = answer
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", state.redirect_to or "http://169.254.169.254/latest/meta-data/")
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(text)))
            self.end_headers()
            self.wfile.write(text)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def allow_localhost(settings):
    settings.SHOPVIDEO_WEBHOOK_TEST_ALLOWLIST = ["127.0.0.1"]
    settings.SHOPVIDEO_WEBHOOK_BACKOFF_SECONDS = 0.2
    settings.SHOPVIDEO_WEBHOOK_READ_TIMEOUT = 1.0
    settings.SHOPVIDEO_WEBHOOK_CONNECT_TIMEOUT = 1.0
    return settings
