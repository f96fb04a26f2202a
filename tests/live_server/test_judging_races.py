"""Judging under parallel requests, through the real server (uvicorn's thread pool, one
database transaction per request): two tabs saving one score, parallel assignment, a close
racing a save, a conflict declared twice. On PostgreSQL these hold only because each
check-then-act runs under the round's and the assignment's row locks."""

import pytest
from sqlmodel import Session, col, func, select

from app.audit.models import AuditEntry
from app.awards import service as award_service
from app.judging import queries
from app.judging.models import Assignment, Round, Score, ScoreChange
from tests.factories import make_award, make_entry, make_judging, make_round, make_user, seat
from tests.live_server.test_races import _parallel, _statuses, _token

PARALLEL = 4


def _world(db, **kwargs):
    with Session(db, expire_on_commit=False) as session:
        world = make_judging(session, **kwargs)
        world.criteria = queries.criteria_of(session, world.round.id)
        world.queues = {j.id: [a.entry_id for a in queries.judge_queue(session, world.round, j)]
                        for j in world.judges}
        session.commit()
        return world


def _points(world, *values):
    return {str(c.id): v for c, v in zip(world.criteria, values, strict=False)}


@pytest.mark.parametrize("attempt", range(10))
def test_two_tabs_saving_one_score_keep_one_row_and_both_saves(server, db, attempt):
    world = _world(db, entries=1, judges=1, judges_per_entry=1)
    judge, entry = world.judges[0], world.entries[0]
    headers = _token(server, judge.email)
    url = f"{server.base}/api/v1/rounds/{world.round.id}/entries/{entry.id}/score"
    saves = [{"points": _points(world, 10 + attempt, 20, 5), "comment": "Tab một"},
             {"points": _points(world, 30, 25.5, 30), "final": True, "comment": "Tab hai"}]
    responses = _parallel([lambda http, body=body: http.put(url, headers=headers, json=body)
                           for body in saves])
    assert _statuses(responses) == [200, 200]
    totals = {35.0 + attempt: False, 85.5: True}
    with Session(db) as session:
        scores = session.exec(select(Score).where(Score.entry_id == entry.id)).all()
        assert len(scores) == 1
        [score] = scores
        assert (score.total, score.final) in totals.items()
        history = session.exec(select(ScoreChange).where(ScoreChange.score_id == score.id)
                               .order_by(ScoreChange.id)).all()
    assert sorted(c.after["comment"] for c in history) == ["Tab hai", "Tab một"]
    # The last save wins, and it followed the first one (its "before" is the first save).
    assert history[-1].after == {"points": score.points, "total": score.total,
                                 "comment": score.comment, "final": score.final}
    assert history[0].before is None
    assert history[1].before == history[0].after


def _unassigned_round(db, *, entries=4, judges=3, judges_per_entry=2):
    with Session(db, expire_on_commit=False) as session:
        organizer = make_user(session, role="organizer")
        award = make_award(session, organizer=organizer, status="open",
                           max_entries_per_author=10)
        made = [make_entry(session, award, status="accepted") for _ in range(entries)]
        for target in ("closed", "judging"):
            award_service.change_status(session, award, target, actor=organizer)
        category = award_service.list_categories(session, award)[0]
        round_ = make_round(session, award, organizer=organizer,
                            judges_per_entry=judges_per_entry)
        for _ in range(judges):
            seat(session, round_, make_user(session, role="judge"), [category],
                 organizer=organizer)
        session.commit()
        return round_, organizer, made


def _rows(db, round_id):
    with Session(db) as session:
        return [(a.entry_id, a.judge_id) for a in session.exec(
            select(Assignment).where(Assignment.round_id == round_id)).all()]


@pytest.mark.parametrize("attempt", range(3))
def test_parallel_assignment_is_consistent(server, db, attempt):
    round_, organizer, entries = _unassigned_round(db)
    headers = _token(server, organizer.email)
    url = f"{server.base}/api/v1/rounds/{round_.id}/assign"
    responses = _parallel([lambda http: http.post(url, headers=headers)] * PARALLEL)
    assert {r.status_code for r in responses} <= {200, 409}
    assert any(r.status_code == 200 for r in responses)
    assert all(r.json()["assignments"] == 8 for r in responses if r.status_code == 200)
    rows = _rows(db, round_.id)
    assert len(rows) == len(set(rows)) == 8
    per_entry = {e.id: sum(1 for entry_id, _ in rows if entry_id == e.id) for e in entries}
    assert set(per_entry.values()) == {2}
    # One run added the eight; the others found nothing to do (and left no trace).
    with Session(db) as session:
        audits = session.exec(select(AuditEntry).where(
            AuditEntry.action == "round.assign", AuditEntry.object_id == round_.id)).all()
    assert [a.changes["added"] for a in audits] == [8]


def test_parallel_assignment_that_cannot_cover_assigns_nothing(server, db):
    round_, organizer, _ = _unassigned_round(db, judges=2, judges_per_entry=3)
    headers = _token(server, organizer.email)
    url = f"{server.base}/api/v1/rounds/{round_.id}/assign"
    responses = _parallel([lambda http: http.post(url, headers=headers)] * PARALLEL)
    assert _statuses(responses) == [409] * PARALLEL
    assert _rows(db, round_.id) == []


@pytest.mark.parametrize("attempt", range(5))
def test_a_close_racing_a_save_never_lets_a_score_in_after_it(server, db, attempt):
    world = _world(db, entries=1, judges=1, judges_per_entry=1)
    judge, entry = world.judges[0], world.entries[0]
    author, btc = _token(server, judge.email), _token(server, world.organizer.email)
    base = f"{server.base}/api/v1/rounds/{world.round.id}"
    responses = _parallel([
        lambda http: http.put(f"{base}/entries/{entry.id}/score", headers=author,
                              json={"points": _points(world, 40, 30, 30), "final": True}),
        lambda http: http.post(f"{base}/close", headers=btc,
                               json={"force": True, "reason": "Hết thời hạn"}),
    ])
    save, close = (r.status_code for r in responses)
    assert close == 200
    assert save in (200, 409)
    with Session(db) as session:
        round_ = session.get(Round, world.round.id)
        scores = session.exec(select(func.count()).select_from(Score)
                              .where(Score.round_id == round_.id)).one()
        [audit] = session.exec(select(AuditEntry).where(
            AuditEntry.action == "round.close", AuditEntry.object_id == round_.id)).all()
    assert round_.status == "closed"
    if save == 200:
        # The save came first: the close found every score final, so it was not forced.
        assert (scores, audit.changes, round_.close_reason) == (
            1, {"status": ["scoring", "closed"]}, None)
    else:
        assert responses[0].json() == {"detail": "Vòng chấm đã kết thúc: không thể sửa điểm nữa."}
        assert (scores, audit.changes["missing_scores"]) == (0, 1)


@pytest.mark.parametrize("attempt", range(3))
def test_a_conflict_declared_twice_at_once_reassigns_once(server, db, attempt):
    world = _world(db, entries=1, judges=4, judges_per_entry=2)
    entry = world.entries[0]
    holder = next(j for j in world.judges if world.queues[j.id])
    headers = _token(server, holder.email)
    url = f"{server.base}/api/v1/rounds/{world.round.id}/entries/{entry.id}/conflict"
    responses = _parallel([lambda http: http.post(url, headers=headers,
                                                  json={"reason": "Người thân"})] * 2)
    assert _statuses(responses) == [200, 404]
    assert next(r for r in responses if r.status_code == 200).json() == {
        "entry_id": entry.id, "reassigned": True}
    with Session(db) as session:
        rows = session.exec(select(Assignment).where(Assignment.round_id == world.round.id)
                            ).all()
        audits = session.exec(select(AuditEntry).where(
            AuditEntry.action == "round.conflict", AuditEntry.object_id == world.round.id)).all()
    assert len(rows) == 3
    assert len([a for a in rows if a.conflict_at is not None]) == 1
    active = [a.judge_id for a in rows if a.conflict_at is None]
    assert len(active) == len(set(active)) == 2 and holder.id not in active
    assert len(audits) == 1


def test_judging_races_leave_no_stray_rows(db):
    """Across every test above: no assignment twice, no score without its assignment."""
    with Session(db) as session:
        duplicates = session.exec(
            select(Assignment.round_id, Assignment.entry_id, Assignment.judge_id, func.count())
            .group_by(Assignment.round_id, Assignment.entry_id, Assignment.judge_id)
            .having(func.count() > 1)).all()
        orphans = session.exec(select(func.count()).select_from(Score).where(
            col(Score.assignment_id).not_in(select(Assignment.id)))).one()
    assert (duplicates, orphans) == ([], 0)
