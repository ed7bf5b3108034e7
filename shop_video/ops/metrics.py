"""Prometheus metrics beyond django-prometheus' HTTP ones, computed from the truth at scrape time.

Workers are separate processes (often on other hosts), so job figures are read from the database and the
broker when /metrics is scraped, not counted in one process' memory:
- shopvideo_jobs{state}: jobs by state;
- shopvideo_queue_depth{queue}: messages waiting in each broker queue (Redis LLEN);
- shopvideo_job_stage_seconds{engine,stage}: a gauge histogram of stage timings of the latest videos;
- shopvideo_credits_captured_total: from the source billing registers (`register_credits_source`);
- shopvideo_gpu_memory_bytes{worker,device,kind}: allocated, reserved, free, total and the peak allocated since
  the last job started, per GPU worker and device: the workers publish them to the broker's Redis with a TTL
  (shop_video.ops.gpu_report), read here at scrape time, plus this process' own GPUs if it uses any;
- shopvideo_gpu_info{worker,device,name}: 1 per reported device, its name (e.g. the GPU model).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from prometheus_client.core import REGISTRY, CounterMetricFamily, GaugeHistogramMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from shop_video.core.redis import redis_client

logger = logging.getLogger(__name__)

QUEUES = ("cpu", "gpu", "events")
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


def gpu_memory(url: str | None = None) -> list[dict]:
    """GPU reports (worker, device, name and the byte figures of gpu_report.KINDS): the workers' published ones
    from the broker, and this process' own when torch with CUDA is already in use here (importing torch only for
    a scrape would cost seconds and hundreds of MB). A broker error leaves the local ones."""
    from . import gpu_report

    local: list[dict] = []
    cuda = gpu_report.loaded_cuda()
    if cuda is not None:
        worker = gpu_report.worker_name()
        try:
            local = [{"worker": worker, **figures} for figures in gpu_report.read_devices(cuda)]
        except Exception:
            logger.warning("metrics: local GPU memory unreadable", exc_info=True)
    try:
        published = gpu_report.read_reports(url)
    except Exception:
        logger.warning("metrics: published GPU reports unavailable", exc_info=True)
        published = []
    seen = {(r["worker"], r["device"]) for r in local}
    return local + [r for r in published if (r["worker"], r["device"]) not in seen]


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
        reports = gpu_memory()
        if reports:
            from .gpu_report import KINDS

            gauge = GaugeMetricFamily(
                "shopvideo_gpu_memory_bytes",
                "GPU memory by worker and device: allocated, reserved, free, total, peak (since the last job started).",
                labels=["worker", "device", "kind"],
            )
            info = GaugeMetricFamily(
                "shopvideo_gpu_info", "A reported GPU and its name.", labels=["worker", "device", "name"]
            )
            for report in reports:
                for kind in KINDS:
                    if isinstance(report.get(kind), int | float):
                        gauge.add_metric([report["worker"], report["device"], kind], float(report[kind]))
                info.add_metric([report["worker"], report["device"], str(report.get("name", ""))], 1)
            yield gauge
            yield info


_collector: ShopVideoCollector | None = None


def register_collector() -> None:
    global _collector
    if _collector is None:
        _collector = ShopVideoCollector()
        REGISTRY.register(_collector)
