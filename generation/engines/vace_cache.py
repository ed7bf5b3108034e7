"""A step cache for `WanVACETransformer3DModel` that skips the whole transformer, VACE hints included.

diffusers' block caches (FirstBlockCache in `hooks/first_block_cache.py`, MagCache in `hooks/mag_cache.py`) wrap
the transformer blocks only. `WanVACETransformer3DModel.forward` (`models/transformers/transformer_wan_vace.py`)
adds each VACE hint in its own loop, *between* the blocks: `hidden_states = hidden_states + control_hint * scale`.
On a skipped step those caches return the head block's output plus a residual that already holds the previous
step's hints, and the loop then adds the hints again: the control counts twice on every skipped step.

This cache follows TeaCache (Liu et al. 2024, the `teacache_forward` of its Wan2.1 port) instead: it decides before
any block runs, and on a skipped step it reuses the residual of the *whole* block stack, measured from the patch
embedding to the input of `norm_out`, i.e. after the last hint was added. Every VACE block then returns a zero
hint and every main block passes its input through, so nothing is added twice and no block is computed. The
output norm and projection still run with the current timestep, as in TeaCache.

The signal is TeaCache's: the relative L1 change of the first block's timestep-modulated input since the last
computed step, accumulated over skipped steps; a step is computed again once the sum reaches `threshold`. The
first `warmup_steps` calls of each guidance branch are always computed (MagCache's `retention_ratio` idea), and at
most `max_skips` steps in a row are skipped. TeaCache rescales the distance with a polynomial fitted per
checkpoint; we use the raw distance (ADR 0010 lists calibrating it on a GPU as an open comparison).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from diffusers.hooks import HookRegistry, ModelHook
from diffusers.hooks.hooks import BaseState, CacheContext, StateManager

_HOOK = "shopvideo_vace_step_cache"


@dataclass(frozen=True)
class VaceStepCacheConfig:
    threshold: float = 0.05
    warmup_steps: int = 3
    max_skips: int = 2


@dataclass
class VaceStepCacheCounts:
    """Transformer calls since the cache was applied; never reset (the pipeline resets the hooks' state at the end
    of every call, so per-video figures are differences of these)."""

    calls: int = 0
    skipped: int = 0


class _State(BaseState):
    def __init__(self) -> None:
        super().__init__()
        self.reset()

    def reset(self) -> None:
        self.calls = 0  # transformer calls in this guidance branch
        self.skipped = 0  # how many of them were skipped
        self.skip = False  # the current call
        self.skips_in_row = 0
        self.accumulated = 0.0
        self.previous_modulated: torch.Tensor | None = None
        self.block_input: torch.Tensor | None = None
        self.residual: torch.Tensor | None = None


def _state(manager: StateManager) -> _State:
    if manager._context is None:
        manager.set_context(CacheContext(name="inference"))
    return manager.get_state()


class _DecideHook(ModelHook):
    """On the first VACE block (the first block the forward runs): decide whether this call is skipped."""

    _is_stateful = True

    def __init__(
        self,
        manager: StateManager,
        config: VaceStepCacheConfig,
        first_block: torch.nn.Module,
        counts: VaceStepCacheCounts,
    ) -> None:
        super().__init__()
        self.manager = manager
        self.config = config
        self.first_block = first_block
        self.counts = counts

    def _modulated(self, hidden_states: torch.Tensor, temb: torch.Tensor) -> torch.Tensor:
        # WanTransformerBlock.forward's first line: the self-attention input, modulated by the timestep.
        shift, scale = (self.first_block.scale_shift_table.to(temb.device) + temb.float()).chunk(6, dim=1)[:2]
        return self.first_block.norm1(hidden_states.float()) * (1 + scale) + shift

    @torch.compiler.disable
    def new_forward(self, module, hidden_states, encoder_hidden_states, control_hidden_states, temb, rotary_emb):
        state = _state(self.manager)
        modulated = self._modulated(hidden_states, temb)
        skip = False
        if state.previous_modulated is not None and state.residual is not None:
            previous = state.previous_modulated
            change = ((modulated - previous).abs().mean() / previous.abs().mean().clamp_min(1e-12)).item()
            state.accumulated += change
            skip = (
                state.calls >= self.config.warmup_steps
                and state.accumulated < self.config.threshold
                and state.skips_in_row < self.config.max_skips
            )
        state.skip = skip
        state.block_input = hidden_states
        self.counts.calls += 1
        if skip:
            self.counts.skipped += 1
            state.skipped += 1
            state.skips_in_row += 1
            return torch.zeros_like(hidden_states), control_hidden_states
        state.accumulated = 0.0
        state.skips_in_row = 0
        state.previous_modulated = modulated
        return self.fn_ref.original_forward(
            hidden_states, encoder_hidden_states, control_hidden_states, temb, rotary_emb
        )

    def reset_state(self, module):
        self.manager.reset()
        return module


class _VaceBlockHook(ModelHook):
    """The other VACE blocks: a zero hint on a skipped call, so the forward's loop adds nothing."""

    def __init__(self, manager: StateManager) -> None:
        super().__init__()
        self.manager = manager

    @torch.compiler.disable
    def new_forward(self, module, hidden_states, encoder_hidden_states, control_hidden_states, *args, **kwargs):
        if _state(self.manager).skip:
            return torch.zeros_like(hidden_states), control_hidden_states
        return self.fn_ref.original_forward(
            hidden_states, encoder_hidden_states, control_hidden_states, *args, **kwargs
        )


class _BlockHook(ModelHook):
    """The main blocks: on a skipped call the first returns its input plus the cached residual, the rest pass."""

    def __init__(self, manager: StateManager, first: bool) -> None:
        super().__init__()
        self.manager = manager
        self.first = first

    @torch.compiler.disable
    def new_forward(self, module, hidden_states, *args, **kwargs):
        state = _state(self.manager)
        if not state.skip:
            return self.fn_ref.original_forward(hidden_states, *args, **kwargs)
        if self.first:
            return (hidden_states.float() + state.residual.to(hidden_states.device)).type_as(hidden_states)
        return hidden_states


class _ResidualHook(ModelHook):
    """On `norm_out`, which receives the block stack's output with every hint added: store the residual."""

    def __init__(self, manager: StateManager) -> None:
        super().__init__()
        self.manager = manager

    @torch.compiler.disable
    def new_forward(self, module, hidden_states, *args, **kwargs):
        state = _state(self.manager)
        if not state.skip and state.block_input is not None:
            state.residual = hidden_states.float() - state.block_input.to(hidden_states.device).float()
        state.calls += 1
        state.skip = False
        state.block_input = None
        return self.fn_ref.original_forward(hidden_states, *args, **kwargs)


def apply_vace_step_cache(transformer: torch.nn.Module, config: VaceStepCacheConfig) -> VaceStepCacheCounts:
    """Hooks the cache onto a WanVACETransformer3DModel; returns its running counts of calls and skips."""
    manager = StateManager(_State)
    counts = VaceStepCacheCounts()
    hooks: list[tuple[torch.nn.Module, ModelHook]] = [
        (transformer.vace_blocks[0], _DecideHook(manager, config, transformer.blocks[0], counts))
    ]
    hooks += [(block, _VaceBlockHook(manager)) for block in transformer.vace_blocks[1:]]
    hooks += [(block, _BlockHook(manager, first=i == 0)) for i, block in enumerate(transformer.blocks)]
    hooks.append((transformer.norm_out, _ResidualHook(manager)))
    for module, hook in hooks:
        HookRegistry.check_if_exists_or_initialize(module).register_hook(hook, _HOOK)
    return counts


def remove_vace_step_cache(transformer: torch.nn.Module) -> None:
    for module in (*transformer.vace_blocks, *transformer.blocks, transformer.norm_out):
        registry = getattr(module, "_diffusers_hook", None)
        if registry is not None and _HOOK in registry.hooks:
            registry.remove_hook(_HOOK, recurse=False)
