from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from app.audit.models import AuditEntry
from app.awards import service as awards
from app.awards.models import AwardUpdate
from app.entries import files as entry_files
from app.entries import queries as entry_queries
from app.entries import views as entry_views
from app.entries import writes as entry_writes
from app.entries.models import CoAuthorIn, EntryCreate, EntryFile, EntryUpdate
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.samples import pdf, png
from app.storage import get_storage
from tests.factories import make_award, make_category, make_entry, make_user, store

NOW = datetime.now(UTC)




@pytest.fixture
def award(session):
    return make_award(session, status="open", categories=2)


def _create(session, award, user, **over):
    category = awards.list_categories(session, award)[0]
    values = dict(category_id=category.id, title="Đảng viên trẻ", outlet="Báo Ninh Thuận",
                  published_on=date(2026, 3, 1))
    values.update(over)
    return entry_writes.create_entry(session, award, EntryCreate(**values), user=user, now=NOW)


def test_entry_starts_as_a_draft_without_a_code_with_the_submitter_first(session, award):
    user = make_user(session, full_name="Trần Văn Hùng", pen_name="Hùng Trần")
    entry = _create(session, award, user,
                    co_authors=[CoAuthorIn(full_name=" Lê  Thị Hoa ", email="Hoa@Example.vn")])
    assert (entry.status, entry.code) == ("draft", None)
    assert [(a.full_name, a.pen_name, a.email, a.user_id) for a in entry.authors] == [
        ("Trần Văn Hùng", "Hùng Trần", user.email, user.id),
        ("Lê Thị Hoa", None, "hoa@example.vn", None)]


def test_only_open_awards_take_entries(session):
    draft = make_award(session, categories=1)
    with pytest.raises(Conflict) as err:
        _create(session, draft, make_user(session))
    assert err.value.message == "This award is not accepting entries."


def test_publication_date_outside_the_period_is_refused_at_creation(session, award):
    with pytest.raises(Invalid) as err:
        _create(session, award, make_user(session), published_on=date(2024, 1, 1))
    assert err.value.field == "published_on"


def test_too_many_authors_is_refused_at_creation(session):
    award = make_award(session, status="open", max_authors_per_entry=2)
    with pytest.raises(Invalid) as err:
        _create(session, award, make_user(session),
                co_authors=[CoAuthorIn(full_name="A"), CoAuthorIn(full_name="B")])
    assert err.value.params == {"n": 2}


def test_too_many_series_parts_is_refused(session, award):
    with pytest.raises(Invalid) as err:
        _create(session, award, make_user(session), series_parts=6)
    assert err.value.field == "series_parts"


def test_entry_limit_counts_entries_not_withdrawn_or_rejected(session):
    award = make_award(session, status="open", max_entries_per_author=2)
    user = make_user(session)
    make_entry(session, award, user=user, status="withdrawn")
    make_entry(session, award, user=user, status="rejected")
    make_entry(session, award, user=user)
    make_entry(session, award, user=user, status="submitted")
    with pytest.raises(Conflict) as err:
        _create(session, award, user)
    assert err.value.params == {"n": 2}


def test_limit_is_checked_again_at_submission(session):
    organizer = make_user(session, role="organizer")
    award = make_award(session, organizer=organizer, status="open", max_entries_per_author=2)
    user = make_user(session)
    make_entry(session, award, user=user, status="submitted")
    second = make_entry(session, award, user=user)
    awards.update_award(session, award, AwardUpdate(max_entries_per_author=1), actor=organizer)
    with pytest.raises(Conflict):
        entry_writes.submit_entry(session, second, user=user, now=NOW)


def test_submit_gives_a_code_from_the_category(session, award):
    first = make_entry(session, award, status="submitted")
    second = make_entry(session, award, status="submitted")
    code = awards.list_categories(session, award)[0].code
    assert (first.code, second.code) == (f"{code}-001", f"{code}-002")
    assert first.status == "submitted" and first.submitted_at is not None


def test_codes_count_per_category(session, award):
    cats = awards.list_categories(session, award)
    a = make_entry(session, award, category=cats[0], status="submitted")
    b = make_entry(session, award, category=cats[1], status="submitted")
    assert (a.code, b.code) == (f"{cats[0].code}-001", f"{cats[1].code}-001")


def test_code_survives_return_and_resubmission(session, award):
    organizer = make_user(session, role="organizer")
    entry = make_entry(session, award, status="submitted")
    code = entry.code
    entry_writes.screen_entry(session, entry, decision="return", reason="Thiếu bản PDF trang báo",
                         actor=organizer, now=NOW)
    assert (entry.status, entry.screening_reason) == ("returned", "Thiếu bản PDF trang báo")
    entry_writes.update_entry(session, entry, EntryUpdate(title="Tên đã sửa"),
                         user=_submitter(session, entry), now=NOW)
    entry_writes.submit_entry(session, entry, user=_submitter(session, entry), now=NOW)
    assert (entry.status, entry.code) == ("submitted", code)


def test_submission_needs_a_file(session, award):
    entry = make_entry(session, award, files=[])
    with pytest.raises(Conflict) as err:
        entry_writes.submit_entry(session, entry, user=_submitter(session, entry), now=NOW)
    assert err.value.message == "Upload at least one file of the work before submitting."


def _submitter(session, entry):
    from app.accounts.models import User

    return session.get(User, entry.submitter_id)


def test_submission_needs_the_url_the_category_requires(session):
    organizer = make_user(session, role="organizer")
    award = make_award(session, organizer=organizer, categories=0)
    category = make_category(session, award, organizer=organizer, url_required=True)
    awards.change_status(session, award, "open", actor=organizer)
    entry = make_entry(session, award, category=category)
    with pytest.raises(Conflict) as err:
        entry_writes.submit_entry(session, entry, user=_submitter(session, entry), now=NOW)
    assert err.value.field == "url"


def test_submission_window_uses_now(session, award):
    entry = make_entry(session, award)
    with pytest.raises(Conflict) as err:
        entry_writes.submit_entry(session, entry, user=_submitter(session, entry),
                             now=award.submission_closes_at)
    assert err.value.message == "The submission deadline has passed."
    with pytest.raises(Conflict):
        entry_writes.submit_entry(session, entry, user=_submitter(session, entry),
                             now=award.submission_opens_at - timedelta(seconds=1))


def test_others_cannot_see_or_change_an_entry(session, award):
    entry = make_entry(session, award)
    stranger = make_user(session)
    judge = make_user(session, role="judge")
    for viewer in (stranger, judge):
        with pytest.raises(NotFound):
            entry_queries.get_entry(session, entry.id, viewer=viewer)
    with pytest.raises(NotFound):
        entry_writes.update_entry(session, entry, EntryUpdate(title="x"), user=stranger, now=NOW)
    organizer = make_user(session, role="organizer")
    assert entry_queries.get_entry(session, entry.id, viewer=organizer).id == entry.id


def test_a_co_author_with_a_verified_account_sees_the_entry_but_cannot_change_it(session,
                                                                                 award):
    co = make_user(session, email="dongtacgia@example.vn")
    entry = make_entry(session, award, co_authors=[{"full_name": "Đồng Tác Giả",
                                                    "email": "DongTacGia@example.vn"}])
    assert entry_queries.get_entry(session, entry.id, viewer=co).id == entry.id
    with pytest.raises(Forbidden) as err:
        entry_writes.update_entry(session, entry, EntryUpdate(title="x"), user=co, now=NOW)
    assert err.value.message == "Only the author who submitted the entry can change it."


def test_submitted_entries_cannot_be_edited(session, award):
    entry = make_entry(session, award, status="submitted")
    with pytest.raises(Conflict):
        entry_writes.update_entry(session, entry, EntryUpdate(title="Mới"),
                             user=_submitter(session, entry), now=NOW)


def test_withdraw_is_refused_once_judging_started(session):
    organizer = make_user(session, role="organizer")
    award = make_award(session, organizer=organizer, status="open")
    entry = make_entry(session, award, status="accepted")
    for target in ("closed", "judging"):
        awards.change_status(session, award, target, actor=organizer)
    with pytest.raises(Conflict) as err:
        entry_writes.withdraw_entry(session, entry, user=_submitter(session, entry), now=NOW)
    assert err.value.message == "Entries cannot be withdrawn once judging has started."


def test_screening_is_audited_with_the_reason(session, award):
    organizer = make_user(session, role="organizer")
    entry = make_entry(session, award, status="submitted")
    entry_writes.screen_entry(session, entry, decision="reject", reason="Đã đoạt giải khác",
                         actor=organizer, now=NOW)
    row = session.exec(select(AuditEntry).where(AuditEntry.action == "entry.reject")).one()
    assert (row.actor_id, row.object_id, row.changes, row.reason) == (
        organizer.id, entry.id, {"status": ["submitted", "rejected"]}, "Đã đoạt giải khác")
    assert [h["status"] for h in entry_queries.history(session, entry)] == [
        "draft", "submitted", "rejected"]


def test_same_file_in_two_entries_of_an_award_is_flagged(session, award):
    same = pdf("trung lap")
    first = make_entry(session, award, files=[same], status="submitted")
    second = make_entry(session, award, files=[same, png()], status="submitted")
    other_award = make_award(session, status="open")
    elsewhere = make_entry(session, other_award, files=[same])
    found = entry_queries.duplicates_for(session, [first, second, elsewhere])
    assert [(d.other_code, d.other_entry_id) for d in found[second.id]] == [
        (first.code, first.id)]
    assert [d.other_code for d in found[first.id]] == [second.code]
    assert elsewhere.id not in found
    organizer = make_user(session, role="organizer")
    view = entry_views.view_for(session, second, organizer)
    assert view.flags == [f"duplicate file: same SHA-256 as {first.code}"]


def test_search_folds_diacritics_and_finds_authors(session, award):
    a = make_entry(session, award, title="Xây dựng Đảng ở cơ sở", status="submitted")
    b = make_entry(session, award, title="Chuyện làng biển", status="submitted",
                   user=make_user(session, full_name="Phạm Thị Đào"))
    found = lambda q: [e.id for e in entry_queries.list_award_entries(session, award, q=q)[0]]  # noqa
    assert found("xay dung dang") == [a.id]
    assert found("Xây dựng Đảng") == [a.id]
    assert found("dao") == [b.id]
    assert found("ĐÀO") == [b.id]
    assert found("khong co") == []


def test_author_sort_is_vietnamese(session, award):
    names = ["Nguyễn Văn Đức", "Trần Thị Dung", "Lê Ân", "Phạm An", "Võ Ăn"]
    for name in names:
        make_entry(session, award, status="submitted", user=make_user(session, full_name=name))
    entries, _ = entry_queries.list_award_entries(session, award, sort="author")
    assert [e.authors[0].full_name for e in entries] == [
        "Phạm An", "Võ Ăn", "Lê Ân", "Trần Thị Dung", "Nguyễn Văn Đức"]


def test_organizer_list_hides_drafts_unless_asked(session, award):
    draft = make_entry(session, award)
    sent = make_entry(session, award, status="submitted")
    assert [e.id for e in entry_queries.list_award_entries(session, award)[0]] == [sent.id]
    assert [e.id for e in entry_queries.list_award_entries(session, award, status="draft")[0]] == [
        draft.id]


def test_deleting_a_file_removes_it_from_disk_after_commit(session, award):
    entry = make_entry(session, award)
    row = entry.files[0]
    path = get_storage().path_of(row.stored_name)
    assert path.exists()
    entry_files.delete_file(session, entry.id, row.id, user=_submitter(session, entry), now=NOW)
    assert path.exists()
    session.commit()
    assert not path.exists()
    assert session.exec(select(EntryFile).where(EntryFile.id == row.id)).first() is None


def test_a_rolled_back_attach_leaves_no_file(session, award):
    entry = make_entry(session, award, files=[])
    session.commit()
    stored = store(pdf("rollback"))
    entry_files.attach_file(session, entry.id, stored, "x.pdf", user=_submitter(session, entry),
                        now=NOW)
    assert get_storage().exists(stored.name)
    session.rollback()
    assert not get_storage().exists(stored.name)


def test_moving_a_draft_to_a_category_that_refuses_its_files_names_them(session):
    organizer = make_user(session, role="organizer")
    award = make_award(session, organizer=organizer, status="open")
    audio = make_category(session, award, organizer=organizer, code="PT", name="Phát thanh",
                          accepted_kinds=["audio"])
    entry = make_entry(session, award, files=[pdf("bai"), png()])
    names = [f.filename for f in entry.files]
    with pytest.raises(Conflict) as err:
        entry_writes.update_entry(session, entry, EntryUpdate(category_id=audio.id),
                             user=_submitter(session, entry), now=NOW)
    assert err.value.field == "category_id"
    assert err.value.params == {"category": "Phát thanh", "files": "; ".join(names)}


def test_moving_a_draft_checks_the_new_categorys_size_limit(session):
    organizer = make_user(session, role="organizer")
    award = make_award(session, organizer=organizer, status="open")
    small = make_category(session, award, organizer=organizer, code="NHO", name="Nhỏ",
                          max_file_mb=1)
    entry = make_entry(session, award, files=[pdf("lon") + b"x" * (1024 * 1024), png()])
    with pytest.raises(Conflict) as err:
        entry_writes.update_entry(session, entry, EntryUpdate(category_id=small.id),
                             user=_submitter(session, entry), now=NOW)
    assert err.value.params["files"] == entry.files[0].filename
    fitting = make_category(session, award, organizer=organizer, code="LON", name="Lớn",
                            max_file_mb=5)
    entry_writes.update_entry(session, entry, EntryUpdate(category_id=fitting.id),
                         user=_submitter(session, entry), now=NOW)
    assert entry.category_id == fitting.id


def test_submitting_rechecks_files_against_the_categorys_current_rules(session):
    organizer = make_user(session, role="organizer")
    award = make_award(session, organizer=organizer, status="open")
    entry = make_entry(session, award, files=[pdf("bai"), png()])
    category = awards.list_categories(session, award)[0]
    from app.awards.models import CategoryUpdate

    awards.update_category(session, category, CategoryUpdate(accepted_kinds=["pdf"]),
                           actor=organizer)
    with pytest.raises(Conflict) as err:
        entry_writes.submit_entry(session, entry, user=_submitter(session, entry), now=NOW)
    assert err.value.params["files"] == entry.files[1].filename
    assert entry.status == "draft" and entry.code is None
