"""Results files (CSV, XLSX, PDF), scores.csv and certificates: exact contents, access
before and after publishing, the same files through the pages."""

import csv
import io

import openpyxl
import pypdf
import pytest
from sqlmodel import select

from app.results import exports, verify
from app.results.models import Certificate
from app.storage import get_storage
from tests.storage_helpers import stored_names
from tests.factories import (
    api_headers,
    make_judging,
    make_user,
    page_login,
    publish,
    score_round,
)

# Entry index -> judge index -> points (40/30/30 rubric). Totals: entry 1: 85 and 86 (mean
# 85.5); entry 2: 71.5 and 70 (mean 70.75).
POINTS = {0: {0: (35, 25, 25), 1: (33, 27, 26)}, 1: {0: (30, 20, 21.5), 1: (28, 22, 20)}}
HEADER_VI = ["Thể loại", "Giải", "Mã", "Tên tác phẩm", "Tác giả", "Cơ quan báo chí", "Điểm"]


def _world(session, *, published=True, title=None, entries=2, points=None):
    world = make_judging(session, entries=entries, judges=2, judges_per_entry=2)
    if title is not None:
        world.entries[1].title = title
        session.add(world.entries[1])
    e = {x.id: i for i, x in enumerate(world.entries)}
    j = {x.id: i for i, x in enumerate(world.judges)}
    points = points or POINTS
    score_round(session, world.round,
                lambda entry, judge: points.get(e[entry.id], {}).get(j[judge.id]),
                organizer=world.organizer)
    if published:
        publish(session, world.award, organizer=world.organizer, round_=world.round)
    return world


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def test_results_csv_has_the_bom_exact_rows_and_a_neutralised_title(client, session):
    world = _world(session, title="=cmd")
    response = client.get(f"/api/v1/awards/{world.award.id}/results.csv")
    assert response.headers["content-disposition"] == (
        f"attachment; filename=\"ket-qua-{world.award.slug}.csv\"; "
        f"filename*=UTF-8''ket-qua-{world.award.slug}.csv")
    assert _csv(response) == [
        HEADER_VI,
        ["Thể loại 1", "Giải A", "C1-001", "Tác phẩm số 1", "Nguyễn Văn An", "Báo Ninh Thuận",
         "85,50"],
        ["Thể loại 1", "Giải B", "C1-002", "'=cmd", "Nguyễn Văn An", "Báo Ninh Thuận",
         "70,75"],
    ]


def test_results_csv_in_english(client, session):
    world = _world(session)
    rows = _csv(client.get(f"/api/v1/awards/{world.award.id}/results.csv?lang=en"))
    assert rows == [
        ["Category", "Prize", "Code", "Title of the work", "Authors", "Press outlet", "Score"],
        ["Thể loại 1", "A prize", "C1-001", "Tác phẩm số 1", "Nguyễn Văn An", "Báo Ninh Thuận",
         "85.50"],
        ["Thể loại 1", "B prize", "C1-002", "Tác phẩm số 2", "Nguyễn Văn An", "Báo Ninh Thuận",
         "70.75"],
    ]


def test_results_xlsx_opens_with_exact_cells(client, session):
    world = _world(session, title="=cmd")
    response = client.get(f"/api/v1/awards/{world.award.id}/results.xlsx")
    assert response.status_code == 200
    assert response.headers["content-type"] == exports.MEDIA_TYPES["xlsx"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert sheet.title == "Kết quả"
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [
        HEADER_VI,
        ["Thể loại 1", "Giải A", "C1-001", "Tác phẩm số 1", "Nguyễn Văn An", "Báo Ninh Thuận",
         85.5],
        ["Thể loại 1", "Giải B", "C1-002", "=cmd", "Nguyễn Văn An", "Báo Ninh Thuận", 70.75],
    ]
    assert sheet["D3"].data_type == "s"


def test_results_pdf_has_the_vietnamese_text(client, session):
    world = _world(session)
    response = client.get(f"/api/v1/awards/{world.award.id}/results.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    published = exports.published_at(session, world.award)
    day = exports._local_date(published, world.award.timezone)
    assert _pdf_text(response.content).splitlines() == [
        world.award.title,
        f"Kết quả công bố ngày {day}",
        "Thể loại 1",
        "Giải Mã Tên tác phẩm Tác giả Cơ quan báo chí Điểm",
        "Giải A C1-001 Tác phẩm số 1 Nguyễn Văn An Báo Ninh Thuận 85,50",
        "Giải B C1-002 Tác phẩm số 2 Nguyễn Văn An Báo Ninh Thuận 70,75",
        "Trang 1/1",
    ]


def test_a_character_the_pdf_fonts_lack_is_replaced_not_a_500(client, session):
    world = _world(session, title="漢字 báo chí")
    response = client.get(f"/api/v1/awards/{world.award.id}/results.pdf")
    assert response.status_code == 200
    assert "Giải B C1-002 \ufffd\ufffd báo chí Nguyễn Văn An" in _pdf_text(response.content)


def test_publication_date_is_in_the_awards_time_zone(session):
    from datetime import UTC, datetime

    world = _world(session)
    when = datetime(2026, 11, 30, 18, 30, tzinfo=UTC)  # 01:30 on 1 December in Hà Nội
    assert exports._local_date(when, world.award.timezone) == "01/12/2026"
    assert exports.published_at(session, world.award) is not None


FILES = ("results.csv", "results.xlsx", "results.pdf", "scores.csv")


@pytest.mark.parametrize("name", FILES)
def test_before_publishing_the_files_are_the_organizers_alone(client, session, name):
    world = _world(session, published=False)
    journalist = make_user(session)
    session.commit()
    url = f"/api/v1/awards/{world.award.id}/{name}"
    assert client.get(url).status_code == 404
    assert client.get(url, headers=api_headers(client, journalist)).status_code == 404
    judge = client.get(url, headers=api_headers(client, world.judges[0]))
    assert judge.status_code == 404
    assert client.get(url, headers=api_headers(client, world.organizer)).status_code == 200
    page = f"/awards/{world.award.slug}/{name}"
    assert client.get(page).status_code == 404
    page_login(client, world.organizer)
    assert client.get(page).status_code == 200


def test_the_organizers_preview_files_say_they_are_not_published(client, session):
    world = _world(session, published=False)
    headers = api_headers(client, world.organizer)
    for fmt in ("csv", "xlsx", "pdf"):
        response = client.get(f"/api/v1/awards/{world.award.id}/results.{fmt}", headers=headers)
        assert response.headers["content-disposition"].startswith(
            f'attachment; filename="ket-qua-{world.award.slug}-chua-cong-bo.{fmt}"')
        if fmt == "xlsx":
            book = openpyxl.load_workbook(io.BytesIO(response.content))
            assert book.sheetnames == ["Chưa công bố"]


@pytest.mark.parametrize("name", FILES)
def test_once_published_anyone_gets_the_files(client, session, name):
    world = _world(session)
    assert client.get(f"/api/v1/awards/{world.award.id}/{name}").status_code == 200
    assert client.get(f"/awards/{world.award.slug}/{name}").status_code == 200


def test_page_file_is_the_api_file(client, session):
    world = _world(session, title="=cmd")
    api = client.get(f"/api/v1/awards/{world.award.id}/results.csv")
    page = client.get(f"/awards/{world.award.slug}/results.csv")
    assert page.content == api.content
    assert page.headers["content-disposition"] == api.headers["content-disposition"]


def test_scores_csv_exact_rows_and_every_ranking_recomputes(client, session):
    world = _world(session)
    response = client.get(f"/api/v1/awards/{world.award.id}/scores.csv")
    rows = _csv(response)
    assert response.headers["content-disposition"] == (
        f"attachment; filename=\"diem-{world.award.slug}.csv\"; "
        f"filename*=UTF-8''diem-{world.award.slug}.csv")
    r, c = world.round, world.category
    e1, e2 = world.entries

    def row(entry, code, judge, position, points, rank, score):
        criterion, max_points = {1: ("Nội dung", "40"), 2: ("Hình thức", "30"),
                                 3: ("Tác động", "30")}[position]
        return [str(r.id), "Vòng sơ khảo", "mean", "2", str(c.id), "C1", str(entry.id), code,
                judge, str(position), criterion, max_points, points, rank, score]

    assert rows == [
        list(exports.SCORES_HEADER),
        row(e1, "C1-001", "G1", 1, "35", "1", "85.5"),
        row(e1, "C1-001", "G1", 2, "25", "1", "85.5"),
        row(e1, "C1-001", "G1", 3, "25", "1", "85.5"),
        row(e1, "C1-001", "G2", 1, "33", "1", "85.5"),
        row(e1, "C1-001", "G2", 2, "27", "1", "85.5"),
        row(e1, "C1-001", "G2", 3, "26", "1", "85.5"),
        row(e2, "C1-002", "G1", 1, "30", "2", "70.75"),
        row(e2, "C1-002", "G1", 2, "20", "2", "70.75"),
        row(e2, "C1-002", "G1", 3, "21.5", "2", "70.75"),
        row(e2, "C1-002", "G2", 1, "28", "2", "70.75"),
        row(e2, "C1-002", "G2", 2, "22", "2", "70.75"),
        row(e2, "C1-002", "G2", 3, "20", "2", "70.75"),
    ]
    report = verify.verify_text(response.content.decode("utf-8"))
    assert report.ok
    assert [(ch.round_id, ch.category_code, ch.entries) for ch in report.checks] == [
        (r.id, "C1", 2)]
    ranking = client.get(f"/api/v1/rounds/{r.id}/ranking",
                         headers=api_headers(client, world.organizer)).json()
    assert [(x["code"], x["rank"], x["score"]) for x in ranking] == [
        ("C1-001", 1, 85.5), ("C1-002", 2, 70.75)]


def test_scores_csv_lists_an_entry_without_any_final_score(client, session):
    world = _world(session, published=False, entries=3)  # the third entry is never scored
    response = client.get(f"/api/v1/awards/{world.award.id}/scores.csv",
                          headers=api_headers(client, world.organizer))
    rows = _csv(response)
    e3 = world.entries[2]
    assert len(rows) == 1 + 12 + 1
    assert rows[-1] == [str(world.round.id), "Vòng sơ khảo", "mean", "2", str(world.category.id),
                        "C1", str(e3.id), "C1-003", "", "", "", "", "", "", ""]
    report = verify.verify_text(response.content.decode("utf-8"))
    assert report.ok and report.checks[0].entries == 3


def test_scores_csv_of_an_award_without_a_closed_round_is_its_header(client, session):
    world = make_judging(session, entries=1, judges=2)
    response = client.get(f"/api/v1/awards/{world.award.id}/scores.csv",
                          headers=api_headers(client, world.organizer))
    assert _csv(response) == [list(exports.SCORES_HEADER)]


# --- Certificates --------------------------------------------------------------------------

def _certificate(session, entry) -> Certificate:
    return session.exec(select(Certificate).where(Certificate.entry_id == entry.id)).one()


def test_certificate_pdf_has_the_verify_url_and_is_served_from_its_stored_file(
        storage_backend, client, session):
    world = _world(session)
    cert = _certificate(session, world.entries[0])
    first = client.get(f"/certificates/{cert.token}.pdf")
    assert first.status_code == 200
    assert first.headers["content-type"] == "application/pdf"
    assert first.headers["content-disposition"].startswith(
        'attachment; filename="chung-nhan-c1-001.pdf"')
    text = " ".join(_pdf_text(first.content).split())
    assert f"http://127.0.0.1:8000/certificates/{cert.token}" in text
    for words in ("GIẤY CHỨNG NHẬN", world.award.title, "“Tác phẩm số 1”",
                  "Mã tác phẩm: C1-001", "Tác giả: Nguyễn Văn An", "Thể loại: Thể loại 1",
                  "Cơ quan báo chí: Báo Ninh Thuận", "đã đạt Giải A", "Kiểm tra tính xác thực"):
        assert words in text
    key = f"certificates/{cert.token}.pdf"
    storage = get_storage()
    with storage.open_read(key) as stored:
        assert stored.read() == first.content
    assert [k for k in stored_names() if k.startswith(f"certificates/{cert.token}")
            or k.endswith((".tmp", ".part"))] == [key]
    second = client.get(f"/certificates/{cert.token}.pdf")
    assert second.content == first.content
    storage.put(key, io.BytesIO(b"%PDF-1.4 stored copy"))
    assert client.get(f"/certificates/{cert.token}.pdf").content == b"%PDF-1.4 stored copy"


def test_certificate_in_english_is_still_the_vietnamese_document(client, session):
    world = _world(session)
    cert = _certificate(session, world.entries[1])
    response = client.get(f"/certificates/{cert.token}.pdf?lang=en")
    assert "đã đạt Giải B" in " ".join(_pdf_text(response.content).split())


def test_unknown_certificate_token_is_404(client, session):
    _world(session)
    assert client.get("/certificates/khong-co-that.pdf").status_code == 404


def test_entry_certificate_api_for_its_authors_and_organizers_after_publishing(client,
                                                                              session):
    world = _world(session, published=False)
    entry = world.entries[0]
    author = session.get(type(world.organizer), entry.submitter_id)
    url = f"/api/v1/entries/{entry.id}/certificate"
    assert client.get(url, headers=api_headers(client, author)).status_code == 404
    assert client.get(url, headers=api_headers(client, world.organizer)).status_code == 404
    publish(session, world.award, organizer=world.organizer, round_=world.round)
    session.commit()
    cert = _certificate(session, entry)
    by_author = client.get(url, headers=api_headers(client, author))
    assert by_author.status_code == 200
    assert f"/certificates/{cert.token}" in " ".join(_pdf_text(by_author.content).split())
    by_organizer = client.get(url, headers=api_headers(client, world.organizer))
    assert by_organizer.content == by_author.content
    other = make_user(session)
    session.commit()
    assert client.get(url, headers=api_headers(client, other)).status_code == 404
    assert client.get(url, headers=api_headers(client, world.judges[0])).status_code == 404
    assert client.get(url).status_code == 401
