"""Moved to generation.engines.conditions."""

from generation.engines.conditions import NEGATIVE_PROMPT, VaceConditions, build_conditions, build_prompt

__all__ = ["NEGATIVE_PROMPT", "VaceConditions", "build_conditions", "build_prompt"]
