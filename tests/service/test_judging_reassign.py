"""Re-running assignment: scored pairs stay, pairs now barred go, the gaps are filled — the
bulk path (plain columns, multi-row INSERT) changes nothing a round can observe."""

from collections import Counter
from datetime import UTC, datetime

from sqlmodel import col, select

from app.judging import service
from app.judging.models import Assignment, ScoreIn
from app.judging.queries import criteria_of
from tests.factories import make_judging, make_user, seat


def _active(session, round_id):
    return sorted(session.exec(select(Assignment.entry_id, Assignment.judge_id).where(
        Assignment.round_id == round_id, col(Assignment.conflict_at).is_(None))).all())


def test_reassign_keeps_scored_pairs_and_replaces_barred_ones(session):
    world = make_judging(session, entries=4, judges=3, judges_per_entry=2)
    now = datetime.now(UTC)
    before = _active(session, world.round.id)
    assert len(before) == 8
    # The busiest judge (who has at least two entries) scores one of them.
    judge = max(world.judges, key=lambda j: sum(1 for _, k in before if k == j.id))
    mine = [e for e, j in before if j == judge.id]
    criterion = criteria_of(session, world.round.id)[0]
    service.save_score(session, world.round.id, mine[0], ScoreIn(points={
        str(criterion.id): 10}, final=False), judge=judge, now=now)
    # Now the judge works for the entries' outlet: barred from every entry of the round.
    judge.organization = "Báo Ninh Thuận"
    session.add(judge)
    session.flush()
    result = service.assign_round(session, world.round, actor=world.organizer, now=now)
    after = _active(session, world.round.id)
    # The scored entry gets two judges besides the barred one who scored it.
    assert (result.removed, result.added) == (len(mine) - 1, len(mine))
    assert (mine[0], judge.id) in after  # scored: kept
    assert [e for e, j in after if j == judge.id] == [mine[0]]
    per_entry = Counter(e for e, _ in after)
    assert per_entry[mine[0]] == 3 and all(
        n == 2 for e, n in per_entry.items() if e != mine[0])
    assert result.assignments == 8  # the plan: two per entry, the barred judge aside


def test_reassign_of_an_unchanged_round_adds_and_removes_nothing(session):
    world = make_judging(session, entries=5, judges=4, judges_per_entry=2, start=False)
    before = _active(session, world.round.id)
    result = service.assign_round(session, world.round, actor=world.organizer,
                                  now=datetime.now(UTC))
    assert (result.assignments, result.added, result.removed) == (10, 0, 0)
    assert _active(session, world.round.id) == before


def test_a_judge_added_to_the_panel_takes_no_entry_from_a_settled_round(session):
    world = make_judging(session, entries=3, judges=2, judges_per_entry=2, start=False)
    before = _active(session, world.round.id)
    newcomer = make_user(session, role="judge", full_name="Giám khảo mới",
                         email="giamkhao-moi@example.vn")
    seat(session, world.round, newcomer, [world.category], organizer=world.organizer)
    result = service.assign_round(session, world.round, actor=world.organizer,
                                  now=datetime.now(UTC))
    assert (result.added, result.removed) == (0, 0)
    assert _active(session, world.round.id) == before
