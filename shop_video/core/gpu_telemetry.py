"""GPU memory of the workers, published to the broker's Redis so that /metrics (a web process) can export it.

The GPU lives in the Celery GPU worker; the web process that serves /metrics never loads torch. So a process in
which torch is already imported and has CUDA initialised publishes, per device, allocated / reserved / free /
total bytes, the peak allocated since the last job started (the DiT engine resets it at each render) and the
device's name, as JSON with a timestamp under `shopvideo:gpu:<worker>:<device>` with a TTL
(settings.SHOPVIDEO_GPU_REPORT_TTL_SECONDS): a dead worker's figures expire. The engine publishes after every
render and the warm-up at its end; a keeper thread republishes every third of the TTL so that an idle, healthy
worker's figures stay (its model still holds the memory). The web side reads them at scrape time
(shop_video.ops.gpu_report).

Nothing here imports torch: it looks for it in sys.modules, so a process without it pays nothing, and a
publishing failure (Redis down) is logged and never fails a job.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sys
import threading
import time
from typing import Any

from django.conf import settings

from shop_video.core.redis import redis_client

logger = logging.getLogger(__name__)

KEY_PREFIX = "shopvideo:gpu:"
KINDS = ("allocated", "reserved", "free", "total", "peak")
DEFAULT_TTL_SECONDS = 300

_keeper: threading.Thread | None = None
_keeper_stop = threading.Event()
_keeper_lock = threading.Lock()


def worker_name() -> str:
    """host:pid, the tail of a job's `worker_name` (`<celery node>:<pid>`, e.g. gpu0@host:1234)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def ttl_seconds() -> int:
    return max(1, int(getattr(settings, "SHOPVIDEO_GPU_REPORT_TTL_SECONDS", DEFAULT_TTL_SECONDS)))


def loaded_cuda() -> Any | None:
    """`torch.cuda` when torch is already imported here and CUDA is initialised in this process, else None.

    Never imports torch (seconds and hundreds of MB for a scrape), and never initialises CUDA (a context costs
    GPU memory): a process that has not used the GPU has nothing to report."""
    torch = sys.modules.get("torch")
    cuda = getattr(torch, "cuda", None)
    if cuda is None:
        return None
    try:
        if not cuda.is_available() or not cuda.is_initialized():
            return None
    except Exception:  # a broken driver must not break a scrape or a job
        logger.warning("gpu report: CUDA state unreadable", exc_info=True)
        return None
    return cuda


def read_devices(cuda: Any) -> list[dict[str, Any]]:
    """Per device this process uses (holds memory on): index, name and the byte figures of KINDS.

    A device where this process reserved nothing is skipped: `mem_get_info` there would create a CUDA context
    (hundreds of MB) on a GPU another worker may own; this also holds in the keeper thread, whose current device
    is not the engine's."""
    out = []
    for index in range(cuda.device_count()):
        reserved = int(cuda.memory_reserved(index))
        if reserved == 0:
            continue
        free, total = cuda.mem_get_info(index)
        out.append(
            {
                "device": str(index),
                "name": str(cuda.get_device_name(index)),
                "allocated": int(cuda.memory_allocated(index)),
                "reserved": reserved,
                "free": int(free),
                "total": int(total),
                "peak": int(cuda.max_memory_allocated(index)),
            }
        )
    return out


def _key(worker: str, device: str) -> str:
    return f"{KEY_PREFIX}{worker}:{device}"


def publish(*, cuda: Any | None = None, url: str | None = None, worker: str | None = None) -> int:
    """Publish this process' GPU figures (see the module's docstring). Returns how many devices were published;
    0 on a process without CUDA. Raises on a Redis error (`publish_quietly` is what jobs call)."""
    cuda = cuda if cuda is not None else loaded_cuda()
    if cuda is None:
        return 0
    devices = read_devices(cuda)
    if not devices:
        return 0
    worker = worker or worker_name()
    ttl = ttl_seconds()
    now = time.time()
    client = redis_client(url)
    try:
        pipe = client.pipeline(transaction=False)
        for figures in devices:
            pipe.set(_key(worker, figures["device"]), json.dumps({"worker": worker, "at": now, **figures}), ex=ttl)
        pipe.execute()
    finally:
        client.close()
    return len(devices)


def publish_quietly(*, cuda: Any | None = None, url: str | None = None, keep_fresh: bool = True) -> int:
    """publish(), logging any failure instead of raising: a metrics report never fails a job. With keep_fresh,
    the first successful report starts the keeper thread that republishes while the worker lives."""
    try:
        published = publish(cuda=cuda, url=url)
    except Exception:
        logger.warning("gpu report: publishing GPU memory to the broker failed", exc_info=True)
        return 0
    if published and keep_fresh:
        start_keeper(cuda=cuda, url=url)
    return published


def start_keeper(*, cuda: Any | None = None, url: str | None = None, interval: float | None = None) -> None:
    """A daemon thread republishing every third of the TTL (once per process; reading allocator figures is
    thread-safe and does not disturb a render)."""
    global _keeper
    with _keeper_lock:
        if _keeper is not None and _keeper.is_alive():
            return
        _keeper_stop.clear()
        period = interval if interval is not None else max(1.0, ttl_seconds() / 3)

        def run() -> None:
            while not _keeper_stop.wait(period):
                try:
                    publish(cuda=cuda, url=url)
                except Exception:
                    logger.warning("gpu report: republishing GPU memory failed", exc_info=True)

        _keeper = threading.Thread(target=run, name="gpu-report", daemon=True)
        _keeper.start()


def stop_keeper(timeout: float = 5.0) -> None:
    global _keeper
    with _keeper_lock:
        _keeper_stop.set()
        if _keeper is not None:
            _keeper.join(timeout)
        _keeper = None


def job_usage(cuda: Any, device_index: int) -> dict[str, Any]:
    """What a video's metadata records of its render: the peak allocated bytes and the device."""
    return {
        "device": f"cuda:{device_index}",
        "name": str(cuda.get_device_name(device_index)),
        "peak_allocated_bytes": int(cuda.max_memory_allocated(device_index)),
        "total_bytes": int(cuda.mem_get_info(device_index)[1]),
    }
