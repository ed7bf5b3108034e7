"""The application's error base: a stable machine-readable `code`, a message for people and its `params`.

API error bodies, dashboard messages and CSV row reports are built from these three; each layer derives its own
errors (pipeline, billing, imports, ...) from them."""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    code = "error"
    transient = False  # a transient error may succeed when retried; bad input never does
    http_status = 400

    def __init__(self, message: str, code: str | None = None, params: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.params: dict[str, Any] = dict(params or {})
        if code:
            self.code = code


class BadInputError(ApplicationError):
    """The caller's input cannot be used (a bad photo, too few credits, ...): a clear error, no retry."""

    code = "bad_input"
