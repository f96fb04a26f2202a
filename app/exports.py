"""Tables as files for spreadsheet users: CSV that Excel opens correctly.

UTF-8 with a BOM (Excel needs it to read Vietnamese), and cells that a spreadsheet would take
for a formula (starting with = + - @, tab or carriage return) are neutralised with a quote.
"""

import csv
import io
from collections.abc import Iterator, Sequence

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    if value is None:
        return ""
    text = str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


BOM = b"\xef\xbb\xbf"


def csv_stream(header: Sequence[str], rows: Iterator[Sequence], *,
               chunk_chars: int = 64 * 1024) -> Iterator[bytes]:
    """The CSV file as bytes, piece by piece: the BOM and the header first, then about
    ``chunk_chars`` characters at a time, so that a file of any length is written with a
    small buffer. Closing the stream (the client went away) closes ``rows`` too."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in header])
    try:
        yield BOM + _drain(out)
        for row in rows:
            writer.writerow([safe_cell(v) for v in row])
            if out.tell() >= chunk_chars:
                yield _drain(out)
        if out.tell():
            yield _drain(out)
    finally:
        close = getattr(rows, "close", None)
        if close is not None:
            close()


def _drain(out: io.StringIO) -> bytes:
    data = out.getvalue().encode("utf-8")
    out.seek(0)
    out.truncate()
    return data
