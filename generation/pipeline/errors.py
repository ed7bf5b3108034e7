"""Errors a pipeline stage raises; defined with the engines, which raise them too (engines import nothing from here)."""

from generation.engines.errors import (
    BadInputError,
    EngineUnavailableError,
    JobCanceled,
    ModelUnavailableError,
    PipelineError,
    TransientPipelineError,
)

__all__ = [
    "BadInputError",
    "EngineUnavailableError",
    "JobCanceled",
    "ModelUnavailableError",
    "PipelineError",
    "TransientPipelineError",
]
