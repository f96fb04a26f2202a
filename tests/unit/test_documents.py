"""Result documents (PDF, XLSX) and certificates, read back with pypdf and openpyxl."""

import io
import logging
import unicodedata
from datetime import date
from pathlib import Path

import openpyxl
import pytest
import segno
from pypdf import PdfReader

from app.results import documents
from app.results.documents import (
    MissingGlyphError,
    ResultLine,
    ResultSection,
    certificate_pdf,
    qr_runs,
    results_pdf,
    results_xlsx,
    sheet_title,
)

AWARD = "Giải báo chí về xây dựng Đảng"
SUBTITLE = "Kết quả công bố ngày 28/11/2026"
LABELS = {
    "level": "Giải", "code": "Mã", "title": "Tác phẩm", "authors": "Tác giả",
    "outlet": "Cơ quan báo chí", "score": "Điểm", "none": "Không có giải",
    "page": "Trang {page}/{pages}",
}
CERTIFICATE_LABELS = {
    "heading": "GIẤY CHỨNG NHẬN",
    "preamble": "Ban Tổ chức chứng nhận tác phẩm",
    "awarded": "đã đạt {level}",
    "code": "Mã tác phẩm: {code}",
    "authors": "Tác giả: {authors}",
    "category": "Thể loại: {category}",
    "outlet": "Cơ quan báo chí: {outlet}",
    "issued": "Hà Nội, ngày {date}",
    "verify": "Kiểm tra tính xác thực tại: {url}",
}
VERIFY_URL = "https://giaibao.example.vn/chung-nhan/3f9a2c71e0b84d6f9a1b2c3d4e5f6a7b"


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def pages_text(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def winner(index: int = 7, **changes) -> ResultLine:
    values = {"level": "Giải A", "code": f"BDT-{index:03d}",
              "title": "Phóng sự: Đường về bản Mông", "authors": "Nguyễn Văn Ấn",
              "outlet": "Báo Nhân Dân", "score": 87.5}
    values.update(changes)
    return ResultLine(**values)


def certificate(**changes) -> bytes:
    values = {"award_title": AWARD, "level": "Giải A",
              "entry_title": "Phóng sự: Đường về bản Mông", "code": "BDT-007",
              "authors": "Nguyễn Văn Ấn (Hoàng Sa), Trần Thị Bình", "category": "Báo in",
              "outlet": "Báo Nhân Dân", "issued_on": "28/11/2026", "verify_url": VERIFY_URL,
              "labels": CERTIFICATE_LABELS}
    values.update(changes)
    return certificate_pdf(**values)


# --- results PDF ---------------------------------------------------------------------------

def test_results_pdf_prints_title_headers_and_winners_in_vietnamese(caplog):
    caplog.set_level(logging.WARNING)
    pdf = results_pdf(title=AWARD, subtitle=SUBTITLE, labels=LABELS, sections=[
        ResultSection("Báo in", [winner(7), winner(12, level="Giải B", score=80.25,
                                                authors="Trần Thị Bình")]),
    ])

    assert pdf.startswith(b"%PDF-")
    assert pages_text(pdf) == [
        "Giải báo chí về xây dựng Đảng\n"
        "Kết quả công bố ngày 28/11/2026\n"
        "Báo in\n"
        "Giải Mã Tác phẩm Tác giả Cơ quan báo chí Điểm\n"
        "Giải A BDT-007 Phóng sự: Đường về bản Mông Nguyễn Văn Ấn Báo Nhân Dân 87.50\n"
        "Giải B BDT-012 Phóng sự: Đường về bản Mông Trần Thị Bình Báo Nhân Dân 80.25\n"
        "Trang 1/1"
    ]
    assert caplog.records == []


def test_results_pdf_text_in_combining_marks_comes_out_as_nfc():
    title, name = "Phóng sự: Đường về bản Mông", "Nguyễn Văn Ấn"
    assert nfd(title) != title

    pdf = results_pdf(title=nfd(AWARD), subtitle="", labels=LABELS, sections=[
        ResultSection(nfd("Báo in"), [winner(title=nfd(title), authors=nfd(name))]),
    ])

    text = pages_text(pdf)[0]
    assert text.splitlines()[0] == AWARD
    assert f"BDT-007 {title} {name} Báo Nhân Dân 87.50" in text
    assert nfd(title) not in text


def test_results_pdf_embeds_the_dejavu_subsets():
    pdf = results_pdf(title=AWARD, subtitle=SUBTITLE, labels=LABELS,
                      sections=[ResultSection("Báo in", [winner()])])

    fonts = PdfReader(io.BytesIO(pdf)).pages[0]["/Resources"]["/Font"]
    names = sorted(str(font.get_object()["/BaseFont"]).split("+", 1)[1]
                   for font in fonts.values())
    assert names == ["DejaVuSansBold", "DejaVuSansBook"]


def test_results_pdf_section_without_winners_says_none():
    pdf = results_pdf(title=AWARD, subtitle=SUBTITLE, labels=LABELS, sections=[
        ResultSection("Báo in", []),
        ResultSection("Báo điện tử", [winner(3)]),
    ])

    assert pages_text(pdf)[0].splitlines()[2:5] == [
        "Báo in", "Không có giải", "Báo điện tử",
    ]


def test_results_pdf_score_formatter_and_missing_score():
    pdf = results_pdf(title=AWARD, subtitle=SUBTITLE, labels=LABELS,
                      number=lambda x: f"{x:.2f}".replace(".", ","), sections=[
                          ResultSection("Báo in", [winner(1), winner(2, score=None)]),
                      ])

    lines = pages_text(pdf)[0].splitlines()
    assert lines[4] == "Giải A BDT-001 Phóng sự: Đường về bản Mông Nguyễn Văn Ấn Báo Nhân Dân 87,50"
    assert lines[5] == "Giải A BDT-002 Phóng sự: Đường về bản Mông Nguyễn Văn Ấn Báo Nhân Dân"


def test_results_pdf_many_winners_span_pages_numbered_and_with_headers_repeated():
    lines = [winner(i, level="Giải KK", score=80 + i / 100) for i in range(80)]

    pages = pages_text(results_pdf(title=AWARD, subtitle=SUBTITLE, labels=LABELS,
                                   sections=[ResultSection("Báo in", lines)]))

    assert len(pages) == 3
    assert [page.splitlines()[-1] for page in pages] == ["Trang 1/3", "Trang 2/3", "Trang 3/3"]
    assert pages[1].splitlines()[:2] == [AWARD, "Giải Mã Tác phẩm Tác giả Cơ quan báo chí Điểm"]
    codes = [f"BDT-{i:03d}" for i in range(80)]
    assert [code for code in codes if sum(code in page for page in pages) != 1] == []


def test_results_pdf_long_title_wraps_inside_its_column():
    long_title = "Phóng sự dài kỳ: " + ", ".join(["Đường về bản Mông"] * 8)

    pdf = results_pdf(title=AWARD, subtitle=SUBTITLE, labels=LABELS,
                      sections=[ResultSection("Báo in", [winner(title=long_title)])])

    text = pages_text(pdf)[0]
    assert long_title not in text
    assert " ".join(text.split()).count("Đường về bản Mông") == 8
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1


def test_results_pdf_refuses_characters_the_font_cannot_draw():
    with pytest.raises(MissingGlyphError) as error:
        results_pdf(title=AWARD, subtitle=SUBTITLE, labels=LABELS,
                    sections=[ResultSection("Báo in", [winner(title="Phóng sự 漢字")])])

    assert error.value.characters == ("漢", "字")


def test_results_pdf_requires_every_label():
    labels = {key: text for key, text in LABELS.items() if key != "none"}

    with pytest.raises(KeyError, match="labels missing: none"):
        results_pdf(title=AWARD, subtitle=SUBTITLE, labels=labels, sections=[])


# --- certificate ---------------------------------------------------------------------------

def test_certificate_prints_the_work_and_the_verify_url_in_full(caplog):
    caplog.set_level(logging.WARNING)

    pages = pages_text(certificate())

    assert pages == [
        "GIẤY CHỨNG NHẬN\n"
        "Giải báo chí về xây dựng Đảng\n"
        "Ban Tổ chức chứng nhận tác phẩm\n"
        "“Phóng sự: Đường về bản Mông”\n"
        "Mã tác phẩm: BDT-007\n"
        "Tác giả: Nguyễn Văn Ấn (Hoàng Sa), Trần Thị Bình\n"
        "Thể loại: Báo in\n"
        "Cơ quan báo chí: Báo Nhân Dân\n"
        "đã đạt Giải A\n"
        "Hà Nội, ngày 28/11/2026\n"
        f"Kiểm tra tính xác thực tại: {VERIFY_URL}"
    ]
    assert caplog.records == []


def test_certificate_is_a4_landscape_with_the_url_as_a_link():
    reader = PdfReader(io.BytesIO(certificate()))

    page = reader.pages[0]
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (842, 595)
    uris = [annotation.get_object()["/A"]["/URI"] for annotation in page["/Annots"]]
    assert uris == [VERIFY_URL]
    fonts = sorted(str(font.get_object()["/BaseFont"]).split("+", 1)[1]
                   for font in page["/Resources"]["/Font"].values())
    assert fonts == ["DejaVuSerifBold", "DejaVuSerifBook"]


def test_certificate_without_outlet_leaves_its_line_out():
    text = pages_text(certificate(outlet=""))[0]

    assert "Cơ quan báo chí" not in text
    assert "Thể loại: Báo in\nđã đạt Giải A" in text


def test_certificate_from_combining_marks_reads_back_nfc():
    text = pages_text(certificate(authors=nfd("Nguyễn Văn Ấn"), level=nfd("Giải Đặc biệt")))[0]

    assert "Tác giả: Nguyễn Văn Ấn\n" in text
    assert "đã đạt Giải Đặc biệt\n" in text


def test_certificate_with_long_title_and_authors_stays_on_one_page():
    title = "Phóng sự dài kỳ: " + ", ".join(["Đường về bản Mông"] * 20)
    authors = ", ".join(["Nguyễn Văn Ấn (Hoàng Sa)"] * 12)

    pages = pages_text(certificate(entry_title=title, authors=authors))

    assert len(pages) == 1
    assert " ".join(pages[0].split()).count("Nguyễn Văn Ấn (Hoàng Sa)") == 12
    assert pages[0].splitlines()[-1] == f"Kiểm tra tính xác thực tại: {VERIFY_URL}"


def test_certificate_requires_every_label():
    labels = {key: text for key, text in CERTIFICATE_LABELS.items() if key != "verify"}

    with pytest.raises(KeyError, match="labels missing: verify"):
        certificate(labels=labels)


def test_qr_runs_cover_exactly_the_dark_modules_of_the_code():
    size, runs = qr_runs(VERIFY_URL)

    matrix = segno.make(VERIFY_URL, error="m", micro=False).matrix
    drawn = [[0] * size for _ in range(size)]
    for row, column, length in runs:
        for x in range(column, column + length):
            drawn[row][x] += 1
    assert size == len(matrix)
    assert drawn == [[1 if dark else 0 for dark in row] for row in matrix]


# --- spreadsheet ---------------------------------------------------------------------------

HEADER = ["Giải", "Mã", "Tác phẩm", "Tác giả", "Cơ quan báo chí", "Điểm", "Hạng"]


def read_xlsx(data: bytes):
    return openpyxl.load_workbook(io.BytesIO(data))


def test_xlsx_keeps_header_rows_and_kinds_of_values():
    data = results_xlsx(title=AWARD, header=HEADER, sheet_name="Kết quả", rows=[
        ["Giải A", "BDT-007", "Phóng sự: Đường về bản Mông", "Nguyễn Văn Ấn", "Báo Nhân Dân",
         87.5, 1],
        ["Giải B", "BDT-012", "Ký sự", "Trần Thị Bình", "Báo Lao Động", None, 2],
    ])

    book = read_xlsx(data)
    sheet = book.active
    assert book.sheetnames == ["Kết quả"]
    assert book.properties.title == AWARD
    assert [[cell.value for cell in row] for row in sheet.iter_rows()] == [
        HEADER,
        ["Giải A", "BDT-007", "Phóng sự: Đường về bản Mông", "Nguyễn Văn Ấn", "Báo Nhân Dân",
         87.5, 1],
        ["Giải B", "BDT-012", "Ký sự", "Trần Thị Bình", "Báo Lao Động", None, 2],
    ]
    score = sheet["F2"]
    assert (score.data_type, score.number_format, type(score.value)) == ("n", "0.00", float)
    assert (sheet["G2"].data_type, sheet["G2"].number_format) == ("n", "General")
    assert [cell.font.b for cell in sheet[1]] == [True] * 7
    assert sheet["A2"].font.b is False
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:G3"


def test_xlsx_text_that_looks_like_a_formula_stays_text():
    rows = [["=HYPERLINK(\"http://evil.example\",\"bấm\")", "+1", "-2", "@SUM(A1)",
             "http://example.vn"]]

    data = results_xlsx(title=AWARD, header=["a", "b", "c", "d", "e"], rows=rows,
                        sheet_name="Kết quả")

    sheet = read_xlsx(data).active
    assert [(cell.value, cell.data_type) for cell in sheet[2]] == [
        ("=HYPERLINK(\"http://evil.example\",\"bấm\")", "s"), ("+1", "s"), ("-2", "s"),
        ("@SUM(A1)", "s"), ("http://example.vn", "s"),
    ]
    assert [cell.hyperlink for cell in sheet[2]] == [None] * 5


def test_xlsx_normalises_text_and_writes_dates_as_dates():
    data = results_xlsx(title=AWARD, header=[nfd("Tác giả"), "Ngày"], sheet_name="Kết quả",
                        rows=[[nfd("Nguyễn Văn Ấn"), date(2026, 11, 28)]])

    sheet = read_xlsx(data).active
    assert sheet["A1"].value == "Tác giả"
    assert sheet["A2"].value == "Nguyễn Văn Ấn"
    assert (sheet["B2"].value.date(), sheet["B2"].number_format) == (
        date(2026, 11, 28), "dd/mm/yyyy")


def test_xlsx_columns_are_as_wide_as_their_content_within_limits():
    data = results_xlsx(title=AWARD, header=["Mã", "Tác phẩm"], sheet_name="Kết quả",
                        rows=[["BDT-007", "Phóng sự: Đường về bản Mông"], ["KK", "x" * 200]])

    widths = read_xlsx(data).active.column_dimensions
    assert (round(widths["A"].width), round(widths["B"].width)) == (10, 61)


def test_xlsx_with_no_rows_has_the_header_alone():
    sheet = read_xlsx(results_xlsx(title=AWARD, header=HEADER, rows=[],
                                   sheet_name="Kết quả")).active

    assert [[cell.value for cell in row] for row in sheet.iter_rows()] == [HEADER]
    assert sheet.auto_filter.ref == "A1:G1"


@pytest.mark.parametrize("name, expected", [
    ("Kết quả: [2026]", "Kết quả 2026"),
    ("'Giải/báo*chí?'", "Giải báo chí"),
    ("Giải báo chí về xây dựng Đảng năm 2026", "Giải báo chí về xây dựng Đảng n"),
    ("", "Sheet1"),
    ("history", "History 1"),
])
def test_sheet_title_is_one_excel_accepts(name, expected):
    assert sheet_title(name) == expected


# --- packaging -----------------------------------------------------------------------------

def test_fonts_and_their_licence_ship_with_the_package():
    names = sorted(path.name for path in Path(documents.FONTS).iterdir())

    assert names == ["DejaVuSans-Bold.ttf", "DejaVuSans.ttf", "DejaVuSerif-Bold.ttf",
                     "DejaVuSerif.ttf", "LICENSE"]
    assert "Bitstream" in (Path(documents.FONTS) / "LICENSE").read_text()
