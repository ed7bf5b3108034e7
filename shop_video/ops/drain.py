"""Whether this web process is draining (it received SIGTERM and finishes its in-flight requests before it exits).

Set by the gunicorn worker hook in shop_video/gunicorn_conf.py; /readyz answers 503 `draining` while it is set.
No Django imports: gunicorn's config module imports this before Django is loaded."""

from __future__ import annotations

import threading

DRAINING = threading.Event()


def is_draining() -> bool:
    return DRAINING.is_set()
