"""gunicorn settings for the web process: `gunicorn -c python:shop_video.gunicorn_conf shop_video.wsgi:application`
(docker/web.Dockerfile, scripts/demo.py and bench/api_load.sh run exactly this; flags given after `-c` win).

Environment: GUNICORN_BIND (default 0.0.0.0:8000), WEB_CONCURRENCY (workers, default 3), GUNICORN_THREADS
(default 1: sync workers), GUNICORN_TIMEOUT (a request's limit, default 120 s), GUNICORN_GRACEFUL_TIMEOUT (how
long a SIGTERM waits for in-flight requests, default 30 s), GUNICORN_FORWARDED_ALLOW_IPS (the proxy in front,
whose X-Forwarded-Proto and REMOTE_ADDR are trusted; default 127.0.0.1), GUNICORN_ACCESS_LOG (default "-").

Drain on SIGTERM (docker stop, Kubernetes, systemd): the master closes its listening sockets and asks each worker
to finish its current request. A busy worker would keep its inherited copy of the listening socket open until it
exits, so new connections would wait in the kernel's backlog and be reset later; the worker hook below points
that descriptor at an unbound socket at once, so new connections are refused right away (the load balancer moves
on) while the in-flight request completes. The hook also marks the process as draining: /readyz answers 503.
"""

from __future__ import annotations

import os
import signal
import socket

from shop_video.ops.drain import DRAINING

bind = [os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")]
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = 5
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
# Request line and header limits (gunicorn's defaults, stated): bodies are limited by Django's upload settings.
limit_request_line = 8190
limit_request_fields = 100


def _stop_listening(worker) -> None:
    for listener in worker.sockets:
        try:
            family = listener.sock.family
            placeholder = socket.socket(family, socket.SOCK_STREAM)
            try:
                os.dup2(placeholder.fileno(), listener.fileno())
            finally:
                placeholder.close()
        except OSError:  # already closed: nothing to stop
            pass


def post_worker_init(worker) -> None:
    """Chain our drain step in front of gunicorn's own SIGTERM handling of the worker."""
    graceful_exit = worker.handle_exit

    def handle_term(sig, frame) -> None:
        DRAINING.set()
        _stop_listening(worker)
        graceful_exit(sig, frame)

    worker.handle_exit = handle_term
    signal.signal(signal.SIGTERM, handle_term)


def worker_exit(server, worker) -> None:
    server.log.info("worker %s exited (draining=%s)", worker.pid, DRAINING.is_set())
