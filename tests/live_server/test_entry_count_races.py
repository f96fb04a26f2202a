"""The entry counts under parallel requests through the real server: drafts created,
entries screened, withdrawn and submitted at the same moment in one category (the same
count cells) leave the counts equal to a GROUP BY of the rows, and the list's
X-Total-Count exact."""

from sqlmodel import Session, func, select

from app.entries.models import Entry, EntryCount
from tests.factories import make_award, make_entry, make_user
from tests.live_server.test_races import _parallel, _token

EACH = 4


def test_parallel_changes_keep_the_counts_exact(server, db):
    with Session(db, expire_on_commit=False) as session:
        award = make_award(session, status="open", max_entries_per_author=10)
        organizer = make_user(session, role="organizer")
        authors = [make_user(session) for _ in range(EACH)]
        to_screen = [make_entry(session, award, user=a, status="submitted") for a in authors]
        to_withdraw = [make_entry(session, award, user=a, status="accepted") for a in authors]
        to_submit = [make_entry(session, award, user=a) for a in authors]
        category_id = to_screen[0].category_id
        session.commit()
    btc = _token(server, organizer.email)
    tokens = {a.id: _token(server, a.email) for a in authors}
    api = f"{server.base}/api/v1"
    calls = []
    for i, entry in enumerate(to_screen):
        decision = ["accept", "return", "reject", "accept"][i]
        calls.append(lambda http, e=entry, d=decision: http.post(
            f"{api}/entries/{e.id}/screen", headers=btc,
            json={"decision": d, "reason": "Lý do của Ban tổ chức"}))
    for entry in to_withdraw:
        calls.append(lambda http, e=entry: http.post(
            f"{api}/entries/{e.id}/withdraw", headers=tokens[e.submitter_id]))
    for entry in to_submit:
        calls.append(lambda http, e=entry: http.post(
            f"{api}/entries/{e.id}/submit", headers=tokens[e.submitter_id]))
    for author in authors:
        calls.append(lambda http, a=author: http.post(
            f"{api}/awards/{award.id}/entries", headers=tokens[a.id],
            json={"title": "Bài mới", "summary": "", "outlet": "Báo Ninh Thuận",
                  "published_on": "2026-03-15", "category_id": category_id}))
    responses = _parallel(calls)
    assert sorted(r.status_code for r in responses) == [200] * (3 * EACH) + [201] * EACH
    with Session(db) as session:
        grouped = {(c, s): n for c, s, n in session.exec(
            select(Entry.category_id, Entry.status, func.count())
            .where(Entry.award_id == award.id).group_by(Entry.category_id, Entry.status))}
        counted = {(r.category_id, r.status): r.n for r in session.exec(
            select(EntryCount).where(EntryCount.award_id == award.id)) if r.n}
    assert counted == grouped
    assert grouped == {(category_id, "accepted"): 2, (category_id, "returned"): 1,
                       (category_id, "rejected"): 1, (category_id, "withdrawn"): EACH,
                       (category_id, "submitted"): EACH, (category_id, "draft"): EACH}
    listed = _parallel([lambda http: http.get(f"{api}/awards/{award.id}/entries",
                                              headers=btc)])[0]
    assert listed.headers["X-Total-Count"] == str(3 * EACH)
