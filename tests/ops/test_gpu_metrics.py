"""GPU memory in /metrics: a GPU worker publishes it to the broker's real Redis, the web process exports it.

No GPU exists in CI, so this is the one place with a stand-in: `torch.cuda` answering fixed numbers. Everything
else is real: the Redis, the TTL, /metrics through the Django test client, the tiny Wan VACE model's renders.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import types

import pytest
import torch
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from generation.engines.wan_vace import WanVaceEngine
from shop_video.core import gpu_telemetry
from shop_video.ops import gpu_report
from tests import synthetic
from tests.drills.conftest import free_port
from tests.unit.dit.conftest import _one_thread, make_request, tiny_model  # noqa: F401 — the DiT fixtures

pytestmark = pytest.mark.django_db

GiB = 1024**3
DEVICES = [  # device 2 is visible but unused by this process: never read (mem_get_info would open a context)
    {"name": "NVIDIA H100 80GB HBM3", "allocated": 30 * GiB, "reserved": 34 * GiB, "free": 44 * GiB,
     "total": 80 * GiB, "peak": 52 * GiB},
    {"name": "NVIDIA H100 80GB HBM3", "allocated": 1 * GiB, "reserved": 2 * GiB, "free": 77 * GiB,
     "total": 80 * GiB, "peak": 3 * GiB},
    {"name": "NVIDIA H100 80GB HBM3", "allocated": 0, "reserved": 0, "free": 79 * GiB, "total": 80 * GiB, "peak": 0},
]  # fmt: skip


class StandInCuda:
    """torch.cuda's memory API answering fixed figures; `reset_peak_memory_stats` behaves like the real one."""

    def __init__(self, devices: list[dict], *, available: bool = True, initialized: bool = True) -> None:
        self.devices = [dict(d) for d in devices]
        self.available, self.initialized = available, initialized
        self.info_calls: list[int] = []

    def is_available(self) -> bool:
        return self.available

    def is_initialized(self) -> bool:
        return self.initialized

    def device_count(self) -> int:
        return len(self.devices)

    def memory_allocated(self, index: int) -> int:
        return self.devices[index]["allocated"]

    def memory_reserved(self, index: int) -> int:
        return self.devices[index]["reserved"]

    def max_memory_allocated(self, index: int) -> int:
        return self.devices[index]["peak"]

    def reset_peak_memory_stats(self, index: int) -> None:
        self.devices[index]["peak"] = self.devices[index]["allocated"]

    def mem_get_info(self, index: int) -> tuple[int, int]:
        self.info_calls.append(index)
        return self.devices[index]["free"], self.devices[index]["total"]

    def get_device_name(self, index: int) -> str:
        return self.devices[index]["name"]


def stand_in_torch(cuda: StandInCuda) -> types.ModuleType:
    module = types.ModuleType("torch")
    module.cuda = cuda
    return module


@pytest.fixture
def redis_broker(clean_broker, settings):
    settings.CELERY_BROKER_URL = clean_broker.url
    yield clean_broker
    gpu_report.stop_keeper()
    clean_broker.client.flushdb()


def scrape() -> dict:
    response = Client().get("/metrics")
    assert response.status_code == 200
    return {f.name: f for f in text_string_to_metric_families(response.content.decode())}


def gpu_samples(families: dict) -> dict[tuple[str, str, str], float]:
    family = families.get("shopvideo_gpu_memory_bytes")
    if family is None:
        return {}
    return {(s.labels["worker"], s.labels["device"], s.labels["kind"]): s.value for s in family.samples}


def expected_samples(worker: str, devices: dict[str, dict]) -> dict[tuple[str, str, str], float]:
    return {
        (worker, device, kind): float(figures[kind]) for device, figures in devices.items() for kind in gpu_report.KINDS
    }


def as_cpu_only_web_process(monkeypatch) -> None:
    """The web process: torch, if loaded at all, sees no GPU (the figures must come from Redis)."""
    monkeypatch.setitem(sys.modules, "torch", stand_in_torch(StandInCuda(DEVICES, available=False)))


def test_a_gpu_workers_report_reaches_metrics_through_redis(redis_broker, monkeypatch, settings):
    settings.SHOPVIDEO_GPU_REPORT_TTL_SECONDS = 60
    cuda = StandInCuda(DEVICES)
    monkeypatch.setitem(sys.modules, "torch", stand_in_torch(cuda))
    before = time.time()
    assert gpu_report.publish_quietly(keep_fresh=False) == 2
    assert 2 not in cuda.info_calls  # the unused device was never touched
    worker = gpu_report.worker_name()

    keys = sorted(k.decode() for k in redis_broker.client.keys("shopvideo:gpu:*"))
    assert keys == [f"shopvideo:gpu:{worker}:0", f"shopvideo:gpu:{worker}:1"]
    stored = json.loads(redis_broker.client.get(keys[0]))
    assert stored["name"] == "NVIDIA H100 80GB HBM3" and stored["peak"] == 52 * GiB
    assert before <= stored["at"] <= time.time()
    assert 0 < redis_broker.client.ttl(keys[0]) <= 60

    as_cpu_only_web_process(monkeypatch)
    families = scrape()
    assert gpu_samples(families) == expected_samples(worker, {"0": DEVICES[0], "1": DEVICES[1]})
    info = {(s.labels["worker"], s.labels["device"], s.labels["name"]) for s in families["shopvideo_gpu_info"].samples}
    assert info == {(worker, "0", "NVIDIA H100 80GB HBM3"), (worker, "1", "NVIDIA H100 80GB HBM3")}


def test_reports_of_two_workers_are_kept_apart(redis_broker, monkeypatch):
    first, second = StandInCuda(DEVICES[:1]), StandInCuda(DEVICES[1:2])
    gpu_report.publish(cuda=first, worker="gpu-host-a:11")
    gpu_report.publish(cuda=second, worker="gpu-host-b:22")
    as_cpu_only_web_process(monkeypatch)
    assert gpu_samples(scrape()) == {
        **expected_samples("gpu-host-a:11", {"0": DEVICES[0]}),
        **expected_samples("gpu-host-b:22", {"0": DEVICES[1]}),
    }


def test_a_report_past_its_ttl_is_gone(redis_broker, monkeypatch, settings):
    settings.SHOPVIDEO_GPU_REPORT_TTL_SECONDS = 1
    gpu_report.publish(cuda=StandInCuda(DEVICES[:1]), worker="dead-worker:1")
    as_cpu_only_web_process(monkeypatch)
    assert ("dead-worker:1", "0", "total") in gpu_samples(scrape())
    time.sleep(1.2)  # the worker died: nobody republishes
    families = scrape()
    assert gpu_samples(families) == {} and "shopvideo_gpu_info" not in families
    assert "shopvideo_jobs" in families  # the rest of the scrape is unaffected


def test_the_keeper_republishes_while_the_worker_lives(redis_broker, settings):
    settings.SHOPVIDEO_GPU_REPORT_TTL_SECONDS = 1
    cuda = StandInCuda(DEVICES[:1])
    gpu_report.publish(cuda=cuda, worker=gpu_report.worker_name())
    gpu_report.start_keeper(cuda=cuda, interval=0.2)
    cuda.devices[0]["allocated"] = 31 * GiB  # the next job
    key = f"shopvideo:gpu:{gpu_report.worker_name()}:0"
    deadline = time.monotonic() + 3.0
    while time.monotonic() < deadline:
        raw = redis_broker.client.get(key)
        if raw and json.loads(raw)["allocated"] == 31 * GiB:
            break
        time.sleep(0.05)
    else:
        pytest.fail("the keeper did not republish")
    time.sleep(1.2)  # longer than the TTL: still there, kept fresh
    assert redis_broker.client.exists(key)
    gpu_report.stop_keeper()
    time.sleep(1.2)
    assert not redis_broker.client.exists(key)


def test_a_publish_error_is_logged_and_does_not_raise(monkeypatch, settings, caplog):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    monkeypatch.setitem(sys.modules, "torch", stand_in_torch(StandInCuda(DEVICES)))
    caplog.set_level(logging.WARNING, logger="shop_video.core.gpu_telemetry")
    started = time.monotonic()
    assert gpu_report.publish_quietly() == 0
    assert time.monotonic() - started < 5
    assert any("publishing GPU memory to the broker failed" in r.getMessage() for r in caplog.records)
    assert gpu_telemetry._keeper is None  # nothing was published, so no keeper either


@pytest.mark.parametrize(
    "torch_module",
    [
        None,
        stand_in_torch(StandInCuda(DEVICES, available=False)),
        stand_in_torch(StandInCuda(DEVICES, initialized=False)),
    ],
    ids=["no-torch", "cpu-only", "cuda-not-initialised"],
)
def test_a_process_without_a_gpu_in_use_publishes_nothing(redis_broker, monkeypatch, torch_module):
    # None in sys.modules: `import torch` would fail, and the report must not try it.
    monkeypatch.setitem(sys.modules, "torch", torch_module)
    assert gpu_report.publish_quietly() == 0
    assert redis_broker.client.keys("shopvideo:gpu:*") == []
    assert gpu_telemetry._keeper is None
    assert "shopvideo_gpu_memory_bytes" not in scrape()


def test_a_web_process_using_a_gpu_exports_its_own_figures_even_with_the_broker_down(monkeypatch, settings):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"
    monkeypatch.setitem(sys.modules, "torch", stand_in_torch(StandInCuda(DEVICES[:1])))
    assert gpu_samples(scrape()) == expected_samples(gpu_report.worker_name(), {"0": DEVICES[0]})


# --- The DiT engine: per-render peak in the video's metadata, and the report after each render ------------------


def test_dit_on_cpu_records_no_gpu_and_publishes_nothing(redis_broker, tiny_model, make_request):  # noqa: F811
    engine = WanVaceEngine(tiny_model[0])
    assert engine.device.type == "cpu"
    engine.render(make_request(width=64, height=64, frames=5, steps=1))
    assert engine.last_gpu is None  # metadata "gpu": null on CPU
    assert redis_broker.client.keys("shopvideo:gpu:*") == []


def test_dit_on_cuda_records_the_renders_peak_and_publishes(redis_broker, tiny_model, make_request, monkeypatch):  # noqa: F811
    # The tiny model really renders (on the CPU); torch.cuda's memory API is the stand-in, the engine believes it
    # runs on cuda:0. The peak is reset at the start of each render and read at its end.
    engine = WanVaceEngine(tiny_model[0])
    cuda = StandInCuda(DEVICES[:1])
    for name in ("is_available", "is_initialized", "device_count", "memory_allocated",
                 "memory_reserved", "max_memory_allocated", "reset_peak_memory_stats", "mem_get_info",
                 "get_device_name"):  # fmt: skip
        monkeypatch.setattr(torch.cuda, name, getattr(cuda, name))
    engine.device = torch.device("cuda", 0)

    def on_progress(fraction: float) -> None:
        cuda.devices[0]["peak"] = max(cuda.devices[0]["peak"], 41 * GiB)  # the render's own peak

    frames = engine.render(make_request(width=64, height=64, frames=5, steps=1, on_progress=on_progress))
    assert frames.shape == (5, 64, 64, 3) and frames.std() > 1.0
    # 52 GiB was the previous job's peak: reset at the start, so this render's 41 GiB is what is recorded.
    assert engine.last_gpu == {
        "device": "cuda:0",
        "name": "NVIDIA H100 80GB HBM3",
        "peak_allocated_bytes": 41 * GiB,
        "total_bytes": 80 * GiB,
    }
    stored = json.loads(redis_broker.client.get(f"shopvideo:gpu:{gpu_report.worker_name()}:0"))
    assert stored["peak"] == 41 * GiB and stored["allocated"] == 30 * GiB


def test_the_pipeline_records_the_renders_gpu_in_the_videos_json(tmp_path, monkeypatch):
    # Video.metadata is this JSON less the placements (services.commit_result). A stand-in GPU engine: the
    # compositor's real frames, with the memory record a DiT render on CUDA leaves (the test above).
    from generation.engines.compositor import CompositorEngine
    from generation.pipeline import run
    from generation.pipeline.spec import VariantSpec

    gpu = {"device": "cuda:0", "name": "NVIDIA H100 80GB HBM3", "peak_allocated_bytes": 41 * GiB, "total_bytes": 1}

    class CompositorOnGpu(CompositorEngine):
        def render(self, request):
            self.last_gpu = dict(gpu)
            return super().render(request)

    image, _ = synthetic.product_on_white(width=320, height=400)
    image.save(tmp_path / "photo.png")
    spec = VariantSpec(aspect_ratio="1:1", seconds=0.25, seed=1)
    plain = run.run_pipeline(photo=tmp_path / "photo.png", out_path=tmp_path / "plain.mp4", spec=spec, qa_retries=0)
    assert json.loads(plain.json_path.read_text())["gpu"] is None  # the compositor (and the DiT on CPU): null
    monkeypatch.setattr(run, "get_engine", lambda name, model_path: CompositorOnGpu())
    on_gpu = run.run_pipeline(photo=tmp_path / "photo.png", out_path=tmp_path / "gpu.mp4", spec=spec, qa_retries=0)
    assert on_gpu.gpu == gpu and json.loads(on_gpu.json_path.read_text())["gpu"] == gpu
