"""Result documents as files: the results list as PDF and XLSX, and a prize certificate as PDF.

Pure functions: they take plain data whose words are already translated and return the file's
bytes; they read no database and know no request. Text is normalised to NFC (and to one line)
before it is drawn, so a title typed with combining marks renders like its precomposed form.

The PDFs embed DejaVu Sans and DejaVu Serif (``fonts/``, shipped as package data, subset into
each file), which cover every Vietnamese letter. A character that the fonts lack would print as
an empty box, so it raises ``MissingGlyphError`` instead of producing a wrong document.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import segno
import xlsxwriter
from fpdf import FPDF, FontFace
from fpdf.enums import Align, MethodReturnValue, TableBordersLayout, XPos, YPos
from fpdf.fonts import TTFFont

from app.text import nfc

FONTS = Path(__file__).parent / "fonts"

RESULTS_LABELS = ("level", "code", "title", "authors", "outlet", "score", "none", "page")
CERTIFICATE_LABELS = ("heading", "preamble", "awarded", "code", "authors", "category",
                      "outlet", "issued", "verify")


@dataclass(frozen=True)
class ResultLine:
    """One prize winner, every word already translated and formatted."""

    level: str
    code: str
    title: str
    authors: str
    outlet: str
    score: float | None


@dataclass(frozen=True)
class ResultSection:
    """One category's winners; ``lines`` may be empty (the category has no prize)."""

    category: str
    lines: list[ResultLine]


class MissingGlyphError(ValueError):
    """The text holds characters that the embedded fonts cannot draw."""

    def __init__(self, characters: Sequence[str]):
        self.characters = tuple(characters)
        listed = ", ".join(f"{c!r} (U+{ord(c):04X})" for c in self.characters)
        super().__init__(f"the PDF fonts have no glyph for: {listed}")


def _two_decimals(value: float) -> str:
    return f"{value:.2f}"


def _line(value) -> str:
    """NFC, control characters dropped, whitespace (newlines too) collapsed to single spaces."""
    if value is None:
        return ""
    return " ".join(nfc(str(value)).split())


def _require(labels: dict[str, str], keys: Iterable[str]) -> dict[str, str]:
    missing = [key for key in keys if key not in labels]
    if missing:
        raise KeyError(f"labels missing: {', '.join(missing)}")
    return {key: _line(text) for key, text in labels.items()}


_FAMILIES = {"sans": "DejaVuSans", "serif": "DejaVuSerif"}


class _Document(FPDF):
    """An A4 FPDF with one DejaVu family registered (regular and bold), whose ``finish``
    refuses a document in which some character was drawn with no glyph."""

    def __init__(self, *, orientation: str, family: str):
        super().__init__(orientation=orientation, unit="mm", format="A4")
        stem = _FAMILIES[family]
        self.add_font(family, "", FONTS / f"{stem}.ttf")
        self.add_font(family, "B", FONTS / f"{stem}-Bold.ttf")
        self.set_lang("vi")
        self.set_creator("Giải báo chí")

    def finish(self) -> bytes:
        data = bytes(self.output())
        missing: list[str] = []
        for font in self.fonts.values():
            if isinstance(font, TTFFont):
                for code in font.missing_glyphs:
                    if chr(code) not in missing:
                        missing.append(chr(code))
        if missing:
            raise MissingGlyphError(missing)
        return data


# --- results list --------------------------------------------------------------------------

_RESULTS_COLUMNS = (("level", 17, Align.L), ("code", 17, Align.L), ("title", 56, Align.L),
                    ("authors", 42, Align.L), ("outlet", 32, Align.L), ("score", 16, Align.R))
_HEADING_FILL = (232, 232, 232)
_INK = (33, 33, 33)


class _ResultsDocument(_Document):
    def __init__(self, *, title: str, page_label: str):
        super().__init__(orientation="portrait", family="sans")
        self.running_title = title
        self.page_label = page_label
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(True, margin=18)
        self.set_text_color(*_INK)

    def header(self):
        if self.page_no() > 1:
            self.set_font("sans", "", 8)
            self.cell(0, 5, self.running_title, align=Align.C,
                      new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            self.ln(3)

    def footer(self):
        self.set_y(-12)
        self.set_font("sans", "", 8)
        text = self.page_label.format(page=self.page_no(), pages=self.str_alias_nb_pages)
        self.cell(0, 5, text, align=Align.C)


def results_pdf(*, title: str, subtitle: str, sections: list[ResultSection],
                labels: dict[str, str], number: Callable[[float], str] = _two_decimals) -> bytes:
    """The published results as an A4 PDF: the award title and ``subtitle`` on the first page,
    then per category a heading and a table of its winners (level, code, title, authors,
    outlet, score). Long cells wrap; a table that runs over a page repeats its header row, and
    a heading is never left alone at the foot of a page. Later pages carry the award title at
    the top; every page carries its number at the foot.

    ``labels`` (all required, already translated):
      ``level``, ``code``, ``title``, ``authors``, ``outlet``, ``score`` — the column headers;
      ``none`` — printed under a category that has no winner ("Không có giải");
      ``page`` — the page footer, with ``{page}`` and ``{pages}`` ("Trang {page}/{pages}").

    ``number`` formats a score (the default gives "87.50"; pass a Vietnamese formatter for
    "87,50"); a line without a score shows an empty cell.

    Raises ``KeyError`` when a label is missing and ``MissingGlyphError`` when a character
    cannot be drawn with the embedded fonts.
    """
    labels = _require(labels, RESULTS_LABELS)
    pdf = _ResultsDocument(title=_line(title), page_label=labels["page"])
    pdf.set_title(_line(title))
    pdf.set_subject(_line(subtitle))
    pdf.add_page()

    pdf.set_font("sans", "B", 16)
    pdf.multi_cell(0, 8, _line(title), align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if subtitle:
        pdf.ln(1)
        pdf.set_font("sans", "", 11)
        pdf.multi_cell(0, 6, _line(subtitle), align=Align.C,
                       new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(6)

    widths = tuple(width for _, width, _ in _RESULTS_COLUMNS)
    aligns = tuple(align for _, _, align in _RESULTS_COLUMNS)
    headings = FontFace(emphasis="BOLD", fill_color=_HEADING_FILL, color=_INK)
    for section in sections:
        # Keep a heading with at least its table header and one row.
        if pdf.will_page_break(28):
            pdf.add_page()
        pdf.set_font("sans", "B", 12)
        pdf.multi_cell(0, 7, _line(section.category), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(1)
        if not section.lines:
            pdf.set_font("sans", "", 10)
            pdf.multi_cell(0, 6, labels["none"], new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.ln(5)
            continue
        pdf.set_font("sans", "", 9)
        with pdf.table(col_widths=widths, text_align=aligns, headings_style=headings,
                       borders_layout=TableBordersLayout.HORIZONTAL_LINES, line_height=4.6,
                       padding=(1.2, 1.2), width=pdf.epw, repeat_headings=1) as table:
            row = table.row()
            for key, _, _ in _RESULTS_COLUMNS:
                row.cell(labels[key])
            for line in section.lines:
                row = table.row()
                row.cell(_line(line.level))
                row.cell(_line(line.code))
                row.cell(_line(line.title))
                row.cell(_line(line.authors))
                row.cell(_line(line.outlet))
                row.cell("" if line.score is None else _line(number(line.score)))
        pdf.ln(6)
    return pdf.finish()


# --- certificate ---------------------------------------------------------------------------

_CERT_ACCENT = (128, 24, 24)
_CERT_GOLD = (176, 141, 58)


def certificate_pdf(*, award_title: str, level: str, entry_title: str, code: str, authors: str,
                    category: str, outlet: str, issued_on: str, verify_url: str,
                    labels: dict[str, str]) -> bytes:
    """A prize certificate: an A4 landscape page in serif type within a double border — the
    heading, the award title, the work and its code, authors, category and outlet, the level
    it won, the date of issue, and at the foot the verification URL printed in full beside a
    QR code of the same URL (the printed URL is also a link).

    The text is set as large as fits on the page, down to half size; only text too long even
    then (a very long list of authors) runs on to a second page, with the URL and QR code at
    the foot of the last.

    ``labels`` (all required, already translated; the braces are filled in):
      ``heading`` — "GIẤY CHỨNG NHẬN";
      ``preamble`` — the line before the work's title ("Ban Tổ chức chứng nhận tác phẩm");
      ``awarded`` — with ``{level}`` ("đã đạt {level}");
      ``code`` — with ``{code}`` ("Mã tác phẩm: {code}");
      ``authors`` — with ``{authors}`` ("Tác giả: {authors}");
      ``category`` — with ``{category}`` ("Thể loại: {category}");
      ``outlet`` — with ``{outlet}`` ("Cơ quan báo chí: {outlet}"); left out when ``outlet``
      is empty;
      ``issued`` — with ``{date}`` ("Hà Nội, ngày {date}"), ``issued_on`` being the date
      already formatted;
      ``verify`` — with ``{url}`` ("Kiểm tra tính xác thực tại: {url}").

    Raises ``KeyError`` when a label is missing and ``MissingGlyphError`` when a character
    cannot be drawn with the embedded fonts.
    """
    labels = _require(labels, CERTIFICATE_LABELS)
    url = _line(verify_url)
    # (text, size in pt, style, colour, space after in mm); a rule follows the award title.
    blocks = [
        (labels["heading"], 30, "B", _CERT_ACCENT, 3),
        (_line(award_title), 15, "B", _INK, 9),
        (labels["preamble"], 13, "", _INK, 2),
        (f"“{_line(entry_title)}”", 19, "B", _INK, 2),
        (labels["code"].format(code=_line(code)), 11, "", _INK, 3),
        (labels["authors"].format(authors=_line(authors)), 13, "", _INK, 0),
        (labels["category"].format(category=_line(category)), 12, "", _INK, 0),
    ]
    if _line(outlet):
        blocks.append((labels["outlet"].format(outlet=_line(outlet)), 12, "", _INK, 0))
    blocks += [
        ("", 0, "", _INK, 5),
        (labels["awarded"].format(level=_line(level)), 22, "B", _CERT_ACCENT, 4),
        (labels["issued"].format(date=_line(issued_on)), 12, "", _INK, 0),
    ]

    pdf = _CertificateDocument()
    pdf.set_title(f"{labels['heading']} — {_line(entry_title)}")
    pdf.set_subject(_line(award_title))
    qr_size = 26.0
    qr_x = pdf.w - pdf.r_margin - qr_size
    qr_y = pdf.h - 22 - qr_size
    top, bottom = 26.0, qr_y - 4
    pdf.set_auto_page_break(True, margin=pdf.h - bottom)
    pdf.add_page()

    scale = 1.0
    height = _blocks_height(pdf, blocks, scale)
    while height > bottom - top and scale > 0.5:
        scale = round(scale - 0.05, 2)
        height = _blocks_height(pdf, blocks, scale)
    pdf.set_y(top + max(0.0, (bottom - top - height) / 2))
    for index, (text, size, style, colour, after) in enumerate(blocks):
        if text:
            pdf.set_font("serif", style, size * scale)
            pdf.set_text_color(*colour)
            pdf.multi_cell(0, size * scale * 0.55, text, align=Align.C,
                           new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if index == 1:
            _rule(pdf, pdf.get_y() + 2 * scale, 60)
        pdf.ln(after * scale)

    pdf.set_auto_page_break(False)
    _draw_qr(pdf, url, x=qr_x, y=qr_y, size=qr_size)
    _verify_line(pdf, labels["verify"].format(url=url), url,
                 right=qr_x - 6, bottom=qr_y + qr_size)
    return pdf.finish()


class _CertificateDocument(_Document):
    def __init__(self):
        super().__init__(orientation="landscape", family="serif")
        self.set_margins(32, 26, 32)

    def header(self):
        _certificate_border(self)
        self.set_y(26)


def _blocks_height(pdf: FPDF, blocks, scale: float) -> float:
    total = 0.0
    for text, size, style, _, after in blocks:
        if text:
            pdf.set_font("serif", style, size * scale)
            total += pdf.multi_cell(0, size * scale * 0.55, text, align=Align.C,
                                    dry_run=True, output=MethodReturnValue.HEIGHT)
        total += after * scale
    return total


def _certificate_border(pdf: FPDF) -> None:
    pdf.set_draw_color(*_CERT_ACCENT)
    pdf.set_line_width(1.6)
    pdf.rect(10, 10, pdf.w - 20, pdf.h - 20)
    pdf.set_draw_color(*_CERT_GOLD)
    pdf.set_line_width(0.5)
    pdf.rect(14, 14, pdf.w - 28, pdf.h - 28)
    pdf.set_line_width(0.2)


def _rule(pdf: FPDF, y: float, width: float) -> None:
    pdf.set_draw_color(*_CERT_GOLD)
    pdf.set_line_width(0.5)
    pdf.line((pdf.w - width) / 2, y, (pdf.w + width) / 2, y)
    pdf.set_line_width(0.2)


def _verify_line(pdf: FPDF, text: str, url: str, *, right: float, bottom: float) -> None:
    """The verification sentence on one line when it fits at 6 to 9 pt (a URL cut in two
    cannot be typed back), wrapped only when even 6 pt is too wide."""
    width = right - pdf.l_margin
    size = 9.0
    pdf.set_font("serif", "", size)
    while pdf.get_string_width(text) > width and size > 6:
        size -= 0.5
        pdf.set_font("serif", "", size)
    pdf.set_text_color(*_INK)
    height = size * 0.45
    lines = math.ceil(pdf.get_string_width(text) / width) if text else 1
    pdf.set_xy(pdf.l_margin, bottom - lines * height)
    pdf.multi_cell(width, height, text, align=Align.L, link=url)


def qr_runs(data: str) -> tuple[int, list[tuple[int, int, int]]]:
    """The QR code of ``data`` (error correction M) as its width in modules and its runs of
    dark modules, ``(row, first column, length)``, without the quiet zone: the caller leaves
    white space around it."""
    matrix = segno.make(data, error="m", micro=False).matrix
    runs = []
    for y, row in enumerate(matrix):
        x = 0
        while x < len(row):
            if row[x]:
                start = x
                while x < len(row) and row[x]:
                    x += 1
                runs.append((y, start, x - start))
            else:
                x += 1
    return len(matrix), runs


def _draw_qr(pdf: FPDF, data: str, *, x: float, y: float, size: float) -> None:
    modules, runs = qr_runs(data)
    step = size / modules
    pdf.set_fill_color(0, 0, 0)
    for row, column, length in runs:
        pdf.rect(x + column * step, y + row * step, length * step, step, style="F")


# --- spreadsheet ---------------------------------------------------------------------------

_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def sheet_title(name: str) -> str:
    """A worksheet name Excel accepts: no ``[]:*?/\\``, no apostrophe at either end, at most
    31 characters, not empty and not the reserved "History"."""
    name = " ".join(_SHEET_FORBIDDEN.sub(" ", _line(name)).split()).strip("'").strip()
    name = name[:31].strip() or "Sheet1"
    return "History 1" if name.lower() == "history" else name


def results_xlsx(*, title: str, header: list[str], rows: list[list], sheet_name: str) -> bytes:
    """The rows as an XLSX workbook of one sheet: the header in bold on the first row, frozen,
    with an autofilter over the table, and columns as wide as their content (up to a limit).

    Values keep their kind: ints and Decimals as numbers, floats (scores) as numbers shown
    with two decimals, dates as dates, booleans as booleans, ``None`` as an empty cell, and
    everything else as text written literally, so a cell starting with ``= + - @`` is text,
    never a formula or a link. ``title`` becomes the workbook's title property, so the first
    row stays the header and the sheet reads back as a plain table.
    """
    header = [_line(h) for h in header]
    texts = [[_line(v) if isinstance(v, str) else v for v in row] for row in rows]
    columns = max([len(header), *(len(row) for row in texts)]) if (header or texts) else 0

    out = io.BytesIO()
    workbook = xlsxwriter.Workbook(out, {
        "constant_memory": True,
        "strings_to_formulas": False,
        "strings_to_urls": False,
        "strings_to_numbers": False,
        "nan_inf_to_errors": True,
    })
    workbook.set_properties({"title": _line(title), "comments": "Giải báo chí"})
    bold = workbook.add_format({"bold": True, "bg_color": "#E8E8E8", "bottom": 1})
    decimal = workbook.add_format({"num_format": "0.00"})
    day = workbook.add_format({"num_format": "dd/mm/yyyy"})
    moment = workbook.add_format({"num_format": "dd/mm/yyyy hh:mm"})
    sheet = workbook.add_worksheet(sheet_title(sheet_name))

    for column in range(columns):
        cells = [row[column] for row in texts if column < len(row)]
        if column < len(header):
            cells.append(header[column])
        sheet.set_column(column, column, _column_width(cells))

    for column, text in enumerate(header):
        sheet.write_string(0, column, text, bold)
    for index, row in enumerate(texts, start=1):
        for column, value in enumerate(row):
            write_cell(sheet, index, column, value, decimal=decimal, day=day, moment=moment)

    sheet.freeze_panes(1, 0)
    if columns:
        sheet.autofilter(0, 0, len(texts), columns - 1)
    workbook.close()
    return out.getvalue()


def write_cell(sheet, row: int, column: int, value, *, decimal, day, moment) -> None:
    if value is None:
        return
    if isinstance(value, bool):
        sheet.write_boolean(row, column, value)
    elif isinstance(value, int):
        sheet.write_number(row, column, value)
    elif isinstance(value, float | Decimal):
        sheet.write_number(row, column, float(value), decimal)
    elif isinstance(value, datetime):
        sheet.write_datetime(row, column, value.replace(tzinfo=None), moment)
    elif isinstance(value, date):
        sheet.write_datetime(row, column, value, day)
    else:
        sheet.write_string(row, column, value if isinstance(value, str) else _line(value))


def _column_width(cells: list) -> float:
    longest = 0
    for value in cells:
        if value is None:
            continue
        if isinstance(value, float | Decimal):
            text = f"{float(value):.2f}"
        elif isinstance(value, datetime):
            text = "00/00/0000 00:00"
        elif isinstance(value, date):
            text = "00/00/0000"
        else:
            text = str(value)
        longest = max(longest, len(text))
    return float(min(max(longest + 2, 8), 60))
