"""Errors the generation services raise: each a BadInputError with a stable code."""

from __future__ import annotations

from django.utils.translation import gettext as _

from generation.pipeline.errors import BadInputError


class PhotoRejected(BadInputError):
    """One photo cannot be used: `.code` (e.g. not_an_image, image_too_small), `.message`, `.filename`."""

    code = "photo_rejected"

    def __init__(self, message: str, code: str | None = None, filename: str = ""):
        super().__init__(message, code)
        self.filename = filename


class UploadRejected(BadInputError):
    """Several files, one or more bad: `.errors` = [(filename, code, message), …]; nothing was stored."""

    code = "upload_rejected"

    def __init__(self, errors: list[tuple[str, str, str]], message: str | None = None):
        self.errors = errors
        super().__init__(
            message
            or _("%(count)d file(s) could not be used: %(names)s")
            % {"count": len(errors), "names": ", ".join(name for name, _code, _msg in errors)}
        )


class ProductInvalid(BadInputError):
    code = "invalid_product"

    def __init__(self, message: str, code: str | None = None, fields: dict[str, list[str]] | None = None):
        super().__init__(message, code)
        self.fields = fields or {}


class PhotoInUse(BadInputError):
    """Videos were made (or are being made) from the photo: removing it would remove them and their history."""

    code = "photo_in_use"
    status_code = 409


class MatrixInvalid(BadInputError):
    """The variant matrix cannot be submitted: `.fields` = {field: [messages]}."""

    code = "invalid_matrix"

    def __init__(self, fields: dict[str, list[str]], message: str | None = None, code: str | None = None):
        self.fields = fields
        super().__init__(message or _("The video options are not valid."), code)


class JobNotRetryable(BadInputError):
    code = "not_retryable"


class AudioRejected(BadInputError):
    """A music upload that cannot be used: `.code` (audio_invalid, audio_too_long, audio_too_large, audio_silent),
    `.fields` = {"file": [message]}; nothing was stored."""

    code = "audio_invalid"

    def __init__(self, message: str, code: str | None = None, fields: dict[str, list[str]] | None = None, params=None):
        super().__init__(message, code, params)
        self.fields = fields or {}


class AdInvalid(BadInputError):
    """An ad request that cannot be made: `.code` (audio_not_found, storyboard_invalid, …) and `.fields`."""

    code = "ad_invalid"

    def __init__(self, message: str, code: str | None = None, fields: dict[str, list[str]] | None = None):
        super().__init__(message, code)
        self.fields = fields or {}
