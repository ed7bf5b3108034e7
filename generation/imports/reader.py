"""Streaming CSV reading: UTF-8 with or without BOM (UTF-16 and Windows-1252 as Excel writes them), comma,
semicolon or tab sniffed from the header, quoted fields with line breaks, Excel's `sep=;` first line.

The file is read through a text wrapper one record at a time; it is never loaded whole.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

SAMPLE_BYTES = 64 * 1024
_SURROGATE = re.compile("[\udc80-\udcff]")
DELIMITERS = (",", ";", "\t")


class CsvFileError(Exception):
    """The file itself cannot be read further: `.code`, `.row` (1 = header), `.params`."""

    def __init__(self, code: str, row: int = 0, **params):
        super().__init__(code)
        self.code = code
        self.row = row
        self.params = params


@dataclass(frozen=True)
class Dialect:
    encoding: str
    delimiter: str
    skip_first_line: bool  # Excel's "sep=;" hint line


def _encoding(sample: bytes) -> str:
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        # The sample may end inside a multi-byte character: decode incrementally without the final flush.
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        return "cp1252"  # Excel's "CSV (Comma delimited)" on Windows


def _first_line(text: str) -> str:
    """The first record's text (a header with a quoted line break stays whole)."""
    quoted = False
    for i, ch in enumerate(text):
        if ch == '"':
            quoted = not quoted
        elif ch in "\r\n" and not quoted:
            return text[:i]
    return text


def _count_outside_quotes(line: str, ch: str) -> int:
    quoted, n = False, 0
    for c in line:
        if c == '"':
            quoted = not quoted
        elif c == ch and not quoted:
            n += 1
    return n


def sniff(binary: IO[bytes]) -> Dialect:
    """Encoding and delimiter from the first 64 KB; the stream is rewound."""
    binary.seek(0)
    sample = binary.read(SAMPLE_BYTES)
    binary.seek(0)
    if not sample.strip():
        raise CsvFileError("empty_file", 0)
    if b"\x00" in sample and not sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise CsvFileError("not_a_csv", 0)
    encoding = _encoding(sample)
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(sample, final=False)
    text = text.lstrip("\ufeff")
    line = _first_line(text)
    if line.lower().startswith("sep=") and len(line) == 5:
        return Dialect(encoding, line[4], True)
    counts = {d: _count_outside_quotes(line, d) for d in DELIMITERS}
    delimiter = max(DELIMITERS, key=lambda d: counts[d])
    return Dialect(encoding, delimiter if counts[delimiter] else ",", False)


def iter_records(binary: IO[bytes], dialect: Dialect | None = None) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells) per record, header first (row 1); raises CsvFileError when the file breaks."""
    dialect = dialect or sniff(binary)
    binary.seek(0)
    # Undecodable bytes become lone surrogates, so the error is found in the record that holds them (the decoder
    # itself reads ahead in blocks and would name the wrong row).
    text = io.TextIOWrapper(binary, encoding=dialect.encoding, errors="surrogateescape", newline="")
    try:
        if dialect.skip_first_line:
            text.readline()
        reader = csv.reader(text, delimiter=dialect.delimiter, quotechar='"', doublequote=True, strict=False)
        row = 0
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except UnicodeDecodeError as exc:
                raise CsvFileError("not_utf8", row + 1) from exc
            except csv.Error as exc:
                code = "field_too_large" if "field limit" in str(exc) else "malformed_csv"
                raise CsvFileError(code, row + 1) from exc
            row += 1
            if any(_SURROGATE.search(c) for c in cells):
                raise CsvFileError("not_utf8", row)
            if row == 1 and cells:
                cells[0] = cells[0].lstrip("\ufeff")
            yield row, cells
    finally:
        text.detach()  # leave the caller's stream open
