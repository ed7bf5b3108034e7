"""The step cache of the DiT presets on a tiny VACE transformer: a skipped step never adds the VACE hints twice."""

import dataclasses

import numpy as np
import pytest
import torch

from generation.engines import wan_vace
from generation.engines.wan_vace import QUALITY_PRESETS, WanVaceEngine

from .tiny_wan import TEXT_DIM, Z_DIM, build_pipeline

SKIPPING = [name for name, options in QUALITY_PRESETS.items() if options.cache != "none"]


def vace_pipeline():
    """6 layers, VACE hints after blocks 0, 2 and 4, hint projections non-zero (fresh ones may start at zero)."""
    pipe = build_pipeline(num_layers=6, vace_layers=(0, 2, 4))
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for block in pipe.transformer.vace_blocks:
            block.proj_out.weight.copy_(torch.randn(block.proj_out.weight.shape, generator=generator) * 0.5)
            block.proj_out.bias.copy_(torch.randn(block.proj_out.bias.shape, generator=generator) * 0.1)
    return pipe


def step_inputs(scale: float) -> dict:
    generator = torch.Generator().manual_seed(2)
    return {
        "hidden_states": torch.randn(1, Z_DIM, 3, 8, 8, generator=generator),
        "timestep": torch.tensor([500]),
        "encoder_hidden_states": torch.randn(1, 8, TEXT_DIM, generator=generator),
        "control_hidden_states": torch.randn(1, 2 * Z_DIM + 64, 3, 8, 8, generator=generator),
        "control_hidden_states_scale": torch.full((3,), scale),
        "return_dict": False,
    }


def count_computed(transformer) -> list:
    """Grows by one per computed step: the last main block's feed-forward does not run on a skipped one."""
    computed: list = []
    transformer.blocks[-1].ffn.register_forward_hook(lambda *_: computed.append(1))
    return computed


def cached_step_vs_full(preset: str, scale: float) -> tuple[float, int]:
    """The largest difference between a cached step and the full one on identical inputs, and the skips seen."""
    pipe = vace_pipeline()
    transformer = pipe.transformer
    inputs = step_inputs(scale)
    with torch.no_grad():
        full = transformer(**inputs)[0]
    computed = count_computed(transformer)
    WanVaceEngine.from_pipeline(pipe, options=QUALITY_PRESETS[preset])  # the cache as the engine applies it
    worst, calls = 0.0, 12
    with torch.no_grad(), transformer.cache_context("cond"):
        for _ in range(calls):
            out = transformer(**inputs)[0]
            worst = max(worst, float((out - full).abs().max()))
    return worst, calls - len(computed)


@pytest.mark.parametrize("preset", SKIPPING)
def test_skipped_step_equals_the_full_step_at_full_control_scale(preset):
    worst, skipped = cached_step_vs_full(preset, scale=1.0)
    assert skipped > 0  # the cache really skipped steps
    assert worst < 1e-5


def test_the_presets_that_skip_are_balanced_and_fast():
    assert sorted(SKIPPING) == ["balanced", "fast"]


def test_diffusers_first_block_cache_adds_the_hints_twice():
    # Why the presets do not use it: on a skipped step the stored residual already holds the hints and the
    # transformer's loop adds them again (the control's scale 0 hides it).
    from diffusers.hooks import FirstBlockCacheConfig

    errors = {}
    for scale in (1.0, 0.0):
        transformer = vace_pipeline().transformer
        inputs = step_inputs(scale)
        with torch.no_grad():
            full = transformer(**inputs)[0]
            transformer.enable_cache(FirstBlockCacheConfig(threshold=0.05))
            with transformer.cache_context("cond"):
                transformer(**inputs)
                errors[scale] = float((transformer(**inputs)[0] - full).abs().max())
    assert errors[1.0] > 0.05 and errors[0.0] < 1e-5


def test_the_cache_state_is_reset_for_the_next_video():
    pipe = vace_pipeline()
    WanVaceEngine.from_pipeline(pipe, options=QUALITY_PRESETS["balanced"])
    computed = count_computed(pipe.transformer)
    inputs = step_inputs(1.0)
    warmup = QUALITY_PRESETS["balanced"].cache_warmup_steps
    with torch.no_grad(), pipe.transformer.cache_context("cond"):
        for _ in range(warmup + 1):
            pipe.transformer(**inputs)
        assert len(computed) == warmup  # the call after the warm-up was skipped
        pipe.maybe_free_model_hooks()  # what the engine does after every video
        computed.clear()
        for _ in range(warmup):
            pipe.transformer(**inputs)
    assert len(computed) == warmup  # a new video starts with its warm-up computed, not with the old residual


def test_the_engine_reports_the_skipped_steps_of_a_render(tiny_model, make_request):
    # A threshold nothing reaches: every call after the one warm-up call of each guidance branch is skipped.
    options = wan_vace.DitOptions(name="test", cache="vace_step", cache_threshold=1e9, cache_warmup_steps=1)
    engine = WanVaceEngine(tiny_model[0], options=dataclasses.replace(options, cache_max_skips=100))
    frames = engine.render(make_request(width=64, height=64, frames=5, steps=4))
    assert np.isfinite(frames).all() and frames.std() > 1.0
    assert engine.last_render["cache"] == "vace_step" and engine.last_render["preset"] == "test"
    assert engine.last_render["skipped_steps"] == 2 * 3  # cond and uncond, steps 2-4


def test_each_guidance_branch_has_its_own_residual():
    # The unconditional call sees the same latents and timestep as the conditional one (the same modulated input),
    # but another text: it must never reuse the conditional call's residual.
    pipe = vace_pipeline()
    options = wan_vace.DitOptions(name="test", cache="vace_step", cache_threshold=1e9, cache_warmup_steps=0)
    WanVaceEngine.from_pipeline(pipe, options=options)
    transformer = pipe.transformer
    cond, uncond = step_inputs(1.0), step_inputs(1.0)
    uncond["encoder_hidden_states"] = torch.zeros_like(cond["encoder_hidden_states"])
    with torch.no_grad():
        with transformer.cache_context("cond"):
            transformer(**cond)
        with transformer.cache_context("uncond"):
            got = transformer(**uncond)[0]
        pipe.maybe_free_model_hooks()
    reference = vace_pipeline().transformer
    with torch.no_grad():
        expected = reference(**uncond)[0]
    assert float((got - expected).abs().max()) < 1e-5
