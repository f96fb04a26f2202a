"""Public results pages: an award's published results and a certificate's verification.

Thin routes over results.queries, the same as the API: before publishing the results are
the organizer's alone (everyone else gets the 404 page), and the organizer's view says
plainly that it is a preview.
"""

from collections import Counter
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from sqlmodel import Session, func, select
from starlette.convertors import Convertor, register_url_convertor

from app import i18n
from app.accounts.rules import Role
from app.awards import service as awards
from app.awards.models import Award
from app.awards.rules import AwardStatus
from app.deps import PageUserOptional, SessionDep
from app.entries.models import Entry
from app.results import queries, rules
from app.results.api import certificate_public
from app.web import render

router = APIRouter(include_in_schema=False)


class CertificateToken(Convertor):
    """A certificate's token as issued (``secrets.token_urlsafe``): never a dot, so that
    ``/certificates/{token}.pdf`` (the PDF) is not taken for a token."""
    regex = "[A-Za-z0-9_-]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("certificate_token", CertificateToken())


@dataclass(frozen=True)
class Downloads:
    results_csv: str
    results_xlsx: str
    results_pdf: str
    scores_csv: str


def downloads(award: Award) -> Downloads:
    base = f"/awards/{award.slug}"
    return Downloads(results_csv=f"{base}/results.csv", results_xlsx=f"{base}/results.xlsx",
                     results_pdf=f"{base}/results.pdf", scores_csv=f"{base}/scores.csv")


def judged_count(session: Session, award: Award) -> int:
    """The entries that went to judging (accepted at screening)."""
    return session.exec(select(func.count()).select_from(Entry).where(
        Entry.award_id == award.id, Entry.status == "accepted")).one()


@router.get("/awards/{slug}/results")
def results_page(slug: str, request: Request, session: SessionDep, viewer: PageUserOptional):
    """Per category the winners by level (the special prize first), with a summary and the
    downloads. 404 before publishing for everyone but organizers, who see a preview."""
    award = awards.get_award_by_slug(session, slug, viewer=viewer)
    queries.require_results(award, viewer)
    sections = queries.winners(session, award)
    levels = Counter(w.level for _category, winners in sections for w in winners)
    return render(request, "results/results.html", {
        "award": award,
        "preview": award.status != AwardStatus.published,
        "is_organizer": viewer is not None and viewer.role == Role.organizer,
        "sections": sections,
        "summary": {"entries": judged_count(session, award),
                    "prizes": sum(levels.values()),
                    "levels": [(level, levels[level]) for level in rules.LEVELS
                               if levels[level]]},
        "LEVEL_LABELS": rules.LEVEL_LABELS,
        "score": i18n.format_number,
        "downloads": downloads(award),
    })


NO_INDEX = {"X-Robots-Tag": "noindex, nofollow", "Referrer-Policy": "no-referrer"}


@router.get("/certificates/{token:certificate_token}")
def certificate_page(token: str, request: Request, session: SessionDep):
    """A certificate's verification: what it certifies, as issued. 404 for a token that was
    never issued (or of an award not published). Never indexed: the token is the secret
    that proves the certificate."""
    cert = queries.certificate_by_token(session, token)
    award = session.get(Award, cert.award_id)
    facts = certificate_public(session, cert)
    return render(request, "results/certificate.html", {
        "award": award,
        "cert": facts,
        "issued_on": cert.issued_at.astimezone(ZoneInfo(award.timezone)).date(),
        "pdf_url": f"/certificates/{cert.token}.pdf",
    }, headers=NO_INDEX)
