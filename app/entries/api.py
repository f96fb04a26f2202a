from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from app.awards import service as awards
from app.accounts.rules import Role
from app.deps import (
    ApiOrganizer,
    ApiUser,
    Id,
    Now,
    OptionalId,
    PageParams,
    ReadSessions,
    SessionDep,
    api_role,
    with_total,
)
from app.entries import files
from app.entries import queries
from app.entries import views
from app.entries import writes
from app.entries.models import (
    EntryCreate,
    EntryJudgeView,
    EntryOrganizerView,
    EntryPublic,
    EntryUpdate,
    FilePublic,
    ScreenIn,
)
from app.judging import queries as judging
from app.entries.uploads import content_disposition, receive_file
from app.awards.models import Category
from app.db import utcnow
from app.entries.rules import STATUS_LABELS
from app.errors import N_
from app.exports import XLSX_MEDIA_TYPE, csv_stream, xlsx_stream
from app.i18n import gettext
from app.text import slugify
from app.openapi import errors, file_download, paged
from app.storage import get_storage

router = APIRouter(tags=["entries and files"])
ApiJournalist = api_role(Role.journalist)


def _json(model) -> JSONResponse:
    return JSONResponse(model.model_dump(mode="json"))


@router.post("/awards/{award_id}/entries", response_model=EntryPublic,
             status_code=status.HTTP_201_CREATED, responses=errors(404, 409))
def create_entry(award_id: Id, data: EntryCreate, user: ApiJournalist, session: SessionDep,
                 now: Now):
    award = awards.get_award(session, award_id, viewer=user)
    entry = writes.create_entry(session, award, data, user=user, now=now)
    return views.for_author(entry, user)


@router.get("/entries/{entry_id}", response_model=None, responses={
    200: {"model": EntryOrganizerView | EntryPublic | EntryJudgeView,
          "description": "EntryOrganizerView for organizers, EntryPublic for its authors, "
                         "EntryJudgeView for the judges it is assigned to (blind round: no "
                         "author fields)"},
    **errors(404)})
def get_entry(entry_id: Id, user: ApiUser, session: SessionDep):
    """Its submitter and linked co-authors see the entry; organizers also see integrity
    flags (duplicate files)."""
    if user.role == Role.judge and judging.judge_file_access(session, entry_id, user) is not None:
        return _json(judging.judge_entry_anywhere(session, entry_id, user))
    entry = queries.get_entry(session, entry_id, viewer=user)  # its authors, whatever role
    return _json(views.view_for(session, entry, user))


@router.patch("/entries/{entry_id}", response_model=EntryPublic, responses=errors(403, 404, 409))
def update_entry(entry_id: Id, data: EntryUpdate, user: ApiUser, session: SessionDep, now: Now):
    entry = queries.get_entry(session, entry_id, viewer=user)
    return views.for_author(writes.update_entry(session, entry, data, user=user, now=now),
                             user)


@router.delete("/entries/{entry_id}", status_code=status.HTTP_204_NO_CONTENT,
               responses=errors(403, 404, 409))
def delete_entry(entry_id: Id, user: ApiUser, session: SessionDep, now: Now):
    """Its submitter deletes a draft, with its files (409 once it has been submitted: it
    can then only be withdrawn)."""
    writes.delete_draft(session, entry_id, user=user, now=now)


@router.get("/me/entries", response_model=list[EntryPublic], responses=paged())
def my_entries(user: ApiJournalist, session: SessionDep, page: PageParams, response: Response):
    """The entries the caller submitted and those they co-author (``viewer_role``)."""
    entries, total = queries.list_my_entries(session, user, limit=page.limit, offset=page.offset)
    with_total(response, total)
    return views.for_authors(session, entries, user)


ListCursor = Annotated[str | None, Query(
    max_length=2048, description="Opaque token of the next page, given by the previous page "
    "(``X-Next-Cursor``, or the ``Link`` header's ``rel=\"next\"``): the page starts after "
    "the previous page's last row, so a deep page costs what the first does. ``offset`` "
    "then counts from there. A forged or garbled cursor is refused (422).")]


@router.get("/awards/{award_id}/entries", response_model=list[EntryOrganizerView],
            responses=paged(404) | {200: {"headers": {
                **paged()[200]["headers"],
                "X-Next-Cursor": {"description": "The ``cursor`` of the next page (absent on "
                                                 "the last page)",
                                  "schema": {"type": "string"}},
                "Link": {"description": "``<…>; rel=\"next\"``: the next page's address, by "
                                        "cursor (absent on the last page)",
                         "schema": {"type": "string"}}}}})
def award_entries(
    award_id: Id, organizer: ApiOrganizer, session: SessionDep, page: PageParams,
    request: Request, status: str | None = None, category_id: OptionalId = None,
    q: str | None = None, sort: str = "code", cursor: ListCursor = None,
):
    """The award's entries, one page at a time, with ``X-Total-Count`` (every matching
    entry). Pages follow one another by ``offset`` or, cheaper for deep pages, by
    ``cursor`` (``X-Next-Cursor``, ``Link: <…>; rel="next"``)."""
    award = awards.get_award(session, award_id, viewer=organizer)
    scope = queries.list_scope(award, status=status, category_id=category_id, q=q)
    found = queries.award_entries_page(
        session, award, status=status, category_id=category_id, q=q, sort=sort,
        include_drafts=status == "draft", limit=page.limit, offset=page.offset,
        after=queries.read_cursor(cursor, sort, scope=scope))
    duplicates = queries.duplicates_for(session, found.entries)
    headers = {"X-Total-Count": str(found.total)}
    following = queries.next_cursor(found, sort, scope=scope)
    if following is not None:
        # A reference relative to this server (RFC 8288 allows it): never the Host header.
        url = request.url.remove_query_params("offset").include_query_params(cursor=following)
        headers["X-Next-Cursor"] = following
        headers["Link"] = f'<{url.path}?{url.query}>; rel="next"'
    return Response(views.organizer_list_json(found.entries, duplicates),
                    media_type="application/json", headers=headers)


@router.get("/awards/{award_id}/entries.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}},
                       **errors(404)})
def award_entries_csv(
    award_id: Id, organizer: ApiOrganizer, session: SessionDep, read_sessions: ReadSessions,
    status: str | None = None, category_id: OptionalId = None, q: str | None = None,
    sort: str = "code",
):
    """The same list as a CSV file for Excel (UTF-8 with BOM), every matching entry, with
    headers in the caller's language (``Accept-Language``), statuses and categories by name,
    dates as dd/mm/yyyy HH:MM in the award's time zone and the submitter's contact."""
    award = awards.get_award(session, award_id, viewer=organizer)
    return entries_export_response(read_sessions, award, "csv", status=status,
                                   category_id=category_id, q=q, sort=sort)


@router.get("/awards/{award_id}/entries.xlsx", response_class=Response,
            responses={200: {"content": {XLSX_MEDIA_TYPE: {
                "schema": {"type": "string", "format": "binary"}}}}, **errors(404)})
def award_entries_xlsx(
    award_id: Id, organizer: ApiOrganizer, session: SessionDep, read_sessions: ReadSessions,
    status: str | None = None, category_id: OptionalId = None, q: str | None = None,
    sort: str = "code",
):
    """The same list as an Excel workbook: the CSV's columns, with the number of files as a
    number and the dates as dates, a frozen header row and an autofilter."""
    award = awards.get_award(session, award_id, viewer=organizer)
    return entries_export_response(read_sessions, award, "xlsx", status=status,
                                   category_id=category_id, q=q, sort=sort)


def export_filename(award, *, status: str | None, category_code: str | None, fmt: str,
                    now: datetime) -> str:
    """"<award slug>[-<category>]-<status>-<yyyy-mm-dd>.<fmt>": what, which, when (the date
    in the award's time zone), in ASCII, e.g. giai-bao-chi-2026-da-gui-2026-11-29.xlsx."""
    label = STATUS_LABELS.get(status, N_("All submitted")) if status else N_("All submitted")
    parts = [award.slug, slugify(category_code or ""), slugify(gettext(label)),
             now.astimezone(ZoneInfo(award.timezone)).date().isoformat()]
    return "-".join(p for p in parts if p) + f".{fmt}"


def entries_export_response(read_sessions, award, fmt: str, *, status, category_id, q,
                            sort, now: datetime | None = None) -> StreamingResponse:
    """Streams the file: access and filters are checked before it starts; the rows are
    read a batch at a time in sessions of their own (the request's is closed by then).
    Every word is translated now, in the request's language."""
    query = queries.export_query(award, status=status, category_id=category_id, q=q,
                                 sort=sort)
    category_code = None
    if category_id:
        with read_sessions() as session:
            category = session.get(Category, category_id)
            category_code = category.code if category and category.award_id == award.id \
                else None
    words = queries.ExportWords(
        statuses={str(k): gettext(v) for k, v in STATUS_LABELS.items()},
        pen_name=gettext(N_("pen name")))
    header = [gettext(label) for label, _ in queries.EXPORT_COLUMNS]
    rows = (row for batch in queries.export_batches(read_sessions, award, query, words)
            for row in batch)
    filename = export_filename(award, status=status, category_code=category_code, fmt=fmt,
                               now=now or utcnow())
    if fmt == "xlsx":
        body = xlsx_stream(header, rows, title=award.title, sheet_name=gettext(N_("Entries")),
                           widths=[width for _, width in queries.EXPORT_COLUMNS])
        media_type = XLSX_MEDIA_TYPE
    else:
        body = csv_stream(header, rows)
        media_type = "text/csv; charset=utf-8"
    return StreamingResponse(
        body, media_type=media_type,
        headers={"Content-Disposition": content_disposition(filename),
                 "X-Content-Type-Options": "nosniff"})


@router.post("/entries/{entry_id}/files", response_model=FilePublic,
             status_code=status.HTTP_201_CREATED,
             responses=errors(400, 403, 404, 409, 413, 415, 507),
             openapi_extra={"requestBody": {"required": True, "content": {
                 "multipart/form-data": {"schema": {
                     "type": "object", "required": ["file"],
                     "properties": {"file": {"type": "string", "format": "binary"}}}}}}})
async def upload_file(entry_id: Id, request: Request, user: ApiUser, session: SessionDep,
                      now: Now):
    """Streams the file to storage; 413 over the category's size, 415 a kind it refuses."""
    max_bytes, kinds = await run_in_threadpool(files.upload_limits, session, entry_id,
                                               user=user)
    stored, filename = await receive_file(request, max_bytes=max_bytes, kinds=kinds)
    row = await run_in_threadpool(files.attach_file, session, entry_id, stored, filename,
                                  user=user, now=now)
    return FilePublic(**row.model_dump())


@router.delete("/entries/{entry_id}/files/{file_id}", status_code=status.HTTP_204_NO_CONTENT,
               responses=errors(403, 404, 409))
def delete_file(entry_id: Id, file_id: Id, user: ApiUser, session: SessionDep, now: Now):
    files.delete_file(session, entry_id, file_id, user=user, now=now)


@router.get("/files/{file_id}", response_class=FileResponse,
            responses={**file_download(), **errors(404)})
def download_file(file_id: Id, user: ApiUser, session: SessionDep, inline: bool = False):
    """The file's bytes (``Range`` requests answered 206, so players seek in a large file
    without downloading it). ``inline=1`` for PDFs, images, audio and video shows it in the
    browser. Judges of a blind round get the name ``<code>-<n>.<ext>``."""
    row, name = files.get_file(session, file_id, viewer=user)
    return file_response(row, name, inline=inline)


INLINE_KINDS = frozenset({"pdf", "image", "audio", "video"})


def file_response(row, name: str, *, inline: bool = False) -> Response:
    """The stored bytes under ``name`` (the viewer's), never cached by shared caches; Range
    requests answered (206/416) by either storage backend."""
    return get_storage().response(
        row.stored_name,
        media_type=row.content_type,
        headers={
            "Content-Disposition": content_disposition(
                name, inline=inline and row.kind in INLINE_KINDS),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
            # Shown inside this site's pages (a PDF beside the rubric), never elsewhere.
            "Content-Security-Policy": "default-src 'none'; img-src 'self'; media-src 'self'; "
                                       "style-src 'unsafe-inline'; plugin-types application/pdf; "
                                       "frame-ancestors 'self'",
            "X-Frame-Options": "SAMEORIGIN",
        },
    )


@router.post("/entries/{entry_id}/submit", response_model=EntryPublic,
             responses=errors(403, 404, 409))
def submit_entry(entry_id: Id, user: ApiUser, session: SessionDep, now: Now):
    entry = queries.get_entry(session, entry_id, viewer=user)
    return views.for_author(writes.submit_entry(session, entry, user=user, now=now), user)


@router.post("/entries/{entry_id}/withdraw", response_model=EntryPublic,
             responses=errors(403, 404, 409))
def withdraw_entry(entry_id: Id, user: ApiUser, session: SessionDep, now: Now):
    entry = queries.get_entry(session, entry_id, viewer=user)
    return views.for_author(writes.withdraw_entry(session, entry, user=user, now=now),
                             user)


@router.post("/entries/{entry_id}/screen", response_model=EntryOrganizerView,
             responses=errors(404, 409))
def screen_entry(entry_id: Id, data: ScreenIn, organizer: ApiOrganizer, session: SessionDep,
                 now: Now):
    entry = queries.get_entry(session, entry_id, viewer=organizer)
    entry = writes.screen_entry(session, entry, decision=data.decision, reason=data.reason,
                                 actor=organizer, now=now)
    return views.view_for(session, entry, organizer)
