"""The CSV export streams: entries are read a batch at a time, every row arrives, in order."""

import csv
import io

import pytest
from zoneinfo import ZoneInfo

from app.entries import queries as entry_queries
from app.samples import pdf
from tests.factories import api_headers, make_award, make_entry, make_user, page_login

BATCH = 2


def _rows(response) -> list[list[str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))


def _caller(client, organizer, kind):
    """Signs the organizer in (outside any query count) and returns how to fetch an export."""
    if kind == "api":
        headers = api_headers(client, organizer)
        return lambda award, query="": client.get(
            f"/api/v1/awards/{award.id}/entries.csv{query}", headers=headers)
    page_login(client, organizer)
    return lambda award, query="": client.get(f"/admin/awards/{award.id}/entries.csv{query}")


HEADER_VI = ["Mã", "Tên tác phẩm", "Thể loại", "Trạng thái", "Thời điểm gửi", "Tác giả",
             "Cơ quan báo chí", "Ngày đăng, phát", "Đường dẫn", "Số tệp", "Email người gửi",
             "Điện thoại người gửi", "Đơn vị công tác người gửi", "Có thể trùng lặp với"]


def _local(moment) -> str:
    return moment.astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).strftime("%d/%m/%Y %H:%M")


@pytest.mark.parametrize("kind", ["api", "page"])
def test_an_export_of_several_batches_has_every_row_in_order(client, session, monkeypatch,
                                                             kind):
    monkeypatch.setattr(entry_queries, "EXPORT_BATCH", BATCH)
    award = make_award(session, status="open")
    same = pdf("trung lap")
    contents = [pdf("bai 0"), same, pdf("bai 2"), pdf("bai 3"), same]
    titles = ["=SUM(A1)", "Làng chài", "Biển đảo", "Chi bộ vùng cao", "Núi rừng"]
    entries, e_mails = [], []
    for i, (title, data) in enumerate(zip(titles, contents, strict=True)):
        user = make_user(session, full_name=f"Lê Thị Mai {i}", pen_name="Mai Lê" if i else None)
        co_authors = [{"full_name": "Hà Văn Sơn", "pen_name": "Sơn Hà"}] if i == 3 else ()
        entries.append(make_entry(session, award, user=user, title=title, files=[data],
                                  status="submitted", co_authors=co_authors))
        e_mails.append(user.email)
    make_entry(session, award, title="Bản nháp")  # drafts are not exported
    fetch = _caller(client, make_user(session, role="organizer"), kind)

    rows = _rows(fetch(award))

    assert rows[0] == HEADER_VI

    def row(i, title, authors, duplicate_of):
        e = entries[i]
        return [e.code, title, "Thể loại 1", "Đã gửi", _local(e.submitted_at), authors,
                "Báo Ninh Thuận", "15/03/2026", "", "1", e_mails[i], "", "", duplicate_of]

    assert rows[1:] == [
        row(0, "'=SUM(A1)", "Lê Thị Mai 0", ""),
        row(1, "Làng chài", "Lê Thị Mai 1 (bút danh Mai Lê)", entries[4].code),
        row(2, "Biển đảo", "Lê Thị Mai 2 (bút danh Mai Lê)", ""),
        row(3, "Chi bộ vùng cao",
            "Lê Thị Mai 3 (bút danh Mai Lê); Hà Văn Sơn (bút danh Sơn Hà)", ""),
        row(4, "Núi rừng", "Lê Thị Mai 4 (bút danh Mai Lê)", entries[1].code),
    ]
    assert [r[0] for r in rows[1:]] == ["C1-001", "C1-002", "C1-003", "C1-004", "C1-005"]
    newest = _rows(fetch(award, "?sort=newest"))
    assert [r[0] for r in newest[1:]] == ["C1-005", "C1-004", "C1-003", "C1-002", "C1-001"]
    found = _rows(fetch(award, "?q=bien+dao"))
    assert [r[0] for r in found[1:]] == ["C1-003"]


@pytest.mark.parametrize("kind", ["api", "page"])
def test_export_queries_grow_with_batches_not_with_entries(client, session, queries,
                                                           monkeypatch, kind):
    monkeypatch.setattr(entry_queries, "EXPORT_BATCH", BATCH)
    fetch = _caller(client, make_user(session, role="organizer"), kind)
    counts, author_reads = {}, {}
    for n in (1, 2, 5):
        award = make_award(session, status="open", max_entries_per_author=5)
        journalist = make_user(session)
        for i in range(n):
            make_entry(session, award, user=journalist, status="submitted",
                       files=[pdf(f"bai {n} {i}")], co_authors=[{"full_name": f"Đồng tác giả {i}"}])
        with queries:
            response = fetch(award)
        assert len(_rows(response)) == n + 1
        counts[n] = queries.count
        author_reads[n] = sum("FROM entry_author" in s for s in queries.statements)
    # One read of the authors per batch of two entries; six statements per batch (entries,
    # authors, files, submitters, the duplicates' files by hash and their entries), whatever
    # the number of entries in it.
    assert author_reads == {1: 1, 2: 1, 5: 3}
    assert counts[1] == counts[2]
    assert counts[5] == counts[2] + 2 * 6


def test_export_filters_are_checked_before_the_file_starts(client, session):
    award = make_award(session, status="open")
    headers = api_headers(client, make_user(session, role="organizer"))
    url = f"/api/v1/awards/{award.id}/entries.csv"
    bad_status = client.get(f"{url}?status=bogus", headers=headers)
    assert (bad_status.status_code, bad_status.json()) == (
        422, {"detail": "Trạng thái không hợp lệ."})
    bad_sort = client.get(f"{url}?sort=bogus", headers=headers)
    assert (bad_sort.status_code, bad_sort.json()) == (
        422, {"detail": "Cách sắp xếp không hợp lệ."})
    assert client.get("/api/v1/awards/999999/entries.csv", headers=headers).status_code == 404
    journalist = api_headers(client, make_user(session))
    assert client.get(url, headers=journalist).status_code == 403
