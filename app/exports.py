"""Tables as files for spreadsheet users: CSV that Excel opens correctly, and XLSX.

CSV: UTF-8 with a BOM (Excel needs it to read Vietnamese), dates as dd/mm/yyyy (HH:MM), and
cells that a spreadsheet would take for a formula (starting with = + - @, tab or carriage
return) are neutralised with a quote. XLSX: numbers as numbers, dates as dates, text always
written as text (never a formula or a link), a frozen bold header row with an autofilter.
"""

import csv
import io
import tempfile
from collections.abc import Iterator, Sequence
from datetime import date, datetime

import xlsxwriter

from app.results.documents import sheet_title, write_cell

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
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


XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_stream(header: Sequence[str], rows: Iterator[Sequence], *, title: str,
                sheet_name: str, widths: Sequence[int] = (),
                chunk_bytes: int = 64 * 1024) -> Iterator[bytes]:
    """The workbook as bytes, piece by piece. A workbook is a zip whose index comes last, so
    it is written whole first — row by row (xlsxwriter's constant memory mode) into a
    temporary file, never into memory — then sent from that file. Columns are as wide as
    ``widths`` says, or as their longest cell (at most 60 characters)."""
    with tempfile.TemporaryFile() as out:
        workbook = xlsxwriter.Workbook(out, {
            "constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
            "strings_to_numbers": False, "nan_inf_to_errors": True})
        try:
            workbook.set_properties({"title": title, "comments": "Giải báo chí"})
            bold = workbook.add_format({"bold": True, "bg_color": "#E8E8E8", "bottom": 1})
            decimal = workbook.add_format({"num_format": "0.00"})
            day = workbook.add_format({"num_format": "dd/mm/yyyy"})
            moment = workbook.add_format({"num_format": "dd/mm/yyyy hh:mm"})
            sheet = workbook.add_worksheet(sheet_title(sheet_name))
            longest = [len(h) for h in header]
            for column, text in enumerate(header):
                sheet.write_string(0, column, text, bold)
            count = 0
            for count, row in enumerate(rows, start=1):
                for column, value in enumerate(row):
                    write_cell(sheet, count, column, value, decimal=decimal, day=day,
                               moment=moment)
                    if column < len(longest) and isinstance(value, str):
                        longest[column] = max(longest[column], len(value))
            for column, width in enumerate(longest):
                wanted = widths[column] if column < len(widths) else width
                sheet.set_column(column, column, float(min(max(wanted, 8), 60)))
            sheet.freeze_panes(1, 0)
            if header:
                sheet.autofilter(0, 0, count, len(header) - 1)
        finally:
            workbook.close()
            close = getattr(rows, "close", None)
            if close is not None:
                close()
        out.seek(0)
        while chunk := out.read(chunk_bytes):
            yield chunk
