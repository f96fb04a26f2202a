"""The public results page and the certificate verification page."""

import re

from sqlmodel import select

from app.results.models import Certificate
from tests.factories import make_user, page_login
from tests.results_world import finish_and_publish, two_rounds


def _rows(html: str) -> list[list[str]]:
    rows = re.findall(r'<tr class="level-\w+">(.*?)</tr>', html, re.S)
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", r,
                                                                   re.S)] for r in rows]


def test_results_page_lists_winners_by_level_with_vietnamese_scores(client, session):
    world = two_rounds(session)
    finish_and_publish(session, world)
    page = client.get(f"/awards/{world.award.slug}/results")
    assert page.status_code == 200
    assert _rows(page.text) == [
        ["Giải A", "C1-002", "Tác phẩm khác số 1", "Nguyễn Văn An", "Báo Ninh Thuận", "90,00"],
        ["Giải B", "C1-003", "Tác phẩm khác số 2", "Nguyễn Văn An", "Báo Ninh Thuận", "80,00"],
        ["Giải C", "C1-001", "Chi bộ giữa biển khơi",
         "Lê Văn Tác Giả (Lê Tác), Phạm Thị Đồng (Đồng Phạm), Hoàng Văn Khách",
         "Báo Ninh Thuận", "73,50"]]
    assert "Số tác phẩm được chấm: 4 · Số giải được trao: 3" in page.text
    assert "Bản xem trước" not in page.text
    for suffix in ("results.csv", "results.xlsx", "results.pdf", "scores.csv"):
        assert f'href="/awards/{world.award.slug}/{suffix}"' in page.text
    assert "giaibao verify-ranking scores.csv" in page.text
    english = client.get(f"/awards/{world.award.slug}/results?lang=en")
    assert [r[0] for r in _rows(english.text)] == ["A prize", "B prize", "C prize"]
    assert _rows(english.text)[2][-1] == "73.50"
    award_page = client.get(f"/awards/{world.award.slug}")
    assert f'href="/awards/{world.award.slug}/results"' in award_page.text
    assert f'href="/awards/{world.award.slug}/results"' in client.get("/").text


def test_before_publishing_results_are_a_404_page_except_the_organizers_preview(client,
                                                                              session):
    world = two_rounds(session)
    path = f"/awards/{world.award.slug}/results"
    anonymous = client.get(path)
    assert anonymous.status_code == 404
    assert "Kết quả của giải này chưa được công bố." in anonymous.text
    page_login(client, make_user(session, role="judge"))
    assert client.get(path).status_code == 404
    client.cookies.clear()
    page_login(client, world.organizer)
    preview = client.get(path)
    assert preview.status_code == 200
    assert "Bản xem trước — chưa công bố" in preview.text
    assert f'href="{path}"' not in client.get("/").text


def test_certificate_page_verifies_a_certificate_and_404s_an_unknown_token(client, session):
    world = two_rounds(session)
    finish_and_publish(session, world)
    cert = session.exec(select(Certificate).where(
        Certificate.entry_id == world.ours.id)).one()
    page = client.get(f"/certificates/{cert.token}")
    assert page.status_code == 200
    assert page.headers["x-robots-tag"] == "noindex, nofollow"
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.text))
    assert "Giấy chứng nhận hợp lệ" in text
    for fact in (world.award.title, "Giải C", "Chi bộ giữa biển khơi", "C1-001",
                 "Lê Văn Tác Giả (Lê Tác), Phạm Thị Đồng (Đồng Phạm), Hoàng Văn Khách",
                 "Thể loại 1", "Báo Ninh Thuận", "Ngày cấp"):
        assert fact in text
    assert f'href="/certificates/{cert.token}.pdf"' in page.text
    unknown = client.get("/certificates/" + "x" * 24)
    assert unknown.status_code == 404
    assert "Không có giấy chứng nhận này." in unknown.text
    assert "Giấy chứng nhận hợp lệ" not in unknown.text
