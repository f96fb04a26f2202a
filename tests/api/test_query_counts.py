"""List pages and endpoints run the same number of queries for 1 entry and for 50."""

import pytest

from app.samples import pdf
from tests.factories import api_headers, make_award, make_entry, make_user, page_login


def _fill(session, award, journalist, n):
    for i in range(n):
        make_entry(session, award, user=journalist, status="submitted", files=[pdf(f"bai {i}")],
                   co_authors=[{"full_name": f"Đồng tác giả {i}"}])


@pytest.mark.parametrize("kind", ["api", "page"])
def test_journalist_list_query_count_does_not_grow(client, session, queries, kind):
    counts = []
    for n in (1, 50):
        award = make_award(session, status="open", max_entries_per_author=50)
        journalist = make_user(session)
        _fill(session, award, journalist, n)
        if kind == "api":
            headers = api_headers(client, journalist)
            with queries:
                response = client.get("/api/v1/me/entries?limit=200", headers=headers)
            assert len(response.json()) == n
        else:
            client.cookies.clear()
            page_login(client, journalist)
            with queries:
                response = client.get("/me/entries")
            assert response.text.count('href="/entries/') == n
        counts.append(queries.count)
    assert counts[0] == counts[1]


@pytest.mark.parametrize("kind", ["api", "page"])
def test_organizer_list_query_count_does_not_grow(client, session, queries, kind):
    organizer = make_user(session, role="organizer")
    counts = []
    for n in (1, 50):
        award = make_award(session, status="open", max_entries_per_author=50)
        _fill(session, award, make_user(session), n)
        if kind == "api":
            headers = api_headers(client, organizer)
            with queries:
                response = client.get(f"/api/v1/awards/{award.id}/entries?limit=200",
                                      headers=headers)
            assert len(response.json()) == n
        else:
            client.cookies.clear()
            page_login(client, organizer)
            with queries:
                response = client.get(f"/admin/awards/{award.id}/entries")
            assert response.text.count('href="/admin/entries/') == n
        counts.append(queries.count)
    assert counts[0] == counts[1]
