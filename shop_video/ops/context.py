"""Moved to shop_video.core.context."""

from shop_video.core.context import *  # noqa: F403
from shop_video.core.context import (  # noqa: F401
    JobContextFilter,
    attempt_var,
    job_id_var,
    job_log_context,
    organization_id_var,
    set_job_log_fields,
)
