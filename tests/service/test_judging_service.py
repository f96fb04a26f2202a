"""Judging services: rounds, panels, assignment, scores, conflicts, progress, close."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from app.accounts.rules import Role
from app.audit.models import AuditEntry
from app.awards import service as award_service
from app.entries import files as entry_files
from app.entries import writes as entry_writes
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.judging import queries, service
from app.judging.models import (
    Assignment,
    CriterionIn,
    PanelIn,
    PanelMember,
    RoundUpdate,
    Score,
    ScoreChange,
    ScoreIn,
)
from app.mail import service as mail_service
from app.mail.models import Mail
from tests.factories import make_award, make_entry, make_judging, make_round, make_user, seat


def now():
    return datetime.now(UTC)


def _queue(session, world, judge):
    return queries.judge_queue(session, world.round, judge)


def _points(session, round_, values):
    criteria = queries.criteria_of(session, round_.id)
    return {str(c.id): v for c, v in zip(criteria, values, strict=False)}


def test_assignment_gives_every_entry_its_judges_and_mails_at_start(session):
    world = make_judging(session, entries=3, judges=3, judges_per_entry=2)
    rows = session.exec(select(Assignment).where(Assignment.round_id == world.round.id)).all()
    per_entry = {}
    for a in rows:
        per_entry.setdefault(a.entry_id, []).append(a.judge_id)
    assert sorted(len(v) for v in per_entry.values()) == [2, 2, 2]
    loads = sorted(sum(1 for a in rows if a.judge_id == j.id) for j in world.judges)
    assert loads == [2, 2, 2]
    from app.mail.models import Mail
    mails = session.exec(select(Mail).where(Mail.template == "judge_queue")).all()
    assert sorted(m.to for m in mails) == sorted(j.email for j in world.judges)


def test_a_judge_scores_draft_then_final_and_every_save_is_kept(session):
    world = make_judging(session, entries=1, judges=2, judges_per_entry=2)
    judge = world.judges[0]
    entry = world.entries[0]
    draft = ScoreIn(points=_points(session, world.round, [30]), final=False)
    score = service.save_score(session, world.round.id, entry.id, draft, judge=judge, now=now())
    assert (score.total, score.final) == (30.0, False)
    assert [a.state for a in _queue(session, world, judge)] == ["draft"]
    final = ScoreIn(points=_points(session, world.round, [35, 25.5, 20]), final=True,
                    comment="Tốt")
    score = service.save_score(session, world.round.id, entry.id, final, judge=judge, now=now())
    assert (score.total, score.final) == (80.5, True)
    changes = session.exec(select(ScoreChange).where(ScoreChange.score_id == score.id)
                           .order_by(ScoreChange.id)).all()
    assert [c.after["total"] for c in changes] == [30.0, 80.5]
    assert changes[1].before["total"] == 30.0


def test_points_out_of_bounds_or_missing_when_final_name_the_criterion(session):
    world = make_judging(session, entries=1, judges=2, judges_per_entry=2)
    judge, entry = world.judges[0], world.entries[0]
    with pytest.raises(Invalid) as error:
        service.save_score(session, world.round.id, entry.id,
                           ScoreIn(points=_points(session, world.round, [41])), judge=judge,
                           now=now())
    assert error.value.params["name"] == "Nội dung"
    with pytest.raises(Invalid) as error:
        service.save_score(session, world.round.id, entry.id,
                           ScoreIn(points=_points(session, world.round, [40]), final=True),
                           judge=judge, now=now())
    assert error.value.params["names"] == "Hình thức, Tác động"
    with pytest.raises(Invalid):
        service.save_score(session, world.round.id, entry.id,
                           ScoreIn(points={"999999": 1}), judge=judge, now=now())


def test_unassigned_judge_is_refused_and_a_stranger_sees_nothing(session):
    world = make_judging(session, entries=2, judges=3, judges_per_entry=1)
    judge = world.judges[0]
    mine = {a.entry_id for a in _queue(session, world, judge)}
    other = next(e for e in world.entries if e.id not in mine)
    with pytest.raises(Forbidden):
        service.save_score(session, world.round.id, other.id, ScoreIn(points={}), judge=judge,
                           now=now())
    with pytest.raises(NotFound):
        queries.judge_entry_public(session, world.round.id, other.id, viewer=judge)


def test_conflict_moves_the_entry_to_another_judge(session):
    world = make_judging(session, entries=1, judges=3, judges_per_entry=2)
    entry = world.entries[0]
    holder = next(j for j in world.judges if _queue(session, world, j))
    result = service.declare_conflict(session, world.round.id, entry.id, judge=holder,
                                      reason="Tác giả là người thân", now=now())
    assert result.reassigned is True
    assert _queue(session, world, holder) == []
    progress = queries.progress(session, world.round)
    assert [c.reason for c in progress.conflicts] == ["Tác giả là người thân"]
    assert progress.categories[0].short_of_judges == 0


def test_close_needs_every_score_final_or_a_forced_reason(session):
    world = make_judging(session, entries=1, judges=2, judges_per_entry=2)
    with pytest.raises(Conflict):
        service.move_round(session, world.round, "close", actor=world.organizer, now=now())
    with pytest.raises(Invalid):
        service.move_round(session, world.round, "close", actor=world.organizer, now=now(),
                           force=True)
    service.move_round(session, world.round, "close", actor=world.organizer, now=now(),
                       force=True, reason="Hết thời hạn chấm")
    assert (world.round.status, world.round.close_reason) == ("closed", "Hết thời hạn chấm")


# --- Helpers for the tests below -----------------------------------------------------------

def _audit(session, action):
    return session.exec(select(AuditEntry).where(AuditEntry.action == action)
                        .order_by(AuditEntry.id)).all()


def _active(session, round_):
    rows = session.exec(select(Assignment).where(Assignment.round_id == round_.id,
                                                 Assignment.conflict_at.is_(None))).all()
    per_entry = {}
    for a in rows:
        per_entry.setdefault(a.entry_id, set()).add(a.judge_id)
    return per_entry


def _mails(session, template):
    return session.exec(select(Mail).where(Mail.template == template).order_by(Mail.id)).all()


def _judge(session, name="Giám khảo", **fields):
    return make_user(session, role=Role.judge, full_name=name, **fields)


def _final(session, world, judge, entry, values=(30, 20, 20)):
    return service.save_score(session, world.round.id, entry.id,
                              ScoreIn(points=_points(session, world.round, values), final=True),
                              judge=judge, now=now())


def _holders(session, world, entry):
    return [j for j in world.judges if any(a.entry_id == entry.id
                                           for a in _queue(session, world, j))]


def _two_categories(session, *, judges=2, judges_per_entry=1, entries=1):
    """An award in judging with two categories, ``entries`` accepted entries in each, and
    ``judges`` judges seated for the first one, assigned (setup)."""
    from types import SimpleNamespace

    organizer = make_user(session, role=Role.organizer)
    award = make_award(session, organizer=organizer, status="open", categories=2,
                       max_entries_per_author=5)
    categories = award_service.list_categories(session, award)
    made = [make_entry(session, award, status="accepted", category=c)
            for c in categories for _ in range(entries)]
    for target in ("closed", "judging"):
        award_service.change_status(session, award, target, actor=organizer)
    panel = [_judge(session, f"GK {i + 1}") for i in range(judges)]
    round_ = make_round(session, award, organizer=organizer, judges_per_entry=judges_per_entry)
    for judge in panel:
        seat(session, round_, judge, categories, organizer=organizer)
    service.assign_round(session, round_, actor=organizer, now=now())
    return SimpleNamespace(award=award, categories=categories, entries=made, judges=panel,
                           round=round_, organizer=organizer)


def _round_in(session, status):
    organizer = make_user(session, role=Role.organizer)
    award = make_award(session, organizer=organizer, status=status)
    return award, organizer


# --- Round creation and update -------------------------------------------------------------

@pytest.mark.parametrize("status", ["draft", "open", "published"])
def test_rounds_need_an_award_closed_for_entries_or_judging(session, status):
    award, organizer = _round_in(session, status)
    with pytest.raises(Conflict) as error:
        make_round(session, award, organizer=organizer)
    assert error.value.message == ("Rounds can be prepared once the award is closed for "
                                   "entries or judging.")


@pytest.mark.parametrize("status", ["closed", "judging"])
def test_a_round_is_created_in_setup_with_its_rubric_in_order(session, status):
    award, organizer = _round_in(session, status)
    round_ = make_round(session, award, organizer=organizer, name="  Vòng   sơ khảo ")
    assert (round_.status, round_.name, round_.judges_per_entry) == ("setup", "Vòng sơ khảo", 2)
    assert [(c.position, c.name, c.max_points) for c in queries.criteria_of(session, round_.id)] \
        == [(0, "Nội dung", 40.0), (1, "Hình thức", 30.0), (2, "Tác động", 30.0)]
    [row] = _audit(session, "round.create")
    assert (row.actor_id, row.object_type, row.object_id) == (organizer.id, "round", round_.id)
    assert row.changes == {"name": "Vòng sơ khảo", "blind": True, "judges_per_entry": 2,
                           "aggregation": "mean",
                           "criteria": [["Nội dung", 40.0], ["Hình thức", 30.0],
                                        ["Tác động", 30.0]]}


def test_a_source_round_of_another_award_is_refused(session):
    award, organizer = _round_in(session, "judging")
    other, other_organizer = _round_in(session, "judging")
    foreign = make_round(session, other, organizer=other_organizer)
    with pytest.raises(Invalid) as error:
        make_round(session, award, organizer=organizer, source_round_id=foreign.id)
    assert (error.value.field, error.value.message) == (
        "source_round_id", "The earlier round must be a round of this award.")
    with pytest.raises(Invalid):
        make_round(session, award, organizer=organizer, source_round_id=999_999)
    first = make_round(session, award, organizer=organizer)
    later = make_round(session, award, organizer=organizer, name="Vòng chung khảo",
                       source_round_id=first.id)
    assert later.source_round_id == first.id


@pytest.mark.parametrize(("fields", "field"), [
    ({"name": "   "}, "name"),
    ({"name": "\u202e\t"}, "name"),
    ({"criteria": [{"name": " ", "max_points": 10}]}, "criteria.0.name"),
    ({"criteria": [{"name": "Nội dung", "max_points": 10},
                   {"name": "nội  dung", "max_points": 10}]}, "criteria.1.name"),
])
def test_blank_or_repeated_names_are_refused_and_nothing_is_stored(session, fields, field):
    from app.judging.models import Round

    award, organizer = _round_in(session, "judging")
    session.commit()
    with pytest.raises(Invalid) as error:
        make_round(session, award, organizer=organizer, **fields)
    assert error.value.field == field
    session.rollback()
    assert session.exec(select(Round)).all() == []


def test_settings_and_rubric_change_only_in_setup(session):
    world = make_judging(session, entries=1, judges=2, start=False)
    service.update_round(session, world.round, RoundUpdate(
        name="Sơ khảo 2026", criteria=[CriterionIn(name="Nội dung", max_points=60),
                                       CriterionIn(name="Hình thức", max_points=40)]),
        actor=world.organizer, now=now())
    assert [(c.name, c.max_points) for c in queries.criteria_of(session, world.round.id)] == [
        ("Nội dung", 60.0), ("Hình thức", 40.0)]
    [row] = _audit(session, "round.update")
    assert row.changes == {"name": ["Vòng sơ khảo", "Sơ khảo 2026"],
                           "criteria": [[["Nội dung", 40.0], ["Hình thức", 30.0],
                                         ["Tác động", 30.0]],
                                        [["Nội dung", 60.0], ["Hình thức", 40.0]]]}
    # The same values again change nothing and leave no audit row.
    service.update_round(session, world.round, RoundUpdate(name="Sơ khảo 2026"),
                         actor=world.organizer, now=now())
    assert len(_audit(session, "round.update")) == 1
    service.move_round(session, world.round, "start", actor=world.organizer, now=now())
    for data in (RoundUpdate(name="Khác"),
                 RoundUpdate(criteria=[CriterionIn(name="Nội dung", max_points=100)])):
        with pytest.raises(Conflict) as error:
            service.update_round(session, world.round, data, actor=world.organizer, now=now())
        assert error.value.message == ("The round's settings and rubric cannot change once "
                                       "scoring has started.")
    assert [c.max_points for c in queries.criteria_of(session, world.round.id)] == [60.0, 40.0]


# --- Panels --------------------------------------------------------------------------------

def test_only_a_judge_account_can_sit_on_a_panel(session):
    world = make_judging(session, entries=1, judges=2, start=False)
    for user in (make_user(session), make_user(session, role=Role.organizer),
                 _judge(session, is_active=False)):
        with pytest.raises(Invalid) as error:
            seat(session, world.round, user, [world.category], organizer=world.organizer)
        assert error.value.field == "judge_id"
    with pytest.raises(Invalid):
        service.set_panel(session, world.round, PanelIn(judge_id=999_999,
                                                        category_ids=[world.category.id]),
                          actor=world.organizer, now=now())


def test_a_category_of_another_award_or_none_is_refused(session):
    world = make_judging(session, entries=1, judges=2, start=False)
    other = make_award(session, status="open")
    foreign = award_service.list_categories(session, other)[0]
    judge = _judge(session)
    for ids in ([foreign.id], [world.category.id, foreign.id], [999_999]):
        with pytest.raises(Invalid) as error:
            service.set_panel(session, world.round, PanelIn(judge_id=judge.id, category_ids=ids),
                              actor=world.organizer, now=now())
        assert (error.value.field, error.value.message) == (
            "category_ids", "Choose categories of this award.")
    with pytest.raises(Invalid) as error:
        service.set_panel(session, world.round, PanelIn(judge_id=judge.id, category_ids=[]),
                          actor=world.organizer, now=now())
    assert error.value.message == "Choose at least one category for the judge."


def test_seating_and_changing_categories_is_audited(session):
    world = _two_categories(session)
    first, second = world.categories
    judge = _judge(session, "Lê Văn Bình")
    member, created = service.set_panel(session, world.round, PanelIn(
        judge_id=judge.id, category_ids=[first.id]), actor=world.organizer, now=now())
    assert created is True
    member2, created = service.set_panel(session, world.round, PanelIn(
        judge_id=judge.id, category_ids=[second.id]), actor=world.organizer, now=now())
    assert (created, member2.id) == (False, member.id)
    rows = [r for r in _audit(session, "round.panel") if r.changes["judge_id"] == judge.id]
    assert [r.changes["categories"] for r in rows] == [[[], [first.id]],
                                                       [[first.id], [second.id]]]
    assert rows[0].changes["judge"] == "Lê Văn Bình"
    # Seating again with the same categories changes nothing and records nothing.
    service.set_panel(session, world.round, PanelIn(judge_id=judge.id,
                                                    category_ids=[second.id]),
                      actor=world.organizer, now=now())
    assert len([r for r in _audit(session, "round.panel")
                if r.changes["judge_id"] == judge.id]) == 2
    assert [m.category_ids for m in queries.panel_of(session, world.round)
            if m.judge_id == judge.id] == [[second.id]]


def test_taking_away_a_scored_category_is_refused(session):
    world = _two_categories(session, judges=2, judges_per_entry=2)
    service.move_round(session, world.round, "start", actor=world.organizer, now=now())
    first, second = world.categories
    judge = world.judges[0]
    entry = next(e for e in world.entries if e.category_id == first.id)
    service.save_score(session, world.round.id, entry.id,
                       ScoreIn(points=_points(session, world.round, [10])), judge=judge,
                       now=now())
    with pytest.raises(Conflict) as error:
        service.set_panel(session, world.round, PanelIn(judge_id=judge.id,
                                                        category_ids=[second.id]),
                          actor=world.organizer, now=now())
    assert error.value.message == ("This judge has already scored entries of a category you "
                                   "are taking away.")
    with pytest.raises(Conflict) as error:
        service.remove_panel_member(session, world.round, judge.id, actor=world.organizer,
                                    now=now())
    assert error.value.message == ("This judge has already scored entries in this round and "
                                   "stays on its panel.")
    # The unscored category can go: the judge's assignment in it is dropped.
    service.set_panel(session, world.round, PanelIn(judge_id=judge.id,
                                                    category_ids=[first.id]),
                      actor=world.organizer, now=now())
    other = next(e for e in world.entries if e.category_id == second.id)
    assert _active(session, world.round)[other.id] == {world.judges[1].id}
    assert _audit(session, "round.panel")[-1].changes["assignments_dropped"] == 1


def test_removing_a_judge_drops_their_unscored_assignments(session):
    world = make_judging(session, entries=3, judges=3, judges_per_entry=2, start=False)
    judge = world.judges[0]
    before = sum(1 for judges in _active(session, world.round).values() if judge.id in judges)
    assert before == 2
    service.remove_panel_member(session, world.round, judge.id, actor=world.organizer,
                                now=now())
    assert all(judge.id not in judges for judges in _active(session, world.round).values())
    assert [m.judge_id for m in queries.panel_of(session, world.round)] == [
        j.id for j in world.judges[1:]]
    [row] = _audit(session, "round.panel_remove")
    assert row.changes == {"judge_id": judge.id, "judge": "Giám khảo 1",
                           "assignments_dropped": 2}
    with pytest.raises(NotFound):
        service.remove_panel_member(session, world.round, judge.id, actor=world.organizer,
                                    now=now())
    # Re-running fills the gap with the two judges left.
    service.assign_round(session, world.round, actor=world.organizer, now=now())
    assert sorted(sorted(js) for js in _active(session, world.round).values()) == [
        sorted(j.id for j in world.judges[1:])] * 3


def test_the_panel_cannot_change_once_the_round_is_closed(session):
    world = make_judging(session, entries=1, judges=2)
    service.move_round(session, world.round, "close", actor=world.organizer, now=now(),
                       force=True, reason="Hết hạn")
    with pytest.raises(Conflict):
        seat(session, world.round, _judge(session), [world.category],
             organizer=world.organizer)
    with pytest.raises(Conflict):
        service.remove_panel_member(session, world.round, world.judges[0].id,
                                    actor=world.organizer, now=now())


# --- Assignment ----------------------------------------------------------------------------

def test_an_uncoverable_round_is_409_naming_the_entries_and_assigns_nothing(session):
    organizer = make_user(session, role=Role.organizer)
    award = make_award(session, organizer=organizer, status="open")
    judge_a = _judge(session, "GK A")
    judge_b = _judge(session, "GK B")
    judge_c = _judge(session, "GK C", organization="Báo Ninh Thuận")
    # judge_a co-authors the first entry (by verified e-mail); every entry's outlet is
    # judge_c's newspaper.
    first = make_entry(session, award, status="accepted",
                       co_authors=[{"full_name": "GK A", "email": judge_a.email}])
    second = make_entry(session, award, status="accepted")
    for target in ("closed", "judging"):
        award_service.change_status(session, award, target, actor=organizer)
    category = award_service.list_categories(session, award)[0]
    round_ = make_round(session, award, organizer=organizer, judges_per_entry=2)
    for judge in (judge_a, judge_b, judge_c):
        seat(session, round_, judge, [category], organizer=organizer)
    session.commit()
    with pytest.raises(Conflict) as error:
        service.assign_round(session, round_, actor=organizer, now=now())
    assert error.value.params == {"n": 2, "codes": first.code}
    assert error.value.status_code == 409
    session.rollback()
    assert session.exec(select(Assignment)).all() == []
    # Without the outlet rule, judge_c can take both and the round is covered.
    service.update_round(session, round_, RoundUpdate(exclude_same_outlet=False),
                         actor=organizer, now=now())
    result = service.assign_round(session, round_, actor=organizer, now=now())
    assert (result.assignments, result.added, result.removed) == (4, 4, 0)
    assert _active(session, round_)[first.id] == {judge_b.id, judge_c.id}
    assert judge_a.id in _active(session, round_)[second.id]


def test_an_unverified_address_is_no_conflict(session):
    organizer = make_user(session, role=Role.organizer)
    award = make_award(session, organizer=organizer, status="open")
    judge = _judge(session, verified=False)
    entry = make_entry(session, award, status="accepted",
                       co_authors=[{"full_name": "Ai đó", "email": judge.email}])
    for target in ("closed", "judging"):
        award_service.change_status(session, award, target, actor=organizer)
    round_ = make_round(session, award, organizer=organizer, judges_per_entry=1)
    seat(session, round_, judge, [entry_category(session, entry)], organizer=organizer)
    service.assign_round(session, round_, actor=organizer, now=now())
    assert _active(session, round_) == {entry.id: {judge.id}}


def entry_category(session, entry):
    from app.awards.models import Category

    return session.get(Category, entry.category_id)


def test_rerunning_assign_is_a_no_op_and_keeps_scored_assignments(session):
    world = make_judging(session, entries=3, judges=3, judges_per_entry=2)
    before = _active(session, world.round)
    entry = world.entries[0]
    judge = _holders(session, world, entry)[0]
    _final(session, world, judge, entry)
    mails = len(_mails(session, "judge_queue"))
    result = service.assign_round(session, world.round, actor=world.organizer, now=now())
    assert (result.assignments, result.added, result.removed) == (6, 0, 0)
    assert _active(session, world.round) == before
    assert len(_mails(session, "judge_queue")) == mails
    assert [r.changes for r in _audit(session, "round.assign")] == [
        {"assignments": 6, "added": 6, "removed": 0}]
    assert len(session.exec(select(Score)).all()) == 1
    # A fourth judge joins: re-running keeps the scored assignment.
    seat(session, world.round, _judge(session), [world.category], organizer=world.organizer)
    service.assign_round(session, world.round, actor=world.organizer, now=now())
    assert judge.id in _active(session, world.round)[entry.id]
    assert all(len(js) == 2 for js in _active(session, world.round).values())


def test_a_newly_accepted_entry_gets_judges_and_they_are_mailed(session):
    organizer = make_user(session, role=Role.organizer)
    award = make_award(session, organizer=organizer, status="open")
    accepted = [make_entry(session, award, status="accepted") for _ in range(2)]
    late = make_entry(session, award, status="submitted")
    for target in ("closed", "judging"):
        award_service.change_status(session, award, target, actor=organizer)
    category = award_service.list_categories(session, award)[0]
    judges = [_judge(session, f"GK {i}") for i in range(3)]
    round_ = make_round(session, award, organizer=organizer, judges_per_entry=2)
    for judge in judges:
        seat(session, round_, judge, [category], organizer=organizer)
    service.assign_round(session, round_, actor=organizer, now=now())
    service.move_round(session, round_, "start", actor=organizer, now=now())
    before = _active(session, round_)
    assert sorted(before) == sorted(e.id for e in accepted)
    mails = len(_mails(session, "judge_queue"))
    entry_writes.screen_entry(session, late, decision="accept", reason=None, actor=organizer,
                              now=now())
    result = service.assign_round(session, round_, actor=organizer, now=now())
    assert (result.added, result.removed) == (2, 0)
    after = _active(session, round_)
    assert {e: after[e] for e in before} == before
    assert len(after[late.id]) == 2
    new_mails = _mails(session, "judge_queue")[mails:]
    by_id = {j.id: j for j in judges}
    assert sorted(m.to for m in new_mails) == sorted(by_id[j].email for j in after[late.id])


def test_a_newly_accepted_entry_the_panel_cannot_cover_changes_nothing(session):
    organizer = make_user(session, role=Role.organizer)
    award = make_award(session, organizer=organizer, status="open")
    judges = [_judge(session, f"GK {i}") for i in range(2)]
    accepted = make_entry(session, award, status="accepted")
    # The late entry is co-authored by one of the two judges (by verified e-mail).
    late = make_entry(session, award, status="submitted",
                      co_authors=[{"full_name": "GK 0", "email": judges[0].email}])
    for target in ("closed", "judging"):
        award_service.change_status(session, award, target, actor=organizer)
    category = award_service.list_categories(session, award)[0]
    round_ = make_round(session, award, organizer=organizer, judges_per_entry=2)
    for judge in judges:
        seat(session, round_, judge, [category], organizer=organizer)
    service.assign_round(session, round_, actor=organizer, now=now())
    service.move_round(session, round_, "start", actor=organizer, now=now())
    entry_writes.screen_entry(session, late, decision="accept", reason=None, actor=organizer,
                              now=now())
    session.commit()
    mails = len(_mails(session, "judge_queue"))
    with pytest.raises(Conflict) as error:
        service.assign_round(session, round_, actor=organizer, now=now())
    assert error.value.params == {"n": 2, "codes": late.code}
    session.rollback()
    assert _active(session, round_) == {accepted.id: {j.id for j in judges}}
    assert len(_mails(session, "judge_queue")) == mails


def test_start_needs_the_award_judging_and_every_entry_covered(session):
    organizer = make_user(session, role=Role.organizer)
    award = make_award(session, organizer=organizer, status="open")
    entries = [make_entry(session, award, status="accepted") for _ in range(2)]
    award_service.change_status(session, award, "closed", actor=organizer)
    category = award_service.list_categories(session, award)[0]
    round_ = make_round(session, award, organizer=organizer, judges_per_entry=1)
    with pytest.raises(Conflict) as error:
        service.move_round(session, round_, "start", actor=organizer, now=now())
    assert error.value.message == "Move the award to judging before scoring starts."
    award_service.change_status(session, award, "judging", actor=organizer)
    with pytest.raises(Conflict) as error:
        service.move_round(session, round_, "start", actor=organizer, now=now())
    assert error.value.params == {"codes": ", ".join(e.code for e in entries)}
    seat(session, round_, _judge(session), [category], organizer=organizer)
    service.assign_round(session, round_, actor=organizer, now=now())
    started = service.move_round(session, round_, "start", actor=organizer, now=now())
    assert started.status == "scoring" and started.started_at is not None
    [row] = _audit(session, "round.start")
    assert row.changes == {"status": ["setup", "scoring"]}
    with pytest.raises(Conflict):
        service.move_round(session, round_, "start", actor=organizer, now=now())


def test_start_mails_each_judge_the_link_to_their_queue(session):
    world = make_judging(session, entries=2, judges=2, judges_per_entry=1)
    mails = _mails(session, "judge_queue")
    assert sorted(m.to for m in mails) == sorted(j.email for j in world.judges)
    link = mail_service.link(f"/judge/rounds/{world.round.id}")
    assert all(link in m.text for m in mails)


def test_a_round_without_entries_cannot_be_assigned_nor_started(session):
    award, organizer = _round_in(session, "judging")
    round_ = make_round(session, award, organizer=organizer)
    for call in (lambda: service.assign_round(session, round_, actor=organizer, now=now()),
                 lambda: service.move_round(session, round_, "start", actor=organizer,
                                            now=now())):
        with pytest.raises(Conflict) as error:
            call()
        assert error.value.message == "This round has no entries to judge."


# --- Scores --------------------------------------------------------------------------------

def test_after_close_a_score_is_409(session):
    world = make_judging(session, entries=1, judges=2, judges_per_entry=2)
    judge, entry = world.judges[0], world.entries[0]
    service.move_round(session, world.round, "close", actor=world.organizer, now=now(),
                       force=True, reason="Hết hạn")
    with pytest.raises(Conflict) as error:
        _final(session, world, judge, entry)
    assert error.value.message == "This round is closed: scores can no longer change."
    assert session.exec(select(Score)).all() == []


def test_a_judge_who_declared_a_conflict_can_no_longer_score_it(session):
    world = make_judging(session, entries=1, judges=3, judges_per_entry=2)
    entry = world.entries[0]
    judge = _holders(session, world, entry)[0]
    service.declare_conflict(session, world.round.id, entry.id, judge=judge,
                             reason="Người thân", now=now())
    with pytest.raises(Forbidden) as error:
        _final(session, world, judge, entry)
    assert error.value.message == "This entry is not assigned to you in this round."


def test_saving_the_same_score_again_adds_no_history(session):
    world = make_judging(session, entries=1, judges=2, judges_per_entry=2)
    judge, entry = world.judges[0], world.entries[0]
    first = _final(session, world, judge, entry)
    stamp = first.updated_at
    later = now() + timedelta(minutes=5)
    again = service.save_score(session, world.round.id, entry.id,
                               ScoreIn(points=_points(session, world.round, (30, 20, 20)),
                                       final=True, comment="  "),
                               judge=judge, now=later)
    assert again.id == first.id
    assert again.updated_at == stamp
    assert len(session.exec(select(ScoreChange)).all()) == 1
    changed = service.save_score(session, world.round.id, entry.id,
                                 ScoreIn(points=_points(session, world.round, (30, 20, 20)),
                                         final=False), judge=judge, now=later)
    assert changed.final is False
    changes = session.exec(select(ScoreChange).order_by(ScoreChange.id)).all()
    assert [(c.before and c.before["final"], c.after["final"]) for c in changes] == [
        (None, True), (True, False)]
    assert [c.actor_id for c in changes] == [judge.id, judge.id]


def test_scores_of_another_round_criteria_are_refused(session):
    world = make_judging(session, entries=1, judges=2, judges_per_entry=2)
    other = make_round(session, world.award, organizer=world.organizer, name="Vòng khác")
    foreign = queries.criteria_of(session, other.id)[0]
    with pytest.raises(Invalid) as error:
        service.save_score(session, world.round.id, world.entries[0].id,
                           ScoreIn(points={str(foreign.id): 10}), judge=world.judges[0],
                           now=now())
    assert error.value.params == {"key": str(foreign.id)}


def test_a_judge_never_sees_another_judges_score(session):
    world = make_judging(session, entries=1, judges=2, judges_per_entry=2)
    first, second = world.judges
    entry = world.entries[0]
    _final(session, world, first, entry)
    seen = queries.judge_entry_public(session, world.round.id, entry.id, viewer=second)
    assert seen.score is None
    assert [a.state for a in _queue(session, world, second)] == ["todo"]
    mine = queries.judge_entry_public(session, world.round.id, entry.id, viewer=first)
    assert (mine.score.total, mine.score.final) == (70.0, True)


# --- Conflicts -----------------------------------------------------------------------------

def test_the_replacement_is_conflict_free_and_the_least_loaded(session):
    organizer = make_user(session, role=Role.organizer)
    award = make_award(session, organizer=organizer, status="open",
                       max_entries_per_author=5)
    busy = _judge(session, "GK bận")
    author_judge_email = _judge(session, "GK tác giả")
    outlet_judge = _judge(session, "GK cùng báo", organization="Báo Ninh Thuận")
    free = _judge(session, "GK rảnh")
    holder = _judge(session, "GK đang giữ")
    entry = make_entry(session, award, status="accepted",
                       co_authors=[{"full_name": "GK", "email": author_judge_email.email}])
    others = [make_entry(session, award, status="accepted", outlet="Báo khác")
              for _ in range(2)]
    for target in ("closed", "judging"):
        award_service.change_status(session, award, target, actor=organizer)
    category = award_service.list_categories(session, award)[0]
    round_ = make_round(session, award, organizer=organizer, judges_per_entry=1)
    for judge in (holder, busy):
        seat(session, round_, judge, [category], organizer=organizer)
    service.assign_round(session, round_, actor=organizer, now=now())
    for judge in (author_judge_email, outlet_judge, free):
        seat(session, round_, judge, [category], organizer=organizer)
    # Pin the assignment: the holder on the entry, busy on the two others.
    session.exec(select(Assignment)).all()
    for a in session.exec(select(Assignment)).all():
        session.delete(a)
    session.flush()
    session.add(Assignment(round_id=round_.id, entry_id=entry.id, judge_id=holder.id))
    for other in others:
        session.add(Assignment(round_id=round_.id, entry_id=other.id, judge_id=busy.id))
    session.flush()
    service.move_round(session, round_, "start", actor=organizer, now=now())
    mails = len(_mails(session, "judge_queue"))
    result = service.declare_conflict(session, round_.id, entry.id, judge=holder,
                                      reason="Tôi quen tác giả", now=now())
    assert (result.entry_id, result.reassigned) == (entry.id, True)
    assert _active(session, round_)[entry.id] == {free.id}
    [mail] = _mails(session, "judge_queue")[mails:]
    assert mail.to == free.email
    [row] = _audit(session, "round.conflict")
    assert (row.actor_id, row.reason) == (holder.id, "Tôi quen tác giả")
    assert row.changes == {"entry_id": entry.id, "code": entry.code, "judge_id": holder.id,
                           "replaced_by": free.id}


def test_without_a_replacement_the_entry_is_short_of_judges(session):
    world = make_judging(session, entries=1, judges=2, judges_per_entry=2)
    entry = world.entries[0]
    judge = world.judges[0]
    result = service.declare_conflict(session, world.round.id, entry.id, judge=judge,
                                      reason="Cùng cơ quan", now=now())
    assert result.reassigned is False
    progress = queries.progress(session, world.round)
    assert progress.categories[0].short_of_judges == 1
    assert [(c.entry_id, c.judge_id, c.reason) for c in progress.conflicts] == [
        (entry.id, judge.id, "Cùng cơ quan")]
    assert _audit(session, "round.conflict")[0].changes["replaced_by"] is None
    # Re-running never gives the entry back to the judge who declared the conflict.
    with pytest.raises(Conflict) as error:
        service.assign_round(session, world.round, actor=world.organizer, now=now())
    assert error.value.params["codes"] == entry.code
    newcomer = _judge(session, "GK mới")
    seat(session, world.round, newcomer, [world.category], organizer=world.organizer)
    service.assign_round(session, world.round, actor=world.organizer, now=now())
    assert _active(session, world.round)[entry.id] == {world.judges[1].id, newcomer.id}
    assert queries.progress(session, world.round).categories[0].short_of_judges == 0


def test_a_conflict_needs_a_reason_and_an_assignment(session):
    world = make_judging(session, entries=2, judges=3, judges_per_entry=1)
    entry = world.entries[0]
    holder = _holders(session, world, entry)[0]
    stranger = next(j for j in world.judges if j.id != holder.id)
    with pytest.raises(Invalid) as error:
        service.declare_conflict(session, world.round.id, entry.id, judge=holder, reason="  ",
                                 now=now())
    assert error.value.field == "reason"
    if entry.id not in {a.entry_id for a in _queue(session, world, stranger)}:
        with pytest.raises(NotFound):
            service.declare_conflict(session, world.round.id, entry.id, judge=stranger,
                                     reason="x", now=now())
    service.declare_conflict(session, world.round.id, entry.id, judge=holder, reason="Lý do",
                             now=now())
    with pytest.raises(NotFound):
        service.declare_conflict(session, world.round.id, entry.id, judge=holder,
                                 reason="Lần hai", now=now())


# --- Progress, reminders, close ------------------------------------------------------------

def test_progress_lists_laggards_first(session):
    world = make_judging(session, entries=4, judges=2, judges_per_entry=1)
    fast, slow = world.judges
    for a in _queue(session, world, fast):
        _final(session, world, fast, session.get(type(world.entries[0]), a.entry_id))
    draft_entry = _queue(session, world, slow)[0].entry_id
    service.save_score(session, world.round.id, draft_entry,
                       ScoreIn(points=_points(session, world.round, [10])), judge=slow,
                       now=now())
    progress = queries.progress(session, world.round)
    assert [(p.judge_id, p.assigned, p.draft, p.final) for p in progress.judges] == [
        (slow.id, 2, 1, 0), (fast.id, 2, 0, 2)]
    assert (progress.assigned, progress.draft, progress.final) == (4, 1, 2)
    [category] = progress.categories
    assert (category.entries, category.assigned, category.draft, category.final,
            category.short_of_judges) == (4, 4, 1, 2, 0)


def test_remind_mails_laggards_at_most_once_per_half_hour(session):
    world = make_judging(session, entries=2, judges=2, judges_per_entry=1)
    done, behind = world.judges
    for a in _queue(session, world, done):
        _final(session, world, done, session.get(type(world.entries[0]), a.entry_id))
    t0 = now()
    assert service.remind_laggards(session, world.round, actor=world.organizer, now=t0) == 1
    [mail] = _mails(session, "judge_reminder")
    assert mail.to == behind.email
    assert mail_service.link(f"/judge/rounds/{world.round.id}") in mail.text
    assert service.remind_laggards(session, world.round, actor=world.organizer,
                                   now=t0 + timedelta(minutes=29)) == 0
    assert len(_mails(session, "judge_reminder")) == 1
    assert service.remind_laggards(session, world.round, actor=world.organizer,
                                   now=t0 + timedelta(minutes=31)) == 1
    assert len(_mails(session, "judge_reminder")) == 2
    rows = _audit(session, "round.remind")
    assert [r.changes for r in rows] == [{"judges": [behind.id]}, {"judges": [behind.id]}]
    member = session.exec(select(PanelMember).where(PanelMember.judge_id == behind.id)).one()
    assert member.reminded_at is not None


def test_remind_only_while_scoring(session):
    world = make_judging(session, entries=1, judges=2, start=False)
    with pytest.raises(Conflict):
        service.remind_laggards(session, world.round, actor=world.organizer, now=now())


def test_close_when_all_final_and_forced_close_is_audited(session):
    world = make_judging(session, entries=1, judges=2, judges_per_entry=2)
    entry = world.entries[0]
    _final(session, world, world.judges[0], entry)
    with pytest.raises(Conflict) as error:
        service.move_round(session, world.round, "close", actor=world.organizer, now=now())
    assert error.value.params == {"n": 1}
    service.move_round(session, world.round, "close", actor=world.organizer, now=now(),
                       force=True, reason="  Hết thời hạn  ")
    [row] = _audit(session, "round.close")
    assert row.reason == "Hết thời hạn"
    assert row.changes == {"status": ["scoring", "closed"], "forced": True, "missing_scores": 1}
    assert world.round.close_reason == "Hết thời hạn"
    with pytest.raises(Conflict):
        service.move_round(session, world.round, "close", actor=world.organizer, now=now(),
                           force=True, reason="Lần hai")


def test_close_without_force_when_every_score_is_final(session):
    world = make_judging(session, entries=1, judges=2, judges_per_entry=2)
    for judge in world.judges:
        _final(session, world, judge, world.entries[0])
    closed = service.move_round(session, world.round, "close", actor=world.organizer,
                                now=now())
    assert (closed.status, closed.close_reason) == ("closed", None)
    [row] = _audit(session, "round.close")
    assert row.changes == {"status": ["scoring", "closed"]}


def test_every_action_leaves_its_audit_row(session):
    world = make_judging(session, entries=2, judges=3, judges_per_entry=1)
    entry = world.entries[0]
    holder = _holders(session, world, entry)[0]
    service.declare_conflict(session, world.round.id, entry.id, judge=holder, reason="Lý do",
                             now=now())
    service.remind_laggards(session, world.round, actor=world.organizer, now=now())
    service.move_round(session, world.round, "close", actor=world.organizer, now=now(),
                       force=True, reason="Đủ rồi")
    actions = [r.action for r in session.exec(select(AuditEntry).where(
        AuditEntry.object_type == "round").order_by(AuditEntry.id)).all()]
    assert actions == ["round.create", "round.panel", "round.panel", "round.panel",
                       "round.assign", "round.start", "round.conflict", "round.remind",
                       "round.close"]


# --- One award's judge has no right on another ---------------------------------------------

def test_a_judge_of_one_award_sees_nothing_of_another(session):
    mine = make_judging(session, entries=1, judges=2, judges_per_entry=2)
    theirs = make_judging(session, entries=1, judges=2, judges_per_entry=2)
    judge = mine.judges[0]
    entry = theirs.entries[0]
    with pytest.raises(NotFound):
        queries.get_round(session, theirs.round.id, viewer=judge)
    with pytest.raises(NotFound):
        queries.judge_entry_public(session, theirs.round.id, entry.id, viewer=judge)
    with pytest.raises(NotFound):
        queries.judge_entry_anywhere(session, entry.id, judge)
    with pytest.raises(NotFound):
        entry_files.get_file(session, entry.files[0].id, viewer=judge)
    with pytest.raises(NotFound):
        service.save_score(session, theirs.round.id, entry.id, ScoreIn(points={}),
                           judge=judge, now=now())
    with pytest.raises(NotFound):
        service.declare_conflict(session, theirs.round.id, entry.id, judge=judge,
                                 reason="x", now=now())
    # Nor through their own round with the other award's entry.
    with pytest.raises(NotFound):
        queries.judge_entry_public(session, mine.round.id, entry.id, viewer=judge)
    with pytest.raises(Forbidden):
        service.save_score(session, mine.round.id, entry.id, ScoreIn(points={}), judge=judge,
                           now=now())
    assert [r.id for r in queries.judge_rounds(session, judge)] == [mine.round.id]


def test_a_round_short_of_judges_does_not_close_unforced(session):
    world = make_judging(session, entries=1, judges=2, judges_per_entry=2)
    entry = world.entries[0]
    first, second = world.judges
    for judge in (first, second):
        service.save_score(session, world.round.id, entry.id,
                           ScoreIn(points=_points(session, world.round, [40, 30, 30]),
                                   final=True), judge=judge, now=now())
    # No one can take the entry over: it has one judge of the two it needs.
    assert service.declare_conflict(session, world.round.id, entry.id, judge=first,
                                    reason="Đồng nghiệp", now=now()).reassigned is False
    assert queries.missing_final(session, world.round) == 1
    with pytest.raises(Conflict) as error:
        service.move_round(session, world.round, "close", actor=world.organizer, now=now())
    assert error.value.params == {"n": 1}


def test_a_judge_whose_profile_now_names_the_outlet_cannot_score(session):
    world = make_judging(session, entries=1, judges=2, judges_per_entry=2)
    judge, entry = world.judges[0], world.entries[0]
    judge.organization = "Phóng viên " + entry.outlet
    session.add(judge)
    session.flush()
    with pytest.raises(Conflict):
        service.save_score(session, world.round.id, entry.id,
                           ScoreIn(points=_points(session, world.round, [40])), judge=judge,
                           now=now())
    assert queries.progress(session, world.round).draft == 0


def test_every_score_change_is_in_the_audit_log(session):
    from app.audit.models import AuditEntry

    world = make_judging(session, entries=1, judges=2, judges_per_entry=2)
    judge, entry = world.judges[0], world.entries[0]
    for values, final in (([30], False), ([30, 20, 20], True), ([30, 20, 20], True)):
        service.save_score(session, world.round.id, entry.id,
                           ScoreIn(points=_points(session, world.round, values), final=final),
                           judge=judge, now=now())
    rows = session.exec(select(AuditEntry).where(AuditEntry.action == "score.save")
                        .order_by(AuditEntry.id)).all()
    assert [(r.changes["total"], r.changes["final"]) for r in rows] == [
        ([None, 30.0], [None, False]), ([30.0, 70.0], [False, True])]
