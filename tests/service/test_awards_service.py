from datetime import UTC, date, datetime

import pytest
from sqlmodel import select

from app.audit.models import AuditEntry
from app.awards import service
from app.awards.models import AwardCreate, AwardUpdate, CategoryCreate, CategoryUpdate
from app.errors import Conflict, Invalid, NotFound
from tests.factories import make_award, make_category, make_entry, make_user, publish


def _create(session, organizer, **over):
    values = dict(title="Giải báo chí Ninh Thuận", year=2021,
                  submission_opens_at=datetime(2021, 5, 1, 8, 0),
                  submission_closes_at=datetime(2021, 10, 31, 17, 0),
                  published_from=date(2020, 11, 1), published_to=date(2021, 10, 31))
    values.update(over)
    return service.create_award(session, AwardCreate(**values), actor=organizer)


def test_new_award_is_a_draft_with_a_slug_from_its_title(session):
    award = _create(session, make_user(session, role="organizer"))
    assert (award.status, award.slug) == ("draft", "giai-bao-chi-ninh-thuan-2021")


def test_times_without_offset_are_read_in_the_award_time_zone(session):
    award = _create(session, make_user(session, role="organizer"))
    session.expire_all()
    assert award.submission_closes_at == datetime(2021, 10, 31, 10, 0, tzinfo=UTC)


def test_two_awards_cannot_share_a_slug(session):
    organizer = make_user(session, role="organizer")
    _create(session, organizer)
    with pytest.raises(Conflict):
        _create(session, organizer)


def test_update_records_only_real_changes_with_the_reason(session):
    award = make_award(session)
    organizer = make_user(session, role="organizer")
    service.update_award(session, award,
                         AwardUpdate(max_entries_per_author=1, title=award.title,
                                     reason="Theo kế hoạch mới"), actor=organizer)
    entry = session.exec(select(AuditEntry).where(AuditEntry.action == "award.update")).one()
    assert entry.changes == {"max_entries_per_author": [3, 1]}
    assert entry.reason == "Theo kế hoạch mới"


def test_invalid_update_raises_and_names_the_field(session):
    award = make_award(session)
    with pytest.raises(Invalid) as err:
        service.update_award(session, award, AwardUpdate(published_to=date(2000, 1, 1)),
                             actor=make_user(session, role="organizer"))
    assert err.value.field == "published_to"


def test_status_walks_the_machine_and_is_audited(session):
    award = make_award(session, categories=1)
    organizer = make_user(session, role="organizer")
    for target in ("open", "closed", "judging"):
        service.update_award(session, award, AwardUpdate(status=target), actor=organizer)
        if target == "open":
            make_entry(session, award, status="accepted")
    with pytest.raises(Conflict):  # no prizes allocated yet
        service.update_award(session, award, AwardUpdate(status="published"), actor=organizer)
    publish(session, award, organizer=organizer)
    assert award.status == "published"
    moves = session.exec(select(AuditEntry.changes).where(
        AuditEntry.action == "award.status", AuditEntry.object_id == award.id)
        .order_by(AuditEntry.id)).all()
    assert moves == [{"status": ["draft", "open"]}, {"status": ["open", "closed"]},
                     {"status": ["closed", "judging"]}, {"status": ["judging", "published"]}]


def test_skipping_a_status_is_a_conflict(session):
    award = make_award(session)
    with pytest.raises(Conflict):
        service.update_award(session, award, AwardUpdate(status="judging"),
                             actor=make_user(session, role="organizer"))
    assert award.status == "draft"


def test_drafts_are_hidden_from_everyone_but_organizers(session):
    draft = make_award(session)
    opened = make_award(session, status="open")
    journalist = make_user(session)
    organizer = make_user(session, role="organizer")
    with pytest.raises(NotFound):
        service.get_award(session, draft.id, viewer=journalist)
    with pytest.raises(NotFound):
        service.get_award_by_slug(session, draft.slug, viewer=None)
    assert service.get_award(session, draft.id, viewer=organizer).id == draft.id
    public_ids = {a.id for a in service.list_awards(session, viewer=None)[0]}
    assert opened.id in public_ids and draft.id not in public_ids


def test_category_codes_are_unique_within_an_award(session):
    organizer = make_user(session, role="organizer")
    award = make_award(session, organizer=organizer, categories=0)
    make_category(session, award, organizer=organizer, code="BDT")
    with pytest.raises(Conflict):
        make_category(session, award, organizer=organizer, code="bdt")
    other = make_award(session, organizer=organizer, categories=0)
    assert make_category(session, other, organizer=organizer, code="BDT").code == "BDT"


def test_categories_are_frozen_after_submissions_close(session):
    organizer = make_user(session, role="organizer")
    award = make_award(session, organizer=organizer, status="closed")
    category = service.list_categories(session, award)[0]
    with pytest.raises(Conflict):
        service.update_category(session, category, CategoryUpdate(name="Khác"), actor=organizer)
    with pytest.raises(Conflict):
        service.add_category(session, award, CategoryCreate(
            code="PT", name="Phát thanh", accepted_kinds=["audio"], max_file_mb=100),
            actor=organizer)


def test_rules_markdown_is_rendered_without_scripts():
    html = service.render_rules("## Thể lệ\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1))")
    assert "<h2>Thể lệ</h2>" in html
    assert "<script>" not in html
    assert "href=\"javascript" not in html
    assert "&lt;script&gt;" in html
