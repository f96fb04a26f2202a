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


def test_saving_a_score_runs_a_handful_of_queries(client, session, queries):
    """Token, caller, (PostgreSQL: the round's shared advisory lock), round (read and
    share-locked at once), panel seat, assignment (locked), the entry's authors and outlet
    (conflicts checked again), rubric, score; then the score's row, its history line and
    its audit line. Judges save as they type."""
    from tests.conftest import TEST_DATABASE_URL
    from tests.factories import make_judging

    world = make_judging(session, entries=1, judges=2, judges_per_entry=2)
    round_id, entry_id = world.round.id, world.entries[0].id
    headers = api_headers(client, world.judges[0])
    criteria = [c["id"] for c in client.get(f"/api/v1/rounds/{round_id}",
                                            headers=headers).json()["criteria"]]
    url = f"/api/v1/rounds/{round_id}/entries/{entry_id}/score"
    counts = []
    for points, final in (({criteria[0]: 30}, False), ({criteria[0]: 31}, False),
                          ({criteria[0]: 31}, False),
                          (dict(zip(criteria, (35, 25, 20), strict=True)), True)):
        with queries:
            response = client.put(url, headers=headers, json={
                "points": {str(k): v for k, v in points.items()}, "final": final})
        assert response.status_code == 200, response.text
        assert sum(' FROM round ' in s.replace("\n", " ") for s in queries.statements) == 1
        counts.append(queries.count)
    # first save (insert), a change (update), the same again (nothing written), final
    gate = 1 if TEST_DATABASE_URL.startswith("postgresql") else 0
    assert counts == [11 + gate, 11 + gate, 8 + gate, 11 + gate]


def test_ranking_query_count_does_not_grow_with_the_entries(client, session, queries):
    """GET /rounds/{id}/ranking computes the whole ranking for any page: the same statements
    for 3 entries and for 30; a closed round's ranking is computed once, so the second page
    reads neither the rubric, the entries nor the scores again."""
    from tests.factories import make_judging, score_round

    counts = []
    for n in (3, 30):
        world = make_judging(session, entries=n, judges=3, judges_per_entry=2)
        score_round(session, world.round, lambda entry, judge: (30, 20, 20),
                    organizer=world.organizer)
        headers = api_headers(client, world.organizer)
        url = f"/api/v1/rounds/{world.round.id}/ranking"
        for params in ({"limit": 50}, {"limit": 2, "offset": 2}):
            with queries:
                response = client.get(url, headers=headers, params=params)
            assert response.status_code == 200, response.text
            assert response.headers["X-Total-Count"] == str(n)
            assert len(response.json()) == min(params["limit"], n - params.get("offset", 0))
            counts.append(queries.count)
    # token, caller, round, rubric, entries, final scores, shortlist, categories; then the
    # same without rubric, entries and scores
    assert counts == [8, 5, 8, 5]


def test_the_audit_page_names_its_objects_in_a_fixed_number_of_queries(client, session,
                                                                       queries):
    """Entries, awards, categories, rounds and people named in the log: one query per kind,
    however many rows mention them."""
    organizer = make_user(session, role="organizer")
    page_login(client, organizer)
    counts = []
    for n in (1, 20):
        award = make_award(session, status="open", max_entries_per_author=50)
        _fill(session, award, make_user(session), n)
        with queries:
            response = client.get("/admin/audit?object_type=entry")
        assert response.status_code == 200
        counts.append(queries.count)
    assert counts[0] == counts[1]
