from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError
from starlette.datastructures import FormData

from app.accounts import invitations
from app.accounts import service as accounts
from app.accounts.models import InvitationCreate
from app.accounts.rules import INVITABLE_ROLES, Role
from app import zones
from app.audit import present as audit_present
from app.audit import service as audit
from app.awards import service
from app.awards.models import AwardCreate, AwardUpdate, CategoryCreate, CategoryUpdate
from app.awards.rules import AWARD_TRANSITIONS, PRIZE_LEVELS, AwardStatus, FileKind
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
from app.entries import queries as entry_queries
from app.entries.rules import STATUS_LABELS as ENTRY_STATUS_LABELS
from app.errors import N_, DomainError, Invalid
from app.i18n import gettext
from app.judging.rules import ROUND_STATUS_LABELS
from app.text import parse_int
from app.web import form_error, redirect, render

router = APIRouter(dependencies=[Depends(page_csrf)], include_in_schema=False)

AWARD_FIELDS = (
    "title", "year", "slug", "rules", "timezone", "submission_opens_at", "submission_closes_at",
    "published_from", "published_to", "max_entries_per_author", "max_authors_per_entry",
    "max_series_parts",
)


def _award_values(form: FormData) -> dict:
    """Form fields as the schema expects them: empty inputs are absent values."""
    values = {name: (form.get(name) or None) for name in AWARD_FIELDS if name in form}
    if "special_prize_quota" in form:
        values["special_prize_quota"] = _special_prize_quota(form.get("special_prize_quota"))
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
    values = award.model_dump()
    for name in ("submission_opens_at", "submission_closes_at"):
        if values[name] is not None:
            values[name] = values[name].astimezone(ZoneInfo(award.timezone)).strftime(
                "%Y-%m-%dT%H:%M"
            )
    return values


# --- Public --------------------------------------------------------------------------------

@router.get("/")
def home(request: Request, session: SessionDep, viewer: PageUserOptional):
    awards, _ = service.list_awards(session, viewer=None, limit=200)
    open_awards = [a for a in awards if a.status == AwardStatus.open]
    other_awards = [a for a in awards if a.status != AwardStatus.open]
    return render(request, "awards/home.html",
                  {"open_awards": open_awards, "other_awards": other_awards})


@router.get("/awards/{slug}")
def award_page(slug: str, request: Request, session: SessionDep, viewer: PageUserOptional):
    award = service.get_award_by_slug(session, slug, viewer=viewer)
    return render(request, "awards/award.html", {
        "award": award,
        "categories": service.list_categories(session, award),
        "rules_html": service.render_rules(award.rules),
    })


# --- Organizer console ---------------------------------------------------------------------

@router.get("/admin/")
def console(request: Request, session: SessionDep, organizer: PageOrganizer):
    awards, _ = service.list_awards(session, viewer=organizer, limit=200)
    return render(request, "admin/index.html", {"awards": awards})


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
                      {"error": message, "errors": errors, "form": dict(form)}, status_code=422)
    return redirect(f"/admin/awards/{award.id}?saved=1")


def _award_console(request, session, award, *, status_code: int = 200, **extra):
    context = {
        "award": award,
        "categories": service.list_categories(session, award),
        "next_statuses": sorted(AWARD_TRANSITIONS[AwardStatus(award.status)]),
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
                  organizer: PageOrganizer, saved: int = 0):
    award = service.get_award(session, award_id, viewer=organizer)
    return _award_console(request, session, award, saved=saved)


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
                              errors=errors, status_code=422)
    return redirect(f"/admin/awards/{award_id}?saved=1")


@router.post("/admin/awards/{award_id}/status")
def change_award_status(award_id: Id, request: Request, form: FormDep, session: SessionDep,
                        organizer: PageOrganizer, now: Now):
    award = service.get_award(session, award_id, viewer=organizer)
    if form.get("status") == AwardStatus.published:
        # Publishing has one path: the confirmation page saying what it sets off.
        return redirect(f"/admin/awards/{award_id}/publish")
    try:
        service.change_status(session, award, form.get("status") or "", actor=organizer,
                              reason=form.get("reason") or None, now=now)
    except DomainError as err:
        message, _ = form_error(session, err)
        award = service.get_award(session, award_id, viewer=organizer)
        return _award_console(request, session, award, status_error=message,
                              status_code=err.status_code)
    return redirect(f"/admin/awards/{award_id}?saved=2")


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


def _users_page(request: Request, session, *, now, role: str | None = None,
                status_code: int = 200, **context):
    users, total = accounts.list_users(session, role=role if role in Role.__members__ else None,
                                       limit=200)
    pending, _ = invitations.list_pending(session, now=now, limit=200)
    values = {"users": users, "total": total, "role": role, "roles": list(Role),
              "invitable": list(INVITABLE_ROLES), "invitations": pending,
              "form": {"role": Role.judge}, **context}
    return render(request, "admin/users.html", values, status_code=status_code)


@router.get("/admin/users")
def users_page(request: Request, session: SessionDep, organizer: PageOrganizer, now: Now,
               role: str | None = None, done: str | None = None):
    return _users_page(request, session, now=now, role=role, done=done)


@router.post("/admin/users/invitations")
def invite(request: Request, form: FormDep, session: SessionDep, organizer: PageOrganizer,
           now: Now):
    """Invites a judge or organizer; an account with a verified address holding it is
    shown for the organizer to confirm (the form again, with ``confirm_existing``)."""
    values = {name: form.get(name) if isinstance(form.get(name), str) else ""
              for name in ("email", "full_name", "role")}
    try:
        data = InvitationCreate(**values, confirm_existing=form.get("confirm_existing") == "1")
        result = invitations.invite(session, data, actor=organizer, now=now)
    except (DomainError, ValidationError) as err:
        confirm = isinstance(err, invitations.NeedsConfirmation)
        message, errors = form_error(session, err)
        status_code = err.status_code if isinstance(err, DomainError) else 422
        return _users_page(request, session, now=now, form=values, status_code=status_code,
                           **({"confirm": message} if confirm else
                              {"error": message, "errors": errors}))
    return redirect(f"/admin/users?done={'granted' if result.status == 'granted' else 'invited'}")


@router.post("/admin/users/invitations/{invitation_id}/resend")
def resend_invitation(invitation_id: Id, request: Request, session: SessionDep,
                      organizer: PageOrganizer, now: Now):
    try:
        invitations.resend(session, invitation_id, actor=organizer, now=now)
    except DomainError as err:
        message, _ = form_error(session, err)
        return _users_page(request, session, now=now, error=message,
                           status_code=err.status_code)
    return redirect("/admin/users?done=resent")


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
