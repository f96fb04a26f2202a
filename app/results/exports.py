"""The results and the scores as files: results.csv / .xlsx / .pdf, scores.csv, and the prize
certificates as PDF.

The results files hold what ``GET /awards/{id}/results`` gives (``queries.winners``), their
words in the caller's language. They are small and built afresh on each request: nothing is
cached, so a file never lags behind a decision the organizer has just changed.

``scores.csv`` holds every final score of every closed round of the award (the exact input
of ``rules.rank_round``, judges by their pseudonym in the round) and beside each score the
ranking claimed for its entry, so that the file alone lets anyone recompute the ranking
(``giaibao verify-ranking``, app/results/verify.py). Its column names are fixed, in English,
whatever the caller's language: it is read back by a program.

A certificate PDF is drawn once, in Vietnamese, and kept in the storage area
``certificates`` as ``<token>.pdf``; later downloads are served from that file.
"""

import io
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from app import i18n
from app.accounts.models import User
from app.accounts.rules import Role
from app.awards.models import Award, Category
from app.awards.rules import AwardStatus
from app.entries.access import is_author
from app.entries.models import Entry
from app.errors import N_, NotFound
from app.exports import csv_stream
from app.i18n import gettext
from app.judging.models import Round
from app.mail import service as mail
from app.results import documents, queries, rules
from app.results.models import Certificate
from app.results.outcomes import certificate_url
from app.storage import get_storage
from app.text import nfc

FORMATS = ("csv", "xlsx", "pdf")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}

RESULTS_HEADER = (N_("Category"), N_("Prize"), N_("Code"), N_("Title of the work"),
                  N_("Authors"), N_("Press outlet"), N_("Score"))

SCORES_HEADER = (
    "round_id", "round", "aggregation", "judges_per_entry", "category_id", "category_code",
    "entry_id", "entry_code", "judge", "criterion_position", "criterion", "max_points",
    "points", "rank", "score",
)

# The character drawn instead of one the PDF fonts lack (DejaVu has it); "?" if it did not.
REPLACEMENT = "\ufffd"


@dataclass(frozen=True)
class ExportFile:
    filename: str
    media_type: str
    content: bytes


# --- Formatting ----------------------------------------------------------------------------

def format_score(value: float | None) -> str:
    return i18n.format_number(value, empty="")


def _local_date(value: datetime, timezone: str) -> str:
    return value.astimezone(ZoneInfo(timezone)).strftime("%d/%m/%Y")


def published_at(session: Session, award: Award) -> datetime | None:
    """When the results were published; None before."""
    if award.status != AwardStatus.published:
        return None
    return award.published_at or award.updated_at


# --- Results -------------------------------------------------------------------------------

def results_rows(session: Session, award: Award) -> list[list]:
    """One row per winner (category in the award's order, then level and rank): category
    name, level label, code, title, authors, outlet, score (a number or None)."""
    rows = []
    for category, winners in queries.winners(session, award):
        for w in winners:
            rows.append([category.name, gettext(rules.LEVEL_LABELS[w.level]), w.code, w.title,
                         w.authors, w.outlet, w.score])
    return rows


def results_file(session: Session, award: Award, fmt: str) -> ExportFile:
    """The award's results as ``fmt`` (csv, xlsx or pdf), in the current language. The
    caller has checked that the viewer may see them (``queries.require_results``)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    draft = award.status != AwardStatus.published
    # Before publishing (the organizer's preview) every format says so: the file's name,
    # the spreadsheet's sheet, the PDF's subtitle.
    filename = f"ket-qua-{award.slug}{'-chua-cong-bo' if draft else ''}.{fmt}"
    header = [gettext(h) for h in RESULTS_HEADER]
    if fmt == "csv":
        rows = [[*row[:-1], format_score(row[-1])] for row in results_rows(session, award)]
        content = b"".join(csv_stream(header, iter(rows)))
    elif fmt == "xlsx":
        content = documents.results_xlsx(title=award.title, header=header,
                                         rows=results_rows(session, award),
                                         sheet_name=gettext(N_("Not published yet")
                                                            if draft else N_("Results")))
    else:
        content = _results_pdf(session, award)
    return ExportFile(filename=filename, media_type=MEDIA_TYPES[fmt], content=content)


def _results_subtitle(session: Session, award: Award) -> str:
    when = published_at(session, award)
    if when is None:
        return gettext(N_("Not published yet: the current decisions on {date}")).format(
            date=_local_date(datetime.now(ZoneInfo(award.timezone)), award.timezone))
    return gettext(N_("Results published on {date}")).format(
        date=_local_date(when, award.timezone))


def _results_pdf(session: Session, award: Award) -> bytes:
    winners = queries.winners(session, award)
    subtitle = _results_subtitle(session, award)
    labels = {"level": gettext(N_("Prize")), "code": gettext(N_("Code")),
              "title": gettext(N_("Title of the work")), "authors": gettext(N_("Authors")),
              "outlet": gettext(N_("Press outlet")), "score": gettext(N_("Score")),
              "none": gettext(N_("No prize in this category.")),
              "page": gettext(N_("Page {page}/{pages}"))}
    levels = {level: gettext(label) for level, label in rules.LEVEL_LABELS.items()}

    def render(clean: Callable[[str], str]) -> bytes:
        sections = [documents.ResultSection(category=clean(category.name), lines=[
            documents.ResultLine(level=clean(levels[w.level]), code=clean(w.code),
                                 title=clean(w.title), authors=clean(w.authors),
                                 outlet=clean(w.outlet), score=w.score) for w in listed])
            for category, listed in winners]
        return documents.results_pdf(title=clean(award.title), subtitle=clean(subtitle),
                                     sections=sections,
                                     labels={k: clean(v) for k, v in labels.items()},
                                     number=format_score)

    return drawable(render)


def drawable(render: Callable[[Callable[[str], str]], bytes]) -> bytes:
    """``render(clean)`` draws a PDF, passing each of its texts through ``clean``. When a
    character has no glyph in the embedded fonts (a title in 漢字), it is drawn again with
    every such character replaced by U+FFFD (or "?"): the file shows where text was lost
    instead of failing the request."""
    try:
        return render(lambda text: text)
    except documents.MissingGlyphError as err:
        missing = set(err.characters)
    for replacement in (REPLACEMENT, "?"):
        table = {ord(c): replacement for c in missing}

        def clean(text: str, table=table) -> str:
            return nfc(text).translate(table) if text else text

        try:
            return render(clean)
        except documents.MissingGlyphError as err:
            if not set(err.characters) <= {REPLACEMENT}:
                missing |= set(err.characters)
    # Neither the replacement character nor the missing ones could be drawn: drop them all.
    table = {ord(c): None for c in missing | {REPLACEMENT}}
    return render(lambda text: nfc(text).translate(table) if text else text)


# --- Scores --------------------------------------------------------------------------------

def _number(value: float) -> str:
    """A float as written in scores.csv: an integer without ".0", otherwise its shortest
    exact form, so that reading it back gives the very same float."""
    value = float(value) + 0.0
    return str(int(value)) if value.is_integer() else repr(value)


def scores_rows(open_session: Callable[[], Session], award_id: int) -> Iterator[tuple]:
    """The rows of scores.csv (see SCORES_HEADER), round by round: every closed round of the
    award in id order, each read and ranked in a session of its own closed before its rows
    are handed on. Within a round: categories in the award's order, entries in ranking order
    (incomplete ones last), judges G1, G2, …, criteria in priority order. An entry with no
    final score has one row with empty judge, criterion and points."""
    with open_session() as session:
        round_ids = [r.id for r in queries.closed_rounds(session, award_id)]
    for round_id in round_ids:
        with open_session() as session:
            round_ = session.get(Round, round_id)
            if round_ is None or round_.status != "closed":
                continue
            data = queries.round_scores(session, round_)
            ranked = queries.ranking(session, round_, data)
            order = queries.category_order(session, award_id)
            codes = dict(session.exec(select(Category.id, Category.code)
                                      .where(Category.award_id == award_id)).all())
            criteria = [(c.name, c.max_points) for c in data.criteria]
        lines_of: dict[int, list[rules.ScoreLine]] = defaultdict(list)
        for line in data.scores:
            lines_of[line.entry_id].append(line)
        head = (round_.id, round_.name, round_.aggregation, round_.judges_per_entry)
        for category_id in sorted(ranked, key=lambda c: order.get(c, (1 << 30, c))):
            for entry in ranked[category_id]:
                claim = ("" if entry.rank is None else entry.rank,
                         "" if entry.score is None else _number(round(entry.score, 4)))
                ids = (category_id, codes.get(category_id, ""), entry.entry_id, entry.code)
                lines = sorted(lines_of.get(entry.entry_id, []),
                               key=lambda s: (int(s.judge[1:]), s.points))
                if not lines:
                    yield (*head, *ids, "", "", "", "", "", *claim)
                for line in lines:
                    for position, ((name, max_points), points) in enumerate(
                            zip(criteria, line.points, strict=True), start=1):
                        yield (*head, *ids, line.judge, position, name, _number(max_points),
                               _number(points), *claim)


def scores_csv(open_session: Callable[[], Session], award: Award) -> Iterator[bytes]:
    return csv_stream(SCORES_HEADER, scores_rows(open_session, award.id))


def scores_filename(award: Award) -> str:
    return f"diem-{award.slug}.csv"


# --- Certificates --------------------------------------------------------------------------

CERTIFICATE_AREA = "certificates"


def certificate_labels() -> dict[str, str]:
    return {
        "heading": gettext(N_("CERTIFICATE OF AWARD")),
        "preamble": gettext(N_("The organizing committee certifies that the work")),
        "awarded": gettext(N_("has won the {level}")),
        "code": gettext(N_("Entry code: {code}")),
        "authors": gettext(N_("Authors: {authors}")),
        "category": gettext(N_("Category: {category}")),
        "outlet": gettext(N_("Press outlet: {outlet}")),
        "issued": gettext(N_("Issued on {date}")),
        "verify": gettext(N_("Verify this certificate at: {url}")),
    }


def entry_certificate(session: Session, entry_id: int, *, viewer: User) -> Certificate:
    """The entry's certificate, for its authors and organizers once the award is published;
    NotFound to anyone else, before publishing, or for an entry without a prize."""
    entry = session.get(Entry, entry_id)
    if entry is None or not (viewer.role == Role.organizer or is_author(entry, viewer)):
        raise NotFound(N_("No such certificate."))
    certificate = session.exec(select(Certificate)
                               .where(Certificate.entry_id == entry.id)).first()
    award = session.get(Award, entry.award_id)
    if certificate is None or award is None or award.status != AwardStatus.published:
        raise NotFound(N_("No such certificate."))
    return certificate


def draw_certificate(session: Session, certificate: Certificate) -> bytes:
    """The certificate's PDF, in Vietnamese whatever the caller's language (a document of
    record is the same for everyone), with its verification address and QR code."""
    entry = session.get(Entry, certificate.entry_id)
    award = session.get(Award, certificate.award_id)
    category = session.get(Category, entry.category_id)
    with mail.language(i18n.DEFAULT_LANGUAGE):
        labels = certificate_labels()
        level = gettext(rules.LEVEL_LABELS[certificate.level])
    fields = dict(award_title=award.title, level=level, entry_title=entry.title,
                  code=entry.code or "", authors=queries.authors_text(entry.authors),
                  category=category.name, outlet=entry.outlet,
                  issued_on=_local_date(certificate.issued_at, award.timezone))
    url = certificate_url(certificate.token)
    return drawable(lambda clean: documents.certificate_pdf(
        **{k: clean(v) for k, v in fields.items()}, verify_url=url,
        labels={k: clean(v) for k, v in labels.items()}))


def _certificate_name(token: str) -> str:
    if not token or not all(c.isascii() and (c.isalnum() or c in "-_") for c in token):
        raise ValueError("not a certificate token")
    return f"{token}.pdf"


def certificate_key(session: Session, certificate: Certificate) -> str:
    """The storage key of the certificate's PDF (``certificates/<token>.pdf``), drawn and
    stored on first use. The storage writes a key whole or not at all (a temporary file
    renamed into place, or one object), so a crash never leaves half a file under it; two
    concurrent first downloads both draw it, and either write wins with the same content."""
    storage = get_storage()
    key = f"{CERTIFICATE_AREA}/{_certificate_name(certificate.token)}"
    if storage.has(key):
        return key
    storage.put(key, io.BytesIO(draw_certificate(session, certificate)))
    return key


def certificate_filename(session: Session, certificate: Certificate) -> str:
    entry = session.get(Entry, certificate.entry_id)
    code = unicodedata.normalize("NFKD", entry.code or str(entry.id))
    return f"chung-nhan-{code.encode('ascii', 'ignore').decode().lower() or entry.id}.pdf"
