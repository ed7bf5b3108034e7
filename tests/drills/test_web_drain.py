"""The web server drains on SIGTERM: gunicorn started with the web image's own command (docker/web.Dockerfile's
CMD, shop_video/gunicorn_conf.py), a slow request in flight, SIGTERM to the master. The in-flight request
completes with 200, new connections are refused at once, the worker knew it was draining, and gunicorn exits
cleanly within its graceful timeout."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from .conftest import record

ROOT = Path(__file__).resolve().parents[2]
GRACEFUL_TIMEOUT = 10


def web_command() -> list[str]:
    """The web image's CMD (exec form), as the image runs it."""
    text = (ROOT / "docker/web.Dockerfile").read_text()
    match = re.search(r"^CMD (\[.*?\])\s*$", text.replace("\\\n", " "), re.M | re.S)
    assert match, "docker/web.Dockerfile has no exec-form CMD"
    return json.loads(match.group(1))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(port: int, path: str, timeout: float = 10.0) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Host": "localhost"})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_the_web_image_runs_gunicorn_with_our_config():
    argv = web_command()
    assert argv[0] == "gunicorn" and argv[-1] == "shop_video.wsgi:application"
    assert argv[argv.index("-c") + 1] == "python:shop_video.gunicorn_conf"


@pytest.mark.slow
def test_sigterm_lets_the_in_flight_request_finish_and_refuses_new_connections(tmp_path):
    port = _free_port()
    marker = tmp_path / "slow-started"
    argv = web_command()
    argv[0] = str(Path(sys.executable).with_name("gunicorn"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.drills.web_drain_settings",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "2",
        "GUNICORN_GRACEFUL_TIMEOUT": str(GRACEFUL_TIMEOUT),
        "GUNICORN_ACCESS_LOG": str(tmp_path / "access.log"),
        "DRAIN_TEST_MARKER": str(marker),
        "DJANGO_ALLOWED_HOSTS": "shop.example,localhost",  # the container probe sends the first as Host
    }

    def probe() -> int:  # the web container's health check (docker/compose.yaml)
        url = f"http://127.0.0.1:{port}/healthz"
        return subprocess.run([sys.executable, "-m", "shop_video.ops.probe", url], env=env, timeout=20).returncode

    log = (tmp_path / "gunicorn.log").open("w")
    server = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if _get(port, "/healthz", timeout=2)[0] == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None, (tmp_path / "gunicorn.log").read_text()
            assert time.monotonic() < deadline, "gunicorn did not answer /healthz"
            time.sleep(0.1)

        assert probe() == 0
        result: dict[str, object] = {}

        def in_flight() -> None:
            try:
                result["status"], result["body"] = _get(port, "/__slow__?seconds=2")
            except Exception as exc:  # reported by the assertions below
                result["error"] = repr(exc)

        client = threading.Thread(target=in_flight)
        started = time.monotonic()
        client.start()
        deadline = time.monotonic() + 10
        while not marker.exists():
            assert time.monotonic() < deadline, "the slow request never reached the view"
            time.sleep(0.02)

        server.send_signal(signal.SIGTERM)
        stopped_at = time.monotonic()
        # New connections: refused within a moment (the master and the idle worker close at once; the busy
        # worker drops its copy of the listening socket in the drain hook), never queued and never served.
        refused = False
        while time.monotonic() - stopped_at < 1.0:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    pass
            except ConnectionRefusedError:
                refused = True
                break
            time.sleep(0.05)
        assert refused, "a new connection was still accepted a second after SIGTERM"
        refused_after = time.monotonic() - stopped_at
        with pytest.raises(ConnectionRefusedError):
            _get(port, "/healthz", timeout=2)

        client.join(timeout=GRACEFUL_TIMEOUT)
        in_flight_seconds = time.monotonic() - started
        assert result.get("status") == 200, result
        assert result["body"] == b"slow request done; draining=1"  # the worker knew (/readyz would say 503)

        assert probe() == 1  # the container reports unhealthy once it stopped listening
        assert server.wait(timeout=GRACEFUL_TIMEOUT + 5) == 0
        exited_after = time.monotonic() - stopped_at
        assert exited_after < GRACEFUL_TIMEOUT, exited_after
        record(
            "web_drain",
            new_connections_refused_after_s=refused_after,
            in_flight_request_s=in_flight_seconds,
            gunicorn_exited_after_s=exited_after,
            graceful_timeout_s=float(GRACEFUL_TIMEOUT),
            database="n/a",
            broker="n/a",
        )
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        log.close()


def test_readyz_answers_draining_once_the_worker_got_sigterm(client):
    from shop_video.ops.drain import DRAINING

    DRAINING.set()  # what the gunicorn worker hook does on SIGTERM
    try:
        response = client.get("/readyz")
    finally:
        DRAINING.clear()
    assert response.status_code == 503 and response.json() == {"status": "draining", "checks": {}}
    assert client.get("/healthz").status_code == 200  # alive, just not taking new work
