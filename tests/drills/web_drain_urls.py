"""The real URLs plus one slow view, for the web drain test (tests/drills/web_drain_settings.py)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from django.http import HttpRequest, HttpResponse
from django.urls import path

from shop_video.ops.drain import is_draining
from shop_video.urls import urlpatterns as real_urlpatterns


def slow(request: HttpRequest) -> HttpResponse:
    """Tells the test it started (a marker file), then takes its time, as a big upload or report would."""
    Path(os.environ["DRAIN_TEST_MARKER"]).write_text(str(os.getpid()))
    time.sleep(float(request.GET.get("seconds", "2")))
    return HttpResponse(f"slow request done; draining={int(is_draining())}", content_type="text/plain")


urlpatterns = [path("__slow__", slow), *real_urlpatterns]
