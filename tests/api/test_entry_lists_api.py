"""The organizer's entry list: cursor pages walk the same rows as offset pages, the totals
come from the counts and stay exact, a bad cursor is a 422, and the answer is the same JSON
the response model gives."""

import json

import pytest
from pydantic import TypeAdapter

from app.awards import service as awards
from app.entries import queries as entry_queries
from app.entries import views
from app.entries.models import EntryOrganizerView
from app.samples import pdf
from tests.factories import api_headers, make_award, make_category, make_entry, make_user

NAMES = ["Trần Thị Bích", "Nguyễn Văn An", "Lê Hoàng", "Đỗ Minh Châu", "Phạm Ánh",
         "Vũ Đức Anh", "Bùi Thu", "Hoàng Yến", "Ngô Bảo", "Đặng Quang"]
TITLES = ["Ánh sáng", "Biển đảo", "Cơ sở Đảng", "Đổi mới", "Ê-đê", "Gặp gỡ", "Hà Nội",
          "Ấm áp", "Bình minh", "Chợ quê"]


@pytest.fixture
def world(session):
    organizer = make_user(session, role="organizer")
    award = make_award(session, organizer=organizer, status="open",
                       max_entries_per_author=20)
    first = awards.list_categories(session, award)[0]
    second = make_category(session, award, organizer=organizer, code="PT", name="Phát thanh")
    shared = pdf("the same report twice")
    statuses = ["submitted", "accepted", "draft", "submitted", "returned", "accepted",
                "withdrawn", "submitted", "draft", "rejected"]
    for i, status in enumerate(statuses * 2):
        author = make_user(session, full_name=NAMES[i % len(NAMES)])
        files = [shared] if i in (1, 3) else [pdf(f"bai {i}")]
        make_entry(session, award, user=author, status=status,
                   category=first if i % 3 else second, title=f"{TITLES[i % 10]} {i}",
                   files=files, co_authors=[{"full_name": "Đồng tác giả", "pen_name": "Bút"}]
                   if i % 4 == 0 else ())
    session.commit()
    return {"award": award, "organizer": organizer, "categories": [first, second]}


def _walk(client, url, headers, *, limit, by_cursor: bool):
    ids, total, pages = [], None, 0
    params = {"limit": limit}
    offset = 0
    while True:
        response = client.get(url, params=params if by_cursor else {**params, "offset": offset},
                              headers=headers)
        assert response.status_code == 200, response.text
        total = int(response.headers["X-Total-Count"])
        ids += [e["id"] for e in response.json()]
        pages += 1
        following = response.headers.get("X-Next-Cursor")
        if by_cursor:
            if following is None:
                assert "Link" not in response.headers
                break
            assert response.headers["Link"].endswith('>; rel="next"')
            params = {"limit": limit, "cursor": following}
        else:
            offset += limit
            if offset >= total:
                assert following is None
                break
    return ids, total, pages


@pytest.mark.parametrize("sort", ["code", "author", "title", "newest"])
@pytest.mark.parametrize("filters", [{}, {"status": "submitted"}, {"status": "draft"},
                                     {"category": 1}, {"status": "accepted", "category": 0},
                                     {"q": "tac gia"}])
def test_cursor_pages_walk_the_rows_of_offset_pages_with_an_exact_total(
        client, session, world, sort, filters):
    headers = api_headers(client, world["organizer"])
    query = f"sort={sort}"
    if "status" in filters:
        query += f"&status={filters['status']}"
    if "category" in filters:
        query += f"&category_id={world['categories'][filters['category']].id}"
    if "q" in filters:
        query += f"&q={filters['q']}"
    url = f"/api/v1/awards/{world['award'].id}/entries?{query}"
    everything = client.get(url, params={"limit": 200}, headers=headers)
    expected = [e["id"] for e in everything.json()]
    assert int(everything.headers["X-Total-Count"]) == len(expected)
    assert "X-Next-Cursor" not in everything.headers
    by_offset, total_offset, _ = _walk(client, url, headers, limit=3, by_cursor=False)
    by_cursor, total_cursor, pages = _walk(client, url, headers, limit=3, by_cursor=True)
    assert by_offset == expected
    assert by_cursor == expected
    assert total_offset == total_cursor == len(expected)
    assert pages == max(1, -(-len(expected) // 3))


def test_the_totals_match_a_count_of_the_rows(client, session, world):
    headers = api_headers(client, world["organizer"])
    award = world["award"]
    first, second = world["categories"]
    cases = {"": 16, "status=draft": 4, "status=submitted": 6, f"category_id={second.id}": 5,
             f"status=submitted&category_id={first.id}": 4, "q=dong+tac+gia": 3}
    for query, expected in cases.items():
        response = client.get(f"/api/v1/awards/{award.id}/entries?{query}&limit=1",
                              headers=headers)
        assert (query, response.headers["X-Total-Count"]) == (query, str(expected))


def test_the_link_header_names_the_next_page_by_cursor(client, session, world):
    headers = api_headers(client, world["organizer"])
    award = world["award"]
    response = client.get(f"/api/v1/awards/{award.id}/entries?sort=title&limit=4&offset=4",
                          headers=headers)
    cursor = response.headers["X-Next-Cursor"]
    assert response.headers["Link"] == (
        f'</api/v1/awards/{award.id}/entries?sort=title&limit=4'
        f'&cursor={cursor}>; rel="next"')
    following = client.get(response.headers["Link"][1:-len('>; rel="next"')], headers=headers)
    offset = client.get(f"/api/v1/awards/{award.id}/entries?sort=title&limit=4&offset=8",
                        headers=headers)
    assert [e["id"] for e in following.json()] == [e["id"] for e in offset.json()]


@pytest.mark.parametrize("cursor", ["abc", "a.b.c", "!!!.???", "", "e30.AAAA"])
def test_a_garbled_cursor_is_422(client, session, world, cursor):
    headers = {**api_headers(client, world["organizer"]), "Accept-Language": "en"}
    response = client.get(f"/api/v1/awards/{world['award'].id}/entries",
                          params={"cursor": cursor}, headers=headers)
    assert response.status_code == 422
    assert response.json() == {"detail": "This cursor is not valid: use the address given by "
                                         "the previous page (Link or X-Next-Cursor)."}


def test_a_forged_cursor_or_one_of_another_sort_is_422(client, session, world):
    import base64

    headers = {**api_headers(client, world["organizer"]), "Accept-Language": "en"}
    url = f"/api/v1/awards/{world['award'].id}/entries"
    cursor = client.get(url, params={"limit": 2, "sort": "author"},
                        headers=headers).headers["X-Next-Cursor"]
    body, mac = cursor.split(".")
    forged = base64.urlsafe_b64encode(json.dumps(["author", ["0", 1]]).encode()) \
        .rstrip(b"=").decode()
    response = client.get(url, params={"sort": "author", "cursor": f"{forged}.{mac}"},
                          headers=headers)
    assert response.status_code == 422
    assert response.json()["detail"].startswith("This cursor is not valid")
    response = client.get(url, params={"sort": "title", "cursor": cursor}, headers=headers)
    assert response.status_code == 422
    assert response.json() == {"detail": "This cursor belongs to another sort order."}
    vietnamese = client.get(url, params={"sort": "title", "cursor": cursor},
                            headers={**headers, "Accept-Language": "vi"})
    assert vietnamese.json() == {"detail": "Con trỏ trang này thuộc một cách sắp xếp khác."}


def test_a_cursor_of_another_award_or_other_filters_is_422(client, session, world):
    headers = {**api_headers(client, world["organizer"]), "Accept-Language": "en"}
    award, first = world["award"], world["categories"][0]
    url = f"/api/v1/awards/{award.id}/entries"
    cursor = client.get(url, params={"limit": 2, "category_id": first.id},
                        headers=headers).headers["X-Next-Cursor"]
    other = make_award(session, organizer=world["organizer"], status="open")
    session.commit()
    another_list = ("This cursor belongs to another list (another award or other filters): "
                    "start again from the list's first page.")
    for where, params in [
            (f"/api/v1/awards/{other.id}/entries", {"category_id": first.id}),
            (url, {}),
            (url, {"category_id": world["categories"][1].id}),
            (url, {"category_id": first.id, "status": "accepted"}),
            (url, {"category_id": first.id, "q": "tac gia"})]:
        response = client.get(where, params={**params, "cursor": cursor}, headers=headers)
        assert (response.status_code, response.json()) == (422, {"detail": another_list}), params
    same = client.get(url, params={"category_id": first.id, "cursor": cursor}, headers=headers)
    assert same.status_code == 200
    # The search is matched folded: the same words with diacritics are the same list.
    searched = client.get(url, params={"q": "tác giả", "limit": 1}, headers=headers)
    following = client.get(url, params={"q": " tac  gia ", "limit": 1,
                                        "cursor": searched.headers["X-Next-Cursor"]},
                           headers=headers)
    assert following.status_code == 200


@pytest.mark.parametrize("values", [["code", [10**30, "BI-001", 1]], ["code", [-1, "x", 1]],
                                    ["title", ["a", 2**63]]])
def test_a_signed_cursor_with_numbers_out_of_range_is_422(client, session, world, values):
    from app.config import get_settings
    from app.entries.rules import encode_cursor

    headers = {**api_headers(client, world["organizer"]), "Accept-Language": "en"}
    award = world["award"]
    sort, keys = values
    cursor = encode_cursor(sort, tuple(keys), key=get_settings().secret_key.encode(),
                           scope=f"{award.id}|||")
    response = client.get(f"/api/v1/awards/{award.id}/entries",
                          params={"sort": sort, "cursor": cursor}, headers=headers)
    assert response.status_code == 422
    assert response.json()["detail"].startswith("This cursor is not valid")


def test_the_page_answers_an_old_or_damaged_address_with_the_lists_first_page(
        client, session, world):
    from tests.factories import page_login

    page_login(client, world["organizer"])
    award = world["award"]
    for cursor in ("garbage", "e30.AAAA"):
        page = client.get(f"/admin/awards/{award.id}/entries",
                          params={"cursor": cursor, "offset": 100, "status": "submitted"},
                          headers={"Accept-Language": "vi"})
        assert page.status_code == 200
        assert "Địa chỉ trang đó đã cũ hoặc bị hỏng: đây là trang đầu của cùng danh sách." \
            in page.text
        assert "Tác phẩm dự giải (6)" in page.text
        assert page.text.count('class="code"') >= 1


def test_the_list_is_the_json_of_the_response_model(client, session, world):
    headers = api_headers(client, world["organizer"])
    award = world["award"]
    response = client.get(f"/api/v1/awards/{award.id}/entries?limit=200&sort=author",
                          headers=headers)
    assert response.headers["content-type"] == "application/json"
    entries, _ = entry_queries.list_award_entries(session, award, sort="author", limit=200)
    duplicates = entry_queries.duplicates_for(session, entries)
    assert sum(len(d) for d in duplicates.values()) == 2
    models = [views.for_organizer(e, duplicates.get(e.id, [])) for e in entries]
    assert response.content == TypeAdapter(list[EntryOrganizerView]).dump_json(models)
    # What FastAPI's response model used to send: the models' JSON through JSONResponse.
    assert response.content == json.dumps(
        [m.model_dump(mode="json") for m in models], ensure_ascii=False, allow_nan=False,
        separators=(",", ":")).encode()
