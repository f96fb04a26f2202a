"""The organizer's entry list as XLSX and CSV: exact columns, typed cells, filters, file
names, access for every role; the page route answers Range like the API."""

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from app.samples import pdf, wav
from tests.conftest import csrf_from
from tests.factories import api_headers, make_award, make_entry, make_user, page_login

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER_VI = ["Mã", "Tên tác phẩm", "Thể loại", "Trạng thái", "Thời điểm gửi", "Tác giả",
             "Cơ quan báo chí", "Ngày đăng, phát", "Đường dẫn", "Số tệp", "Email người gửi",
             "Điện thoại người gửi", "Đơn vị công tác người gửi", "Có thể trùng lặp với"]
HEADER_EN = ["Code", "Title of the work", "Category", "Status", "Submitted at", "Authors",
             "Press outlet", "Published or broadcast on", "Link", "Number of files",
             "Submitter's e-mail", "Submitter's phone", "Submitter's organization",
             "Possible duplicate of"]


def _sheet(response):
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = book.active
    return sheet, [[c.value for c in row] for row in sheet.iter_rows()]


@pytest.fixture
def office(session):
    award = make_award(session, status="open", slug="giai-bao-chi-ninh-thuan-2026")
    same = pdf("trung lap")
    author = make_user(session, full_name="Nguyễn Văn A", pen_name="Hải Âu",
                       phone="0912 345 678", organization="Báo Ninh Thuận")
    first = make_entry(session, award, user=author, title="=SUM(A1) Làng chài",
                       files=[same, pdf("phu luc")], status="submitted",
                       co_authors=[{"full_name": "Trần Thị B"}])
    second = make_entry(session, award, title="Biển đảo", files=[same], status="accepted")
    withdrawn = make_entry(session, award, title="Đã rút", files=[same], status="submitted")
    from app.entries import writes
    from app.entries.queries import get_entry
    writes.withdraw_entry(session, get_entry(session, withdrawn.id, viewer=withdrawn_user(
        session, withdrawn)), user=withdrawn_user(session, withdrawn), now=datetime.now(ZoneInfo("UTC")))
    make_entry(session, award, title="Bản nháp", files=[same])
    return {"award": award, "first": first, "second": second, "author": author,
            "organizer": make_user(session, role="organizer")}


def withdrawn_user(session, entry):
    from app.accounts.models import User
    return session.get(User, entry.submitter_id)


def _local(moment):
    return moment.astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).replace(tzinfo=None, second=0,
                                                                   microsecond=0)


def test_the_xlsx_has_named_columns_typed_cells_a_frozen_header_and_a_filter(
        client, session, office):
    first, second = office["first"], office["second"]
    headers = api_headers(client, office["organizer"])
    response = client.get(f"/api/v1/awards/{office['award'].id}/entries.xlsx", headers=headers)
    sheet, rows = _sheet(response)
    assert rows[0] == HEADER_VI
    assert rows[1] == [
        first.code, "=SUM(A1) Làng chài", "Thể loại 1", "Đã gửi", _local(first.submitted_at),
        "Nguyễn Văn A (bút danh Hải Âu); Trần Thị B", "Báo Ninh Thuận",
        datetime(2026, 3, 15), None, 2, office["author"].email, "0912 345 678",
        "Báo Ninh Thuận", second.code]
    # No draft; the withdrawn entry is listed, but is in competition with nobody: no flag
    # on either side.
    assert [(r[0], r[3], r[13]) for r in rows[1:]] == [
        (first.code, "Đã gửi", second.code), (second.code, "Đã tiếp nhận", first.code),
        ("C1-003", "Đã rút", "")]
    assert sheet.cell(2, 2).data_type == "s"  # formula-looking text stays text
    assert sheet.cell(2, 10).data_type == "n"
    assert sheet.cell(2, 5).number_format == "dd/mm/yyyy hh:mm"
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:N4"
    assert sheet.column_dimensions["B"].width > 30
    today = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date().isoformat()
    name = f"giai-bao-chi-ninh-thuan-2026-tat-ca-tac-pham-da-gui-{today}.xlsx"
    assert response.headers["content-disposition"] == (
        f"attachment; filename=\"{name}\"; filename*=UTF-8''{name}")


def test_headers_follow_the_callers_language_and_filters_name_the_file(client, session, office):
    headers = {**api_headers(client, office["organizer"]), "Accept-Language": "en"}
    award = office["award"]
    response = client.get(f"/api/v1/awards/{award.id}/entries.xlsx?status=accepted",
                          headers=headers)
    _, rows = _sheet(response)
    assert rows[0] == HEADER_EN
    assert [(r[0], r[3]) for r in rows[1:]] == [(office["second"].code, "Accepted")]
    assert "giai-bao-chi-ninh-thuan-2026-accepted-" in response.headers["content-disposition"]
    category = award_category(session, award)
    by_category = client.get(
        f"/api/v1/awards/{award.id}/entries.csv?status=submitted&category_id={category.id}",
        headers=headers)
    assert "giai-bao-chi-ninh-thuan-2026-c1-submitted-" in \
        by_category.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(by_category.content.decode("utf-8-sig"))))
    first = office["first"]
    assert rows == [HEADER_EN, [
        first.code, "'=SUM(A1) Làng chài", "Thể loại 1", "Submitted",
        _local(first.submitted_at).strftime("%d/%m/%Y %H:%M"),
        "Nguyễn Văn A (pen name Hải Âu); Trần Thị B", "Báo Ninh Thuận", "15/03/2026", "", "2",
        office["author"].email, "0912 345 678", "Báo Ninh Thuận", office["second"].code]]


def award_category(session, award):
    from app.awards import service
    return service.list_categories(session, award)[0]


def test_the_page_exports_keep_the_lists_filters(client, session, office):
    page_login(client, office["organizer"])
    award = office["award"]
    listing = client.get(f"/admin/awards/{award.id}/entries?q=bien+dao")
    assert f'href="/admin/awards/{award.id}/entries.xlsx?q=bien%20dao&amp;status=&amp;' \
           f'category_id=&amp;sort=code"' in listing.text
    _, rows = _sheet(client.get(f"/admin/awards/{award.id}/entries.xlsx?q=bien+dao&status="
                                f"&category_id=&sort=code"))
    assert [r[0] for r in rows[1:]] == [office["second"].code]


@pytest.mark.parametrize("role, status", [("journalist", 403), ("judge", 403),
                                          ("organizer", 200)])
def test_only_organizers_export(client, session, office, role, status):
    award = office["award"]
    headers = api_headers(client, make_user(session, role=role))
    for fmt in ("csv", "xlsx"):
        assert client.get(f"/api/v1/awards/{award.id}/entries.{fmt}",
                          headers=headers).status_code == status
    assert client.get(f"/api/v1/awards/{award.id}/entries.xlsx").status_code == 401


def test_the_page_download_answers_range_requests(storage_backend, client, session):
    award = make_award(session, status="open")
    from app.awards import service
    category = service.list_categories(session, award)[0]
    from app.awards.models import CategoryUpdate
    organizer = make_user(session, role="organizer")
    service.update_category(session, category, CategoryUpdate(accepted_kinds=["pdf", "audio"]),
                            actor=organizer)
    sound = wav(seconds=1.0)
    entry = make_entry(session, award, files=[sound], status="submitted")
    page_login(client, organizer)
    file_id = entry.files[0].id
    url = f"/entries/{entry.id}/files/{file_id}?inline=1"
    part = client.get(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 100-199/{len(sound)}"
    assert part.content == sound[100:200]
    assert part.headers["content-disposition"].startswith("inline;")
    page = client.get(f"/admin/entries/{entry.id}").text
    assert f'<audio class="file-audio" controls preload="metadata" src="{url}"></audio>' in page
    assert csrf_from(page)


def test_the_audit_api_filters_by_action_family_and_actor(client, session, office):
    headers = api_headers(client, office["organizer"])
    award = office["award"]
    submits = client.get("/api/v1/audit?action=entry.submit&limit=100", headers=headers).json()
    assert {i["action"] for i in submits} == {"entry.submit"}
    assert len(submits) == 3  # the draft was never submitted
    family = client.get("/api/v1/audit?action=entry&limit=200", headers=headers).json()
    assert {i["action"].split(".")[0] for i in family} == {"entry"}
    mine = client.get(f"/api/v1/audit?actor={office['author'].email.upper()}&limit=200",
                      headers=headers).json()
    assert {i["actor_email"] for i in mine} == {office["author"].email}
    assert client.get(f"/api/v1/audit?object_type=award&object_id={award.id}",
                      headers=headers).json()[0]["object_id"] == award.id
