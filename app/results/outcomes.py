"""Authors' outcomes, for the views of their entries (pages and API answers).

Nothing before the award is published, nothing for an entry that was never judged (not
``accepted``); computed for a whole list at once: three queries whatever the number of
entries.
"""

from collections.abc import Iterable

from sqlmodel import Session, col, select

from app.awards.models import Award
from app.awards.rules import AwardStatus
from app.entries.models import Entry, EntryOutcome
from app.errors import N_
from app.mail.service import link
from app.results.models import Certificate, Prize

# What an author's list and entry page say of a published outcome.
OUTCOME_LABELS = {
    "DB": N_("Won the special prize"),
    "A": N_("Won an A prize"),
    "B": N_("Won a B prize"),
    "C": N_("Won a C prize"),
    "KK": N_("Won a consolation prize"),
    None: N_("No prize won"),
}


def certificate_path(token: str) -> str:
    return f"/certificates/{token}"


def certificate_url(token: str) -> str:
    """The certificate's verification address, as printed and mailed."""
    return link(certificate_path(token))


def outcomes_for(session: Session, entries: Iterable[Entry]) -> dict[int, EntryOutcome]:
    """{entry id: outcome} for the entries whose award is published and that were judged;
    the others are absent (their outcome is sealed or there is none)."""
    judged = [e for e in entries if e.status == "accepted"]
    if not judged:
        return {}
    award_ids = {e.award_id for e in judged}
    published = set(session.exec(select(Award.id).where(
        col(Award.id).in_(award_ids), Award.status == AwardStatus.published)).all())
    judged = [e for e in judged if e.award_id in published]
    if not judged:
        return {}
    ids = [e.id for e in judged]
    levels = dict(session.exec(select(Prize.entry_id, Prize.level)
                               .where(col(Prize.entry_id).in_(ids))).all())
    tokens = dict(session.exec(select(Certificate.entry_id, Certificate.token)
                               .where(col(Certificate.entry_id).in_(ids))).all())
    outcomes = {}
    for entry_id in ids:
        level = levels.get(entry_id)
        if level is None:
            outcomes[entry_id] = EntryOutcome(status="not_awarded")
        else:
            token = tokens.get(entry_id)
            outcomes[entry_id] = EntryOutcome(
                status="awarded", level=level,
                certificate_url=certificate_url(token) if token else None)
    return outcomes


def outcome_for(session: Session, entry: Entry) -> EntryOutcome | None:
    return outcomes_for(session, [entry]).get(entry.id)
