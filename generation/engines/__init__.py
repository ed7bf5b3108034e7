"""Engines by name. Each worker process keeps one instance per engine (the DiT pipeline stays warm)."""

from __future__ import annotations

from functools import cache

from generation.pipeline.errors import EngineUnavailableError

from .base import Engine, RenderRequest

__all__ = ["Engine", "RenderRequest", "get_engine"]


@cache
def get_engine(name: str, model_path: str = "") -> Engine:
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
