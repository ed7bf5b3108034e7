"""Moved to generation.imports.options, .stage, .processing and .confirm: re-exported for the callers not switched.

Catalogue imports: stage (parse + validate, streaming) → fetch images (worker) → report → confirm into ONE Batch.
"""

from .confirm import ImportEstimate, confirm_import, discard_import, estimate_import, refusal
from .options import CHUNK_ROWS, ImportInvalid, ImportNotConfirmable, VideoOptions, clean_options, max_rows
from .processing import finish_processing, process_import
from .recheck import recheck_failed_rows
from .stage import enqueue_processing, file_checksum, stage_import

__all__ = [
    "CHUNK_ROWS",
    "ImportEstimate",
    "ImportInvalid",
    "ImportNotConfirmable",
    "VideoOptions",
    "clean_options",
    "confirm_import",
    "discard_import",
    "enqueue_processing",
    "estimate_import",
    "file_checksum",
    "finish_processing",
    "max_rows",
    "process_import",
    "recheck_failed_rows",
    "refusal",
    "stage_import",
]
