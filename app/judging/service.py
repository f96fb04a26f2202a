"""Changing judging: rounds and their rubric, panels, assignment, scores, conflicts,
reminders. Every change is audited; every check-then-act runs under the round's row lock
(PostgreSQL; SQLite's write lock is held already), taken first, so that two requests on one
round never interleave: a save of a score holds it shared, the organizer's changes and a
declared conflict hold it exclusively.
"""

from datetime import datetime, timedelta

from sqlalchemy import insert, text
from sqlmodel import Session, col, delete, func, select

from app.accounts.models import User
from app.accounts.rules import Role
from app.audit import service as audit
from app.awards.models import Award, Category
from app.entries.models import Entry
from app.errors import N_, Conflict, Forbidden, Invalid, NotFound
from app.judging import queries, rules
from app.judging.models import (
    AssignResult,
    Assignment,
    ConflictResult,
    Criterion,
    CriterionIn,
    PanelCategory,
    PanelIn,
    PanelMember,
    Round,
    RoundCreate,
    RoundUpdate,
    Score,
    ScoreChange,
    ScoreIn,
)
from app.judging.rules import RoundAction, RoundStatus
from app.mail import service as mail
from app.text import clean_line, nfc

ROW_LOCK = {"key_share": True}  # FOR NO KEY UPDATE: rows pointing here still insert freely
# A judge is reminded at most once in this time, however often the button is pressed.
REMIND_EVERY = timedelta(minutes=30)


# PostgreSQL advisory locks keyed (ROUND_GATE, round id), held to the end of the
# transaction. Unlike row locks, their queue is fair: a stream of score saves (shared) does
# not keep the organizer's close or a declared conflict (exclusive) waiting, because a new
# shared request queues behind an exclusive one already waiting.
ROUND_GATE = 0x6A75


def _round_gate(session: Session, round_id: int, *, exclusive: bool) -> None:
    if session.get_bind().dialect.name != "postgresql":
        return  # SQLite: the request already holds the database's write lock
    function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    session.execute(text(f"SELECT {function}(:gate, :round_id)"),
                    {"gate": ROUND_GATE, "round_id": round_id})


def lock_round(session: Session, round_: Round) -> Round:
    """The round for a change of its settings, panel, assignments or status: exclusive
    against every other change and every score save of the round."""
    _round_gate(session, round_.id, exclusive=True)
    session.refresh(round_, with_for_update=ROW_LOCK)
    return round_


# The round under a shared lock: it cannot close (nor its assignments change) until the
# request commits.
SHARE_LOCK = {"read": True}


def _award_locked(session: Session, award_id: int) -> Award:
    award = session.get(Award, award_id)
    session.refresh(award, with_for_update={"read": True})
    return award


# --- Rounds and rubrics --------------------------------------------------------------------

def _clean_criteria(items: list[CriterionIn]) -> list[tuple[str, str, float]]:
    return rules.check_criteria([(clean_line(c.name) or "", nfc(c.description or "").strip(),
                                  float(c.max_points)) for c in items])


def _set_criteria(session: Session, round_: Round, items: list[CriterionIn]) -> None:
    cleaned = _clean_criteria(items)
    session.exec(delete(Criterion).where(Criterion.round_id == round_.id))
    for position, (name, description, max_points) in enumerate(cleaned):
        session.add(Criterion(round_id=round_.id, position=position, name=name,
                              description=description, max_points=max_points))
    session.flush()


def _check_source(session: Session, award: Award, source_round_id: int | None) -> None:
    if source_round_id is None:
        return
    source = session.get(Round, source_round_id)
    if source is None or source.award_id != award.id:
        raise Invalid(N_("The earlier round must be a round of this award."),
                      field="source_round_id")


def _rubric_changes(criteria: list[Criterion]) -> list[list]:
    return [[c.name, c.max_points] for c in criteria]


def create_round(session: Session, award: Award, data: RoundCreate, *, actor: User,
                 now: datetime) -> Round:
    """A round in setup with its rubric (criteria in priority order)."""
    award = _award_locked(session, award.id)
    rules.check_award_allows_rounds(award.status)
    name = clean_line(data.name)
    if not name:
        raise Invalid(N_("Please name the round."), field="name")
    _check_source(session, award, data.source_round_id)
    round_ = Round(award_id=award.id, source_round_id=data.source_round_id, name=name,
                   judges_per_entry=data.judges_per_entry, blind=data.blind,
                   aggregation=data.aggregation, exclude_same_outlet=data.exclude_same_outlet,
                   created_at=now, updated_at=now)
    session.add(round_)
    session.flush()
    _set_criteria(session, round_, data.criteria)
    audit.record(session, actor=actor, action="round.create", obj=round_, changes={
        "name": name, "blind": round_.blind, "judges_per_entry": round_.judges_per_entry,
        "aggregation": round_.aggregation,
        "criteria": _rubric_changes(queries.criteria_of(session, round_.id))})
    return round_


def update_round(session: Session, round_: Round, data: RoundUpdate, *, actor: User,
                 now: datetime) -> Round:
    """Settings and rubric, while the round is in setup (frozen once scoring starts)."""
    lock_round(session, round_)
    rules.check_setup(round_.status)
    values = data.model_dump(exclude_unset=True, exclude={"criteria"})
    values = {k: v for k, v in values.items() if v is not None}
    if "name" in values:
        values["name"] = clean_line(values["name"])
        if not values["name"]:
            raise Invalid(N_("Please name the round."), field="name")
    changes = {k: [getattr(round_, k), v] for k, v in values.items() if getattr(round_, k) != v}
    for k, v in values.items():
        setattr(round_, k, v)
    if data.criteria is not None:
        before = _rubric_changes(queries.criteria_of(session, round_.id))
        _set_criteria(session, round_, data.criteria)
        after = _rubric_changes(queries.criteria_of(session, round_.id))
        if before != after:
            changes["criteria"] = [before, after]
    round_.updated_at = now
    session.add(round_)
    session.flush()
    if changes:
        audit.record(session, actor=actor, action="round.update", obj=round_, changes=changes)
    return round_


def move_round(session: Session, round_: Round, action: RoundAction | str, *, actor: User,
               now: datetime, force: bool = False, reason: str | None = None) -> Round:
    """The one transition path of a round: lock, check the table and the move's own
    conditions, set, stamp, flush, audit, mail.

    start: the award is judging, and every entry of the round has its judges; each judge
    then gets a mail with the link to their queue. close: every score final, or ``force``
    with a reason (recorded)."""
    lock_round(session, round_)
    action = RoundAction(action)
    target = rules.check_round_transition(round_.status, action)
    changes: dict = {}
    if action == RoundAction.start:
        award = _award_locked(session, round_.award_id)
        rules.check_award_allows_scoring(award.status)
        _check_covered(session, round_)
        round_.started_at = now
    else:
        reason = audit.clean_reason(reason)
        missing = queries.missing_final(session, round_)
        rules.check_close(missing=missing, force=force, reason=reason)
        round_.closed_at = now
        if missing:
            round_.close_reason = reason
            changes["forced"] = True
            changes["missing_scores"] = missing
    old = round_.status
    round_.status = target
    round_.updated_at = now
    session.add(round_)
    session.flush()
    audit.record(session, actor=actor, action=f"round.{action.value}", obj=round_,
                 changes={"status": [old, target], **changes}, reason=reason)
    if action == RoundAction.start:
        _mail_queues(session, round_, judge_ids=None, now=now)
    return round_


def check_move(session: Session, round_: Round, action: RoundAction | str, *,
               force: bool = False, reason: str | None = None) -> dict:
    """What ``move_round`` would check, without changing anything: for the confirmation
    page, which asks only when the move can go ahead. Returns what it would set off
    (``judges``: how many judges the start mails)."""
    action = RoundAction(action)
    rules.check_round_transition(round_.status, action)
    if action == RoundAction.start:
        rules.check_award_allows_scoring(session.get(Award, round_.award_id).status)
        _check_covered(session, round_)
        judges = session.exec(
            select(func.count(func.distinct(Assignment.judge_id)))
            .where(Assignment.round_id == round_.id, col(Assignment.conflict_at).is_(None))).one()
        return {"judges": judges}
    reason = audit.clean_reason(reason)
    missing = queries.missing_final(session, round_)
    rules.check_close(missing=missing, force=force, reason=reason)
    return {"missing": missing}


def _check_covered(session: Session, round_: Round) -> None:
    """Scoring starts only when every entry of the round has its judges."""
    entries = queries.round_entry_specs(session, round_)
    if not entries:
        raise Conflict(N_("This round has no entries to judge."))
    counts = dict(session.exec(
        select(Assignment.entry_id, func.count())
        .where(Assignment.round_id == round_.id, col(Assignment.conflict_at).is_(None))
        .group_by(Assignment.entry_id)).all())
    in_round = {spec.id for spec, _code in entries}
    if any(entry_id not in in_round for entry_id in counts):
        # The shortlist it judges changed after the assignment (entries left the round).
        raise Conflict(N_("The entries of this round changed since the assignment: run the "
                          "automatic assignment again."))
    short = [code for spec, code in entries
             if counts.get(spec.id, 0) < round_.judges_per_entry]
    if short:
        raise Conflict(N_("Assign judges first: these entries do not have enough judges: "
                          "{codes}."), codes=", ".join(short[:50]))


# --- Panels --------------------------------------------------------------------------------

def _scored(session: Session, round_id: int, judge_id: int,
            category_ids: set[int] | None) -> int:
    query = (select(func.count()).select_from(Score).join(Entry, Entry.id == Score.entry_id)
             .where(Score.round_id == round_id, Score.judge_id == judge_id))
    if category_ids is not None:
        query = query.where(col(Entry.category_id).in_(category_ids))
    return session.exec(query).one()


def _drop_assignments(session: Session, round_id: int, judge_id: int,
                      category_ids: set[int] | None) -> int:
    """Removes the judge's unscored assignments in those categories (all: None)."""
    entries = select(Entry.id)
    if category_ids is not None:
        entries = entries.where(col(Entry.category_id).in_(category_ids))
    rows = session.exec(select(Assignment).where(
        Assignment.round_id == round_id, Assignment.judge_id == judge_id,
        col(Assignment.conflict_at).is_(None), col(Assignment.entry_id).in_(entries))).all()
    for row in rows:
        session.delete(row)
    session.flush()
    return len(rows)


def set_panel(session: Session, round_: Round, data: PanelIn, *, actor: User,
              now: datetime) -> tuple[PanelMember, bool]:
    """Seats a judge on the round's panel for these categories (or changes their
    categories); (member, created). A category taken away drops the judge's unscored
    assignments in it; one they have scored in cannot be taken away."""
    lock_round(session, round_)
    rules.check_not_closed(round_.status)
    judge = session.get(User, data.judge_id)
    if judge is None or judge.role != Role.judge or not judge.is_active:
        raise Invalid(N_("Choose a judge's account (invite the judge first)."),
                      field="judge_id")
    wanted = set(data.category_ids)
    if not wanted:
        raise Invalid(N_("Choose at least one category for the judge."), field="category_ids")
    known = set(session.exec(select(Category.id).where(
        Category.award_id == round_.award_id, col(Category.id).in_(wanted))).all())
    if known != wanted:
        raise Invalid(N_("Choose categories of this award."), field="category_ids")
    member = session.exec(select(PanelMember).where(
        PanelMember.round_id == round_.id, PanelMember.judge_id == judge.id)).first()
    created = member is None
    if created:
        member = PanelMember(round_id=round_.id, judge_id=judge.id, created_at=now)
        session.add(member)
        session.flush()
        before: set[int] = set()
    else:
        before = set(session.exec(select(PanelCategory.category_id)
                                  .where(PanelCategory.member_id == member.id)).all())
    removed = before - wanted
    if removed and _scored(session, round_.id, judge.id, removed):
        raise Conflict(N_("This judge has already scored entries of a category you are "
                          "taking away."), field="category_ids")
    dropped = _drop_assignments(session, round_.id, judge.id, removed) if removed else 0
    for category_id in removed:
        session.exec(delete(PanelCategory).where(PanelCategory.member_id == member.id,
                                                 PanelCategory.category_id == category_id))
    for category_id in sorted(wanted - before):
        session.add(PanelCategory(member_id=member.id, category_id=category_id))
    session.flush()
    if created or before != wanted:
        audit.record(session, actor=actor, action="round.panel", obj=round_, changes={
            "judge_id": judge.id, "judge": judge.full_name,
            "categories": [sorted(before), sorted(wanted)], "assignments_dropped": dropped})
    return member, created


def remove_panel_member(session: Session, round_: Round, judge_id: int, *, actor: User,
                        now: datetime) -> None:
    """Takes a judge off the panel with their unscored assignments; refused once they have
    scored in the round."""
    lock_round(session, round_)
    rules.check_not_closed(round_.status)
    member = session.exec(select(PanelMember).where(
        PanelMember.round_id == round_.id, PanelMember.judge_id == judge_id)).first()
    if member is None:
        raise NotFound(N_("This judge is not on the round's panel."))
    if _scored(session, round_.id, judge_id, None):
        raise Conflict(N_("This judge has already scored entries in this round and stays on "
                          "its panel."))
    dropped = _drop_assignments(session, round_.id, judge_id, None)
    judge = session.get(User, judge_id)
    session.delete(member)
    session.flush()
    audit.record(session, actor=actor, action="round.panel_remove", obj=round_, changes={
        "judge_id": judge_id, "judge": judge.full_name, "assignments_dropped": dropped})


# --- Assignment ----------------------------------------------------------------------------

def assign_round(session: Session, round_: Round, *, actor: User, now: datetime) -> AssignResult:
    """Gives every entry of the round its judges (``rules.plan_assignment``): assignments
    still allowed are kept (and with them every score given), missing ones added, the rest
    removed. When some entry cannot be covered without a conflict: 409 naming the entries,
    and nothing changes. Judges given new entries in a round already scoring are mailed."""
    lock_round(session, round_)
    rules.check_not_closed(round_.status)
    entries = queries.round_entry_specs(session, round_)
    if not entries:
        raise Conflict(N_("This round has no entries to judge."))
    # Plain columns and multi-row INSERTs: 10,000 entries are assigned in about a second,
    # where ORM objects (and one INSERT per row) took tens of seconds.
    existing = session.exec(select(Assignment.id, Assignment.entry_id, Assignment.judge_id)
                            .where(Assignment.round_id == round_.id,
                                   col(Assignment.conflict_at).is_(None))
                            .order_by(Assignment.id)).all()
    keep: dict[int, list[int]] = {}
    for _id, entry_id, judge_id in existing:
        keep.setdefault(entry_id, []).append(judge_id)
    scored = set(session.exec(select(Score.entry_id, Score.judge_id)
                              .where(Score.round_id == round_.id)).all())
    plan = rules.plan_assignment(
        [spec for spec, _code in entries], queries.panel_by_category(session, round_),
        judges_per_entry=round_.judges_per_entry,
        declared=queries.declared_conflicts(session, round_.id), keep=keep,
        check_outlet=round_.exclude_same_outlet)
    if plan.uncovered:
        codes = {spec.id: code for spec, code in entries}
        raise Conflict(N_("The panel cannot give these entries {n} judges without a "
                          "conflict of interest: {codes}. Add judges to their categories' "
                          "panel."), n=round_.judges_per_entry,
                       codes=", ".join(codes[i] for i in plan.uncovered[:50]))
    wanted = {(entry_id, judge_id) for entry_id, judges in plan.assignments.items()
              for judge_id in judges}
    # A judge who scored stays (the plan kept them unless now barred).
    gone = [id_ for id_, entry_id, judge_id in existing
            if (entry_id, judge_id) not in wanted and (entry_id, judge_id) not in scored]
    for chunk in range(0, len(gone), 1000):
        session.exec(delete(Assignment).where(col(Assignment.id).in_(gone[chunk:chunk + 1000])))
    removed = len(gone)
    have = {(entry_id, judge_id) for _id, entry_id, judge_id in existing}
    new = sorted(wanted - have)
    # A pair given up for a conflict keeps its row; the plan never picks it again.
    if new:
        # RETURNING makes SQLAlchemy batch the rows into multi-row INSERTs
        # ("insertmanyvalues") instead of one statement per row.
        session.exec(insert(Assignment.__table__).returning(Assignment.id), params=[
            {"round_id": round_.id, "entry_id": e, "judge_id": j, "created_at": now}
            for e, j in new]).all()
    session.flush()
    total = len(wanted)
    if new or removed:  # a re-run that changes nothing leaves no trace
        audit.record(session, actor=actor, action="round.assign", obj=round_, changes={
            "assignments": total, "added": len(new), "removed": removed})
    if round_.status == RoundStatus.scoring and new:
        _mail_queues(session, round_, judge_ids={j for _, j in new}, now=now)
    return AssignResult(assignments=total, added=len(new), removed=removed)


def _mail_queues(session: Session, round_: Round, *, judge_ids: set[int] | None,
                 now: datetime) -> None:
    """Tells judges (all with entries in the round: None) that their queue is ready."""
    rows = session.exec(
        select(Assignment.judge_id, func.count())
        .where(Assignment.round_id == round_.id, col(Assignment.conflict_at).is_(None))
        .group_by(Assignment.judge_id)).all()
    award = session.get(Award, round_.award_id)
    for judge_id, count in sorted(rows):
        if judge_ids is not None and judge_id not in judge_ids:
            continue
        judge = session.get(User, judge_id)
        mail.queue_for_user(session, judge, template="judge_queue", now=now, award_id=award.id,
                            context={"award": award, "round": round_.name, "count": count,
                                     "url": mail.link(f"/judge/rounds/{round_.id}")})


# --- Scores --------------------------------------------------------------------------------

def _score_state(score: Score | None) -> dict | None:
    if score is None:
        return None
    return {"points": dict(score.points), "total": score.total, "comment": score.comment,
            "final": score.final}


def save_score(session: Session, round_id: int, entry_id: int, data: ScoreIn, *, judge: User,
               now: datetime, unfinal: bool = True) -> Score:
    """Saves the judge's points (a draft, or final with every criterion), each within its
    bounds. The last save wins and every save is kept in the score's history (who, when,
    before, after): the assignment's row lock makes parallel saves (two tabs) follow each
    other. A judge may change a final score until the round closes. ``unfinal=False`` (a
    page opened while the score was a draft) refuses to turn a final score back into a
    draft: a stale tab must not undo a score made final in another one."""
    _round_gate(session, round_id, exclusive=False)
    round_ = queries.get_round(session, round_id, viewer=judge, lock=SHARE_LOCK)
    if round_.status == RoundStatus.setup:
        # 409 whatever the entry: before the start nothing tells which entries are whose.
        rules.check_scoring(round_.status)
    assignment = session.exec(select(Assignment).where(
        Assignment.round_id == round_id, Assignment.entry_id == entry_id,
        Assignment.judge_id == judge.id).with_for_update(**ROW_LOCK)).first()
    if assignment is None or not rules.may_see_assignment(
            active=assignment.conflict_at is None, round_status=round_.status):
        raise _not_assigned()
    rules.check_scoring(round_.status)
    # Checked again at every save: an address proven or a profile changed since the
    # assignment can make the judge an author or a colleague of the outlet.
    if rules.conflict_of(queries.entry_spec_of(session, entry_id), queries.judge_spec(judge),
                         check_outlet=round_.exclude_same_outlet):
        raise Conflict(N_("You have a conflict of interest with this entry (you are among its "
                          "authors, or your organization is its outlet): declare it so that "
                          "another judge takes it."))
    criteria = queries.criteria_of(session, round_id)
    points, total = rules.check_points(data.points, queries.criterion_specs(criteria),
                                       final=data.final)
    comment = nfc(data.comment or "").strip()
    score = session.exec(select(Score).where(Score.assignment_id == assignment.id)
                         .execution_options(populate_existing=True)).first()
    before = _score_state(score)
    if score is not None and score.final and not data.final and not unfinal:
        raise Conflict(N_("This score was made final meanwhile (in another tab or window). "
                          "Reload the page to see it before changing it."))
    if score is None:
        score = Score(assignment_id=assignment.id, round_id=round_id, entry_id=entry_id,
                      judge_id=judge.id, created_at=now)
    score.points = points
    score.total = total
    score.comment = comment
    score.final = data.final
    after = _score_state(score)
    if before != after:
        score.updated_at = now
        session.add(score)
        session.flush()
        session.add(ScoreChange(score_id=score.id, actor_id=judge.id, at=now, before=before,
                                after=after))
        session.flush()
        audit.record(session, actor=judge, action="score.save", obj=round_, changes={
            "entry_id": entry_id, "judge_id": judge.id,
            "total": [before["total"] if before else None, score.total],
            "final": [before["final"] if before else None, score.final]})
    return score


def _not_assigned() -> Forbidden:
    return Forbidden(N_("This entry is not assigned to you in this round."))


def declare_conflict(session: Session, round_id: int, entry_id: int, *, judge: User,
                     reason: str, now: datetime) -> ConflictResult:
    """The judge gives up an assigned entry with a reason (kept, shown to the organizer);
    another conflict-free judge of the category's panel, the least loaded, takes it and is
    mailed when the round is scoring. Without one, the entry waits for the organizer (it is
    counted as short of judges on the progress page)."""
    round_ = queries.get_round(session, round_id, viewer=judge)
    lock_round(session, round_)
    rules.check_not_closed(round_.status)
    assignment = session.exec(select(Assignment).where(
        Assignment.round_id == round_id, Assignment.entry_id == entry_id,
        Assignment.judge_id == judge.id).with_for_update(**ROW_LOCK)).first()
    if assignment is None or not rules.may_see_assignment(
            active=assignment.conflict_at is None, round_status=round_.status):
        raise NotFound(N_("No such entry in your queue."))
    reason = audit.clean_reason(reason)
    if not reason:
        raise Invalid(N_("Please say why you cannot judge this entry."), field="reason")
    assignment.conflict_at = now
    assignment.conflict_reason = reason
    session.add(assignment)
    session.flush()
    entry = session.get(Entry, entry_id)
    judges = queries.panel_by_category(session, round_).get(entry.category_id, [])
    on_entry = set(session.exec(select(Assignment.judge_id).where(
        Assignment.round_id == round_id, Assignment.entry_id == entry_id)).all())
    declared = {j for e, j in queries.declared_conflicts(session, round_id) if e == entry_id}
    load = dict(session.exec(
        select(Assignment.judge_id, func.count())
        .where(Assignment.round_id == round_id, col(Assignment.conflict_at).is_(None))
        .group_by(Assignment.judge_id)).all())
    session.refresh(entry, ["authors"])
    replacement = rules.pick_replacement(
        queries.entry_spec(entry), judges, assigned=on_entry, declared=declared, load=load,
        check_outlet=round_.exclude_same_outlet)
    if replacement is not None:
        session.add(Assignment(round_id=round_id, entry_id=entry_id, judge_id=replacement,
                               created_at=now))
        session.flush()
    audit.record(session, actor=judge, action="round.conflict", obj=round_, changes={
        "entry_id": entry_id, "code": entry.code, "judge_id": judge.id,
        "replaced_by": replacement}, reason=reason)
    if replacement is not None and round_.status == RoundStatus.scoring:
        _mail_queues(session, round_, judge_ids={replacement}, now=now)
    return ConflictResult(entry_id=entry_id, reassigned=replacement is not None)


# --- Reminders -----------------------------------------------------------------------------

def remind_laggards(session: Session, round_: Round, *, actor: User, now: datetime) -> int:
    """Mails each judge with scores not yet final a reminder with their queue's link — at
    most once per REMIND_EVERY, so a double click or an impatient organizer does not flood
    them. Returns the number of judges reminded."""
    lock_round(session, round_)
    rules.check_scoring(round_.status)
    behind = {p.judge_id: p for p in queries.progress(session, round_).judges
              if p.assigned > p.final and p.is_active}
    members = session.exec(select(PanelMember).where(
        PanelMember.round_id == round_.id, col(PanelMember.judge_id).in_(list(behind)))
        .order_by(PanelMember.judge_id)).all()
    award = session.get(Award, round_.award_id)
    reminded = []
    for member in members:
        if member.reminded_at is not None and member.reminded_at > now - REMIND_EVERY:
            continue
        member.reminded_at = now
        session.add(member)
        p = behind[member.judge_id]
        judge = session.get(User, member.judge_id)
        mail.queue_for_user(session, judge, template="judge_reminder", now=now,
                            award_id=award.id,
                            context={"award": award, "round": round_.name,
                                     "remaining": p.assigned - p.final, "count": p.assigned,
                                     "url": mail.link(f"/judge/rounds/{round_.id}")})
        reminded.append(member.judge_id)
    session.flush()
    if reminded:
        audit.record(session, actor=actor, action="round.remind", obj=round_,
                     changes={"judges": reminded})
    return len(reminded)


