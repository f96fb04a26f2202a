"""Reading judging: rounds and their rubric, panels, a judge's queue and entry, progress.

A judge reaches an entry only through an active assignment in a round that has left setup
(``rules.may_see_assignment``); anything else answers 404, as if it did not exist.
"""

from collections import defaultdict

from sqlalchemy.orm import selectinload
from sqlmodel import Session, col, func, select

from app.accounts.models import User
from app.accounts.rules import Role
from app.awards.models import Award, Category
from app.entries import views as entry_views
from app.entries.models import Entry, EntryAuthor, EntryFile, EntryJudgeView
from app.entries.rules import EntryStatus
from app.errors import N_, NotFound
from app.judging import rules
from app.judging.models import (
    Assignment,
    AssignmentPublic,
    CategoryProgress,
    ConflictPublic,
    Criterion,
    CriterionPublic,
    JudgeEntryPublic,
    JudgeProgress,
    JudgeRound,
    PanelCategory,
    PanelMember,
    PanelMemberPublic,
    Round,
    RoundProgress,
    RoundPublic,
    Score,
    ScoreChange,
    ScoreChangePublic,
    ScorePublic,
    ShortlistEntry,
)
from app.judging.rules import CriterionSpec, EntrySpec, JudgeSpec, RoundStatus


def _no_round() -> NotFound:
    return NotFound(N_("No such round."))


def _no_entry() -> NotFound:
    return NotFound(N_("No such entry in your queue."))


def is_panel_member(session: Session, round_id: int, user: User) -> bool:
    return session.exec(select(PanelMember.id).where(
        PanelMember.round_id == round_id, PanelMember.judge_id == user.id)).first() is not None


def get_round(session: Session, round_id: int, *, viewer: User,
              lock: dict | None = None) -> Round:
    """Organizers see every round; a judge the rounds whose panel they sit on. ``lock``
    (``with_for_update`` options) takes the round's row lock in the query that reads it,
    one query fewer than reading then locking."""
    if lock is None:
        round_ = session.get(Round, round_id)
    else:
        round_ = session.get(Round, round_id, with_for_update=lock, populate_existing=True)
    if round_ is None:
        raise _no_round()
    if viewer.role == Role.organizer:
        return round_
    if viewer.role == Role.judge and is_panel_member(session, round_id, viewer):
        return round_
    raise _no_round()


def criteria_of(session: Session, round_id: int) -> list[Criterion]:
    return list(session.exec(select(Criterion).where(Criterion.round_id == round_id)
                             .order_by(Criterion.position)).all())


def criterion_specs(criteria: list[Criterion]) -> list[CriterionSpec]:
    return [CriterionSpec(id=c.id, name=c.name, max_points=c.max_points) for c in criteria]


def round_public(session: Session, round_: Round,
                 criteria: list[Criterion] | None = None) -> RoundPublic:
    criteria = criteria if criteria is not None else criteria_of(session, round_.id)
    return RoundPublic(
        id=round_.id, award_id=round_.award_id, source_round_id=round_.source_round_id,
        name=round_.name, judges_per_entry=round_.judges_per_entry, blind=round_.blind,
        aggregation=round_.aggregation, exclude_same_outlet=round_.exclude_same_outlet,
        status=round_.status,
        criteria=[CriterionPublic(id=c.id, position=c.position, name=c.name,
                                  description=c.description, max_points=c.max_points)
                  for c in criteria],
        max_total=round(sum(c.max_points for c in criteria), 2),
        created_at=round_.created_at, started_at=round_.started_at,
        closed_at=round_.closed_at, close_reason=round_.close_reason)


def list_rounds(session: Session, award: Award) -> list[Round]:
    return list(session.exec(select(Round).where(Round.award_id == award.id)
                             .order_by(Round.id)).all())


def panel_of(session: Session, round_: Round) -> list[PanelMemberPublic]:
    rows = session.exec(
        select(PanelMember, User).join(User, User.id == PanelMember.judge_id)
        .where(PanelMember.round_id == round_.id).order_by(User.full_name, User.id)).all()
    categories: dict[int, list[int]] = defaultdict(list)
    for member_id, category_id in session.exec(
            select(PanelCategory.member_id, PanelCategory.category_id)
            .join(PanelMember, PanelMember.id == PanelCategory.member_id)
            .where(PanelMember.round_id == round_.id)
            .order_by(PanelCategory.category_id)).all():
        categories[member_id].append(category_id)
    return [PanelMemberPublic(judge_id=user.id, full_name=user.full_name, email=user.email,
                              organization=user.organization,
                              category_ids=categories[member.id])
            for member, user in rows]


def panel_by_category(session: Session, round_: Round) -> dict[int, list[JudgeSpec]]:
    """{category id: the judges seated for it}, as the assignment rules take them."""
    rows = session.exec(
        select(PanelCategory.category_id, User)
        .join(PanelMember, PanelMember.id == PanelCategory.member_id)
        .join(User, User.id == PanelMember.judge_id)
        .where(PanelMember.round_id == round_.id)).all()
    panel: dict[int, list[JudgeSpec]] = defaultdict(list)
    for category_id, user in rows:
        panel[category_id].append(judge_spec(user))
    return panel


def judge_spec(user: User) -> JudgeSpec:
    return JudgeSpec(id=user.id, verified_email=user.email if user.email_verified else None,
                     organization=user.organization)


def _of_round(query, round_: Round):
    """``query`` (on Entry) narrowed to the entries a round judges: the award's accepted
    entries for a first round, the source round's shortlist for a later one."""
    if round_.source_round_id is None:
        return query.where(Entry.award_id == round_.award_id,
                           Entry.status == EntryStatus.accepted)
    return query.join(ShortlistEntry, ShortlistEntry.entry_id == Entry.id).where(
        ShortlistEntry.round_id == round_.source_round_id)


def round_entry_specs(session: Session, round_: Round) -> list[tuple[EntrySpec, str]]:
    """The entries a round judges as the assignment rules take them (``entry_spec``), with
    their codes, in code order: two queries of plain columns, no ORM objects, so that an
    award of 10,000 entries is read in a fraction of a second."""
    rows = session.exec(_of_round(
        select(Entry.id, Entry.category_id, Entry.submitter_id, Entry.outlet, Entry.code),
        round_).order_by(Entry.category_id, Entry.code, Entry.id)).all()
    user_ids: dict[int, set[int]] = defaultdict(set)
    emails: dict[int, set[str]] = defaultdict(set)
    for entry_id, user_id, email in session.exec(
            select(EntryAuthor.entry_id, EntryAuthor.user_id, EntryAuthor.email)
            .where(col(EntryAuthor.entry_id).in_(_of_round(select(Entry.id), round_)))).all():
        if user_id is not None:
            user_ids[entry_id].add(user_id)
        if email:
            emails[entry_id].add(email)
    return [(EntrySpec(id=entry_id, category_id=category_id,
                       author_ids=frozenset({submitter_id} | user_ids[entry_id]),
                       author_emails=frozenset(emails[entry_id]), outlet=outlet),
             code or f"#{entry_id}")
            for entry_id, category_id, submitter_id, outlet, code in rows]


def entry_spec_of(session: Session, entry_id: int) -> EntrySpec:
    """One entry as the conflict rules take it, read in one query (a score's save checks it
    again: a judge's profile may have changed since the assignment)."""
    rows = session.exec(
        select(Entry.category_id, Entry.submitter_id, Entry.outlet, EntryAuthor.user_id,
               EntryAuthor.email)
        .outerjoin(EntryAuthor, EntryAuthor.entry_id == Entry.id)
        .where(Entry.id == entry_id)).all()
    category_id, submitter_id, outlet = rows[0][:3]
    return EntrySpec(
        id=entry_id, category_id=category_id,
        author_ids=frozenset({submitter_id} | {r[3] for r in rows if r[3] is not None}),
        author_emails=frozenset(r[4] for r in rows if r[4]), outlet=outlet)


def entry_spec(entry: Entry) -> EntrySpec:
    return EntrySpec(
        id=entry.id, category_id=entry.category_id,
        author_ids=frozenset({entry.submitter_id}
                             | {a.user_id for a in entry.authors if a.user_id is not None}),
        author_emails=frozenset(a.email for a in entry.authors if a.email),
        outlet=entry.outlet)


def declared_conflicts(session: Session, round_id: int) -> set[tuple[int, int]]:
    """(entry, judge) pairs declared in conflict in this round or any round of its award:
    a judge who declared a conflict with a work is never given it again."""
    award_id = session.get(Round, round_id).award_id
    rows = session.exec(
        select(Assignment.entry_id, Assignment.judge_id)
        .join(Round, Round.id == Assignment.round_id)
        .where(Round.award_id == award_id, col(Assignment.conflict_at).is_not(None))).all()
    return set(rows)


# --- The judge's side ----------------------------------------------------------------------

def _states(session: Session, round_id: int, judge_id: int | None) -> dict[tuple[int, int], Score]:
    query = select(Score).where(Score.round_id == round_id)
    if judge_id is not None:
        query = query.where(Score.judge_id == judge_id)
    return {(s.entry_id, s.judge_id): s for s in session.exec(query).all()}


def assignments_of(session: Session, round_: Round, *,
                   judge: User | None) -> list[AssignmentPublic]:
    """A judge's queue (``judge``), or every active assignment (the organizer), in code
    order, with the state of each score."""
    query = (select(Assignment.entry_id, Assignment.judge_id, Entry.code, Entry.title,
                    Entry.category_id)
             .join(Entry, Entry.id == Assignment.entry_id)
             .where(Assignment.round_id == round_.id, col(Assignment.conflict_at).is_(None)))
    if judge is not None:
        query = query.where(Assignment.judge_id == judge.id)
    rows = session.exec(query.order_by(Entry.category_id, Entry.code, Entry.id,
                                       Assignment.judge_id)).all()
    scores = _states(session, round_.id, judge.id if judge else None)
    result = []
    for entry_id, judge_id, code, title, category_id in rows:
        score = scores.get((entry_id, judge_id))
        result.append(AssignmentPublic(
            entry_id=entry_id, code=code, title=title, category_id=category_id,
            state=rules.score_state(score.final if score else None),
            total=score.total if score else None,
            judge_id=None if judge is not None else judge_id))
    return result


def judge_queue(session: Session, round_: Round, judge: User) -> list[AssignmentPublic]:
    if round_.status == RoundStatus.setup:
        return []
    return assignments_of(session, round_, judge=judge)


def judge_assignment(session: Session, round_id: int, entry_id: int, *,
                     judge: User) -> tuple[Round, Assignment]:
    """The judge's active assignment to the entry in a round they may see; 404 otherwise."""
    round_ = get_round(session, round_id, viewer=judge)
    assignment = session.exec(select(Assignment).where(
        Assignment.round_id == round_id, Assignment.entry_id == entry_id,
        Assignment.judge_id == judge.id)).first()
    if assignment is None or not rules.may_see_assignment(
            active=assignment.conflict_at is None, round_status=round_.status):
        raise _no_entry()
    return round_, assignment


def score_public(score: Score | None, round_id: int, entry_id: int) -> ScorePublic | None:
    if score is None:
        return None
    return ScorePublic(round_id=round_id, entry_id=entry_id, points=dict(score.points),
                       total=score.total, comment=score.comment, final=score.final,
                       updated_at=score.updated_at)


def own_score(session: Session, assignment: Assignment) -> Score | None:
    return session.exec(select(Score).where(Score.assignment_id == assignment.id)).first()


def judge_entry(session: Session, round_: Round, entry_id: int) -> EntryJudgeView:
    entry = session.exec(select(Entry).options(selectinload(Entry.authors),
                                               selectinload(Entry.files))
                         .where(Entry.id == entry_id)).one()
    category = session.get(Category, entry.category_id)
    return entry_views.for_judge(entry, blind=round_.blind, category=category.name)


def judge_entry_public(session: Session, round_id: int, entry_id: int, *,
                       viewer: User) -> JudgeEntryPublic:
    """A judge: an entry of their queue with their score; the organizer: any entry of the
    round, as its judges see it."""
    if viewer.role == Role.organizer:
        round_ = get_round(session, round_id, viewer=viewer)
        if not session.exec(select(Assignment.id).where(
                Assignment.round_id == round_id, Assignment.entry_id == entry_id)).first():
            raise _no_entry()
        score = None
    else:
        round_, assignment = judge_assignment(session, round_id, entry_id, judge=viewer)
        score = score_public(own_score(session, assignment), round_id, entry_id)
    view = judge_entry(session, round_, entry_id)
    return JudgeEntryPublic(**view.model_dump(), round_id=round_id, score=score)


def judge_entry_anywhere(session: Session, entry_id: int, judge: User) -> EntryJudgeView:
    """``GET /entries/{id}`` for a judge: the entry if assigned to them in a round they see
    (blind if any such round is blind); 404 otherwise."""
    blind = judge_file_access(session, entry_id, judge)
    if blind is None:
        raise NotFound(N_("No such entry."))
    entry = session.exec(select(Entry).options(selectinload(Entry.authors),
                                               selectinload(Entry.files))
                         .where(Entry.id == entry_id)).one()
    category = session.get(Category, entry.category_id)
    return entry_views.for_judge(entry, blind=blind, category=category.name)


def next_unfinished(session: Session, round_: Round, judge: User, *,
                    after: int | None = None) -> int | None:
    """The next entry of the judge's queue without a final score (after ``after`` in
    queue order, wrapping round), or None when everything is final."""
    queue = [a.entry_id for a in judge_queue(session, round_, judge) if a.state != "final"]
    if not queue:
        return None
    order = [a.entry_id for a in judge_queue(session, round_, judge)]
    if after in order:
        start = order.index(after)
        later = [e for e in order[start + 1:] + order[:start] if e in queue]
        return later[0] if later else None
    return queue[0]


def judge_rounds(session: Session, judge: User) -> list[JudgeRound]:
    """The rounds whose panel the judge sits on, with their counts."""
    rounds = session.exec(
        select(Round, Award.title).join(PanelMember, PanelMember.round_id == Round.id)
        .join(Award, Award.id == Round.award_id)
        .where(PanelMember.judge_id == judge.id).order_by(Round.id.desc())).all()
    result = []
    for round_, award_title in rounds:
        queue = judge_queue(session, round_, judge)
        result.append(JudgeRound(
            id=round_.id, award_id=round_.award_id, award=award_title, name=round_.name,
            status=round_.status, blind=round_.blind, assigned=len(queue),
            final=sum(1 for a in queue if a.state == "final")))
    return result


def judge_file_access(session: Session, entry_id: int, judge: User) -> bool | None:
    """Whether a judge may download the entry's files, and how they are named: None (may
    not), True (blind names: some round they see it in is blind), False (real names)."""
    rows = session.exec(
        select(Round.blind, Round.status).join(Assignment, Assignment.round_id == Round.id)
        .where(Assignment.entry_id == entry_id, Assignment.judge_id == judge.id,
               col(Assignment.conflict_at).is_(None))).all()
    visible = [blind for blind, status in rows
               if rules.may_see_assignment(active=True, round_status=status)]
    if not visible:
        return None
    return any(visible)


def judge_file(session: Session, file_id: int, judge: User) -> tuple[EntryFile, str]:
    """A file of an entry assigned to the judge, and the name it is served under."""
    row = session.get(EntryFile, file_id)
    blind = judge_file_access(session, row.entry_id, judge) if row else None
    if row is None or blind is None:
        raise NotFound(N_("No such file."))
    entry = session.exec(select(Entry).options(selectinload(Entry.files))
                         .where(Entry.id == row.entry_id)).one()
    return row, entry_views.file_name_for(row, entry, blind=blind)


# --- The organizer's side ------------------------------------------------------------------

def progress(session: Session, round_: Round) -> RoundProgress:
    """Per judge and per category: assigned, draft, final (laggards first); entries short
    of judges; declared conflicts."""
    rows = session.exec(
        select(Assignment.judge_id, Entry.category_id, Assignment.entry_id, Score.final)
        .join(Entry, Entry.id == Assignment.entry_id)
        .outerjoin(Score, Score.assignment_id == Assignment.id)
        .where(Assignment.round_id == round_.id, col(Assignment.conflict_at).is_(None))).all()
    members = session.exec(
        select(PanelMember, User).join(User, User.id == PanelMember.judge_id)
        .where(PanelMember.round_id == round_.id)).all()
    per_judge = {user.id: JudgeProgress(judge_id=user.id, full_name=user.full_name,
                                        assigned=0, draft=0, final=0,
                                        reminded_at=member.reminded_at,
                                        is_active=user.is_active)
                 for member, user in members}
    categories = {c.id: c for c in session.exec(
        select(Category).where(Category.award_id == round_.award_id)).all()}
    per_category: dict[int, CategoryProgress] = {}
    judges_on: dict[int, int] = defaultdict(int)
    for judge_id, category_id, entry_id, final in rows:
        judges_on[entry_id] += 1
        cat = per_category.setdefault(category_id, CategoryProgress(
            category_id=category_id, category=categories[category_id].name, entries=0,
            assigned=0, draft=0, final=0, short_of_judges=0))
        judge = per_judge.get(judge_id)
        for target in filter(None, (judge, cat)):
            target.assigned += 1
            if final is True:
                target.final += 1
            elif final is False:
                target.draft += 1
    for entry_id, category_id in session.exec(
            _of_round(select(Entry.id, Entry.category_id), round_)).all():
        cat = per_category.setdefault(category_id, CategoryProgress(
            category_id=category_id, category=categories[category_id].name,
            entries=0, assigned=0, draft=0, final=0, short_of_judges=0))
        cat.entries += 1
        if judges_on.get(entry_id, 0) < round_.judges_per_entry:
            cat.short_of_judges += 1
    judges = sorted(per_judge.values(),
                    key=lambda j: (-(j.assigned - j.final), j.final / j.assigned
                                   if j.assigned else 1, j.full_name, j.judge_id))
    conflicts = session.exec(
        select(Assignment, Entry.code, User.full_name)
        .join(Entry, Entry.id == Assignment.entry_id).join(User, User.id == Assignment.judge_id)
        .where(Assignment.round_id == round_.id, col(Assignment.conflict_at).is_not(None))
        .order_by(Assignment.conflict_at)).all()
    return RoundProgress(
        round_id=round_.id, status=round_.status,
        assigned=sum(c.assigned for c in per_category.values()),
        draft=sum(c.draft for c in per_category.values()),
        final=sum(c.final for c in per_category.values()),
        judges=judges,
        categories=sorted(per_category.values(),
                          key=lambda c: (categories[c.category_id].position, c.category_id)),
        conflicts=[ConflictPublic(entry_id=a.entry_id, code=code, judge_id=a.judge_id,
                                  judge=name, reason=a.conflict_reason or "",
                                  at=a.conflict_at)
                   for a, code, name in conflicts])


def missing_final(session: Session, round_: Round) -> int:
    """The final scores the round still lacks: active assignments without one, plus the
    judges an entry is short of (after a conflict no one could take over) — so that a round
    never closes as complete while an entry has fewer scores than it needs."""
    unfinished = session.exec(
        select(func.count()).select_from(Assignment)
        .outerjoin(Score, Score.assignment_id == Assignment.id)
        .where(Assignment.round_id == round_.id, col(Assignment.conflict_at).is_(None),
               (col(Score.final).is_(None)) | (Score.final == False))  # noqa: E712
    ).one()
    judges_on = dict(session.exec(
        select(Assignment.entry_id, func.count())
        .where(Assignment.round_id == round_.id, col(Assignment.conflict_at).is_(None))
        .group_by(Assignment.entry_id)).all())
    entries = session.exec(_of_round(select(Entry.id), round_)).all()
    short = sum(max(round_.judges_per_entry - judges_on.get(e, 0), 0) for e in entries)
    return unfinished + short


def score_history(session: Session, round_: Round, entry_id: int) -> list[ScoreChangePublic]:
    """Every save of every score of the entry in the round (organizer only)."""
    rows = session.exec(
        select(ScoreChange, Score.judge_id).join(Score, Score.id == ScoreChange.score_id)
        .where(Score.round_id == round_.id, Score.entry_id == entry_id)
        .order_by(ScoreChange.at, ScoreChange.id)).all()
    return [ScoreChangePublic(judge_id=judge_id, at=c.at, before=c.before, after=c.after)
            for c, judge_id in rows]




def round_counts(session: Session, round_ids: list[int]) -> dict[int, tuple[int, int]]:
    """{round id: (active assignments, final scores)} for a list of rounds, in one query
    (the award's page shows every round's progress)."""
    if not round_ids:
        return {}
    rows = session.exec(
        select(Assignment.round_id, func.count(), func.count(Score.id).filter(Score.final))
        .outerjoin(Score, Score.assignment_id == Assignment.id)
        .where(col(Assignment.round_id).in_(round_ids), col(Assignment.conflict_at).is_(None))
        .group_by(Assignment.round_id)).all()
    return {round_id: (assigned, final) for round_id, assigned, final in rows}
