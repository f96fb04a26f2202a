"""Results services: ranking from a closed round, shortlist, allocation, overrides,
publishing (certificates and authors' mails)."""

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from app.awards import service as award_service
from app.awards.models import AwardUpdate
from app.errors import Conflict, Invalid
from app.judging import queries as judging_queries
from app.judging import service as judging_service
from app.judging.models import ShortlistEntry
from app.mail.models import Mail
from app.results import queries, service
from app.results.models import AllocateIn, Certificate, Prize, PrizeIn, ShortlistIn
from tests.factories import make_judging, make_round, score_round, seat


def now():
    return datetime.now(UTC)


def _scored(session, totals_by_entry, **kwargs):
    """A closed round whose entry i gets from every judge the points in totals_by_entry[i]
    (40/30/30 rubric)."""
    world = make_judging(session, entries=len(totals_by_entry), judges=3, judges_per_entry=2,
                         **kwargs)
    index = {e.id: i for i, e in enumerate(world.entries)}
    score_round(session, world.round, lambda entry, judge: totals_by_entry[index[entry.id]],
                organizer=world.organizer)
    return world


def test_ranking_orders_by_score_and_shares_ties(session):
    world = _scored(session, [(30, 20, 20), (35, 25, 25), (30, 20, 20), (10, 10, 10)])
    rows = queries.ranking_rows(session, world.round)
    by_entry = {r.entry_id: r for r in rows}
    e = world.entries
    assert [r.entry_id for r in rows] == [e[1].id, e[0].id, e[2].id, e[3].id]
    assert [r.rank for r in rows] == [1, 2, 2, 4]
    assert by_entry[e[1].id].score == 85.0
    assert by_entry[e[3].id].raw_mean == 30.0
    assert [j.judge for j in by_entry[e[0].id].judges] == sorted(
        j.judge for j in by_entry[e[0].id].judges)


def test_shortlist_then_next_round_takes_it(session):
    world = _scored(session, [(30, 20, 20), (35, 25, 25), (30, 20, 20), (10, 10, 10)])
    result = service.shortlist(session, world.round, ShortlistIn(top_n=2),
                               actor=world.organizer, now=now())
    assert result.shortlisted == 3  # ranks 1, 2, 2: the tie at the cut goes on
    final = make_round(session, world.award, organizer=world.organizer, name="Vòng chung khảo",
                       source_round_id=world.round.id)
    specs = judging_queries.round_entry_specs(session, final)
    assert {spec.id for spec, _code in specs} == {world.entries[i].id for i in (0, 1, 2)}
    again = service.shortlist(session, world.round, ShortlistIn(min_score=80),
                              actor=world.organizer, now=now())
    assert again.shortlisted == 1
    assert set(session.exec(select(ShortlistEntry.entry_id)).all()) == {world.entries[1].id}


def test_shortlist_refused_while_scoring(session):
    world = make_judging(session, entries=2)
    with pytest.raises(Conflict):
        service.shortlist(session, world.round, ShortlistIn(top_n=1), actor=world.organizer,
                          now=now())


def test_allocate_override_publish(session, monkeypatch):
    world = _scored(session, [(30, 20, 20), (35, 25, 25), (20, 20, 20), (10, 10, 10)])
    prizes = service.allocate(session, world.award, AllocateIn(round_id=world.round.id,
                                                               min_score={"C": 50}),
                              actor=world.organizer, now=now())
    e = world.entries
    assert {p.entry_id: p.level for p in prizes} == {
        e[1].id: "A", e[0].id: "B", e[2].id: "B", e[3].id: "KK"}
    # Quota: B holds 2 already.
    with pytest.raises(Conflict):
        service.set_prize(session, e[3], PrizeIn(level="B", reason="Xứng đáng"),
                          actor=world.organizer, now=now())
    with pytest.raises(Invalid):
        service.set_prize(session, e[3], PrizeIn(level="C", reason=" "),
                          actor=world.organizer, now=now())
    changed = service.set_prize(session, e[3], PrizeIn(level=None, reason="Vi phạm bản quyền"),
                                actor=world.organizer, now=now())
    assert (changed.proposed_level, changed.level, changed.reason) == (
        "KK", None, "Vi phạm bản quyền")
    award_service.change_status(session, world.award, "published", actor=world.organizer)
    certificates = session.exec(select(Certificate)).all()
    assert sorted(c.entry_id for c in certificates) == sorted([e[0].id, e[1].id, e[2].id])
    with pytest.raises(Conflict):
        service.set_prize(session, e[3], PrizeIn(level="KK"), actor=world.organizer, now=now())
    mails = session.exec(select(Mail).where(Mail.template == "results_published")).all()
    assert len(mails) == 4
    assert session.get(Prize, e[3].id).level is None


def test_publish_refused_without_allocation(session):
    world = _scored(session, [(30, 20, 20)])
    with pytest.raises(Conflict):
        award_service.change_status(session, world.award, "published", actor=world.organizer)
    assert world.award.status == "judging"


def test_publish_goes_ahead_with_entries_a_forced_close_left_unranked(session):
    world = make_judging(session, entries=2, judges=2, judges_per_entry=2)
    first = world.entries[0].id
    score_round(session, world.round,
                lambda entry, judge: (30, 20, 20) if entry.id == first else None,
                organizer=world.organizer)
    service.allocate(session, world.award, AllocateIn(round_id=world.round.id),
                     actor=world.organizer, now=now())
    assert service.unranked_codes(session, world.award) == [world.entries[1].code]
    award_service.change_status(session, world.award, "published", actor=world.organizer)
    assert world.award.status == "published"


def test_a_stale_second_tab_cannot_overwrite_a_prize(session):
    world = _scored(session, [(35, 25, 25), (30, 20, 20)])
    service.allocate(session, world.award, AllocateIn(round_id=world.round.id),
                     actor=world.organizer, now=now())
    second = world.entries[1]
    service.set_prize(session, second, PrizeIn(level="C", reason="Tab một", expected_level="B"),
                      actor=world.organizer, now=now())
    with pytest.raises(Conflict) as refused:
        service.set_prize(session, second, PrizeIn(level="KK", reason="Tab hai",
                                                   expected_level="B"),
                          actor=world.organizer, now=now())
    assert refused.value.message == ("This prize was changed meanwhile: it is now “{level}”. "
                                      "Check it and save again.")
    assert session.get(Prize, second.id).level == "C"
    # Without expected_level (an API client that does not ask), the last change wins.
    service.set_prize(session, second, PrizeIn(level="KK", reason="API"),
                      actor=world.organizer, now=now())
    assert session.get(Prize, second.id).level == "KK"


def test_an_invisible_reason_is_no_reason(session):
    world = _scored(session, [(35, 25, 25), (30, 20, 20)])
    service.allocate(session, world.award, AllocateIn(round_id=world.round.id),
                     actor=world.organizer, now=now())
    with pytest.raises(Invalid):
        service.set_prize(session, world.entries[1], PrizeIn(level="C", reason="\u200b \u2060"),
                          actor=world.organizer, now=now())
    assert session.get(Prize, world.entries[1].id).level == "B"


def test_a_quota_lowered_after_allocation_blocks_publishing(session):
    world = _scored(session, [(35, 25, 25), (30, 20, 20)])
    award_service.update_award(session, world.award, AwardUpdate(special_prize_quota=1),
                               actor=world.organizer)
    prizes = service.allocate(session, world.award, AllocateIn(round_id=world.round.id),
                              actor=world.organizer, now=now())
    assert {p.entry_id: p.level for p in prizes} == {world.entries[0].id: "DB",
                                                     world.entries[1].id: "A"}
    award_service.update_award(session, world.award, AwardUpdate(special_prize_quota=0),
                               actor=world.organizer)
    with pytest.raises(Conflict) as refused:
        award_service.change_status(session, world.award, "published", actor=world.organizer)
    assert refused.value.params["levels"] == "DB"
    assert world.award.status == "judging"


def test_after_publishing_the_printed_facts_are_frozen(session):
    world = _scored(session, [(35, 25, 25)])
    service.allocate(session, world.award, AllocateIn(round_id=world.round.id),
                     actor=world.organizer, now=now())
    award_service.change_status(session, world.award, "published", actor=world.organizer)
    with pytest.raises(Conflict):
        award_service.update_award(session, world.award, AwardUpdate(title="Tên khác"),
                                   actor=world.organizer)
    award_service.update_award(session, world.award, AwardUpdate(rules="## Thể lệ mới"),
                               actor=world.organizer)
    assert world.award.rules == "## Thể lệ mới"


def test_a_round_whose_shortlist_shrank_after_assignment_does_not_start(session):
    world = _scored(session, [(35, 25, 25), (30, 20, 20), (20, 20, 20)])
    service.shortlist(session, world.round, ShortlistIn(top_n=3), actor=world.organizer,
                      now=now())
    final = make_round(session, world.award, organizer=world.organizer, name="Vòng chung khảo",
                       source_round_id=world.round.id)
    for judge in world.judges:
        seat(session, final, judge, [world.category], organizer=world.organizer)
    judging_service.assign_round(session, final, actor=world.organizer, now=now())
    service.shortlist(session, world.round, ShortlistIn(top_n=1), actor=world.organizer,
                      now=now())
    with pytest.raises(Conflict) as refused:
        judging_service.move_round(session, final, "start", actor=world.organizer, now=now())
    assert refused.value.message.startswith("The entries of this round changed")
    judging_service.assign_round(session, final, actor=world.organizer, now=now())
    judging_service.move_round(session, final, "start", actor=world.organizer, now=now())
    assert final.status == "scoring"
