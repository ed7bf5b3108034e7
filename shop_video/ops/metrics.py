"""Prometheus metrics beyond django-prometheus' HTTP ones, computed from the truth at scrape time.

Workers are separate processes (often on other hosts), so job figures are read from the database and the
broker when /metrics is scraped, not counted in one process' memory:
- shopvideo_jobs{state}: jobs by state;
- shopvideo_queue_depth{queue}: messages waiting in each broker queue (Redis LLEN);
- shopvideo_job_stage_seconds{engine,stage}: a gauge histogram of stage timings of the latest videos;
- shopvideo_credits_captured_total: from the source billing registers (`register_credits_source`);
- shopvideo_gpu_memory_bytes{device,kind}: when torch with CUDA is loaded in this process.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterable
from urllib.parse import unquote, urlparse

from django.conf import settings
from prometheus_client.core import REGISTRY, CounterMetricFamily, GaugeHistogramMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

QUEUES = ("cpu", "gpu")
STAGE_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0, 1800.0, 3600.0)
STAGE_SAMPLE = 1000  # the latest videos whose stage timings make the histogram

_credits_source: Callable[[], float] | None = None  # set in OpsConfig.ready (the billing ledger)


def register_credits_source(source: Callable[[], float]) -> None:
    """Billing registers a function returning the total credits captured so far (from its ledger)."""
    global _credits_source
    _credits_source = source


def ledger_credits_captured() -> float:
    """The default source: every capture in the billing ledger (the database is the truth, across processes)."""
    from django.db.models import Sum

    from billing.models import LedgerEntry

    total = LedgerEntry.objects.filter(kind=LedgerEntry.Kind.CAPTURE).aggregate(total=Sum("credits"))["total"]
    return float(total or 0)


def redis_client(url: str | None = None, timeout: float = 1.0):
    """A redis-py client for the Celery broker URL, including the embedded `redis+socket://` form."""
    import redis

    url = url or settings.CELERY_BROKER_URL
    parsed = urlparse(url)
    if parsed.scheme in ("redis+socket", "socket"):
        path = unquote(parsed.netloc + parsed.path)
        return redis.Redis(unix_socket_path=path, socket_timeout=timeout, socket_connect_timeout=timeout)
    return redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)


def queue_depths(url: str | None = None) -> dict[str, int]:
    client = redis_client(url)
    try:
        return {queue: int(client.llen(queue)) for queue in QUEUES}
    finally:
        client.close()


def jobs_by_state() -> dict[str, int]:
    from django.db.models import Count

    from generation.models import Job

    counts = dict.fromkeys(Job.State.values, 0)
    for row in Job.objects.order_by().values("state").annotate(n=Count("id")):
        counts[row["state"]] = row["n"]
    return counts


def stage_histograms(sample: int = STAGE_SAMPLE) -> dict[tuple[str, str], list[float]]:
    """Stage timings (seconds) of the latest videos, by (engine, stage); "total" is the whole pipeline."""
    from generation.models import Video

    out: dict[tuple[str, str], list[float]] = {}
    rows = Video.objects.order_by("-id").values_list("job__engine", "metadata")[:sample]
    for engine, metadata in rows:
        for stage, seconds in ((metadata or {}).get("timings") or {}).items():
            if isinstance(seconds, int | float):
                out.setdefault((engine, stage), []).append(float(seconds))
    return out


def gpu_memory() -> list[tuple[str, str, float]]:
    """(device, kind, bytes) when torch is already imported here and sees a GPU; importing torch only for a
    scrape would cost seconds and hundreds of MB."""
    torch = sys.modules.get("torch")
    if torch is None or not torch.cuda.is_available():
        return []
    out = []
    for index in range(torch.cuda.device_count()):
        out.append((str(index), "allocated", float(torch.cuda.memory_allocated(index))))
        out.append((str(index), "reserved", float(torch.cuda.memory_reserved(index))))
        free, total = torch.cuda.mem_get_info(index)
        out.append((str(index), "total", float(total)))
        out.append((str(index), "free", float(free)))
    return out


def _buckets(values: list[float]) -> list[tuple[str, float]]:
    buckets = [(str(bound), float(sum(1 for v in values if v <= bound))) for bound in STAGE_BUCKETS]
    buckets.append(("+Inf", float(len(values))))
    return buckets


class ShopVideoCollector(Collector):
    def describe(self) -> Iterable:
        return []  # no scrape-time queries when the registry is built at start-up

    def collect(self) -> Iterable:
        try:
            states = jobs_by_state()
        except Exception:
            logger.warning("metrics: jobs by state unavailable", exc_info=True)
        else:
            gauge = GaugeMetricFamily("shopvideo_jobs", "Jobs by state.", labels=["state"])
            for state, count in sorted(states.items()):
                gauge.add_metric([state], count)
            yield gauge
        try:
            depths = queue_depths()
        except Exception:
            logger.warning("metrics: broker queue depth unavailable", exc_info=True)
        else:
            gauge = GaugeMetricFamily("shopvideo_queue_depth", "Messages waiting in a broker queue.", labels=["queue"])
            for queue, depth in depths.items():
                gauge.add_metric([queue], depth)
            yield gauge
        try:
            stages = stage_histograms()
        except Exception:
            logger.warning("metrics: stage timings unavailable", exc_info=True)
        else:
            hist = GaugeHistogramMetricFamily(
                "shopvideo_job_stage_seconds",
                f"Seconds per pipeline stage over the latest {STAGE_SAMPLE} videos, by engine and stage.",
                labels=["engine", "stage"],
            )
            for (engine, stage), values in sorted(stages.items()):
                hist.add_metric([engine, stage], _buckets(values), gsum_value=sum(values))
            yield hist
        if _credits_source is not None:
            try:
                total = float(_credits_source())
            except Exception:
                logger.warning("metrics: credits captured unavailable", exc_info=True)
            else:
                yield CounterMetricFamily("shopvideo_credits_captured", "Credits captured in total.", value=total)
        memory = gpu_memory()
        if memory:
            gauge = GaugeMetricFamily("shopvideo_gpu_memory_bytes", "GPU memory.", labels=["device", "kind"])
            for device, kind, value in memory:
                gauge.add_metric([device, kind], value)
            yield gauge


_collector: ShopVideoCollector | None = None


def register_collector() -> None:
    global _collector
    if _collector is None:
        _collector = ShopVideoCollector()
        REGISTRY.register(_collector)
