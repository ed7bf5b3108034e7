"""Errors a pipeline stage raises. `code` is stable and machine-readable (API error codes, CSV row reports)."""

from shop_video.core import errors as core_errors


class PipelineError(core_errors.ApplicationError):
    """transient errors are retried by the job service; bad input never is."""

    code = "pipeline_error"


class BadInputError(PipelineError, core_errors.BadInputError):
    """The merchant's input cannot be used (not an image, too small, …): a clear error, no retry."""

    code = "bad_input"


class EngineUnavailableError(PipelineError):
    """The engine cannot run here (no model folder, no GPU): a configuration problem, not the merchant's."""

    code = "engine_unavailable"


class ModelUnavailableError(EngineUnavailableError):
    """The DiT model folder is missing or incomplete: the job fails at once, retrying cannot help."""

    code = "model_unavailable"


class TransientPipelineError(PipelineError):
    code = "transient"
    transient = True


class JobCanceled(Exception):
    """Raised from a progress callback to stop a job that was canceled while running."""
