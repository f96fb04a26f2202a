"""The organizer's round pages at national scale: the ranking shows a window of each
category (a round of 3,000 entries was one 2 MB page), the calibration reads the judges'
names in one statement whatever the panel's size."""

import re
from app.console import results as console_results
from tests.factories import make_judging, page_login, score_round


def _points(entry_index):
    """Entry n (from 0) totals 90 - n: rank n + 1, no ties."""
    def points(entry, judge):
        n = entry_index[entry.id]
        return (40, 30 - max(0, n - 20), max(0, 20 - n))
    return points


def _ranked_round(session, entries):
    world = make_judging(session, entries=entries, judges=1, judges_per_entry=1)
    index = {e.id: i for i, e in enumerate(world.entries)}
    score_round(session, world.round, _points(index), organizer=world.organizer)
    return world


def _ranks(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<td class="num rank"[^>]*><strong>(\d+)</strong>', html)]


def test_ranking_shows_each_category_top_and_pages_one_category(client, session):
    assert (console_results.TOP_PER_CATEGORY, console_results.RANKING_PAGE) == (20, 100)
    world = _ranked_round(session, 25)
    page_login(client, world.organizer)
    page = f"/admin/rounds/{world.round.id}/ranking"
    html = client.get(page).text
    assert _ranks(html) == list(range(1, 21))
    assert "Đang hiện hạng 1 đến 20 trong 25 tác phẩm." in html
    link = f'<a href="{page}?category_id={world.category.id}">Xem toàn bộ bảng xếp hạng của ' \
           'thể loại này</a>'
    assert link in html
    html = client.get(f"{page}?category_id={world.category.id}").text
    assert _ranks(html) == list(range(1, 26))
    assert "Đang hiện hạng" not in html and 'class="pager"' not in html
    html = client.get(f"{page}?category_id={world.category.id}&offset=20").text
    assert _ranks(html) == list(range(21, 26))
    assert "Đang hiện hạng 21 đến 25 trong 25 tác phẩm." in html
    assert f'<a href="?category_id={world.category.id}&amp;offset=0">← Trang trước</a>' in html
    assert "Xem toàn bộ bảng xếp hạng" not in html


def test_calibration_statements_do_not_grow_with_the_panel(client, session, queries):
    from app.results import queries as results_queries

    counts = []
    for judges in (2, 8):
        world = make_judging(session, entries=8, judges=judges, judges_per_entry=2)
        score_round(session, world.round, lambda entry, judge: (30, 20, 20),
                    organizer=world.organizer)
        client.cookies.clear()
        page_login(client, world.organizer)
        results_queries.forget_closed_rankings()
        with queries:
            response = client.get(f"/admin/rounds/{world.round.id}/calibration")
        assert response.status_code == 200
        counts.append(queries.count)
    assert counts[0] == counts[1]


def test_closed_calibration_is_computed_once(client, session, queries):
    world = make_judging(session, entries=4, judges=2, judges_per_entry=2)
    score_round(session, world.round, lambda entry, judge: (30, 20, 20),
                organizer=world.organizer)
    page_login(client, world.organizer)
    url = f"/admin/rounds/{world.round.id}/calibration"
    first = client.get(url).text
    with queries:
        again = client.get(url).text
    assert again == first
    assert not any("FROM score" in s for s in queries.statements)


def test_ranking_of_a_category_outside_the_award_is_404_and_past_its_end_its_last_page(
        client, session):
    from app.awards import service as awards
    from tests.factories import make_award

    world = _ranked_round(session, 25)
    elsewhere = awards.list_categories(session, make_award(session, organizer=world.organizer))
    session.commit()
    page_login(client, world.organizer)
    page = f"/admin/rounds/{world.round.id}/ranking"
    for category_id in (elsewhere[0].id, 999999):
        response = client.get(f"{page}?category_id={category_id}")
        assert response.status_code == 404
        assert "Không tìm thấy thể loại." in response.text
    html = client.get(f"{page}?category_id={world.category.id}&offset=100").text
    assert _ranks(html) == list(range(1, 26))
    assert "Đang hiện hạng" not in html
