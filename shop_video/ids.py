"""Object ids that come from outside (a path, a query string, a form field): a whole number that an id column
(64-bit, from 1) can hold, or None. A value past the column's range must be "no such object", not an error of
the database driver (SQLite refuses a Python int over 2**63 - 1 outright)."""

from __future__ import annotations

MAX_ID = 2**63 - 1
_MAX_DIGITS = len(str(MAX_ID))


def parse_id(value: object) -> int | None:
    text = str(value).strip()
    if not text or len(text) > _MAX_DIGITS or not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if 1 <= number <= MAX_ID else None
