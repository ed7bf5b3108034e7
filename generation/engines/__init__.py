"""Engines by name. Each worker process keeps one instance per engine (the DiT pipeline stays warm)."""

from __future__ import annotations

import threading
from functools import cache

from .base import Engine, RenderRequest
from .errors import EngineUnavailableError

__all__ = ["Engine", "RenderRequest", "get_engine"]

# One engine per (name, model folder) and process, built once even when a job and the worker's warm-up thread ask
# at the same time: two DiT loads would double the GPU memory.
_build_lock = threading.Lock()
# Cleared while the GPU worker's warm-up runs (generation.engines.warmup): a job that arrives meanwhile waits for it
# instead of sharing the pipeline with it (a diffusers pipeline is not safe to call from two threads).
dit_ready = threading.Event()
dit_ready.set()


def get_engine(name: str, model_path: str = "") -> Engine:
    if name == "dit":
        dit_ready.wait()
    return build_engine(name, model_path)


def build_engine(name: str, model_path: str = "") -> Engine:
    """The process's engine, without waiting for a warm-up (the warm-up itself uses this)."""
    with _build_lock:
        return _cached_engine(name, model_path)


@cache
def _cached_engine(name: str, model_path: str) -> Engine:
    if name == "compositor":
        from .compositor import CompositorEngine

        return CompositorEngine()
    if name == "dit":
        try:
            from .wan_vace import WanVaceEngine
        except ImportError as exc:
            raise EngineUnavailableError(f"the DiT engine is not available here: {exc}") from exc
        return WanVaceEngine(model_path)
    raise EngineUnavailableError(f"unknown engine {name!r}")
