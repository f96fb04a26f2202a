"""The results files for the pages (web session, not a bearer token): the public results
page and the organizer's prizes page link to these, and a certificate's printable PDF.

Same rules as the API, through the same functions (results.api's downloads and
``queries.require_results``): the results and scores files to anyone once the award is
published and to the organizer always; a certificate to anyone holding its token once the
award is published.
"""

from fastapi import APIRouter, Depends

from app.awards import service as awards
from app.deps import PageUserOptional, ReadSessions, SessionDep, page_csrf
from app.results import queries
from app.results.api import certificate_download, results_download, scores_download

router = APIRouter(dependencies=[Depends(page_csrf)], include_in_schema=False)


@router.get("/awards/{slug}/results.csv")
def results_csv(slug: str, session: SessionDep, viewer: PageUserOptional):
    award = awards.get_award_by_slug(session, slug, viewer=viewer)
    return results_download(session, award, viewer, "csv")


@router.get("/awards/{slug}/results.xlsx")
def results_xlsx(slug: str, session: SessionDep, viewer: PageUserOptional):
    award = awards.get_award_by_slug(session, slug, viewer=viewer)
    return results_download(session, award, viewer, "xlsx")


@router.get("/awards/{slug}/results.pdf")
def results_pdf(slug: str, session: SessionDep, viewer: PageUserOptional):
    award = awards.get_award_by_slug(session, slug, viewer=viewer)
    return results_download(session, award, viewer, "pdf")


@router.get("/awards/{slug}/scores.csv")
def scores_csv(slug: str, session: SessionDep, viewer: PageUserOptional,
               read_sessions: ReadSessions):
    award = awards.get_award_by_slug(session, slug, viewer=viewer)
    return scores_download(read_sessions, award, viewer)


@router.get("/certificates/{token}.pdf")
def certificate_pdf(token: str, session: SessionDep):
    """Anyone holding the certificate's token, once the award is published; 404 otherwise.
    Registered before the verification page ``/certificates/{token}`` so that ``.pdf`` is
    not taken for part of a token."""
    return certificate_download(session, queries.certificate_by_token(session, token))
