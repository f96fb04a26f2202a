"""The submission journey's mails, read from the outbox (Mail rows): recipient, language,
content, and exactly once."""

from datetime import UTC, datetime

import pytest
from sqlmodel import func, select

from app.config import get_settings
from app.entries import writes as entry_writes
from app.entries.models import CoAuthorIn, Entry, EntryUpdate
from app.mail.models import Mail
from app.samples import pdf, png
from tests.factories import make_award, make_entry, make_user

# 03:04:05 UTC is 12:04:05 in Tokyo: the receipt shows the award's zone, not the server's.
NOW = datetime(2026, 3, 1, 3, 4, 5, tzinfo=UTC)


def _mails(session, template=None):
    query = select(Mail).order_by(Mail.id)
    if template:
        query = query.where(Mail.template == template)
    return session.exec(query).all()


def _url(path):
    return get_settings().base_url.rstrip("/") + path


@pytest.fixture
def award(session):
    return make_award(session, status="open", now=NOW, timezone="Asia/Tokyo",
                      title="Giải báo chí Xây dựng Đảng 2026")


def test_the_receipt_lists_code_files_with_sha256_and_the_time_in_the_awards_zone(session,
                                                                                    award):
    user = make_user(session, full_name="Trần Văn Hùng", language="en")
    files = [pdf("ky 1"), png()]
    entry = make_entry(session, award, user=user, files=files, title="Chi bộ vùng cao",
                       now=NOW)
    assert _mails(session) == []  # a draft sends nothing
    entry_writes.submit_entry(session, entry, user=user, now=NOW)
    [mail] = _mails(session)
    assert (mail.to, mail.user_id, mail.award_id, mail.language, mail.template) == (
        user.email, user.id, award.id, "en", "entry_receipt")
    assert mail.subject == "Receipt for your entry C1-001: Chi bộ vùng cao"
    assert "Award: Giải báo chí Xây dựng Đảng 2026\n" in mail.text
    assert "Entry code: C1-001\n" in mail.text
    assert "Title of the work: Chi bộ vùng cao\n" in mail.text
    assert "Category: Thể loại 1\n" in mail.text
    assert "Submitted at: 12:04:05 01/03/2026 (UTC+09:00, Asia/Tokyo)\n" in mail.text
    for f in entry.files:
        assert f"- {f.filename} — " in mail.text
        assert f"({f.size} bytes)\n  SHA-256: {f.sha256}\n" in mail.text
        assert f"SHA-256: {f.sha256}" in mail.html
    assert f"{_url(f'/entries/{entry.id}')}\n" in mail.text
    assert f'href="{_url(f"/entries/{entry.id}")}"' in mail.html


def test_mails_are_in_vietnamese_for_a_vietnamese_account(session, award):
    user = make_user(session, language="vi")
    entry = make_entry(session, award, user=user, status="submitted", now=NOW,
                       title="Dân vận khéo")
    [mail] = _mails(session)
    assert mail.subject == f"Biên nhận tác phẩm dự giải {entry.code}: Dân vận khéo"
    assert "Thời điểm gửi: 12:04:05 01/03/2026 (UTC+09:00, Asia/Tokyo)" in mail.text


@pytest.mark.parametrize("decision, status, template, subject, line", [
    ("return", "returned", "entry_returned", "Your entry C1-001 was returned for changes",
     "Change and submit the entry here:"),
    ("reject", "rejected", "entry_rejected", "Your entry C1-001 was not accepted",
     "The organizer has not accepted your entry into the award."),
    ("accept", "accepted", "entry_accepted", "Your entry C1-001 was accepted",
     "The organizer has accepted your entry: it meets the award's rules and goes on to "
     "judging."),
])
def test_screening_mails_the_submitter(session, award, decision, status, template, subject,
                                       line):
    user = make_user(session, language="en")
    organizer = make_user(session, role="organizer", language="vi")
    entry = make_entry(session, award, user=user, status="submitted", now=NOW)
    reason = "Thiếu bản PDF kỳ 2.\nĐề nghị bổ sung." if decision != "accept" else None
    entry_writes.screen_entry(session, entry, decision=decision, reason=reason, actor=organizer,
                         now=NOW)
    [mail] = _mails(session, template)
    assert (entry.status, mail.to, mail.language, mail.subject) == (
        status, user.email, "en", subject)
    assert line in mail.text
    assert _url(f"/entries/{entry.id}") in mail.text
    if reason:
        assert f"The organizer's reason:\n{reason}\n" in mail.text
    assert [m.template for m in _mails(session)] == ["entry_receipt", template]


def test_withdrawing_sends_no_mail(session, award):
    user = make_user(session)
    make_entry(session, award, user=user, status="withdrawn", now=NOW)
    assert [m.template for m in _mails(session)] == ["entry_receipt"]


def test_co_authors_are_told_at_submission_once_per_entry_and_address(session, award):
    hoa = make_user(session, email="hoa@example.vn", language="en")
    submitter = make_user(session, full_name="Trần Văn Hùng")
    organizer = make_user(session, role="organizer")
    entry = make_entry(session, award, user=submitter, now=NOW, title="Những bàn tay giữ rừng",
                       co_authors=[{"full_name": "Lê Thị Hoa", "email": "hoa@example.vn"},
                                   {"full_name": "Phạm Văn Nam", "email": "nam@example.vn"},
                                   {"full_name": "Lò Văn Pá"}])
    assert _mails(session, "co_author_listed") == []  # not at draft time
    entry_writes.submit_entry(session, entry, user=submitter, now=NOW)
    linked, unlinked = _mails(session, "co_author_listed")
    assert (linked.to, linked.user_id, linked.language, linked.subject) == (
        "hoa@example.vn", hoa.id, "en",
        "You are listed as a co-author of “Những bàn tay giữ rừng”")
    assert ("Trần Văn Hùng has listed you as a co-author of the work “Những bàn tay giữ "
            "rừng”, submitted to Giải báo chí Xây dựng Đảng 2026.") in linked.text
    assert f"You can follow the entry here:\n{_url(f'/entries/{entry.id}')}\n" in linked.text
    assert (unlinked.to, unlinked.user_id, unlinked.language, unlinked.subject) == (
        "nam@example.vn", None, "vi", "Bạn có tên là đồng tác giả của tác phẩm “Những bàn tay "
                                      "giữ rừng”")
    assert "bằng địa chỉ e-mail này (nam@example.vn)" in unlinked.text
    assert f"{_url('/register')}\n" in unlinked.text
    assert _url(f"/entries/{entry.id}") not in unlinked.text

    # Returned, the list edited (Hoa kept, Nam replaced by Mai), submitted again: only the
    # new address is told.
    entry_writes.screen_entry(session, entry, decision="return", reason="Bổ sung", actor=organizer,
                         now=NOW)
    entry_writes.update_entry(session, entry, EntryUpdate(co_authors=[
        CoAuthorIn(full_name="Lê Thị Hoa", email="hoa@example.vn"),
        CoAuthorIn(full_name="Võ Thị Mai", email="mai@example.vn")]), user=submitter, now=NOW)
    entry_writes.submit_entry(session, entry, user=submitter, now=NOW)
    assert [m.to for m in _mails(session, "co_author_listed")] == [
        "hoa@example.vn", "nam@example.vn", "mai@example.vn"]
    assert [m.to for m in _mails(session, "entry_receipt")] == [submitter.email] * 2


def test_one_address_gets_at_most_five_co_author_notices_a_day(session, award):
    """Withdrawing and submitting new entries must not turn the notice into a way to flood
    a mailbox: beyond five a day to one address, the notice is dropped (the entry is
    submitted all the same)."""
    award.max_entries_per_author = 10
    session.add(award)
    line = [{"full_name": "Lê Thị Hoa", "email": "hoa@example.vn"}]
    submitter = make_user(session)
    for i in range(7):
        entry = make_entry(session, award, user=submitter, co_authors=line, title=f"Bai {i}",
                           now=NOW, status="submitted")
        assert entry.status == "submitted"
    assert len(_mails(session, "co_author_listed")) == 5


def test_a_rolled_back_submission_queues_nothing(session, award):
    user = make_user(session)
    entry = make_entry(session, award, user=user, now=NOW,
                       co_authors=[{"full_name": "Phạm Văn Nam", "email": "nam@example.vn"}])
    session.commit()
    entry_writes.submit_entry(session, entry, user=user, now=NOW)
    assert [m.template for m in _mails(session)] == ["entry_receipt", "co_author_listed"]
    session.rollback()
    assert session.exec(select(func.count()).select_from(Mail)).one() == 0
    assert session.get(Entry, entry.id).status == "draft"
    assert session.get(Entry, entry.id).authors[1].notified_at is None
