"""The per-(award, category, status) counts follow every change of an entry: a random
sequence of creations, edits of category, submissions, screenings, withdrawals and deletions
of drafts, through the services, checked after each step against a GROUP BY of the rows."""

import random
from datetime import UTC, datetime

from sqlmodel import func, select

from app.awards import service as awards
from app.entries import counts
from app.entries import files as entry_files
from app.entries import writes
from app.entries.models import Entry, EntryCount, EntryUpdate
from app.errors import DomainError
from app.samples import pdf
from tests.factories import make_award, make_category, make_entry, make_user, store


def _grouped(session) -> dict:
    return {(a, c, s): n for a, c, s, n in session.exec(
        select(Entry.award_id, Entry.category_id, Entry.status, func.count())
        .group_by(Entry.award_id, Entry.category_id, Entry.status)).all()}


def _counted(session) -> dict:
    return {(r.award_id, r.category_id, r.status): r.n
            for r in session.exec(select(EntryCount)).all() if r.n}


def test_a_random_sequence_of_changes_keeps_the_counts_exact(session):
    rng = random.Random(11)
    organizer = make_user(session, role="organizer")
    made = [make_award(session, organizer=organizer, status="open", max_entries_per_author=50)
            for _ in range(2)]
    categories = {a.id: [*awards.list_categories(session, a),
                         make_category(session, a, organizer=organizer, code="PT",
                                       name="Phát thanh")] for a in made}
    journalists = [make_user(session) for _ in range(3)]
    now = datetime.now(UTC)
    done = []
    for step in range(80):
        entries = session.exec(select(Entry).order_by(Entry.id)).all()
        action = rng.choice(["create", "create", "move", "submit", "screen", "withdraw",
                             "delete"])
        try:
            if action == "create" or not entries:
                award = rng.choice(made)
                make_entry(session, award, user=rng.choice(journalists),
                           category=rng.choice(categories[award.id]), title=f"Bài {step}",
                           status=rng.choice(["draft", "submitted", "accepted"]))
            else:
                wanted = {"screen": "submitted", "submit": "draft", "delete": "draft",
                          "withdraw": "accepted"}.get(action)
                entry = rng.choice([e for e in entries if e.status == wanted] or entries)
                submitter = next(u for u in journalists if u.id == entry.submitter_id)
                if action == "move":
                    target = rng.choice(categories[entry.award_id])
                    writes.update_entry(session, entry, EntryUpdate(category_id=target.id),
                                        user=submitter, now=now)
                elif action == "submit":
                    if not entry.files:
                        entry_files.attach_file(session, entry.id, store(pdf(f"bài {step}")),
                                                "bai.pdf", user=submitter, now=now)
                    writes.submit_entry(session, entry, user=submitter, now=now)
                elif action == "screen":
                    writes.screen_entry(session, entry,
                                        decision=rng.choice(["accept", "return", "reject"]),
                                        reason="Lý do", actor=organizer, now=now)
                elif action == "withdraw":
                    writes.withdraw_entry(session, entry, user=submitter, now=now)
                else:
                    writes.delete_draft(session, entry.id, user=submitter, now=now)
            session.commit()
            done.append(action)
        except DomainError:
            session.rollback()  # a move the rules refuse changes nothing, counts included
        session.expire_all()
        assert _counted(session) == _grouped(session), (step, action)
    assert {"create", "move", "submit", "screen", "withdraw", "delete"} <= set(done)
    assert sum(_grouped(session).values()) >= 10


def test_recount_rebuilds_the_counts_of_rows_written_around_the_orm(session):
    award = make_award(session, status="open", max_entries_per_author=10)
    make_entry(session, award, status="submitted")
    make_entry(session, award)
    session.commit()
    session.exec(EntryCount.__table__.delete())
    assert _counted(session) == {}
    counts.recount(session, [award.id])
    assert _counted(session) == _grouped(session)
    assert sum(_counted(session).values()) == 2
