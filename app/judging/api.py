"""The judging API (shared/API.md, "Judging"): thin routes over judging.service/queries."""

from fastapi import APIRouter, Response, status

from app.accounts.rules import Role
from app.awards import service as awards
from app.deps import ApiOrganizer, Id, Now, PageParams, SessionDep, api_role, page_of
from app.judging import queries, service
from app.judging.models import (
    AssignmentPublic,
    AssignResult,
    CloseIn,
    ConflictIn,
    ConflictResult,
    JudgeEntryPublic,
    JudgeRound,
    PanelIn,
    PanelMemberPublic,
    RemindResult,
    RoundCreate,
    RoundProgress,
    RoundPublic,
    RoundUpdate,
    ScoreChangePublic,
    ScoreIn,
    ScorePublic,
)
from app.judging.rules import RoundAction
from app.openapi import errors, paged

router = APIRouter(tags=["judging"])
ApiJudge = api_role(Role.judge)
ApiJudgeOrOrganizer = api_role(Role.judge, Role.organizer)


@router.post("/awards/{award_id}/rounds", response_model=RoundPublic,
             status_code=status.HTTP_201_CREATED, responses=errors(404, 409))
def create_round(award_id: Id, data: RoundCreate, organizer: ApiOrganizer, session: SessionDep,
                 now: Now):
    """A round in ``setup`` with its rubric (criteria in priority order). Without
    ``source_round_id`` it judges the award's accepted entries, with it that round's
    shortlist. The award must be closed for entries or judging."""
    award = awards.get_award(session, award_id, viewer=organizer)
    round_ = service.create_round(session, award, data, actor=organizer, now=now)
    return queries.round_public(session, round_)


@router.get("/awards/{award_id}/rounds", response_model=list[RoundPublic],
            responses=paged(404))
def list_rounds(award_id: Id, organizer: ApiOrganizer, session: SessionDep, page: PageParams,
                response: Response):
    award = awards.get_award(session, award_id, viewer=organizer)
    rounds = [queries.round_public(session, r) for r in queries.list_rounds(session, award)]
    return page_of(rounds, page, response)


@router.get("/rounds/{round_id}", response_model=RoundPublic, responses=errors(404))
def get_round(round_id: Id, user: ApiJudgeOrOrganizer, session: SessionDep):
    """Organizers see every round; a judge the rounds whose panel they sit on."""
    return queries.round_public(session, queries.get_round(session, round_id, viewer=user))


@router.patch("/rounds/{round_id}", response_model=RoundPublic, responses=errors(404, 409))
def update_round(round_id: Id, data: RoundUpdate, organizer: ApiOrganizer,
                 session: SessionDep, now: Now):
    """Settings and rubric while the round is in ``setup``; 409 once scoring started."""
    round_ = queries.get_round(session, round_id, viewer=organizer)
    return queries.round_public(
        session, service.update_round(session, round_, data, actor=organizer, now=now))


@router.get("/rounds/{round_id}/panel", response_model=list[PanelMemberPublic],
            responses=paged(404))
def get_panel(round_id: Id, organizer: ApiOrganizer, session: SessionDep, page: PageParams,
              response: Response):
    round_ = queries.get_round(session, round_id, viewer=organizer)
    return page_of(queries.panel_of(session, round_), page, response)


@router.post("/rounds/{round_id}/panel", response_model=PanelMemberPublic,
             status_code=status.HTTP_201_CREATED,
             responses={200: {"model": PanelMemberPublic,
                              "description": "The judge's categories were changed"},
                        **errors(404, 409)})
def set_panel(round_id: Id, data: PanelIn, organizer: ApiOrganizer, session: SessionDep,
              now: Now, response: Response):
    """Seats a judge (an account invited as judge) for these categories of the round; 201
    when seated, 200 when their categories changed."""
    round_ = queries.get_round(session, round_id, viewer=organizer)
    _member, created = service.set_panel(session, round_, data, actor=organizer, now=now)
    if not created:
        response.status_code = status.HTTP_200_OK
    return next(m for m in queries.panel_of(session, round_) if m.judge_id == data.judge_id)


@router.delete("/rounds/{round_id}/panel/{judge_id}", status_code=status.HTTP_204_NO_CONTENT,
               responses=errors(404, 409))
def remove_panel_member(round_id: Id, judge_id: Id, organizer: ApiOrganizer,
                        session: SessionDep, now: Now):
    round_ = queries.get_round(session, round_id, viewer=organizer)
    service.remove_panel_member(session, round_, judge_id, actor=organizer, now=now)


@router.post("/rounds/{round_id}/assign", response_model=AssignResult,
             responses=errors(404, 409))
def assign(round_id: Id, organizer: ApiOrganizer, session: SessionDep, now: Now):
    """Every entry of the round gets ``judges_per_entry`` judges of its category's panel,
    loads balanced, never a conflict of interest; assignments already scored are kept.
    409 naming the entries the panel cannot cover (nothing is assigned then)."""
    round_ = queries.get_round(session, round_id, viewer=organizer)
    return service.assign_round(session, round_, actor=organizer, now=now)


@router.post("/rounds/{round_id}/start", response_model=RoundPublic, responses=errors(404, 409))
def start_round(round_id: Id, organizer: ApiOrganizer, session: SessionDep, now: Now):
    """Scoring starts (the rubric is frozen); each judge is mailed their queue's link."""
    round_ = queries.get_round(session, round_id, viewer=organizer)
    return queries.round_public(
        session, service.move_round(session, round_, RoundAction.start, actor=organizer,
                                    now=now))


@router.post("/rounds/{round_id}/close", response_model=RoundPublic, responses=errors(404, 409))
def close_round(round_id: Id, organizer: ApiOrganizer, session: SessionDep, now: Now,
                data: CloseIn | None = None):
    """409 while scores are not final, unless ``{force: true, reason}`` (recorded)."""
    data = data or CloseIn()
    round_ = queries.get_round(session, round_id, viewer=organizer)
    return queries.round_public(
        session, service.move_round(session, round_, RoundAction.close, actor=organizer,
                                    now=now, force=data.force, reason=data.reason))


@router.get("/rounds/{round_id}/assignments", response_model=list[AssignmentPublic],
            responses=paged(404))
def assignments(round_id: Id, user: ApiJudgeOrOrganizer, session: SessionDep,
                page: PageParams, response: Response):
    """A judge: their own queue (empty until scoring starts); the organizer: every
    assignment, with ``judge_id``."""
    round_ = queries.get_round(session, round_id, viewer=user)
    if user.role == Role.judge:
        items = queries.judge_queue(session, round_, user)
    else:
        items = queries.assignments_of(session, round_, judge=None)
    return page_of(items, page, response)


@router.get("/rounds/{round_id}/entries/{entry_id}", response_model=JudgeEntryPublic,
            responses=errors(404))
def judge_entry(round_id: Id, entry_id: Id, user: ApiJudgeOrOrganizer, session: SessionDep):
    """The entry as the round's judges see it (blind round: no author, pen name, e-mail,
    submitter nor original file name), with the caller's own score (judges)."""
    return queries.judge_entry_public(session, round_id, entry_id, viewer=user)


@router.put("/rounds/{round_id}/entries/{entry_id}/score", response_model=ScorePublic,
            responses=errors(403, 404, 409))
def save_score(round_id: Id, entry_id: Id, data: ScoreIn, judge: ApiJudge, session: SessionDep,
               now: Now):
    """Points by criterion id; ``final`` needs every criterion. 422 names the criterion
    out of bounds or missing; 403 an entry not assigned to the caller; 409 the round is not
    scoring. The last save wins; every save is kept in the score's history."""
    score = service.save_score(session, round_id, entry_id, data, judge=judge, now=now)
    return queries.score_public(score, round_id, entry_id)


@router.post("/rounds/{round_id}/entries/{entry_id}/conflict", response_model=ConflictResult,
             responses=errors(404, 409))
def declare_conflict(round_id: Id, entry_id: Id, data: ConflictIn, judge: ApiJudge,
                     session: SessionDep, now: Now):
    """The judge gives the entry up with a reason; another conflict-free judge of the panel
    takes it (``reassigned``)."""
    return service.declare_conflict(session, round_id, entry_id, judge=judge,
                                    reason=data.reason, now=now)


@router.get("/rounds/{round_id}/progress", response_model=RoundProgress, responses=errors(404))
def progress(round_id: Id, organizer: ApiOrganizer, session: SessionDep):
    """Per judge (laggards first) and per category: assigned, draft, final; conflicts."""
    round_ = queries.get_round(session, round_id, viewer=organizer)
    return queries.progress(session, round_)


@router.post("/rounds/{round_id}/remind", response_model=RemindResult,
             responses=errors(404, 409))
def remind(round_id: Id, organizer: ApiOrganizer, session: SessionDep, now: Now):
    """Mails every judge whose scores are not all final (each at most every 30 minutes)."""
    round_ = queries.get_round(session, round_id, viewer=organizer)
    return RemindResult(reminded=service.remind_laggards(session, round_, actor=organizer,
                                                         now=now))


@router.get("/rounds/{round_id}/entries/{entry_id}/history",
            response_model=list[ScoreChangePublic], responses=paged(404))
def score_history(round_id: Id, entry_id: Id, organizer: ApiOrganizer, session: SessionDep,
                  page: PageParams, response: Response):
    """Every save of every judge's score of the entry in the round (who, when, before,
    after)."""
    round_ = queries.get_round(session, round_id, viewer=organizer)
    return page_of(queries.score_history(session, round_, entry_id), page, response)


@router.get("/me/rounds", response_model=list[JudgeRound], responses=paged())
def my_rounds(judge: ApiJudge, session: SessionDep, page: PageParams, response: Response):
    """The rounds whose panel the caller sits on, with their progress."""
    return page_of(queries.judge_rounds(session, judge), page, response)
