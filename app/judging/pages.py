"""The judge's pages: their rounds, a round's queue, and the scoring page beside the work.

Thin routes over judging.queries and judging.service, as the API is: the same
``service.save_score`` and ``service.declare_conflict`` with the same schemas, so a rule
is never written twice. Templates get the judge's views (JudgeEntryPublic, RoundPublic,
AssignmentPublic) and plain values, never rows: in a blind round nothing that could name an
author reaches them.
"""

import math

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlmodel import Session
from starlette.datastructures import FormData

from app.accounts.models import User
from app.accounts.rules import Role
from app.awards import service as awards
from app.awards.models import Award
from app.deps import FormDep, Id, Now, SessionDep, page_csrf, page_role
from app.errors import N_, DomainError, Invalid, NotFound
from app.judging import queries, rules, service
from app.judging.models import ConflictIn, ScoreIn
from app.web import form_error, format_datetime, redirect, render

router = APIRouter(dependencies=[Depends(page_csrf)], include_in_schema=False)
PageJudge = page_role(Role.judge)

SAVE_ACTIONS = ("draft", "final", "next")
# The queue's notices after a redirect: a declared conflict's outcome, the end of the queue.
QUEUE_NOTICES = ("reassigned", "waiting", "done", "last")


def _labels() -> dict:
    return {"ROUND_STATUS": rules.ROUND_STATUS_LABELS, "SCORE_STATE": rules.SCORE_STATE_LABELS}


def _queue_url(round_id: int, **query) -> str:
    suffix = "&".join(f"{k}={v}" for k, v in query.items())
    return f"/judge/rounds/{round_id}" + (f"?{suffix}" if suffix else "")


def _entry_url(round_id: int, entry_id: int, **query) -> str:
    suffix = "&".join(f"{k}={v}" for k, v in query.items())
    return f"/judge/rounds/{round_id}/entries/{entry_id}" + (f"?{suffix}" if suffix else "")


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


# --- The judge's rounds and a round's queue ------------------------------------------------

@router.get("/judge")
def my_rounds(request: Request, session: SessionDep, judge: PageJudge):
    return render(request, "judging/rounds.html",
                  {"rounds": queries.judge_rounds(session, judge), **_labels()})


@router.get("/judge/rounds/{round_id}")
def queue(round_id: Id, request: Request, session: SessionDep, judge: PageJudge,
          notice: str | None = None):
    """The judge's entries in the round with the state of each score, and a button to the
    next one without a final score. 404 for a round whose panel they are not on."""
    round_ = queries.get_round(session, round_id, viewer=judge)
    items = queries.judge_queue(session, round_, judge)
    categories = awards.categories_by_ids(session, {a.category_id for a in items})
    return render(request, "judging/queue.html", {
        "round": queries.round_public(session, round_),
        "award": session.get(Award, round_.award_id).title,
        "items": items,
        "categories": {i: c.name for i, c in categories.items()},
        "final": sum(1 for a in items if a.state == "final"),
        "started": any(a.state != "todo" for a in items),
        "next_id": queries.next_unfinished(session, round_, judge),
        "notice": notice if notice in QUEUE_NOTICES else None,
        **_labels(),
    })


# --- The scoring page ----------------------------------------------------------------------

def _typed_points(form: FormData, criteria) -> tuple[dict[str, float | None], dict[str, str]]:
    """The points as the service takes them, and the text typed (shown again on an error).
    An empty field is no points yet; a decimal comma is accepted ("12,5"); text that is not
    a number is passed on as NaN, which the rubric's own check refuses naming the
    criterion. A ``points.<id>`` field of no criterion of this round (a stale or forged
    form) is passed on too, so that the service refuses it instead of it being dropped."""
    points: dict[str, float | None] = {}
    typed: dict[str, str] = {}
    keys = [str(c.id) for c in criteria]
    keys += [k[len("points."):] for k in form.keys()
             if k.startswith("points.") and k[len("points."):] not in keys]
    for key in keys:
        raw = form.get(f"points.{key}")
        text = raw.strip() if isinstance(raw, str) else ""
        typed[key] = text
        if not text:
            if key in keys[:len(criteria)]:
                points[key] = None
            else:
                points[key] = math.nan
            continue
        try:
            points[key] = float(text.replace(",", "."))
        except ValueError:
            points[key] = math.nan
    return points, typed


def _points_text(value: float) -> str:
    return f"{value:g}"


def _scoring_page(request: Request, session: Session, judge: User, round_id: int,
                  entry_id: int, *, status_code: int = 200, typed: dict | None = None,
                  comment: str | None = None, **extra):
    """The entry as the judge sees it (404 unless it is in their queue) with its files and
    the rubric filled with their score, or with what they typed when it was refused."""
    entry = queries.judge_entry_public(session, round_id, entry_id, viewer=judge)
    round_ = queries.get_round(session, round_id, viewer=judge)
    score = entry.score
    if typed is None:
        typed = {k: _points_text(v) for k, v in (score.points if score else {}).items()}
        comment = score.comment if score else ""
    state = rules.score_state(score.final if score else None)
    return render(request, "judging/score.html", {
        "entry": entry,
        "round": queries.round_public(session, round_),
        "award": session.get(Award, round_.award_id).title,
        "score": score,
        "state": state,
        "editable": rules.may_score(active=True, round_status=round_.status),
        "form": {"points": typed, "comment": comment or ""},
        **_labels(),
        **extra,
    }, status_code=status_code)


@router.get("/judge/rounds/{round_id}/entries/{entry_id}")
def scoring_page(round_id: Id, entry_id: Id, request: Request, session: SessionDep,
                 judge: PageJudge, saved: str | None = None, prev: int | None = None):
    previous = None
    if prev is not None:
        round_ = queries.get_round(session, round_id, viewer=judge)
        previous = next((a.code for a in queries.judge_queue(session, round_, judge)
                         if a.entry_id == prev), None)
    return _scoring_page(request, session, judge, round_id, entry_id,
                         saved=saved if saved in ("draft", "final") else None,
                         previous=previous)


@router.post("/judge/rounds/{round_id}/entries/{entry_id}")
def save_score(round_id: Id, entry_id: Id, request: Request, form: FormDep,
               session: SessionDep, judge: PageJudge, now: Now):
    """Saves the rubric through ``service.save_score``, as the API's PUT does.

    ``action``: ``draft`` (the form's default button, also what Enter sends), ``final``,
    or ``next`` (makes the score final, then opens the next entry without a final score).
    With ``Accept: application/json`` (the page's autosave) the answer is JSON: ``{total,
    final, state, saved_at}``, or ``{detail, field}`` with the refusal's status.
    """
    action = form.get("action") or "draft"
    comment = form.get("comment") if isinstance(form.get("comment"), str) else ""
    typed: dict[str, str] | None = None
    try:
        if action not in SAVE_ACTIONS:
            raise Invalid(N_("Unknown action."), field="action")
        round_, _assignment = queries.judge_assignment(session, round_id, entry_id,
                                                       judge=judge)
        points, typed = _typed_points(form, queries.criteria_of(session, round_id))
        data = ScoreIn(points=points, comment=comment, final=action in ("final", "next"))
        # A form opened on a draft (another tab, the autosave) never undoes a final score
        # given meanwhile; only the "save as a draft again" of a final score's page does.
        score = service.save_score(session, round_id, entry_id, data, judge=judge, now=now,
                                   unfinal=form.get("opened_state") == "final")
    except (DomainError, ValidationError) as err:
        message, errors = form_error(session, err)
        status_code = getattr(err, "status_code", 422)
        if _wants_json(request):
            field = getattr(err, "field", None) or next(iter(errors), None)
            return JSONResponse({"detail": message, "field": field}, status_code=status_code)
        if isinstance(err, NotFound):
            raise err
        if status_code == 409:  # the round is not scoring: show what is really saved
            typed = None
        return _scoring_page(request, session, judge, round_id, entry_id,
                             status_code=status_code, typed=typed, comment=comment,
                             errors=errors, error=message)
    state = rules.score_state(score.final)
    if _wants_json(request):
        # "Saved at 14:05:09" on the server's clock in the award's time zone, not the
        # judge's computer's.
        zone = session.get(Award, round_.award_id).timezone
        return JSONResponse({"total": score.total, "final": score.final, "state": state,
                             "saved_at": score.updated_at.isoformat(),
                             "saved_at_text": format_datetime(score.updated_at, zone,
                                                              "%H:%M:%S")})
    if action != "next":
        return redirect(_entry_url(round_id, entry_id, saved=state) + "#rubric-title")
    following = queries.next_unfinished(session, round_, judge, after=entry_id)
    if following is None:  # every other entry is final: this one may be the last
        return redirect(_queue_url(round_id, notice="done" if score.final else "last"))
    return redirect(_entry_url(round_id, following, prev=entry_id))


@router.post("/judge/rounds/{round_id}/entries/{entry_id}/conflict")
def declare_conflict(round_id: Id, entry_id: Id, request: Request, form: FormDep,
                     session: SessionDep, judge: PageJudge, now: Now):
    """The judge gives the entry up with a reason (``service.declare_conflict``); the queue
    then says whether another judge took it or the organizer will find one."""
    reason = form.get("reason") if isinstance(form.get("reason"), str) else ""
    try:
        data = ConflictIn(reason=reason)
        result = service.declare_conflict(session, round_id, entry_id, judge=judge,
                                          reason=data.reason, now=now)
    except (DomainError, ValidationError) as err:
        message, _errors = form_error(session, err)
        if isinstance(err, NotFound):
            raise err
        return _scoring_page(request, session, judge, round_id, entry_id,
                             status_code=getattr(err, "status_code", 422),
                             conflict_error=message, conflict_reason=reason)
    return redirect(_queue_url(round_id,
                               notice="reassigned" if result.reassigned else "waiting"))
