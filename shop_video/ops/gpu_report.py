"""The web side of GPU telemetry: the workers' published GPU memory, read at scrape time by /metrics.

Publishing lives in shop_video.core.gpu_telemetry (the engines call it); its names are re-exported here."""

from __future__ import annotations

import json
import logging
from typing import Any

from shop_video.core.gpu_telemetry import *  # noqa: F403
from shop_video.core.gpu_telemetry import (  # noqa: F401
    DEFAULT_TTL_SECONDS,
    KEY_PREFIX,
    KINDS,
    job_usage,
    loaded_cuda,
    publish,
    publish_quietly,
    read_devices,
    start_keeper,
    stop_keeper,
    ttl_seconds,
    worker_name,
)
from shop_video.core.redis import redis_client

logger = logging.getLogger(__name__)


def read_reports(url: str | None = None) -> list[dict[str, Any]]:
    """Every live report in the broker's Redis (expired ones are gone), sorted by worker and device."""
    client = redis_client(url)
    try:
        keys = sorted(client.scan_iter(match=f"{KEY_PREFIX}*", count=500))
        values = client.mget(keys) if keys else []
    finally:
        client.close()
    reports = []
    for key, raw in zip(keys, values, strict=True):
        if raw is None:  # expired between SCAN and MGET
            continue
        try:
            report = json.loads(raw)
            report["worker"], report["device"] = str(report["worker"]), str(report["device"])
        except (ValueError, KeyError, TypeError):
            logger.warning("gpu report: unreadable report under %r", key)
            continue
        reports.append(report)
    return sorted(reports, key=lambda r: (r["worker"], r["device"]))
