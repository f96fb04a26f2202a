"""Judging services: rounds, panels, assignment, scores, conflicts, progress, close."""

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.judging import queries, service
from app.judging.models import Assignment, ScoreChange, ScoreIn
from tests.factories import make_judging


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
