"""Moved to generation.services.review and generation.services.archives."""

from generation.services.archives import archive_name, write_zip
from generation.services.review import REVIEW_NOTE_MAX, ReviewInvalid, approve_video, regenerate_video, reject_video

__all__ = [
    "REVIEW_NOTE_MAX",
    "ReviewInvalid",
    "approve_video",
    "archive_name",
    "regenerate_video",
    "reject_video",
    "write_zip",
]
