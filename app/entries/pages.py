from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from pydantic import ValidationError
from starlette.datastructures import FormData

from app import bounds, i18n
from app.accounts.models import User
from app.accounts.rules import Role
from app.audit import service as audit
from app.awards import service as awards
from app.awards.models import Award
from app.deps import (
    FormDep,
    Id,
    Now,
    Offset,
    PageOrganizer,
    PageUser,
    ReadSessions,
    SessionDep,
    page_csrf,
    page_role,
)
from app.entries import access as entry_access
from app.entries import files as entry_files
from app.entries import queries as entry_queries
from app.entries import rules as entry_rules
from app.entries import views as entry_views
from app.entries import writes as entry_writes
from app.entries.api import entries_export_response, file_response
from app.entries.models import EntryCreate, EntryUpdate
from app.entries.rules import EDITABLE, STATUS_LABELS, EntryStatus
from app.entries.uploads import receive_file
from app.awards.rules import Phase
from app.awards.rules import phase_of as award_phase
from app.db import MAX_ID, utcnow
from app.errors import N_, DomainError, Invalid, raise_all
from app.storage import accept_attribute
from app.results.outcomes import OUTCOME_LABELS, outcome_for, outcomes_for
from app.text import nfc, parse_datetime, parse_day, parse_int
from app.web import check_csrf_token, check_origin, csrf_protect, form_error, redirect, render

router = APIRouter(dependencies=[Depends(page_csrf)], include_in_schema=False)
# The streaming upload checks its CSRF token itself, from the header or from the field that
# precedes the file, so that no page form's file is ever parsed by the generic CSRF check.
upload_router = APIRouter(include_in_schema=False)
PageJournalist = page_role(Role.journalist)

ENTRY_FIELDS = ("title", "summary", "outlet", "published_on", "url", "series_parts")
FIELD_NAMES = {"title": N_("Title of the work"), "summary": N_("Summary"),
               "outlet": N_("Press outlet"), "published_on": N_("Published or broadcast on"),
               "url": N_("Link to the published work"),
               "series_parts": N_("Number of parts (series only)")}
TEXT_BOUNDS = {"title": bounds.TITLE, "summary": bounds.LONG_TEXT, "outlet": bounds.OUTLET,
               "url": bounds.URL}
CO_AUTHOR_BOUNDS = {"full_name": bounds.NAME, "pen_name": bounds.NAME, "email": bounds.EMAIL}


def _too_long(field: str, limit: int) -> Invalid:
    return Invalid(N_("This is too long: at most {n} characters."), field=field, n=limit)


def _read_entry_form(form: FormData, award: Award) -> tuple[dict, dict, list]:
    """The entry form as typed (to show again), the values for the schema (each readable
    and within its bounds) and the problems of what could not be read: together with the
    service's own checks, every invalid field is reported at once."""
    def text(name: str) -> str:
        value = form.get(name)
        return nfc(value) if isinstance(value, str) else ""

    problems = []
    typed = {name: text(name) for name in ENTRY_FIELDS}
    values: dict = {}
    for name, limit in TEXT_BOUNDS.items():
        values[name] = typed[name][:limit] or (None if name == "url" else "")
        if len(typed[name]) > limit:
            problems.append(_too_long(name, limit))
    values["published_on"] = None
    try:  # one reading of dates for every form (app.text.parse_day)
        values["published_on"] = parse_day(typed["published_on"], field="published_on")
    except Invalid as err:
        problems.append(err)
    if values["published_on"] is not None and \
            not bounds.MIN_YEAR <= values["published_on"].year <= bounds.MAX_YEAR:
        values["published_on"] = None
        problems.append(Invalid(N_("Please enter the date as dd/mm/yyyy, for example "
                                   "19/05/2026."), field="published_on"))
    values["series_parts"] = None
    if typed["series_parts"].strip():
        number = parse_int(typed["series_parts"])
        if number is None:
            problems.append(Invalid(N_("Please enter the number of parts as a whole number, "
                                       "or leave it empty for a single work."),
                                    field="series_parts"))
        else:
            values["series_parts"] = max(min(number, 1_000_000), -1_000_000)
    rows = max(award.max_authors_per_entry - 1, 0)
    typed["co_authors"] = [
        {key: text(f"co_{key}_{i}") for key in CO_AUTHOR_BOUNDS} for i in range(rows)]
    used = [i for i, row in enumerate(typed["co_authors"]) if any(row.values())]
    values["co_authors"] = []
    for i, row in enumerate(typed["co_authors"][:used[-1] + 1] if used else []):
        for key, limit in CO_AUTHOR_BOUNDS.items():
            if len(row[key]) > limit:
                problems.append(_too_long(f"co_authors.{i}.{key}", limit))
        values["co_authors"].append({key: row[key][:limit] or None
                                     for key, limit in CO_AUTHOR_BOUNDS.items()}
                                    | {"full_name": row["full_name"][:bounds.NAME]})
    typed["category_id"] = form.get("category_id") or None
    values["category_id"] = None
    if typed["category_id"] is not None:
        number = parse_int(typed["category_id"])
        if number is None or not 1 <= number <= MAX_ID:
            problems.append(Invalid(N_("Please choose a category of this award."),
                                    field="category_id"))
        else:
            values["category_id"] = number
    return typed, values, problems


def _form_problems(session, award, form: FormData, *, user, entry=None):
    """(the form as typed, the schema's values, every problem of the form, in the order of
    the fields) — the page's reading and the service's checks together."""
    typed, values, problems = _read_entry_form(form, award)
    try:
        data = EntryUpdate(**values)
    except ValidationError as err:  # not expected: the values were read within bounds
        return typed, values, problems + [
            Invalid(N_("Please check this value."), field=".".join(map(str, e["loc"])))
            for e in err.errors()]
    problems = problems + entry_writes.check_entry(session, award, data, user=user,
                                                   entry=entry)
    return typed, values, problems


def _field_errors(problems) -> dict[str, str]:
    """{field: message}, the first problem of each field."""
    errors: dict[str, str] = {}
    for problem in problems:
        if problem.field and problem.field not in errors:
            errors[problem.field] = problem.translated(i18n.gettext)
    return errors


def _as_stored(entry, values: dict) -> bool:
    """Whether the form's values are what the entry holds (a second click on "submit"),
    not other edits from a second tab that must not be dropped in silence."""
    def text(value):
        return (value or "").strip() if isinstance(value, str) or value is None else value

    if any(text(values.get(name)) != text(getattr(entry, name)) for name in ENTRY_FIELDS):
        return False
    if values.get("category_id") not in (None, entry.category_id):
        return False
    stored = [(a.full_name, a.pen_name or None, a.email or None) for a in entry.authors[1:]]
    typed = [(c.get("full_name"), c.get("pen_name") or None, c.get("email") or None)
             for c in values.get("co_authors") or [] if c.get("full_name")]
    return stored == typed


def _form_from_entry(entry) -> dict:
    values = {name: getattr(entry, name) for name in ENTRY_FIELDS}
    if entry.published_on is not None:  # typed and shown as dd/mm/yyyy
        values["published_on"] = entry.published_on.strftime("%d/%m/%Y")
    values["category_id"] = entry.category_id
    values["co_authors"] = [
        {"full_name": a.full_name, "pen_name": a.pen_name, "email": a.email}
        for a in entry.authors[1:]
    ]
    return values


# --- The journalist ------------------------------------------------------------------------

@router.get("/me/entries")
def my_entries(request: Request, session: SessionDep, user: PageJournalist, now: Now,
               deleted: int = 0):
    entries, total = entry_queries.list_my_entries(session, user, limit=200)
    award_ids = {e.award_id for e in entries}
    award_map = {a.id: a for a in awards.awards_by_ids(session, award_ids)}
    category_map = awards.categories_by_ids(session, {e.category_id for e in entries})
    phases = {a.id: (a, award_phase(a, now))
              for a in awards.list_awards(session, viewer=None, limit=200)[0]
              if a.status == "open"}
    open_awards = [a for a, phase in phases.values() if phase == Phase.open]
    upcoming = [a for a, phase in phases.values() if phase == Phase.upcoming]
    return render(request, "entries/mine.html", {
        "entries": entries, "total": total, "awards": award_map, "categories": category_map,
        "open_awards": open_awards, "upcoming_awards": upcoming,
        "ENTRY_STATUS": STATUS_LABELS, "me_id": user.id,
        "outcomes": outcomes_for(session, entries), "OUTCOME_LABELS": OUTCOME_LABELS,
        "limits": entry_queries.limits_for(session, open_awards, user),
        "deleted": deleted,
    })


def _new_form(request, session, award, user, *, form=None, error=None, errors=None,
              status_code=200):
    return render(request, "entries/new.html", {
        "award": award, "categories": awards.list_categories(session, award),
        "form": form or {"co_authors": []}, "error": error, "errors": errors or {},
        "limit": entry_queries.limit_for(session, award, user),
        "phase": award_phase(award, utcnow()),
    }, status_code=status_code)


@router.get("/awards/{slug}/entries/new")
def new_entry_form(slug: str, request: Request, session: SessionDep, user: PageJournalist):
    award = awards.get_award_by_slug(session, slug, viewer=user)
    return _new_form(request, session, award, user)


@router.post("/awards/{slug}/entries/new")
def create_entry(slug: str, request: Request, form: FormDep, session: SessionDep,
                 user: PageJournalist, now: Now):
    award = awards.get_award_by_slug(session, slug, viewer=user)
    typed, values, problems = _form_problems(session, award, form, user=user)
    if problems:
        award = awards.get_award_by_slug(session, slug, viewer=user)
        return _new_form(request, session, award, user, form=typed,
                         errors=_field_errors(problems), status_code=422)
    try:
        entry = entry_writes.create_entry(session, award, EntryCreate(**values), user=user,
                                          now=now)
    except (DomainError, ValidationError) as err:
        message, errors = form_error(session, err)
        award = awards.get_award_by_slug(session, slug, viewer=user)
        return _new_form(request, session, award, user, form=typed,
                         error=None if errors else message, errors=errors,
                         status_code=getattr(err, "status_code", 422))
    return redirect(f"/entries/{entry.id}?created=1")


def _entry_page(request, session, entry, user, *, status_code=200, **extra):
    award = session.get(Award, entry.award_id)
    category = awards.get_category(session, entry.category_id)
    context = {
        "entry": entry,
        "award": award,
        "categories": awards.list_categories(session, award),
        "category": category,
        "accept": accept_attribute(category.accepted_kinds),
        "editable": entry.status in EDITABLE and entry_access.is_submitter(entry, user),
        "is_submitter": entry_access.is_submitter(entry, user),
        "withdrawable": entry_rules.withdrawable(award.status),
        "viewer_role": entry_access.viewer_role(entry, user),
        "email_verified": user.email_verified,
        "history": entry_queries.history(session, entry),
        "ENTRY_STATUS": STATUS_LABELS,
        "form": _form_from_entry(entry),
        "uploaded": None,
        "outcome": outcome_for(session, entry),
        "OUTCOME_LABELS": OUTCOME_LABELS,
        "FIELD_NAMES": FIELD_NAMES,
        "phase": award_phase(award, utcnow()),
    }
    context.update(extra)
    return render(request, "entries/entry.html", context, status_code=status_code)


@router.get("/entries/{entry_id}")
def entry_page(entry_id: Id, request: Request, session: SessionDep, user: PageUser,
               uploaded: int | None = None, saved: int = 0, created: int = 0):
    entry = entry_queries.get_entry(session, entry_id, viewer=user)
    receipt = next((f for f in entry.files if f.id == uploaded), None)
    return _entry_page(request, session, entry, user, uploaded=receipt, saved=saved,
                       created=created)


@router.post("/entries/{entry_id}")
def update_entry(entry_id: Id, request: Request, form: FormDep, session: SessionDep, user: PageUser,
                 now: Now):
    """Saves the form; with ``action=submit`` (the page's submit button belongs to this
    form) saves then submits, so what is submitted is what was on the screen. A refused
    save shows the form again as typed, every problem beside its field; a refused
    submission keeps the save and says why it was not submitted."""
    entry = entry_queries.get_entry(session, entry_id, viewer=user)
    award = session.get(Award, entry.award_id)
    submit = form.get("action") == "submit"
    version = form.get("version") if isinstance(form.get("version"), str) else None
    typed, values, problems = _form_problems(session, award, form, user=user, entry=entry)
    try:
        if problems:
            raise_all(problems)
        entry_writes.update_entry(session, entry, EntryUpdate(**values), user=user, now=now,
                                  opened_at=parse_datetime(version))
    except (DomainError, ValidationError) as err:
        message, errors = form_error(session, err)
        entry = entry_queries.get_entry(session, entry_id, viewer=user)
        if submit and entry.status == EntryStatus.submitted and _as_stored(entry, values):
            return redirect(f"/entries/{entry_id}?saved=2")  # a second click on submit
        if entry.status not in EDITABLE:
            # Submitted (or more) from another tab meanwhile: say so, and show what was
            # typed here so that it can be copied, rather than drop it in silence.
            return _entry_page(request, session, entry, user, status_code=409,
                               not_saved=[(name, typed.get(name)) for name in ENTRY_FIELDS
                                          if (typed.get(name) or "").strip()])
        return _entry_page(request, session, entry, user, form=typed,
                           error=None if errors else message, errors=errors,
                           status_code=getattr(err, "status_code", 422))
    if not submit:
        return redirect(f"/entries/{entry_id}?saved=1")
    try:
        entry_writes.submit_entry(session, entry, user=user, now=now)
    except DomainError as err:
        # The submission's checks all come before any change: what is undone here is
        # nothing, and the save stays.
        session.commit()
        entry = entry_queries.get_entry(session, entry_id, viewer=user)
        reason = err.translated(i18n.gettext)
        return _entry_page(request, session, entry, user, status_code=err.status_code,
                           action_error=reason, saved_not_submitted=True)
    return redirect(f"/entries/{entry_id}?saved=2")


def _upload_error_page(request, session, entry_id, user, message, status_code):
    entry = entry_queries.get_entry(session, entry_id, viewer=user)
    return _entry_page(request, session, entry, user, upload_error=message,
                       status_code=status_code)


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


@upload_router.post("/entries/{entry_id}/files")
async def upload_file(entry_id: Id, request: Request, session: SessionDep, user: PageUser,
                      now: Now):
    """The page's upload: the browser's script sends it with a progress bar (and gets JSON);
    without script the form posts here and is redirected. The CSRF token travels in the
    X-CSRF-Token header (script) or in the form's first field, before the file."""
    header_token = request.headers.get("x-csrf-token")
    if header_token is None and \
            not request.headers.get("content-type", "").startswith("multipart/form-data"):
        await csrf_protect(request)  # not an upload at all: the usual text-only check
    else:
        check_origin(request)
        if header_token is not None:
            check_csrf_token(request, header_token)
    try:
        max_bytes, kinds = await run_in_threadpool(entry_files.upload_limits, session, entry_id,
                                                   user=user)
        stored, filename = await receive_file(
            request, max_bytes=max_bytes, kinds=kinds,
            csrf=None if header_token is not None else partial(check_csrf_token, request))
        row = await run_in_threadpool(entry_files.attach_file, session, entry_id, stored, filename,
                                      user=user, now=now)
    except DomainError as err:
        message, _ = form_error(session, err)
        if _wants_json(request):
            return JSONResponse({"detail": message}, status_code=err.status_code)
        return await run_in_threadpool(_upload_error_page, request, session, entry_id, user,
                                       message, err.status_code)
    target = f"/entries/{entry_id}?uploaded={row.id}#files"
    if _wants_json(request):
        return JSONResponse({"id": row.id, "filename": row.filename, "size": row.size,
                             "sha256": row.sha256, "kind": row.kind, "redirect": target},
                            status_code=201)
    return redirect(target)


def _act_on_entry(request, session, entry_id, user, action, *, done: str, error_slot: str,
                  reached: str | None = None):
    """Runs one of the author's actions; on refusal shows the entry page with the reason.
    ``reached``: the status the action leads to — refused because the entry already has it
    (a double click, a second tab), the person sees the outcome they asked for."""
    try:
        action()
    except DomainError as err:
        message, _ = form_error(session, err)
        entry = entry_queries.get_entry(session, entry_id, viewer=user)
        if reached is not None and entry.status == reached:
            return redirect(done)
        return _entry_page(request, session, entry, user, status_code=err.status_code,
                           **{error_slot: message})
    return redirect(done)


@router.post("/entries/{entry_id}/files/{file_id}/delete")
def delete_file(entry_id: Id, file_id: Id, request: Request, session: SessionDep,
                user: PageUser, now: Now):
    return _act_on_entry(
        request, session, entry_id, user,
        lambda: entry_files.delete_file(session, entry_id, file_id, user=user, now=now),
        done=f"/entries/{entry_id}#files", error_slot="upload_error")


@router.get("/entries/{entry_id}/files/{file_id}")
def download_file(entry_id: Id, file_id: Id, session: SessionDep, user: PageUser,
                  inline: int = 0):
    """Download (or, for images and PDFs, preview) a file of an entry the user may see."""
    row, name = entry_files.get_file(session, file_id, viewer=user)
    if row.entry_id != entry_id:
        return redirect(f"/entries/{row.entry_id}/files/{row.id}")
    return file_response(row, name, inline=bool(inline))


@router.post("/entries/{entry_id}/submit")
def submit_entry(entry_id: Id, request: Request, session: SessionDep, user: PageUser, now: Now):
    entry = entry_queries.get_entry(session, entry_id, viewer=user)
    return _act_on_entry(
        request, session, entry_id, user,
        lambda: entry_writes.submit_entry(session, entry, user=user, now=now),
        done=f"/entries/{entry_id}?saved=2", error_slot="action_error",
        reached=EntryStatus.submitted)


def _confirm_page(request, entry, *, action: str, question: str, consequences: list[str],
                  button: str, fields=()):
    return render(request, "entries/confirm.html", {
        "entry": entry, "action": action, "question": question, "consequences": consequences,
        "button": button, "fields": fields, "cancel_url": f"/entries/{entry.id}",
    })


@router.get("/entries/{entry_id}/withdraw")
@router.get("/entries/{entry_id}/delete")
def entry_step_reopened(entry_id: Id, user: PageUser):
    """A step's address opened again (a reload, the back button, a bookmark): the entry's
    page, where the step starts; never a "method not allowed"."""
    return redirect(f"/entries/{entry_id}")


@router.post("/entries/{entry_id}/withdraw")
def withdraw_entry(entry_id: Id, request: Request, form: FormDep, session: SessionDep,
                   user: PageUser, now: Now):
    """Asks first (the entry leaves the award for good); with ``confirmed=1``, withdraws.
    A withdrawal that cannot happen is refused straight away, with its reason."""
    entry = entry_queries.get_entry(session, entry_id, viewer=user)
    reason = form.get("reason") or None
    award = session.get(Award, entry.award_id)
    may = entry_access.is_submitter(entry, user) and entry_rules.withdrawable(award.status) \
        and entry.status in entry_rules.ENTRY_TRANSITIONS[entry_rules.EntryAction.withdraw].sources
    if may and form.get("confirmed") != "1":
        try:
            audit.clean_reason(reason)  # a note that cannot be kept is refused before asking
        except DomainError as err:
            message, _errors = form_error(session, err)
            entry = entry_queries.get_entry(session, entry_id, viewer=user)
            return _entry_page(request, session, entry, user, status_code=err.status_code,
                               action_error=message)
        _ = i18n.gettext
        return _confirm_page(
            request, entry, action=f"/entries/{entry_id}/withdraw",
            question=_("Withdraw the entry “{title}”?").format(title=entry.title),
            consequences=[_("The entry leaves the award: it will not be screened or judged."),
                          _("It cannot be submitted again, and this cannot be undone.")],
            button=_("Withdraw entry"), fields=[("reason", reason or "")])
    return _act_on_entry(
        request, session, entry_id, user,
        lambda: entry_writes.withdraw_entry(session, entry, user=user, now=now, reason=reason),
        done=f"/entries/{entry_id}?saved=3", error_slot="action_error",
        reached=EntryStatus.withdrawn)


@router.post("/entries/{entry_id}/delete")
def delete_draft(entry_id: Id, request: Request, form: FormDep, session: SessionDep,
                 user: PageUser, now: Now):
    """Asks first (nothing can bring a deleted draft back); with ``confirmed=1``, deletes
    it with its files and goes to the author's list."""
    entry = entry_queries.get_entry(session, entry_id, viewer=user)
    if entry_access.is_submitter(entry, user) and entry.status == EntryStatus.draft \
            and form.get("confirmed") != "1":
        _ = i18n.gettext
        return _confirm_page(
            request, entry, action=f"/entries/{entry_id}/delete",
            question=_("Delete the draft “{title}”?").format(title=entry.title),
            consequences=[_("The draft and all its files are deleted.") if entry.files
                          else _("The draft is deleted."), _("This cannot be undone.")],
            button=_("Delete draft"))
    try:
        entry_writes.delete_draft(session, entry_id, user=user, now=now)
    except DomainError as err:
        message, _errors = form_error(session, err)
        entry = entry_queries.get_entry(session, entry_id, viewer=user)
        return _entry_page(request, session, entry, user, status_code=err.status_code,
                           action_error=message)
    return redirect("/me/entries?deleted=1")


# --- The organizer -------------------------------------------------------------------------

def _list_filters(status: str | None, category_id: str | None, q: str | None,
                  sort: str) -> dict:
    """The list's filters from a plain GET form: empty or unknown values mean "any"."""
    return {
        "status": status if status in EntryStatus.__members__ else None,
        "category_id": parse_int(category_id),
        "q": q,
        "sort": sort if sort in entry_queries.SORTS else "code",
    }


@router.get("/admin/awards/{award_id}/entries")
def award_entries(award_id: Id, request: Request, session: SessionDep, organizer: PageOrganizer,
                  status: str | None = None, category_id: str | None = None,
                  q: str | None = None, sort: str = "code", offset: Offset = 0,
                  cursor: str | None = None, screened: str | None = None):
    """``screened``: the id of the entry screened just before, when no other one is waiting.
    "Next" follows a cursor (the page starts after the previous page's last row, at the
    cost of the first page); ``offset`` then only says which page this is."""
    award = awards.get_award(session, award_id, viewer=organizer)
    filters = _list_filters(status, category_id, q, sort)
    scope = entry_queries.list_scope(award, status=filters["status"],
                                     category_id=filters["category_id"], q=filters["q"])
    stale_link = False
    try:
        after = entry_queries.read_cursor(cursor, filters["sort"], scope=scope) \
            if cursor else None
    except Invalid:
        # An old or damaged bookmark: the same list from its first page, and a word on why.
        after, offset, stale_link = None, 0, True
    found = entry_queries.award_entries_page(
        session, award, **filters, include_drafts=filters["status"] == "draft", limit=100,
        offset=0 if after is not None else offset, after=after)
    if after is not None and not found.entries and found.total:
        # A cursor past the list's end (rows removed since): the first page instead.
        found = entry_queries.award_entries_page(
            session, award, **filters, include_drafts=filters["status"] == "draft", limit=100,
            offset=0, after=None)
        offset, stale_link = 0, True
    categories = awards.list_categories(session, award)
    return render(request, "entries/admin_list.html", {
        "award": award, "entries": found.entries, "total": found.total, "offset": offset,
        "next_cursor": entry_queries.next_cursor(found, filters["sort"], scope=scope),
        "stale_link": stale_link,
        "duplicates": entry_queries.duplicates_for(session, found.entries),
        "categories": {c.id: c for c in categories},
        "filters": {name: value or "" for name, value in filters.items()},
        "ENTRY_STATUS": STATUS_LABELS,
        "screened": _screened_name(session, screened, organizer, award_id=award.id),
    })


def _export_filters(status: str | None = None, category_id: str | None = None,
                    q: str | None = None, sort: str = "code") -> dict:
    return _list_filters(status, category_id, q, sort)


ExportFilters = Annotated[dict, Depends(_export_filters)]


@router.get("/admin/awards/{award_id}/entries.csv")
def award_entries_csv(award_id: Id, session: SessionDep, read_sessions: ReadSessions,
                      organizer: PageOrganizer, filters: ExportFilters):
    """The list with the page's current filters as CSV (the API's file)."""
    award = awards.get_award(session, award_id, viewer=organizer)
    return entries_export_response(read_sessions, award, "csv", **filters)


@router.get("/admin/awards/{award_id}/entries.xlsx")
def award_entries_xlsx(award_id: Id, session: SessionDep, read_sessions: ReadSessions,
                       organizer: PageOrganizer, filters: ExportFilters):
    """The list with the page's current filters as an Excel workbook (the API's file)."""
    award = awards.get_award(session, award_id, viewer=organizer)
    return entries_export_response(read_sessions, award, "xlsx", **filters)


DECISIONS = ("accept", "return", "reject")


def _screen_page(request, session, entry, organizer, *, status_code=200, **extra):
    award = session.get(Award, entry.award_id)
    _, waiting = entry_queries.screening_queue(session, award.id)
    context = {
        "entry": entry, "award": award,
        "category": awards.get_category(session, entry.category_id),
        "view": entry_views.view_for(session, entry, organizer),
        "submitter": session.get(User, entry.submitter_id),
        "history": entry_queries.history(session, entry),
        "ENTRY_STATUS": STATUS_LABELS,
        "waiting": waiting,
        "form": {"decision": "", "reason": "", "then": "next"},
        "errors": {},
    }
    context.update(extra)
    return render(request, "entries/admin_entry.html", context, status_code=status_code)


@router.get("/admin/entries/{entry_id}")
def screen_page(entry_id: Id, request: Request, session: SessionDep, organizer: PageOrganizer,
                saved: int = 0, done: str | None = None):
    """``done``: the id of the entry screened just before, when the organizer moved on to
    this one (named by its code on the page, never by text from the address)."""
    entry = entry_queries.get_entry(session, entry_id, viewer=organizer)
    return _screen_page(request, session, entry, organizer, saved=saved,
                        done=_screened_name(session, done, organizer, award_id=entry.award_id))


@router.get("/admin/entries/{entry_id}/screen")
def screening_reopened(entry_id: Id, organizer: PageOrganizer):
    return redirect(f"/admin/entries/{entry_id}")


@router.post("/admin/entries/{entry_id}/screen")
def screen_entry(entry_id: Id, request: Request, form: FormDep, session: SessionDep,
                 organizer: PageOrganizer, now: Now):
    """Accept, return or reject. Rejecting asks first (the author is mailed and cannot
    submit the entry again); with ``then=next`` the organizer goes on to the next entry
    waiting for screening in the award, or back to the list when none is left."""
    entry = entry_queries.get_entry(session, entry_id, viewer=organizer)
    values = {"decision": form.get("decision") or "", "reason": form.get("reason") or "",
              "then": "stay" if form.get("then") == "stay" else "next"}
    try:
        if values["decision"] not in DECISIONS:
            raise Invalid(N_("Please choose a decision."), field="decision")
        action = entry_rules.EntryAction(values["decision"])
        entry_rules.check_transition(entry.status, action, role=organizer.role,
                                     reason=values["reason"])
        if action == entry_rules.EntryAction.reject and form.get("confirmed") != "1":
            return _screen_page(request, session, entry, organizer, form=values,
                                confirm_reject=True)
        entry_writes.screen_entry(session, entry, decision=values["decision"],
                                  reason=values["reason"] or None, actor=organizer, now=now)
    except DomainError as err:
        message, errors = form_error(session, err)
        entry = entry_queries.get_entry(session, entry_id, viewer=organizer)
        return _screen_page(request, session, entry, organizer, error=message, errors=errors,
                            form=values, status_code=err.status_code)
    if values["then"] == "stay":
        return redirect(f"/admin/entries/{entry_id}?saved=1")
    following, _ = entry_queries.screening_queue(session, entry.award_id, after=entry)
    if following is None:
        return redirect(f"/admin/awards/{entry.award_id}/entries?screened={entry.id}")
    return redirect(f"/admin/entries/{following}?saved=1&done={entry.id}")


def _screened_name(session, entry_id: str | None, organizer, *, award_id: int) -> str | None:
    """The code (or title) of the entry screened just before, if it is of this award."""
    number = parse_int(entry_id) if entry_id else None
    if number is None:
        return None
    try:
        entry = entry_queries.get_entry(session, number, viewer=organizer)
    except DomainError:
        return None
    return (entry.code or entry.title) if entry.award_id == award_id else None
