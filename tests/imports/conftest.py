"""Real parts for the import tests: an image server on localhost (threading http.server), real CSV/zip files,
real synthetic product photos."""

from __future__ import annotations

import contextlib
import io
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests import synthetic
from tests.factories import MembershipFactory, ensure_presets, png


def product_jpeg(seed: int = 0, size: tuple[int, int] = (480, 600)) -> bytes:
    image, _mask = synthetic.product_on_white(*size, seed=seed)
    return png(image, "JPEG", quality=90)


class ImageServer:
    """Routes: path → callable(handler) writing the response. Records (path, Host header) of every request."""

    def __init__(self) -> None:
        self.routes: dict[str, Callable[[BaseHTTPRequestHandler], None]] = {}
        self.requests: list[tuple[str, str]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                server.requests.append((self.path, self.headers.get("Host", "")))
                route = server.routes.get(self.path)
                if route is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    route(self)  # the fetcher may hang up on purpose (size limit)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def netloc(self) -> str:
        return f"127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return f"http://{self.netloc}{path}"

    def image(self, path: str, data: bytes, content_type: str = "image/jpeg") -> str:
        def send(h: BaseHTTPRequestHandler) -> None:
            h.send_response(200)
            h.send_header("Content-Type", content_type)
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            h.wfile.write(data)

        self.routes[path] = send
        return self.url(path)

    def redirect(self, path: str, location: str, status: int = 302) -> str:
        def send(h: BaseHTTPRequestHandler) -> None:
            h.send_response(status)
            h.send_header("Location", location)
            h.send_header("Content-Length", "0")
            h.end_headers()

        self.routes[path] = send
        return self.url(path)

    def endless(self, path: str, total: int, declare_length: bool) -> str:
        """A JPEG header followed by `total` bytes, streamed in 1 MB pieces (never held in memory)."""

        def send(h: BaseHTTPRequestHandler) -> None:
            h.send_response(200)
            h.send_header("Content-Type", "image/jpeg")
            if declare_length:
                h.send_header("Content-Length", str(total))
            else:
                h.send_header("Connection", "close")
            h.end_headers()
            piece = b"\xff\xd8\xff\xe0" + b"\x00" * (1024 * 1024 - 4)
            sent = 0
            while sent < total:
                h.wfile.write(piece)
                sent += len(piece)
            h.close_connection = True

        self.routes[path] = send
        return self.url(path)

    def slow(self, path: str, delay: float) -> str:
        def send(h: BaseHTTPRequestHandler) -> None:
            time.sleep(delay)
            h.send_response(200)
            h.send_header("Content-Length", "0")
            h.end_headers()

        self.routes[path] = send
        return self.url(path)


@pytest.fixture
def image_server() -> Iterator[ImageServer]:
    server = ImageServer()
    server.thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()


@pytest.fixture
def allow_server(settings, image_server: ImageServer) -> ImageServer:
    """The test-only allowlist covering exactly this server (address and port), nothing else."""
    settings.SHOPVIDEO_FETCH_ALLOWLIST = [image_server.netloc]
    return image_server


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def org(db):
    ensure_presets()
    return MembershipFactory().organization


@pytest.fixture
def member(db):
    ensure_presets()
    return MembershipFactory()


def csv_bytes(lines: list[str], *, bom: bool = False, newline: str = "\r\n") -> bytes:
    data = newline.join(lines) + newline
    return (b"\xef\xbb\xbf" if bom else b"") + data.encode("utf-8")


def stored_files(root: Path, under: str = "") -> list[Path]:
    base = root / under if under else root
    return sorted(p for p in base.rglob("*") if p.is_file()) if base.exists() else []


def zip_bytes(members: dict[str, bytes]) -> bytes:
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()
