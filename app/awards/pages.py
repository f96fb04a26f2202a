from datetime import time
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError
from starlette.datastructures import FormData

from app import zones
from app.audit import present as audit_present
from app.accounts.rules import Role
from app.audit import service as audit
from app.awards import rules, service
from app.awards.models import AwardCreate, AwardUpdate, CategoryCreate, CategoryUpdate
from app.awards.rules import PRIZE_LEVELS, AwardStatus, FileKind, Phase
from app.deps import (
    FormDep,
    Id,
    Now,
    Offset,
    PageOrganizer,
    PageUserOptional,
    SessionDep,
    page_csrf,
)
from app.console import rounds as console_rounds
from app.db import utcnow
from app.entries import queries as entry_queries
from app.entries.rules import STATUS_LABELS as ENTRY_STATUS_LABELS
from app.errors import N_, DomainError, Invalid, collect, raise_all
from app.i18n import gettext
from app.judging.rules import ROUND_STATUS_LABELS
from app.text import parse_day, parse_int, parse_local_datetime
from app.web import form_error, redirect, render
from app.zones import label as zone_label

router = APIRouter(dependencies=[Depends(page_csrf)], include_in_schema=False)

AWARD_FIELDS = (
    "title", "year", "slug", "rules", "timezone", "max_entries_per_author",
    "max_authors_per_entry", "max_series_parts",
)
# Typed as a date (dd/mm/yyyy) and a time (HH:MM, 24 h) in two boxes; a date alone means
# the start of the day for an opening and its last minute for a closing.
WINDOW_FIELDS = {"submission_opens_at": time(0, 0), "submission_closes_at": time(23, 59)}
DAY_FIELDS = ("published_from", "published_to")


def _text(form: FormData, name: str) -> str | None:
    value = form.get(name)
    return value if isinstance(value, str) else None


def _award_values(form: FormData) -> dict:
    """Form fields as the schema expects them: empty inputs are absent values; dates are
    read as dd/mm/yyyy (or ISO) and times as HH:MM, in the award's time zone. Every field
    that cannot be read is reported at once (each beside its box)."""
    values = {name: (form.get(name) or None) for name in AWARD_FIELDS if name in form}

    def read(name, reader):
        def check():
            values[name] = reader()
        return check

    checks = []
    for name, default_clock in WINDOW_FIELDS.items():
        if f"{name}_date" in form or name in form:
            checks.append(read(name, lambda name=name, clock=default_clock: parse_local_datetime(
                _text(form, f"{name}_date") or _text(form, name), _text(form, f"{name}_time"),
                field=name, default_clock=clock)))
    for name in DAY_FIELDS:
        if name in form:
            checks.append(read(name, lambda name=name: parse_day(_text(form, name), field=name)))
    if "special_prize_quota" in form:
        checks.append(read("special_prize_quota",
                           lambda: _special_prize_quota(form.get("special_prize_quota"))))
    raise_all(collect(*checks))
    return values


MAX_SPECIAL_PRIZES = 1000


def _special_prize_quota(raw) -> int:
    """Số giải Đặc biệt: a whole number from 0 (none); an empty field is 0."""
    text = str(raw or "").strip()
    number = parse_int(text) if text else 0
    if number is None or not 0 <= number <= MAX_SPECIAL_PRIZES:
        raise Invalid(N_("The number of special prizes must be a whole number from 0 to "
                         "{max}."), max=MAX_SPECIAL_PRIZES, field="special_prize_quota")
    return number


def _category_values(form: FormData) -> dict:
    quota = {}
    for level in PRIZE_LEVELS:
        raw = (form.get(f"quota_{level}") or "0").strip()
        number = parse_int(raw)
        quota[level] = -1 if number is None else number
    return {
        "code": form.get("code") or "",
        "name": form.get("name") or "",
        "description": form.get("description") or "",
        "accepted_kinds": form.getlist("accepted_kinds"),
        "max_file_mb": form.get("max_file_mb") or 0,
        "url_required": form.get("url_required") == "on",
        "prize_quota": quota,
    }


def _award_form(award) -> dict:
    """The award's values as the form shows them: dd/mm/yyyy and HH:MM in its time zone."""
    values = award.model_dump()
    for name in WINDOW_FIELDS:
        if values[name] is not None:
            local = values[name].astimezone(ZoneInfo(award.timezone))
            values[f"{name}_date"] = local.strftime("%d/%m/%Y")
            values[f"{name}_time"] = local.strftime("%H:%M")
    for name in DAY_FIELDS:
        if values[name] is not None:
            values[name] = values[name].strftime("%d/%m/%Y")
    return values


def _form_errors(errors: dict, prefix: str = "") -> dict:
    """A window time's error shown beside its date box (``submission_closes_at`` →
    ``submission_closes_at_date``), or under ``prefix`` on the reopen form."""
    shown = dict(errors)
    for name in WINDOW_FIELDS:
        if name in shown:
            shown[f"{prefix or name + '_'}date"] = shown.pop(name)
        if f"{name}_time" in shown and prefix:
            shown[f"{prefix}time"] = shown.pop(f"{name}_time")
    return shown


award_phase = rules.phase_of


# --- Public --------------------------------------------------------------------------------

@router.get("/")
def home(request: Request, session: SessionDep, viewer: PageUserOptional, now: Now):
    awards, _ = service.list_awards(session, viewer=None, limit=200)
    phases = {a.id: award_phase(a, now) for a in awards}
    return render(request, "awards/home.html", {
        "open_awards": [a for a in awards if phases[a.id] == Phase.open],
        "upcoming_awards": [a for a in awards if phases[a.id] == Phase.upcoming],
        "other_awards": [a for a in awards if phases[a.id] not in (Phase.open, Phase.upcoming)],
        "phases": phases, "PHASE_LABELS": rules.PHASE_LABELS})


@router.get("/awards/{slug}")
def award_page(slug: str, request: Request, session: SessionDep, viewer: PageUserOptional,
               now: Now):
    award = service.get_award_by_slug(session, slug, viewer=viewer)
    return render(request, "awards/award.html", {
        "award": award,
        "phase": award_phase(award, now), "PHASE_LABELS": rules.PHASE_LABELS,
        "categories": service.list_categories(session, award),
        "rules_html": service.render_rules(award.rules),
        # A journalist sees their count against the per-author limit before any form.
        "entry_limit": entry_queries.limit_for(session, award, viewer)
        if viewer is not None and viewer.role == Role.journalist else None,
    })


# --- Organizer console ---------------------------------------------------------------------

@router.get("/admin/")
def console(request: Request, session: SessionDep, organizer: PageOrganizer, now: Now):
    awards, _ = service.list_awards(session, viewer=organizer, limit=200)
    return render(request, "admin/index.html", {
        "awards": awards, "phases": {a.id: award_phase(a, now) for a in awards},
        "PHASE_LABELS": rules.PHASE_LABELS})


@router.get("/admin/awards/new")
def new_award_form(request: Request, organizer: PageOrganizer):
    return render(request, "admin/award_form.html",
                  {"form": {"timezone": "Asia/Ho_Chi_Minh", "max_entries_per_author": 3,
                            "max_authors_per_entry": 5, "max_series_parts": 5,
                            "special_prize_quota": 0}})


@router.post("/admin/awards/new")
def create_award(request: Request, form: FormDep, session: SessionDep, organizer: PageOrganizer):
    try:
        award = service.create_award(session, AwardCreate(**_award_values(form)), actor=organizer)
    except (DomainError, ValidationError) as err:
        message, errors = form_error(session, err)
        return render(request, "admin/award_form.html",
                      {"error": message, "errors": _form_errors(errors), "form": dict(form)},
                      status_code=422)
    return redirect(f"/admin/awards/{award.id}?saved=1")


def _award_console(request, session, award, *, status_code: int = 200, now=None, **extra):
    context = {
        "award": award,
        "phase": award_phase(award, now or utcnow()), "PHASE_LABELS": rules.PHASE_LABELS,
        "categories": service.list_categories(session, award),
        "actions": rules.award_actions(award.status),
        "reopen_form": {},
        "history": audit_present.present(
            session, audit.list_entries(session, object_type="award", object_id=award.id,
                                        limit=20)[0], gettext=gettext, tz=award.timezone),
        "form": _award_form(award),
        "counts": entry_queries.status_counts(session, award),
        "ENTRY_STATUS": ENTRY_STATUS_LABELS,
        "rounds": console_rounds.round_summaries(session, award),
        "may_create_rounds": console_rounds.may_create_rounds(award),
        "ROUND_STATUS": ROUND_STATUS_LABELS,
    }
    context.update(extra)
    return render(request, "admin/award.html", context, status_code=status_code)


@router.get("/admin/awards/{award_id}")
def award_console(award_id: Id, request: Request, session: SessionDep,
                  organizer: PageOrganizer, now: Now, saved: int = 0):
    award = service.get_award(session, award_id, viewer=organizer)
    return _award_console(request, session, award, saved=saved, now=now)


@router.post("/admin/awards/{award_id}")
def update_award(award_id: Id, request: Request, form: FormDep, session: SessionDep,
                 organizer: PageOrganizer, now: Now):
    award = service.get_award(session, award_id, viewer=organizer)
    try:
        service.update_award(session, award, AwardUpdate(**_award_values(form)),
                             actor=organizer, now=now)
    except (DomainError, ValidationError) as err:
        message, errors = form_error(session, err)
        award = service.get_award(session, award_id, viewer=organizer)
        return _award_console(request, session, award, form=dict(form), error=message,
                              errors=_form_errors(errors), status_code=422, now=now)
    return redirect(f"/admin/awards/{award_id}?saved=1")


@router.get("/admin/awards/{award_id}/status")
def status_step_reopened(award_id: Id, organizer: PageOrganizer):
    """The confirmation's address opened again: the award's console, where the step starts."""
    return redirect(f"/admin/awards/{award_id}")


@router.post("/admin/awards/{award_id}/status")
def change_award_status(award_id: Id, request: Request, form: FormDep, session: SessionDep,
                        organizer: PageOrganizer, now: Now):
    """One of the award's moves. Those that cannot be undone ask first (a page saying what
    follows, posting ``confirmed=1``); reopening takes the new closing time. The form says
    which status it was made for (``from``): a stale confirmation (a second click, another
    tab) is refused with where the award is now, never moved twice."""
    award = service.get_award(session, award_id, viewer=organizer)
    target = _text(form, "status") or ""
    if target == AwardStatus.published:
        # Publishing has one path: the confirmation page saying what it sets off.
        return redirect(f"/admin/awards/{award_id}/publish")
    expected = _text(form, "from") or None
    reopening = rules.is_reopening(expected or award.status, target)
    try:
        reason = audit.clean_reason(_text(form, "reason"))
        closes_at = None
        if reopening:
            closes_at = parse_local_datetime(
                _text(form, "reopen_closes_date"), _text(form, "reopen_closes_time"),
                field="submission_closes_at", default_clock=WINDOW_FIELDS["submission_closes_at"])
            if closes_at is None:
                raise Invalid(N_("To reopen submissions, set a new closing time in the future."),
                              field="submission_closes_at")
        move = (AwardStatus(award.status), target)
        if (move in rules.ASKS_FIRST and form.get("confirmed") != "1"
                and expected in (None, award.status)):
            return _confirm_move(request, session, award, target, reason=reason, now=now)
        service.change_status(session, award, target, actor=organizer, reason=reason,
                              now=now, expected=expected, closes_at=closes_at)
    except DomainError as err:
        message, errors = form_error(session, err)
        award = service.get_award(session, award_id, viewer=organizer)
        slot = "reopen_error" if reopening and err.field else "status_error"
        return _award_console(request, session, award, status_code=err.status_code, now=now,
                              errors=_form_errors(errors, "reopen_closes_"),
                              reopen_form={k: _text(form, k) for k in
                                           ("reopen_closes_date", "reopen_closes_time",
                                            "reason")},
                              **{slot: message})
    return redirect(f"/admin/awards/{award_id}?saved={4 if reopening else 2}")


def _confirm_move(request, session, award, target: str, *, reason, now):
    """The question before a move that cannot be undone, with what it will do in numbers."""
    counts = entry_queries.status_counts(session, award)
    total = {s: sum(by.get(s, 0) for by in counts.values()) for s in
             ("draft", "submitted", "returned", "accepted")}
    lines = []
    if target == AwardStatus.closed:
        lines.append(gettext(N_("Drafts that can no longer be submitted: %(n)s.")) % {
            "n": total["draft"]})
        lines.append(gettext(N_("Entries returned for changes that can no longer be sent "
                                "back: %(n)s.")) % {"n": total["returned"]})
        if award.submission_closes_at and award.submission_closes_at > now:
            lines.append(gettext(N_("The deadline, %(deadline)s %(zone)s, has not passed: "
                                    "authors lose the time left.")) % {
                "deadline": award.submission_closes_at.astimezone(
                    ZoneInfo(award.timezone)).strftime("%H:%M %d/%m/%Y"),
                "zone": zone_label(award.timezone)})
        lines.append(gettext(N_("The categories can no longer be changed.")))
        lines.append(gettext(N_("Submissions can be reopened with a new deadline until "
                                "judging starts.")))
        question = N_("Close submissions to “%(award)s”?")
    else:
        lines.append(gettext(N_("Submissions can no longer be reopened.")))
        lines.append(gettext(N_("Authors can no longer withdraw their entries.")))
        lines.append(gettext(N_("Entries awaiting screening: %(n)s; accepted entries: "
                                "%(accepted)s.")) % {"n": total["submitted"],
                                                     "accepted": total["accepted"]})
        lines.append(gettext(N_("The judging rounds can then start scoring.")))
        question = N_("Start judging “%(award)s”?")
    return render(request, "admin/award_confirm.html", {
        "award": award, "question": gettext(question) % {"award": award.title},
        "consequences": lines, "button": gettext(rules.MOVE_LABELS[(award.status, target)]),
        "fields": [("status", target), ("from", award.status), ("reason", reason or "")],
    })


@router.get("/admin/awards/{award_id}/categories/new")
def new_category_form(award_id: Id, request: Request, session: SessionDep,
                      organizer: PageOrganizer):
    award = service.get_award(session, award_id, viewer=organizer)
    return render(request, "admin/category_form.html", {
        "award": award, "category": None,
        "form": {"accepted_kinds": [FileKind.pdf], "max_file_mb": 50,
                 "prize_quota": {"A": 1, "B": 2, "C": 3, "KK": 4}},
    })


@router.post("/admin/awards/{award_id}/categories/new")
def create_category(award_id: Id, request: Request, form: FormDep, session: SessionDep,
                    organizer: PageOrganizer):
    award = service.get_award(session, award_id, viewer=organizer)
    values = _category_values(form)
    try:
        service.add_category(session, award, CategoryCreate(**values), actor=organizer)
    except (DomainError, ValidationError) as err:
        message, errors = form_error(session, err)
        award = service.get_award(session, award_id, viewer=organizer)
        return render(request, "admin/category_form.html",
                      {"award": award, "category": None, "form": values, "error": message,
                       "errors": errors}, status_code=422)
    return redirect(f"/admin/awards/{award_id}?saved=3")


@router.get("/admin/categories/{category_id}")
def category_form(category_id: Id, request: Request, session: SessionDep,
                  organizer: PageOrganizer):
    category = service.get_category(session, category_id)
    award = service.get_award(session, category.award_id, viewer=organizer)
    return render(request, "admin/category_form.html",
                  {"award": award, "category": category, "form": category.model_dump()})


@router.post("/admin/categories/{category_id}")
def update_category(category_id: Id, request: Request, form: FormDep, session: SessionDep,
                    organizer: PageOrganizer):
    category = service.get_category(session, category_id)
    values = _category_values(form)
    try:
        service.update_category(session, category, CategoryUpdate(**values), actor=organizer)
    except (DomainError, ValidationError) as err:
        message, errors = form_error(session, err)
        category = service.get_category(session, category_id)
        award = service.get_award(session, category.award_id, viewer=organizer)
        return render(request, "admin/category_form.html",
                      {"award": award, "category": category, "form": values, "error": message,
                       "errors": errors}, status_code=422)
    return redirect(f"/admin/awards/{category.award_id}?saved=3")


@router.get("/admin/audit")
def audit_page(request: Request, session: SessionDep, organizer: PageOrganizer,
               offset: Offset = 0, action: str | None = None, object_type: str | None = None,
               object_id: str | None = None, actor: str | None = None):
    """The log in plain language, filtered by action (or family), object and actor."""
    offset = max(offset, 0)
    filters = {"action": action if action in audit_present.ACTION_FILTERS else None,
               "object_type": object_type if object_type in audit_present.OBJECT_LABELS
               else None,
               "object_id": parse_int(object_id), "actor": (actor or "").strip()[:320] or None}
    items, total = audit.list_entries(session, **filters, limit=100, offset=offset)
    return render(request, "admin/audit.html", {
        "lines": audit_present.present(session, items, gettext=gettext), "total": total,
        "offset": offset, "filters": {k: v or "" for k, v in filters.items()},
        "pager_query": "".join(f"{k}={quote(str(v))}&" for k, v in filters.items() if v),
        "ACTION_FILTERS": audit_present.ACTION_FILTERS,
        "ACTION_LABELS": audit_present.ACTION_LABELS,
        "FAMILY_LABELS": audit_present.FAMILY_LABELS,
        "OBJECT_LABELS": audit_present.OBJECT_LABELS, "zone": zones.VIETNAM})
