"""The results API (shared/API.md: "Judging" ranking and shortlist, "Prizes and results"):
thin routes over results.service/queries."""

from fastapi import APIRouter, Response
from fastapi.responses import StreamingResponse

from app.accounts.rules import Role

from app.awards import service as awards
from app.awards.models import Award, Category
from app.entries.models import Entry
from app.deps import (
    ApiOrganizer,
    page_of,
    ApiUser,
    ApiUserOptional,
    Id,
    Now,
    OptionalId,
    PageParams,
    ReadSessions,
    SessionDep,
)
from app.entries.uploads import content_disposition
from app.i18n import gettext
from app.judging import queries as judging
from app.openapi import errors, paged
from app.results import exports, queries, rules, service
from app.results.outcomes import certificate_url
from app.storage import get_storage
from app.results.models import (
    AllocateIn,
    CategoryResults,
    CertificatePublic,
    PrizeIn,
    PrizePublic,
    ProposedPrize,
    RankingRow,
    ResultPrize,
    ShortlistIn,
    ShortlistResult,
)

router = APIRouter(tags=["results"])


@router.get("/rounds/{round_id}/ranking", response_model=list[RankingRow],
            responses=paged(404))
def get_ranking(round_id: Id, organizer: ApiOrganizer, session: SessionDep, page: PageParams,
                response: Response, category_id: OptionalId = None):
    """The round's ranking from its final scores (active assignments only), category by
    category: ranked entries by rank (ties share it), incomplete ones last with
    ``rank: null``. ``score`` follows the round's aggregation; ``raw_mean`` is the plain
    mean; ``judges`` are pseudonymised (G1, G2, …) with ``far`` marking a total far from the
    others."""
    round_ = judging.get_round(session, round_id, viewer=organizer)
    total, rows = queries.ranking_page(session, round_, category_id=category_id,
                                       offset=page.offset, limit=page.limit)
    response.headers["X-Total-Count"] = str(total)
    return rows


@router.post("/rounds/{round_id}/shortlist", response_model=ShortlistResult,
             responses=errors(404, 409))
def shortlist(round_id: Id, data: ShortlistIn, organizer: ApiOrganizer, session: SessionDep,
              now: Now):
    """``{top_n}`` (per category; entries tied at the cut all go on) or ``{min_score}``,
    optionally for one ``category_id``; replaces the round's shortlist. 409 while the round
    is not closed, or once the next round has started."""
    round_ = judging.get_round(session, round_id, viewer=organizer)
    return service.shortlist(session, round_, data, actor=organizer, now=now)


@router.get("/rounds/{round_id}/shortlist", response_model=list[RankingRow],
            responses=paged(404))
def get_shortlist(round_id: Id, organizer: ApiOrganizer, session: SessionDep,
                  page: PageParams, response: Response):
    """The shortlisted entries, as ranking rows."""
    round_ = judging.get_round(session, round_id, viewer=organizer)
    rows = [r for r in queries.ranking_rows(session, round_) if r.shortlisted]
    return page_of(rows, page, response)


@router.post("/awards/{award_id}/prizes/allocate", response_model=list[ProposedPrize],
             responses=errors(404, 409))
def allocate(award_id: Id, data: AllocateIn, organizer: ApiOrganizer, session: SessionDep,
             now: Now):
    """The proposal from a closed round's ranking, within each category's quota (and the
    award's special-prize quota), honouring ``min_score`` per level; a level no entry
    reaches stays vacant. Every ranked entry is listed (``level: null``: no prize).
    Replaces an earlier allocation and the decisions made on it."""
    award = awards.get_award(session, award_id, viewer=organizer)
    prizes = service.allocate(session, award, data, actor=organizer, now=now)
    return [ProposedPrize(entry_id=p.entry_id, level=p.level) for p in prizes]


@router.get("/awards/{award_id}/prizes", response_model=list[PrizePublic],
            responses=paged(404))
def list_prizes(award_id: Id, organizer: ApiOrganizer, session: SessionDep, page: PageParams,
                response: Response):
    """Every decision of the current allocation: proposed level, level given, reason."""
    award = awards.get_award(session, award_id, viewer=organizer)
    return page_of(queries.prize_rows(session, award), page, response)


@router.put("/entries/{entry_id}/prize", response_model=PrizePublic,
            responses=errors(404, 409))
def set_prize(entry_id: Id, data: PrizeIn, organizer: ApiOrganizer, session: SessionDep,
              now: Now):
    """Gives the entry a level (``DB`` special, ``A``, ``B``, ``C``, ``KK``) or none
    (``null``); ``reason`` is required when the level departs from the proposal. 409 over a
    quota, before an allocation, or once published."""
    entry = service.get_prize_entry(session, entry_id)
    service.set_prize(session, entry, data, actor=organizer, now=now)
    award = awards.get_award(session, entry.award_id, viewer=organizer)
    return next(p for p in queries.prize_rows(session, award) if p.entry_id == entry_id)


def category_results(session, award, viewer) -> list[CategoryResults]:
    """The results; certificate links (their token is the certificate's secret) for the
    organizer only — authors find theirs in their entry's ``outcome``."""
    organizer = viewer is not None and viewer.role == Role.organizer
    return [CategoryResults(
        category_id=category.id, category=category.name,
        prizes=[ResultPrize(level=w.level, entry_id=w.entry_id, code=w.code, title=w.title,
                            authors=w.authors, outlet=w.outlet, score=w.score,
                            certificate_url=(certificate_url(w.certificate_token)
                                             if w.certificate_token and organizer else None))
                for w in winners])
        for category, winners in queries.winners(session, award)]


@router.get("/awards/{award_id}/results", response_model=list[CategoryResults],
            responses=paged(404))
def results(award_id: Id, viewer: ApiUserOptional, session: SessionDep, page: PageParams,
            response: Response):
    """Per category, the winners by level (special prize first, then A, B, C, KK): code,
    title, authors (pen names in brackets), outlet, score. Anyone once the award is
    published; before that the organizer alone (the current decisions), 404 to others."""
    award = awards.get_award(session, award_id, viewer=viewer)
    queries.require_results(award, viewer)
    return page_of(category_results(session, award, viewer), page, response)


@router.get("/certificates/{token}", response_model=CertificatePublic, responses=errors(404))
def certificate(token: str, session: SessionDep):
    """A certificate's facts, for checking one: anyone holding its verification address."""
    return certificate_public(session, queries.certificate_by_token(session, token))


def certificate_public(session, cert) -> CertificatePublic:
    entry = session.get(Entry, cert.entry_id)
    award = session.get(Award, cert.award_id)
    category = session.get(Category, entry.category_id)
    return CertificatePublic(
        valid=True, award=award.title, level=cert.level,
        level_label=gettext(rules.LEVEL_LABELS[cert.level]), code=entry.code or "",
        title=entry.title, authors=queries.authors_text(entry.authors),
        category=category.name, outlet=entry.outlet, issued_at=cert.issued_at,
        url=certificate_url(cert.token))


# --- Files ---------------------------------------------------------------------------------

def file_response(export: exports.ExportFile) -> Response:
    return Response(export.content, media_type=export.media_type, headers={
        "Content-Disposition": content_disposition(export.filename),
        "X-Content-Type-Options": "nosniff"})


def results_download(session, award, viewer, fmt: str) -> Response:
    """The results file for a viewer who may see the results (404 to others)."""
    queries.require_results(award, viewer)
    return file_response(exports.results_file(session, award, fmt))


def scores_download(read_sessions, award, viewer) -> StreamingResponse:
    """scores.csv, streamed round by round (access checked before the first byte)."""
    queries.require_results(award, viewer)
    return StreamingResponse(
        exports.scores_csv(read_sessions, award), media_type=exports.MEDIA_TYPES["csv"],
        headers={"Content-Disposition": content_disposition(exports.scores_filename(award)),
                 "X-Content-Type-Options": "nosniff"})


def certificate_download(session, certificate) -> Response:
    return get_storage().response(
        exports.certificate_key(session, certificate), media_type=exports.MEDIA_TYPES["pdf"],
        headers={"Content-Disposition": content_disposition(
            exports.certificate_filename(session, certificate)),
            "X-Content-Type-Options": "nosniff"})


def _file_route(path: str, media_type: str):
    return router.get(path, response_class=Response, responses={
        200: {"content": {media_type: {"schema": {"type": "string", "format": "binary"}}}},
        **errors(404)})


@_file_route("/awards/{award_id}/results.csv", "text/csv")
def results_csv(award_id: Id, viewer: ApiUserOptional, session: SessionDep):
    """The results as CSV for Excel (UTF-8 with BOM; a cell starting with = + - @ is
    neutralised), headers and prize names in the caller's language. Same access as
    ``GET /awards/{id}/results``: anyone once published, the organizer always."""
    award = awards.get_award(session, award_id, viewer=viewer)
    return results_download(session, award, viewer, "csv")


@_file_route("/awards/{award_id}/results.xlsx", exports.MEDIA_TYPES["xlsx"])
def results_xlsx(award_id: Id, viewer: ApiUserOptional, session: SessionDep):
    """The results as an XLSX workbook (scores as numbers). Access as the results."""
    award = awards.get_award(session, award_id, viewer=viewer)
    return results_download(session, award, viewer, "xlsx")


@_file_route("/awards/{award_id}/results.pdf", "application/pdf")
def results_pdf(award_id: Id, viewer: ApiUserOptional, session: SessionDep):
    """The results as an A4 PDF with the publication date in the award's time zone. A
    character the embedded fonts cannot draw is printed as �. Access as the results."""
    award = awards.get_award(session, award_id, viewer=viewer)
    return results_download(session, award, viewer, "pdf")


@_file_route("/awards/{award_id}/scores.csv", "text/csv")
def scores_csv(award_id: Id, viewer: ApiUserOptional, session: SessionDep,
               read_sessions: ReadSessions):
    """Every final score of every closed round (active assignments only), one row per judge
    × entry × criterion × round, with the ranking claimed for the entry in that round (rank,
    score to 4 decimals); an entry without any final score has one row with empty judge and
    points. Enough to recompute every ranking: ``giaibao verify-ranking scores.csv``.

    The organizer always; once the award is published, anyone (transparency: judges appear
    only by their pseudonym in the round, G1, G2, …, never by name). 404 to others before
    publishing. Columns are fixed English names (a program reads them back)."""
    award = awards.get_award(session, award_id, viewer=viewer)
    return scores_download(read_sessions, award, viewer)


@_file_route("/entries/{entry_id}/certificate", "application/pdf")
def entry_certificate(entry_id: Id, user: ApiUser, session: SessionDep):
    """The entry's prize certificate as PDF (Vietnamese, with its verification address and
    QR code): for the entry's authors and organizers, once the award is published and the
    entry won a prize; 404 otherwise."""
    return certificate_download(session, exports.entry_certificate(session, entry_id,
                                                                   viewer=user))
