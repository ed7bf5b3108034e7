"""WanVaceEngine on the tiny model: load from a saved folder, determinism, progress, cancel, failures."""

import json
import shutil

import numpy as np
import pytest
import torch

from generation.engines import get_engine, wan_vace
from generation.engines.conditions import build_conditions
from generation.engines.wan_vace import DegenerateOutputError, GpuOutOfMemoryError, WanVaceEngine
from generation.pipeline.errors import EngineUnavailableError, JobCanceled, ModelUnavailableError


def test_saved_folder_gives_bit_identical_output(tiny_model, make_request):
    folder, in_memory = tiny_model
    request = make_request(width=64, height=64, frames=9, steps=2, seed=7)
    engine = WanVaceEngine(folder)
    assert engine.device.type == "cpu" and engine.pipe.transformer.dtype == torch.float32
    frames = engine.render(request)
    assert frames.shape == (9, 64, 64, 3) and frames.dtype == np.uint8
    assert frames.std() > 1.0  # the model really drew something (random weights: noise)
    # The same call on the in-memory pipeline that was saved: the very same pixels.
    kwargs = engine.pipeline_kwargs(build_conditions(request), request)
    in_memory.scheduler = engine.scheduler_for(64, 64)
    reference = in_memory(**kwargs).frames
    np.testing.assert_array_equal(frames, wan_vace.frames_to_uint8(reference))
    # And a fixed seed repeats; another seed does not.
    np.testing.assert_array_equal(engine.render(request), frames)
    other = engine.render(make_request(width=64, height=64, frames=9, steps=2, seed=8))
    assert not np.array_equal(other, frames)


def test_progress_once_per_step(tiny_model, make_request):
    seen = []
    engine = WanVaceEngine(tiny_model[0])
    engine.render(make_request(width=64, height=64, frames=5, steps=4, on_progress=seen.append))
    assert seen == [0.25, 0.5, 0.75, 1.0]


def test_cancel_during_the_steps_stops_the_pipeline(tiny_model, make_request):
    engine = WanVaceEngine(tiny_model[0], options=wan_vace.QUALITY_PRESETS["balanced"])
    calls = []

    def progress(fraction):
        calls.append(fraction)
        if len(calls) == 2:
            raise JobCanceled("canceled by the merchant")

    with pytest.raises(JobCanceled):
        engine.render(make_request(width=64, height=64, frames=5, steps=6, on_progress=progress))
    assert calls == [pytest.approx(1 / 6), pytest.approx(2 / 6)]  # stopped after step 2 of 6
    # The warm pipeline is usable again (cache hooks reset) and runs all steps of the next job.
    after = []
    engine.render(make_request(width=64, height=64, frames=5, steps=3, on_progress=after.append))
    assert after == [pytest.approx(1 / 3), pytest.approx(2 / 3), 1.0]


def test_default_steps_come_from_settings(tiny_model, make_request, settings):
    settings.SHOPVIDEO_DIT_STEPS = 3
    seen = []
    WanVaceEngine(tiny_model[0]).render(
        make_request(width=64, height=64, frames=5, steps=None, on_progress=seen.append)
    )
    assert len(seen) == 3


@pytest.mark.parametrize("size", [(832, 480), (640, 640), (1280, 720)])
def test_flow_shift_is_the_official_vace_default_at_every_size(tiny_model, size):
    scheduler = WanVaceEngine(tiny_model[0]).scheduler_for(*size)
    assert type(scheduler).__name__ == "UniPCMultistepScheduler"
    assert scheduler.config.flow_shift == 16.0 and scheduler.config.use_flow_sigmas


def test_flow_shift_and_guidance_are_settings(tiny_model, make_request, settings):
    settings.SHOPVIDEO_DIT_FLOW_SHIFT, settings.SHOPVIDEO_DIT_GUIDANCE_SCALE = 5.0, 3.5
    engine = WanVaceEngine(tiny_model[0])
    assert engine.scheduler_for(832, 480).config.flow_shift == 5.0
    request = make_request(width=64, height=64, frames=5)
    kwargs = engine.pipeline_kwargs(build_conditions(request), request)
    assert kwargs["guidance_scale"] == 3.5


def incomplete_copies(folder, tmp_path):
    def copy(name):
        target = tmp_path / name
        shutil.copytree(folder, target)
        return target

    no_index = copy("no-index")
    (no_index / "model_index.json").unlink()
    no_weights = copy("no-weights")
    for f in (no_weights / "transformer").glob("*.safetensors"):
        f.unlink()
    no_vae = copy("no-vae")
    shutil.rmtree(no_vae / "vae")
    wrong = copy("wrong-class")
    index = json.loads((wrong / "model_index.json").read_text())
    index["_class_name"] = "WanPipeline"
    (wrong / "model_index.json").write_text(json.dumps(index))
    corrupt = copy("corrupt")
    for f in (corrupt / "transformer").glob("*.safetensors"):
        f.write_bytes(b"not a safetensors file")
    return [None, "", tmp_path / "does-not-exist", no_index, no_weights, no_vae, wrong, corrupt]


def test_missing_or_incomplete_folder_is_model_unavailable(tiny_model, tmp_path):
    for path in incomplete_copies(tiny_model[0], tmp_path):
        with pytest.raises(ModelUnavailableError) as info:
            WanVaceEngine(path)
        assert info.value.code == "model_unavailable" and not info.value.transient, path
    # Through the engine registry too, as the pipeline and the worker get it; an EngineUnavailableError subclass.
    with pytest.raises(EngineUnavailableError) as info:
        get_engine("dit", str(tmp_path / "does-not-exist"))
    assert info.value.code == "model_unavailable"


def test_nan_output_is_a_clear_failure_not_a_crash(tiny_model, make_request):
    engine = WanVaceEngine(tiny_model[0])
    handle = engine.pipe.transformer.register_forward_hook(lambda m, a, out: (torch.full_like(out[0], float("nan")),))
    try:
        with pytest.raises(DegenerateOutputError) as info:
            engine.render(make_request(width=64, height=64, frames=5, steps=2))
    finally:
        handle.remove()
    assert info.value.code == "degenerate_output"
    assert (wan_vace.frames_to_uint8(np.full((1, 2, 4, 4, 3), np.nan)) == 0).all()


def test_cuda_oom_retries_once_with_offload_then_fails_clearly(tiny_model, make_request, monkeypatch):
    # No GPU here: simulate the OOM and the offload switch; the engine's retry logic is what is under test.
    engine = WanVaceEngine(tiny_model[0])
    real_call, ooms, offloads = engine._call, [], []

    def flaky_call(kwargs, request):
        if len(ooms) < budget[0]:
            ooms.append(1)
            raise torch.cuda.OutOfMemoryError("CUDA out of memory")
        return real_call(kwargs, request)

    def low_memory():
        offloads.append(1)
        engine.low_memory = True

    monkeypatch.setattr(engine, "_call", flaky_call)
    monkeypatch.setattr(engine, "_enable_low_memory", low_memory)
    budget = [1]
    frames = engine.render(make_request(width=64, height=64, frames=5, steps=2))
    assert frames.shape == (5, 64, 64, 3) and len(ooms) == 1 and len(offloads) == 1
    budget[0] = 3
    with pytest.raises(GpuOutOfMemoryError) as info:
        engine.render(make_request(width=64, height=64, frames=5, steps=2))
    assert info.value.code == "gpu_out_of_memory" and len(offloads) == 1


def test_options_presets_apply_on_cuda_only():
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert wan_vace.options_for("balanced", cpu) == wan_vace.DitOptions()
    balanced = wan_vace.options_for("balanced", cuda)
    assert balanced.compile and balanced.attention == "_native_cudnn" and balanced.cache == "vace_step"
    assert wan_vace.options_for("max", cuda).cache == "none"
    with pytest.raises(ValueError):
        wan_vace.options_for("ultra", cuda)


def test_bad_sizes_are_refused(tiny_model, make_request):
    engine = WanVaceEngine(tiny_model[0])
    with pytest.raises(Exception) as info:
        engine.render(make_request(width=72, height=64, frames=5))
    assert getattr(info.value, "code", "") == "bad_size"
