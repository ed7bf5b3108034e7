"""Container health check for the web process, without curl (the slim image has none) and without Django:

    python -m shop_video.ops.probe [URL]     # default http://127.0.0.1:8000/healthz; exit 0 when it answers 200

The Host header is the first of DJANGO_ALLOWED_HOSTS, so Django's host check accepts the probe in production;
the probe paths are exempt from the HTTPS redirect (shop_video.ops.conf.PROBE_PATHS)."""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

DEFAULT_URL = "http://127.0.0.1:8000/healthz"


def probe_host() -> str | None:
    for host in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(","):
        host = host.strip().lstrip(".")
        if host and host != "*":
            return host
    return None


def check(url: str = DEFAULT_URL, timeout: float = 3.0) -> bool:
    request = urllib.request.Request(url, headers={"Host": probe_host()} if probe_host() else {})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 — our own address
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def main(argv: list[str]) -> int:
    return 0 if check(argv[1] if len(argv) > 1 else DEFAULT_URL) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
