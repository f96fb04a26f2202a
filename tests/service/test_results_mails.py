"""Publishing tells every author, once per address, the outcome of all their entries, in
their language (Vietnamese for a co-author without an account), with the certificates'
links — delivered through a real SMTP server (aiosmtpd)."""

from datetime import UTC, datetime

from sqlmodel import select

from app.accounts.rules import Role
from app.awards import service as awards
from app.judging import service as judging
from app.mail.models import Mail
from app.results import service as results
from app.results.models import AllocateIn, Certificate
from tests.factories import make_award, make_category, make_entry, make_round, make_user, score_round, seat
from tests.mail_helpers import deliver, sender_for

BASE = "http://127.0.0.1:8000"


def _published(session):
    """Three entries: #1 by An with Bình (an account, English) and Khách (an address only)
    as co-authors, #2 by Bình, #3 by Cường with An's address as co-author. Quotas: one A
    and one B, so #1 wins A, #2 B, #3 nothing."""
    organizer = make_user(session, role=Role.organizer)
    award = make_award(session, organizer=organizer, categories=0,
                       title="Giải báo chí tỉnh Khánh Hòa năm 2025")
    category = make_category(session, award, organizer=organizer, code="BI", name="Báo in",
                             prize_quota={"A": 1, "B": 1, "C": 0, "KK": 0})
    awards.change_status(session, award, "open", actor=organizer)
    an = make_user(session, email="an@example.vn", full_name="Nguyễn Văn An")
    binh = make_user(session, email="binh@example.vn", full_name="Trần Thị Bình",
                     language="en")
    cuong = make_user(session, email="cuong@example.vn", full_name="Lê Văn Cường")
    first = make_entry(session, award, user=an, status="accepted", title="Biển đảo quê hương",
                       co_authors=[{"full_name": "Trần Thị Bình", "email": "binh@example.vn"},
                                   {"full_name": "Hoàng Khách", "email": "khach@example.vn"}])
    second = make_entry(session, award, user=binh, status="accepted",
                        title="Đảng viên nơi đầu sóng")
    third = make_entry(session, award, user=cuong, status="accepted",
                       title="Chi bộ trên đảo",
                       co_authors=[{"full_name": "Nguyễn Văn An", "email": "an@example.vn"}])
    for target in ("closed", "judging"):
        awards.change_status(session, award, target, actor=organizer)
    round_ = make_round(session, award, organizer=organizer, judges_per_entry=1)
    seat(session, round_, make_user(session, role=Role.judge), [category], organizer=organizer)
    now = datetime.now(UTC)
    judging.assign_round(session, round_, actor=organizer, now=now)
    judging.move_round(session, round_, "start", actor=organizer, now=now)
    points = {first.id: (35, 25, 25), second.id: (30, 20, 20), third.id: (10, 10, 10)}
    score_round(session, round_, lambda entry, judge: points[entry.id], organizer=organizer)
    # Only the publication's mails from here on.
    session.exec(Mail.__table__.delete())
    results.allocate(session, award, AllocateIn(round_id=round_.id), actor=organizer, now=now)
    awards.change_status(session, award, "published", actor=organizer)
    tokens = {c.entry_id: c.token for c in session.exec(select(Certificate))}
    return award, (first, second, third), tokens



def _vi(award, lines, greeting):
    return (f"{greeting}\n\n"
            f"Ban tổ chức đã công bố kết quả {award.title}. Tác phẩm của bạn:\n\n"
            + "".join(lines) +
            f"Toàn bộ kết quả:\n{BASE}/awards/{award.slug}/results\n\n"
            "Cảm ơn bạn đã tham gia.\n\n-- \nThư này được gửi tự động từ Giải báo chí, cổng "
            f"thông tin giải báo chí. Xin đừng trả lời thư này.\n{BASE}/\n")


def test_publishing_mails_each_address_once_with_all_its_entries(session, smtp_sink):
    award, (first, second, third), tokens = _published(session)
    session.commit()
    report = deliver(sender_for(smtp_sink))
    assert (report.sent, report.failed) == (4, 0)
    got = {m.to: m for m in smtp_sink.received}
    assert sorted(got) == ["an@example.vn", "binh@example.vn", "cuong@example.vn",
                           "khach@example.vn"]
    stored = {m.to: m for m in session.exec(select(Mail)).all()}
    vi_subject = "Kết quả Giải báo chí tỉnh Khánh Hòa năm 2025"
    assert {to: (m.language, m.subject) for to, m in stored.items()} == {
        "an@example.vn": ("vi", vi_subject), "cuong@example.vn": ("vi", vi_subject),
        "khach@example.vn": ("vi", vi_subject),
        "binh@example.vn": ("en", "Results of Giải báo chí tỉnh Khánh Hòa năm 2025")}
    cert = {e.id: f"{BASE}/certificates/{tokens[e.id]}" for e in (first, second)}
    a_line = f"- BI-001 “Biển đảo quê hương”: Giải A\n  Giấy chứng nhận: {cert[first.id]}\n\n"
    none_line = "- BI-003 “Chi bộ trên đảo”: không đạt giải\n\n"
    text = {to: m.text.replace("\r\n", "\n") for to, m in got.items()}
    assert text["an@example.vn"] == _vi(award, [a_line, none_line],
                                        "Kính gửi Nguyễn Văn An,")
    assert text["cuong@example.vn"] == _vi(award, [none_line], "Kính gửi Lê Văn Cường,")
    assert text["khach@example.vn"] == _vi(award, [a_line], "Kính gửi quý vị,")
    assert text["binh@example.vn"] == (
        "Hello Trần Thị Bình,\n\n"
        f"The results of {award.title} are published. The outcome of your entries:\n\n"
        f"- BI-001 “Biển đảo quê hương”: A prize\n  Certificate: {cert[first.id]}\n\n"
        f"- BI-002 “Đảng viên nơi đầu sóng”: B prize\n  Certificate: {cert[second.id]}\n\n"
        f"The full results:\n{BASE}/awards/{award.slug}/results\n\n"
        "Thank you for taking part.\n\n-- \nThis message was sent by Giải báo chí, the "
        f"press-award portal. Please do not reply to it.\n{BASE}/\n")
    html = got["binh@example.vn"].html
    assert f'<a href="{cert[second.id]}">' in html
    assert f"{BASE}/awards/{award.slug}/results" in html


def test_a_long_vietnamese_subject_arrives_with_its_spaces(session, smtp_sink):
    _published(session)
    session.commit()
    deliver(sender_for(smtp_sink))
    assert {m.subject for m in smtp_sink.received if m.to != "binh@example.vn"} == {
        "Kết quả Giải báo chí tỉnh Khánh Hòa năm 2025"}
