"""The organizer's judging console: rounds and their rubric, the panel, assignment, the
round's moves, progress with reminders, assignments and each entry's score history.

Thin pages over app.judging (the same service and query functions as the API): a form is
read into the API's schemas, a refusal shows the page again with the message where it
belongs, a success redirects (post/redirect/get).
"""

from dataclasses import dataclass

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError
from starlette.datastructures import FormData

from app.accounts import service as accounts
from app.accounts.models import User
from app.accounts.rules import Role
from app.awards import service as awards
from app.db import MAX_ID
from app.deps import FormDep, Id, Now, OptionalId, PageOrganizer, SessionDep, page_csrf
from app.errors import N_, DomainError, Invalid
from app.i18n import gettext
from app.judging import queries, rules, service
from app.judging.models import CloseIn, PanelIn, Round, RoundCreate, RoundUpdate
from app.judging.rules import (
    AGGREGATION_LABELS,
    ROUND_AWARD_STATUSES,
    ROUND_STATUS_LABELS,
    SCORE_STATE_LABELS,
    RoundAction,
    RoundStatus,
)
from app.text import parse_int
from app.web import form_error, redirect, render

router = APIRouter(dependencies=[Depends(page_csrf)], include_in_schema=False)

# The usual 100-point scale a new round starts from (the organizer may change it).
DEFAULT_RUBRIC = [
    {"name": N_("Content"), "description": N_("Accuracy, depth, value of the information"),
     "max_points": "40"},
    {"name": N_("Form"), "description": N_("Presentation, language, technique"),
     "max_points": "30"},
    {"name": N_("Impact"), "description": N_("Social effect, reach"), "max_points": "30"},
]
# Blank criterion rows always offered below the filled ones (blank rows are ignored).
BLANK_ROWS = 3
READ_ROWS = 60  # a form never holds more rows than this (the rubric at most 30)
ROUND_FIELDS = ("name", "judges_per_entry", "aggregation", "source_round_id")


def round_summaries(session, award) -> list[dict]:
    """The award's rounds with their progress, for the award's console page."""
    rounds = queries.list_rounds(session, award)
    counts = queries.round_counts(session, [r.id for r in rounds])
    return [{"round": r, "assigned": counts.get(r.id, (0, 0))[0],
             "final": counts.get(r.id, (0, 0))[1]} for r in rounds]


def may_create_rounds(award) -> bool:
    return award.status in ROUND_AWARD_STATUSES


# --- The round form ------------------------------------------------------------------------

@dataclass
class RoundForm:
    """The round form as submitted: its values (to show again) and the criteria rows."""
    values: dict
    rows: list[dict]

    @property
    def total(self) -> float:
        total = 0.0
        for row in self.rows:
            number = _number(row.get("max_points"))
            if row.get("name", "").strip() and number is not None:
                total += number
        return round(total, 2)


def _number(raw) -> float | None:
    try:
        value = float(str(raw or "").strip().replace(",", "."))
    except ValueError:
        return None
    return value if value == value else None


def _read_form(form: FormData) -> RoundForm:
    values = {name: (form.get(name) or "") for name in ROUND_FIELDS}
    values["blind"] = form.get("blind") == "on"
    values["exclude_same_outlet"] = form.get("exclude_same_outlet") == "on"
    count = min(parse_int(form.get("rows") or "") or 0, READ_ROWS)
    rows = []
    for i in range(count):
        rows.append({key: str(form.get(f"c{i}_{key}") or "")
                     for key in ("name", "description", "max_points")})
    return RoundForm(values=values, rows=rows)


def _filled(rows: list[dict]) -> list[int]:
    """Indices of the rows that say something (blank rows are ignored)."""
    return [i for i, row in enumerate(rows) if any(v.strip() for v in row.values())]


BLANK = {"name": "", "description": "", "max_points": ""}


def _compact(rows: list[dict]) -> list[dict]:
    return [rows[i] for i in _filled(rows)]


def _move_rows(rows: list[dict], action: str) -> list[dict]:
    """Moves a criterion up or down, removes one, or adds blank rows: without JavaScript
    these buttons submit the form and it comes back rearranged, nothing stored. ``action``
    names the row by its place on the page."""
    kind, _, raw = action.partition("-")
    index = parse_int(raw)
    rows = list(rows)
    if kind == "add":
        return _compact(rows) + [dict(BLANK) for _ in range(2 * BLANK_ROWS)]
    if index is not None and 0 <= index < len(rows):
        if kind == "up" and index > 0:
            rows[index - 1], rows[index] = rows[index], rows[index - 1]
        elif kind == "down" and index < len(rows) - 1:
            rows[index + 1], rows[index] = rows[index], rows[index + 1]
        elif kind == "remove":
            del rows[index]
    return _compact(rows) + [dict(BLANK) for _ in range(BLANK_ROWS)]


def _criteria(rows: list[dict]) -> list[dict]:
    """The (filled) rows as the schema takes them, in their order on the page."""
    return [{"name": row["name"], "description": row["description"],
             "max_points": row["max_points"].strip().replace(",", ".") or None}
            for row in rows]


def _field_name(loc: tuple | list) -> str:
    parts = [str(p) for p in loc]
    if len(parts) >= 3 and parts[0] == "criteria" and parts[1].isdigit():
        return f"c{parts[1]}_{parts[2]}"
    return parts[-1] if parts else ""


def _round_errors(session, err) -> tuple[str, dict]:
    """The failed change undone; (message, {form field: message}), a criterion's errors
    on its row (c<row>_<field>)."""
    session.rollback()
    if isinstance(err, DomainError):
        message = err.translated(gettext)
        field = err.field or ""
        if field.startswith("criteria."):
            field = _field_name(field.split("."))
        return message, ({field: message} if field else {})
    fields = {}
    for item in err.errors():
        name = _field_name(item["loc"])
        if item["loc"] and item["loc"][0] == "criteria" and len(item["loc"]) == 1:
            message = gettext(N_("Give the rubric at least one criterion."))
            name = "criteria"
        else:
            message = gettext(N_("Please check this value."))
        fields.setdefault(name, message)
    first = next(iter(fields), "")
    return Invalid(N_("Please check the highlighted fields."), field=first).translated(
        gettext), fields


def _with_blank_rows(rows: list[dict]) -> list[dict]:
    return _compact(rows) + [dict(BLANK) for _ in range(BLANK_ROWS)]


def _render_form(request, session, award, round_=None, *, form: RoundForm,
                 status_code: int = 200, error=None, errors=None, keep_rows: bool = False):
    rows = form.rows if keep_rows else _with_blank_rows(form.rows)
    sources = [r for r in queries.list_rounds(session, award)
               if round_ is None or r.id != round_.id]
    return render(request, "console/rounds/form.html", {
        "award": award, "round": round_, "form": form.values, "rows": rows,
        "total": RoundForm(form.values, rows).total, "sources": sources,
        "AGGREGATION": AGGREGATION_LABELS, "error": error, "errors": errors or {},
    }, status_code=status_code)


def _form_of_round(session, round_: Round) -> RoundForm:
    rows = [{"name": c.name, "description": c.description, "max_points": f"{c.max_points:g}"}
            for c in queries.criteria_of(session, round_.id)]
    values = {"name": round_.name, "judges_per_entry": str(round_.judges_per_entry),
              "aggregation": round_.aggregation, "blind": round_.blind,
              "exclude_same_outlet": round_.exclude_same_outlet,
              "source_round_id": str(round_.source_round_id or "")}
    return RoundForm(values=values, rows=rows)


@router.get("/admin/awards/{award_id}/rounds/new")
def new_round_form(award_id: Id, request: Request, session: SessionDep,
                   organizer: PageOrganizer, source_round_id: OptionalId = None):
    award = awards.get_award(session, award_id, viewer=organizer)
    count = len(queries.list_rounds(session, award))
    form = RoundForm(
        values={"name": "", "judges_per_entry": "3", "aggregation": "mean", "blind": True,
                "exclude_same_outlet": True, "source_round_id": str(source_round_id or "")},
        rows=[{k: gettext(v) if k != "max_points" else v for k, v in row.items()}
              for row in DEFAULT_RUBRIC])
    if count == 0:
        form.values["name"] = gettext(N_("Preliminary round"))
    error = None if may_create_rounds(award) else gettext(
        N_("Rounds can be prepared once the award is closed for entries or judging."))
    return _render_form(request, session, award, form=form, error=error)


def _rearranged(form_data: FormData) -> str | None:
    action = form_data.get("move")
    return action if isinstance(action, str) and action else None


@router.post("/admin/awards/{award_id}/rounds/new")
def create_round(award_id: Id, request: Request, form_data: FormDep, session: SessionDep,
                 organizer: PageOrganizer, now: Now):
    award = awards.get_award(session, award_id, viewer=organizer)
    form = _read_form(form_data)
    if (action := _rearranged(form_data)) is not None:
        form.rows = _move_rows(form.rows, action)
        return _render_form(request, session, award, form=form, keep_rows=True)
    form.rows = _compact(form.rows)
    criteria = _criteria(form.rows)
    try:
        data = RoundCreate(
            name=form.values["name"], judges_per_entry=form.values["judges_per_entry"] or None,
            blind=form.values["blind"], aggregation=form.values["aggregation"] or "mean",
            exclude_same_outlet=form.values["exclude_same_outlet"], criteria=criteria,
            source_round_id=form.values["source_round_id"] or None)
        round_ = service.create_round(session, award, data, actor=organizer, now=now)
    except (DomainError, ValidationError) as err:
        message, errors = _round_errors(session, err)
        award = awards.get_award(session, award_id, viewer=organizer)
        return _render_form(request, session, award, form=form, error=message,
                            errors=errors, status_code=_status(err))
    return redirect(f"/admin/rounds/{round_.id}?done=created")


def _status(err) -> int:
    return err.status_code if isinstance(err, DomainError) else 422


def _round_and_award(session, round_id: int, organizer: User):
    round_ = queries.get_round(session, round_id, viewer=organizer)
    return round_, awards.get_award(session, round_.award_id, viewer=organizer)


@router.get("/admin/rounds/{round_id}/edit")
def edit_round_form(round_id: Id, request: Request, session: SessionDep,
                    organizer: PageOrganizer):
    round_, award = _round_and_award(session, round_id, organizer)
    if round_.status != RoundStatus.setup:
        return _frozen(request, session, round_, award)
    return _render_form(request, session, award, round_, form=_form_of_round(session, round_))


def _frozen(request, session, round_, award, *, status_code: int = 200, error=None):
    """A round past setup: its rubric, read-only, with the reason it cannot change."""
    return render(request, "console/rounds/frozen.html", {
        "award": award, "round": queries.round_public(session, round_),
        "ROUND_STATUS": ROUND_STATUS_LABELS, "AGGREGATION": AGGREGATION_LABELS,
        "error": error or gettext(N_("The round's settings and rubric cannot change once "
                                     "scoring has started.")),
    }, status_code=status_code)


@router.post("/admin/rounds/{round_id}/edit")
def update_round(round_id: Id, request: Request, form_data: FormDep, session: SessionDep,
                 organizer: PageOrganizer, now: Now):
    round_, award = _round_and_award(session, round_id, organizer)
    form = _read_form(form_data)
    if (action := _rearranged(form_data)) is not None:
        form.rows = _move_rows(form.rows, action)
        return _render_form(request, session, award, round_, form=form, keep_rows=True)
    form.rows = _compact(form.rows)
    criteria = _criteria(form.rows)
    try:
        data = RoundUpdate(
            name=form.values["name"], judges_per_entry=form.values["judges_per_entry"] or None,
            blind=form.values["blind"], aggregation=form.values["aggregation"] or None,
            exclude_same_outlet=form.values["exclude_same_outlet"], criteria=criteria)
        service.update_round(session, round_, data, actor=organizer, now=now)
    except (DomainError, ValidationError) as err:
        message, errors = _round_errors(session, err)
        round_, award = _round_and_award(session, round_id, organizer)
        if round_.status != RoundStatus.setup:
            return _frozen(request, session, round_, award, status_code=_status(err))
        return _render_form(request, session, award, round_, form=form, error=message,
                            errors=errors, status_code=_status(err))
    return redirect(f"/admin/rounds/{round_id}?done=saved")


# --- The round page: settings, panel, moves -------------------------------------------------

def _judge_accounts(session) -> list[User]:
    users, _ = accounts.list_users(session, role=Role.judge, limit=500)
    return sorted((u for u in users if u.is_active), key=lambda u: (u.full_name, u.id))


def _round_page(request, session, round_: Round, award, *, status_code: int = 200, **extra):
    public = queries.round_public(session, round_)
    categories = awards.list_categories(session, award)
    panel = queries.panel_of(session, round_)
    seated = {m.judge_id for m in panel}
    counts = queries.round_counts(session, [round_.id]).get(round_.id, (0, 0))
    status = RoundStatus(round_.status)
    context = {
        "award": award, "round": public, "categories": categories,
        "category_names": {c.id: c.name for c in categories},
        "panel": panel, "judges": [u for u in _judge_accounts(session) if u.id not in seated],
        "source": (session.get(Round, round_.source_round_id)
                   if round_.source_round_id else None),
        "assigned": counts[0], "final": counts[1],
        "missing": queries.missing_final(session, round_),
        "ROUND_STATUS": ROUND_STATUS_LABELS, "AGGREGATION": AGGREGATION_LABELS,
        "can_edit": status == RoundStatus.setup,
        "can_change_panel": status != RoundStatus.closed,
        "can_start": status == RoundStatus.setup, "can_close": status == RoundStatus.scoring,
        "params": request.query_params,
    }
    context.update(extra)
    return render(request, "console/rounds/round.html", context, status_code=status_code)


@router.get("/admin/rounds/{round_id}")
def round_page(round_id: Id, request: Request, session: SessionDep, organizer: PageOrganizer):
    round_, award = _round_and_award(session, round_id, organizer)
    return _round_page(request, session, round_, award)


def _refused(request, session, round_id, organizer, err, *, slot: str, **extra):
    """The round page again with the refusal next to the part it concerns."""
    message, errors = form_error(session, err)
    round_, award = _round_and_award(session, round_id, organizer)
    return _round_page(request, session, round_, award,
                       status_code=_status(err), **{slot: message}, errors=errors, **extra)


def _category_ids(form_data: FormData) -> list[int]:
    ids = [parse_int(v) for v in form_data.getlist("category_ids") if isinstance(v, str)]
    return [i if i is not None and 1 <= i <= MAX_ID else -1 for i in ids]


@router.post("/admin/rounds/{round_id}/panel")
def set_panel(round_id: Id, request: Request, form_data: FormDep, session: SessionDep,
              organizer: PageOrganizer, now: Now):
    """Seats a judge, or changes the categories of one already seated."""
    round_, _award = _round_and_award(session, round_id, organizer)
    judge_id = parse_int(form_data.get("judge_id") or "")
    try:
        if judge_id is None:
            raise Invalid(N_("Choose a judge's account (invite the judge first)."),
                          field="judge_id")
        data = PanelIn(judge_id=judge_id, category_ids=_category_ids(form_data))
        _member, created = service.set_panel(session, round_, data, actor=organizer, now=now)
    except (DomainError, ValidationError) as err:
        return _refused(request, session, round_id, organizer, err, slot="panel_error",
                        panel_form={"judge_id": judge_id,
                                    "category_ids": _category_ids(form_data)})
    return redirect(f"/admin/rounds/{round_id}?done={'seated' if created else 'panel'}#panel")


@router.get("/admin/rounds/{round_id}/panel/{judge_id}/remove")
def confirm_remove(round_id: Id, judge_id: Id, request: Request, session: SessionDep,
                   organizer: PageOrganizer):
    """The confirmation (a page of its own, so that it works without JavaScript)."""
    round_, award = _round_and_award(session, round_id, organizer)
    member = next((m for m in queries.panel_of(session, round_) if m.judge_id == judge_id),
                  None)
    if member is None:
        return redirect(f"/admin/rounds/{round_id}#panel")
    return render(request, "console/rounds/remove.html",
                  {"award": award, "round": round_, "member": member})


@router.post("/admin/rounds/{round_id}/panel/{judge_id}/remove")
def remove_from_panel(round_id: Id, judge_id: Id, request: Request, session: SessionDep,
                      organizer: PageOrganizer, now: Now):
    round_, _award = _round_and_award(session, round_id, organizer)
    if not queries.is_panel_member(session, round_id, accounts.get_user(session, judge_id)):
        return redirect(f"/admin/rounds/{round_id}?done=removed#panel")  # a second click
    try:
        service.remove_panel_member(session, round_, judge_id, actor=organizer, now=now)
    except DomainError as err:
        return _refused(request, session, round_id, organizer, err, slot="panel_error")
    return redirect(f"/admin/rounds/{round_id}?done=removed#panel")


@router.post("/admin/rounds/{round_id}/assign")
def assign(round_id: Id, request: Request, session: SessionDep, organizer: PageOrganizer,
           now: Now):
    round_, _award = _round_and_award(session, round_id, organizer)
    try:
        result = service.assign_round(session, round_, actor=organizer, now=now)
    except DomainError as err:
        return _refused(request, session, round_id, organizer, err, slot="assign_error")
    return redirect(f"/admin/rounds/{round_id}?done=assigned&assignments={result.assignments}"
                    f"&added={result.added}&removed={result.removed}#assign")


def _move(request, session, round_id, organizer, now, action: RoundAction, *,
          confirmed: bool, **kwargs):
    """Starting and closing a round cannot be undone: the first post shows what follows
    (a confirmation page, once the move's own checks pass), the confirmed one moves. A
    round already where the move leads (a double click, another tab) says so and moves
    nothing."""
    round_, award = _round_and_award(session, round_id, organizer)
    target = rules.ROUND_TRANSITIONS[action].target
    if round_.status == target:
        return redirect(f"/admin/rounds/{round_id}?done=already_{action.value}")
    try:
        if not confirmed:
            effects = service.check_move(session, round_, action, **kwargs)
            return _confirm_move(request, session, round_, award, action, effects, **kwargs)
        service.move_round(session, round_, action, actor=organizer, now=now, **kwargs)
    except DomainError as err:
        message, errors = form_error(session, err)
        round_, award = _round_and_award(session, round_id, organizer)
        if round_.status == target:  # the other click got there first
            return redirect(f"/admin/rounds/{round_id}?done=already_{action.value}")
        return _round_page(request, session, round_, award,
                           status_code=err.status_code, errors=errors,
                           **{f"{action.value}_error": message},
                           close_form={"force": kwargs.get("force"),
                                       "reason": kwargs.get("reason") or ""})
    return redirect(f"/admin/rounds/{round_id}?done={action.value}")


def _confirm_move(request, session, round_, award, action: RoundAction, effects: dict, *,
                  force: bool = False, reason: str | None = None):
    assigned, final = queries.round_counts(session, [round_.id]).get(round_.id, (0, 0))
    if action == RoundAction.start:
        question = gettext(N_("Start scoring in “%(round)s”?")) % {"round": round_.name}
        lines = [
            gettext(N_("Judges who will be mailed the link to their entries: %(n)s.")) % {
                "n": effects["judges"]},
            gettext(N_("Assignments to score: %(n)s.")) % {"n": assigned},
            gettext(N_("The round's settings and rubric are frozen from then on.")),
        ]
        button, fields = gettext(N_("Start scoring")), []
    else:
        question = gettext(N_("Close “%(round)s”?")) % {"round": round_.name}
        lines = [gettext(N_("Judges can no longer change their scores; the round's ranking "
                            "becomes final.")),
                 gettext(N_("Final scores: %(final)s of %(assigned)s.")) % {
                     "final": final, "assigned": assigned}]
        if effects["missing"]:
            lines.append(gettext(N_("Scores missing or not final, left out of the ranking: "
                                    "%(n)s. Your reason is kept in the audit log.")) % {
                "n": effects["missing"]})
        button = gettext(N_("Close the round"))
        fields = [("force", "on" if force else ""), ("reason", reason or "")]
    return render(request, "console/rounds/confirm.html", {
        "award": award, "round": round_, "question": question, "consequences": lines,
        "button": button, "action": action.value, "fields": fields})


@router.get("/admin/rounds/{round_id}/start")
@router.get("/admin/rounds/{round_id}/close")
def round_step_reopened(round_id: Id, organizer: PageOrganizer):
    """The confirmation's address opened again: the round's page, where the step starts."""
    return redirect(f"/admin/rounds/{round_id}")


@router.post("/admin/rounds/{round_id}/start")
def start(round_id: Id, request: Request, form_data: FormDep, session: SessionDep,
          organizer: PageOrganizer, now: Now):
    return _move(request, session, round_id, organizer, now, RoundAction.start,
                 confirmed=form_data.get("confirmed") == "1")


@router.post("/admin/rounds/{round_id}/close")
def close(round_id: Id, request: Request, form_data: FormDep, session: SessionDep,
          organizer: PageOrganizer, now: Now):
    reason = form_data.get("reason")
    data = CloseIn(force=form_data.get("force") == "on",
                   reason=reason if isinstance(reason, str) else None)
    return _move(request, session, round_id, organizer, now, RoundAction.close,
                 confirmed=form_data.get("confirmed") == "1", force=data.force,
                 reason=data.reason)


# --- Progress, reminders, assignments, history ---------------------------------------------

@router.get("/admin/rounds/{round_id}/progress")
def progress_page(round_id: Id, request: Request, session: SessionDep,
                  organizer: PageOrganizer, reminded: str = ""):
    round_, award = _round_and_award(session, round_id, organizer)
    return _progress(request, session, round_, award, reminded=parse_int(reminded))


def _progress(request, session, round_, award, *, status_code: int = 200, **extra):
    return render(request, "console/rounds/progress.html", {
        "award": award, "round": round_, "progress": queries.progress(session, round_),
        "ROUND_STATUS": ROUND_STATUS_LABELS, **extra}, status_code=status_code)


@router.post("/admin/rounds/{round_id}/remind")
def remind(round_id: Id, request: Request, session: SessionDep, organizer: PageOrganizer,
           now: Now):
    round_, _award = _round_and_award(session, round_id, organizer)
    try:
        count = service.remind_laggards(session, round_, actor=organizer, now=now)
    except DomainError as err:
        message, _ = form_error(session, err)
        round_, award = _round_and_award(session, round_id, organizer)
        return _progress(request, session, round_, award, remind_error=message,
                         status_code=err.status_code)
    return redirect(f"/admin/rounds/{round_id}/progress?reminded={count}")


def _judge_names(session, judge_ids) -> dict[int, str]:
    return {i: accounts.get_user(session, i).full_name for i in sorted(set(judge_ids))}


@router.get("/admin/rounds/{round_id}/assignments")
def assignments_page(round_id: Id, request: Request, session: SessionDep,
                     organizer: PageOrganizer):
    """Who scores what, by entry: each judge by name, the state and total of their score."""
    round_, award = _round_and_award(session, round_id, organizer)
    items = queries.assignments_of(session, round_, judge=None)
    by_entry: dict[int, dict] = {}
    for a in items:
        entry = by_entry.setdefault(a.entry_id, {"entry_id": a.entry_id, "code": a.code,
                                                 "title": a.title,
                                                 "category_id": a.category_id, "judges": []})
        entry["judges"].append(a)
    categories = {c.id: c.name for c in awards.list_categories(session, award)}
    return render(request, "console/rounds/assignments.html", {
        "award": award, "round": round_, "entries": list(by_entry.values()),
        "names": _judge_names(session, [a.judge_id for a in items]),
        "categories": categories, "STATE": SCORE_STATE_LABELS, "count": len(items)})


@router.get("/admin/rounds/{round_id}/entries/{entry_id}/history")
def history_page(round_id: Id, entry_id: Id, request: Request, session: SessionDep,
                 organizer: PageOrganizer):
    """Every save of every judge's score of the entry: who, when, before → after."""
    round_, award = _round_and_award(session, round_id, organizer)
    entry = queries.judge_entry_public(session, round_id, entry_id, viewer=organizer)
    changes = queries.score_history(session, round_, entry_id)
    criteria = queries.criteria_of(session, round_.id)
    return render(request, "console/rounds/history.html", {
        "award": award, "round": round_, "entry": entry, "changes": changes,
        "criteria": criteria, "names": _judge_names(session, [c.judge_id for c in changes])})
