"""Changing results: the shortlist of a closed round, the prize allocation and each entry's
decision, and publishing (the checks before, certificates and authors' mails after).

Every change holds the award's row lock (PostgreSQL): two organizers changing prizes, or a
change racing the publication, never interleave. A shortlist also holds its round's lock,
taken before the award's (judging's order).
"""

import secrets
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, delete, select

from app.accounts.models import User
from app.audit import service as audit
from app.awards import service as awards
from app.awards.models import Award, Category
from app.awards.rules import AwardStatus
from app.entries.models import Entry, EntryAuthor
from app.errors import N_, Conflict, Invalid, NotFound
from app.judging import service as judging
from app.judging.models import Round, ShortlistEntry
from app.judging.rules import RoundStatus
from app.mail import service as mail
from app.text import visible
from app.results import queries, rules
from app.results.outcomes import outcomes_for
from app.results.models import (
    Allocation,
    AllocateIn,
    Certificate,
    Prize,
    PrizeIn,
    ShortlistIn,
    ShortlistResult,
)


def _require_closed(round_: Round) -> None:
    if round_.status != RoundStatus.closed:
        raise Conflict(N_("Close the round first: its ranking is final only then."))


def _require_unpublished(award: Award) -> None:
    if award.status == AwardStatus.published:
        raise Conflict(N_("The results are published: prizes can no longer change."))


# --- Shortlist -----------------------------------------------------------------------------

def shortlist(session: Session, round_: Round, data: ShortlistIn, *, actor: User,
              now: datetime) -> ShortlistResult:
    """Sends the top ``top_n`` of each category (ties at the cut included), or every entry
    scoring at least ``min_score``, on to the next round; replaces the round's shortlist
    (of ``category_id`` only, when given). Refused while the round is open and once a round
    judging this shortlist has started."""
    # The round's lock before the award's, as judging takes them (a round's start holds
    # its round and then reads the award under a lock): the other order deadlocks.
    judging.lock_round(session, round_)
    award = awards.lock_award(session, session.get(Award, round_.award_id))
    _require_unpublished(award)
    _require_closed(round_)
    rules.check_shortlist_rule(data.top_n, data.min_score)
    later = session.exec(select(Round).where(Round.source_round_id == round_.id,
                                             Round.status != RoundStatus.setup)).first()
    if later is not None:
        raise Conflict(N_("“{name}” has started judging this shortlist: it can no longer "
                          "change."), name=later.name)
    by_category = queries.ranking(session, round_)
    if data.category_id is not None and data.category_id not in by_category:
        raise Invalid(N_("This category has no entry in the round."), field="category_id")
    chosen: list[int] = []
    for category_id, rows in by_category.items():
        if data.category_id is not None and category_id != data.category_id:
            continue
        chosen += [r.entry_id for r in rules.select_shortlist(rows, top_n=data.top_n,
                                                               min_score=data.min_score)]
    replaced = session.exec(select(ShortlistEntry.entry_id).where(
        ShortlistEntry.round_id == round_.id)).all()
    if data.category_id is not None:
        in_category = set(session.exec(select(Entry.id).where(
            Entry.category_id == data.category_id)).all())
        replaced = [i for i in replaced if i in in_category]
    if replaced:
        session.exec(delete(ShortlistEntry).where(
            ShortlistEntry.round_id == round_.id, col(ShortlistEntry.entry_id).in_(replaced)))
    for entry_id in chosen:
        session.add(ShortlistEntry(round_id=round_.id, entry_id=entry_id, created_at=now))
    session.flush()
    audit.record(session, actor=actor, action="round.shortlist", obj=round_, changes={
        "top_n": data.top_n, "min_score": data.min_score, "category_id": data.category_id,
        "shortlisted": len(chosen), "removed": len(set(replaced) - set(chosen))})
    return ShortlistResult(shortlisted=len(chosen))


# --- Prizes --------------------------------------------------------------------------------

def _quotas(session: Session, award: Award) -> dict[int, dict[str, int]]:
    return {c.id: {level: int(n) for level, n in (c.prize_quota or {}).items()}
            for c in session.exec(select(Category).where(Category.award_id == award.id))}


def allocate(session: Session, award: Award, data: AllocateIn, *, actor: User,
             now: datetime) -> list[Prize]:
    """The proposal from a closed round's ranking (rules.propose_prizes), replacing any
    earlier allocation and every decision made on it."""
    award = awards.lock_award(session, award)
    _require_unpublished(award)
    if award.status != AwardStatus.judging:
        raise Conflict(N_("Prizes are allocated while the award is in judging."))
    round_ = session.get(Round, data.round_id)
    if round_ is None or round_.award_id != award.id:
        raise Invalid(N_("Choose a round of this award."), field="round_id")
    _require_closed(round_)
    min_score = rules.check_min_scores(data.min_score)
    by_category = queries.ranking(session, round_)
    proposal = rules.propose_prizes(by_category, quotas=_quotas(session, award),
                                    special_quota=award.special_prize_quota,
                                    min_score=min_score)
    session.exec(delete(Prize).where(Prize.award_id == award.id))
    allocation = session.get(Allocation, award.id)
    if allocation is None:
        allocation = Allocation(award_id=award.id, round_id=round_.id, created_by=actor.id)
    allocation.round_id, allocation.min_score = round_.id, min_score
    allocation.created_at, allocation.created_by = now, actor.id
    session.add(allocation)
    prizes = []
    for category_id, rows in by_category.items():
        for r in rows:
            if not r.complete:
                continue
            level = proposal[r.entry_id]
            prizes.append(Prize(entry_id=r.entry_id, award_id=award.id, category_id=category_id,
                                proposed_level=level, level=level, rank=r.rank, score=r.score,
                                decided_by=actor.id, updated_at=now))
    session.add_all(prizes)
    session.flush()
    audit.record(session, actor=actor, action="prizes.allocate", obj=award, changes={
        "round_id": round_.id, "min_score": min_score,
        "levels": {level: sum(1 for p in prizes if p.level == level) for level in rules.LEVELS}})
    return prizes


def set_prize(session: Session, entry: Entry, data: PrizeIn, *, actor: User,
              now: datetime) -> Prize:
    """The organizer's decision for one entry: any level within the quotas, or none; a
    reason is required when it departs from the allocation's proposal (and recorded)."""
    award = awards.lock_award(session, session.get(Award, entry.award_id))
    _require_unpublished(award)
    level = rules.check_level(data.level)
    prize = session.get(Prize, entry.id, populate_existing=True)
    if prize is None:
        if queries.allocation_of(session, award.id) is None:
            raise Conflict(N_("Allocate the prizes from a closed round first."))
        raise Conflict(N_("This entry is not ranked in the round the prizes were allocated "
                          "from."))
    if "expected_level" in data.model_fields_set and (data.expected_level or None) != prize.level:
        raise Conflict(N_("This prize was changed meanwhile: it is now “{level}”. Check it and "
                          "save again."),
                       level=[rules.LEVEL_LABELS[prize.level] if prize.level
                              else N_("No prize")])
    reason = audit.clean_reason(data.reason)
    if rules.needs_reason(prize.proposed_level, level) and not visible(reason):
        raise Invalid(N_("Give the reason for departing from the proposal."), field="reason")
    others = session.exec(select(Prize.category_id, Prize.level).where(
        Prize.award_id == award.id, Prize.entry_id != entry.id)).all()
    category = session.get(Category, prize.category_id)
    rules.check_quota([lv for c, lv in others if c == prize.category_id],
                      [lv for _c, lv in others], quota=category.prize_quota or {},
                      special_quota=award.special_prize_quota, level=level)
    old = prize.level
    prize.level = level
    prize.reason = reason if rules.needs_reason(prize.proposed_level, level) else None
    prize.decided_by, prize.updated_at = actor.id, now
    session.add(prize)
    session.flush()
    audit.record(session, actor=actor, action="prize.set", obj=entry,
                 changes={"level": [old, level], "proposed": prize.proposed_level},
                 reason=reason)
    return prize


def get_prize_entry(session: Session, entry_id: int) -> Entry:
    entry = session.get(Entry, entry_id)
    if entry is None:
        raise NotFound(N_("No such entry."))
    return entry


# --- Publishing ----------------------------------------------------------------------------

def check_publishable(session: Session, award: Award) -> None:
    """Before an award moves to ``published`` (called under its lock): the prizes are
    allocated from a closed round, no round is still being judged and no quota is exceeded.
    Entries a forced close left unranked do not stop it (``unranked_codes``): the organizer
    chose to close without their scores, with a reason kept in the log."""
    allocation = queries.allocation_of(session, award.id)
    if allocation is None:
        raise Conflict(N_("Allocate the prizes before publishing the results."))
    open_round = session.exec(select(Round).where(Round.award_id == award.id,
                                                  Round.status != RoundStatus.closed)).first()
    if open_round is not None:
        raise Conflict(N_("Round “{name}” is not closed."), name=open_round.name)
    over = rules.over_quota(
        ((p.category_id, p.level) for p in queries.prizes_of(session, award.id)),
        quotas=_quotas(session, award), special_quota=award.special_prize_quota)
    if over:  # a quota lowered after the prizes were given
        names = {c.id: c.code for c in session.exec(
            select(Category).where(Category.award_id == award.id))}
        raise Conflict(N_("More prizes are given than the quota allows: {levels}. Change the "
                          "prizes or the quota first."),
                       levels=", ".join(
                           f"{names.get(c, '')} {level}".strip() if c is not None else level
                           for c, level in over))


def unranked_codes(session: Session, award: Award) -> list[str]:
    """The entries of the allocation's round left unranked: the round was closed before
    their scores were all in (forced, with a reason). They are published without a prize;
    the confirmation names them."""
    allocation = queries.allocation_of(session, award.id)
    if allocation is None:
        return []
    round_ = session.get(Round, allocation.round_id)
    return [r.code for rows in queries.ranking(session, round_).values() for r in rows
            if not r.complete]


def new_token() -> str:
    return secrets.token_urlsafe(18)


def after_publish(session: Session, award: Award, *, now: datetime) -> None:
    """Once the award is published (same transaction): a certificate for each awarded entry,
    and to each author with an address their entries' outcomes."""
    award.published_at = now
    session.add(award)
    prizes = {p.entry_id: p for p in queries.prizes_of(session, award.id)}
    for prize in prizes.values():
        if prize.level is not None:
            session.add(Certificate(entry_id=prize.entry_id, award_id=award.id,
                                    token=new_token(), level=prize.level, issued_at=now))
    session.flush()
    _mail_outcomes(session, award, now=now)


@dataclass
class Recipient:
    """An address the publishing mail goes to: its account (None for a co-author without
    one) and its entries, in code order."""
    account: User | None
    entries: list[Entry] = field(default_factory=list)


def outcome_recipients(session: Session, award: Award) -> dict[str, Recipient]:
    """Every author address of the award's judged entries, once (lower-cased): each entry's
    submitter, and its co-authors with an address (in the account's language where the
    address belongs to one)."""
    entries = session.exec(select(Entry).where(Entry.award_id == award.id,
                                               Entry.status == "accepted")
                           .order_by(Entry.code)).all()
    authors = session.exec(select(EntryAuthor).where(col(EntryAuthor.entry_id).in_(
        [e.id for e in entries] or [-1]))).all()
    account_ids = {e.submitter_id for e in entries} | {a.user_id for a in authors if a.user_id}
    accounts = {u.id: u for u in session.exec(select(User).where(col(User.id).in_(
        account_ids or {-1})))}
    by_entry: dict[int, list[EntryAuthor]] = {}
    for a in authors:
        by_entry.setdefault(a.entry_id, []).append(a)
    recipients: dict[str, Recipient] = {}
    for entry in entries:
        addresses: list[tuple[str, User | None]] = []
        submitter = accounts.get(entry.submitter_id)
        if submitter is not None:
            addresses.append((submitter.email.lower(), submitter))
        for a in by_entry.get(entry.id, []):
            if a.email and a.user_id != entry.submitter_id:
                addresses.append((a.email.lower(), accounts.get(a.user_id)))
        for address, account in addresses:
            recipient = recipients.setdefault(address, Recipient(account))
            if entry not in recipient.entries:
                recipient.entries.append(entry)
    return recipients


def _mail_outcomes(session: Session, award: Award, *, now: datetime) -> None:
    recipients = outcome_recipients(session, award)
    outcomes = outcomes_for(session, {e.id: e for r in recipients.values()
                                      for e in r.entries}.values())
    results_url = mail.link(f"/awards/{award.slug}/results")
    for address, recipient in recipients.items():
        lines = []
        for entry in recipient.entries:
            outcome = outcomes[entry.id]
            lines.append({"code": entry.code, "title": entry.title, "level": outcome.level,
                          "level_label": rules.LEVEL_LABELS[outcome.level]
                          if outcome.level else None,
                          "certificate_url": outcome.certificate_url})
        context = {"award": award, "award_title": award.title, "entries": lines,
                   "results_url": results_url}
        if recipient.account is not None:
            mail.queue_for_user(session, recipient.account, template="results_published",
                                now=now, award_id=award.id, context=context, to=address)
        else:
            mail.queue(session, to=address, template="results_published", now=now,
                       award_id=award.id, context={"user": None, **context}, lang="vi")
