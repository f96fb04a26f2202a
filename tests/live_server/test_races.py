"""Check-then-act under parallel requests, through the real server (uvicorn's thread pool,
one database transaction per request). On PostgreSQL these pass only because every such
step runs under a row lock; on SQLite the write lock serialises them."""

import threading
import httpx
import pytest
from sqlmodel import Session, func, select

from app.awards.models import Category
from app.entries.models import Entry, EntryFile
from app.samples import pdf
from tests.factories import PASSWORD, make_award, make_entry, make_user

PARALLEL = 4


def _token(server, email: str) -> dict[str, str]:
    response = httpx.post(f"{server.base}/api/v1/auth/token",
                          data={"username": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _parallel(calls) -> list[httpx.Response]:
    """Runs the calls at the same moment, each on its own connection; their responses."""
    barrier = threading.Barrier(len(calls))
    responses: list = [None] * len(calls)

    def run(i, call):
        with httpx.Client(timeout=60) as http:
            barrier.wait()
            responses[i] = call(http)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return responses


def _statuses(responses) -> list[int]:
    return sorted(r.status_code for r in responses)


def _scene(db, *, entry_status="draft", files=None, **award_fields):
    with Session(db, expire_on_commit=False) as session:
        award = make_award(session, status="open", **award_fields)
        journalist = make_user(session)
        organizer = make_user(session, role="organizer")
        entry = make_entry(session, award, user=journalist, status=entry_status,
                           files=files)
        session.commit()
        return award, journalist, organizer, entry


def _entry(db, entry_id: int) -> tuple[str, str | None, int]:
    with Session(db) as session:
        entry = session.get(Entry, entry_id)
        files = session.exec(select(func.count()).select_from(EntryFile)
                             .where(EntryFile.entry_id == entry_id)).one()
        return entry.status, entry.code, files


def test_parallel_withdraw_and_reject_one_succeeds(server, db):
    _, journalist, organizer, entry = _scene(db, entry_status="submitted")
    author, btc = _token(server, journalist.email), _token(server, organizer.email)
    url = f"{server.base}/api/v1/entries/{entry.id}"
    responses = _parallel([
        lambda http: http.post(f"{url}/withdraw", headers=author),
        lambda http: http.post(f"{url}/screen", headers=btc,
                               json={"decision": "reject", "reason": "Không đúng thể lệ"}),
    ])
    assert _statuses(responses) == [200, 409]
    winner = next(r for r in responses if r.status_code == 200).json()["status"]
    assert _entry(db, entry.id)[0] == winner


def test_four_parallel_submits_issue_one_code(server, db):
    award, journalist, _, entry = _scene(db)
    headers = _token(server, journalist.email)
    url = f"{server.base}/api/v1/entries/{entry.id}/submit"
    responses = _parallel([lambda http: http.post(url, headers=headers)] * PARALLEL)
    assert _statuses(responses) == [200, 409, 409, 409]
    status, code, _ = _entry(db, entry.id)
    assert (status, code) == ("submitted", "C1-001")
    with Session(db) as session:
        numbers = session.exec(select(Category.last_code_number)
                               .where(Category.award_id == award.id)).all()
    assert numbers == [1]


@pytest.mark.parametrize("attempt", range(3))
def test_submit_and_deleting_the_last_file_never_leave_a_submitted_entry_without_files(
        server, db, attempt):
    _, journalist, _, entry = _scene(db)
    headers = _token(server, journalist.email)
    with Session(db) as session:
        file_id = session.exec(select(EntryFile.id).where(EntryFile.entry_id == entry.id)).one()
    url = f"{server.base}/api/v1/entries/{entry.id}"
    responses = _parallel([
        lambda http: http.post(f"{url}/submit", headers=headers),
        lambda http: http.delete(f"{url}/files/{file_id}", headers=headers),
    ])
    submit, delete = (r.status_code for r in responses)
    status, _, files = _entry(db, entry.id)
    assert (submit, delete, status, files) in [(200, 409, "submitted", 1),
                                               (409, 204, "draft", 0)]


def test_the_same_file_attached_twice_in_parallel_is_kept_once(server, db):
    _, journalist, _, entry = _scene(db, files=[])
    headers = _token(server, journalist.email)
    url = f"{server.base}/api/v1/entries/{entry.id}/files"
    data = pdf("mot tep, hai lan")
    responses = _parallel([
        lambda http: http.post(url, headers=headers,
                               files={"file": ("a.pdf", data, "application/pdf")})] * PARALLEL)
    assert _statuses(responses) == [201, 409, 409, 409]
    assert _entry(db, entry.id)[2] == 1


def test_the_twenty_file_cap_holds_under_parallel_uploads(server, db):
    _, journalist, _, entry = _scene(db, files=[pdf(f"tep {i}") for i in range(19)])
    headers = _token(server, journalist.email)
    url = f"{server.base}/api/v1/entries/{entry.id}/files"
    def upload(i):
        data = pdf(f"tep moi {i}")
        return lambda http: http.post(url, headers=headers,
                                      files={"file": (f"moi-{i}.pdf", data, "application/pdf")})

    responses = _parallel([upload(i) for i in range(PARALLEL)])
    assert _statuses(responses) == [201, 409, 409, 409]
    assert _entry(db, entry.id)[2] == 20


def test_entries_per_author_hold_under_parallel_creation(server, db):
    award, journalist, _, _ = _scene(db, max_entries_per_author=2)
    with Session(db) as session:
        category_id = session.exec(select(Category.id)
                                   .where(Category.award_id == award.id)).one()
    headers = _token(server, journalist.email)
    url = f"{server.base}/api/v1/awards/{award.id}/entries"
    body = {"category_id": category_id, "title": "Bài song song", "outlet": "Báo Ninh Thuận",
            "published_on": "2026-03-15", "summary": "", "co_authors": []}
    responses = _parallel([lambda http: http.post(url, headers=headers, json=body)] * PARALLEL)
    assert _statuses(responses) == [201, 409, 409, 409]
    with Session(db) as session:
        count = session.exec(select(func.count()).select_from(Entry)
                             .where(Entry.award_id == award.id)).one()
    assert count == 2


def test_parallel_status_changes_of_an_award_move_it_once(server, db):
    award, _, organizer, _ = _scene(db)
    headers = _token(server, organizer.email)
    url = f"{server.base}/api/v1/awards/{award.id}"
    responses = _parallel([lambda http: http.patch(url, headers=headers,
                                                   json={"status": "closed"})] * PARALLEL)
    # PATCH is idempotent: asking for the status it already has changes nothing.
    assert [(r.status_code, r.json()["status"]) for r in responses] == [(200, "closed")] * 4
    from app.audit.models import AuditEntry

    with Session(db) as session:
        moves = session.exec(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "award.status", AuditEntry.object_id == award.id)).one()
    assert moves == 2  # opened by the factory, closed once here


def test_submission_waits_for_a_closing_award(server, db):
    """Closing and submitting at once: either the entry was submitted before the award
    closed, or it is refused — never submitted into a closed award."""
    award, journalist, organizer, entry = _scene(db)
    author, btc = _token(server, journalist.email), _token(server, organizer.email)
    responses = _parallel([
        lambda http: http.post(f"{server.base}/api/v1/entries/{entry.id}/submit",
                               headers=author),
        lambda http: http.patch(f"{server.base}/api/v1/awards/{award.id}", headers=btc,
                                json={"status": "closed"}),
    ])
    submit, close = (r.status_code for r in responses)
    assert close == 200
    from app.audit.models import AuditEntry

    with Session(db) as session:
        rows = session.exec(select(AuditEntry.action).where(
            ((AuditEntry.object_type == "entry") & (AuditEntry.object_id == entry.id)
             & (AuditEntry.action == "entry.submit"))
            | ((AuditEntry.object_type == "award") & (AuditEntry.object_id == award.id)
               & (AuditEntry.action == "award.status"))).order_by(AuditEntry.id)).all()
    if submit == 200:
        assert rows == ["award.status", "entry.submit", "award.status"]
    else:
        assert submit == 409
        assert rows == ["award.status", "award.status"]
        assert _entry(db, entry.id)[0] == "draft"


def test_parallel_awards_with_one_address_make_one(server, db):
    _, _, organizer, _ = _scene(db)
    headers = _token(server, organizer.email)
    body = {"title": "Giải song song", "year": 2026, "slug": "giai-song-song"}
    responses = _parallel([lambda http: http.post(f"{server.base}/api/v1/awards",
                                                  headers=headers, json=body)] * PARALLEL)
    assert _statuses(responses) == [201, 409, 409, 409]
    assert {r.json()["detail"] for r in responses if r.status_code == 409} == {
        "Địa chỉ này đã được một giải khác sử dụng."}


def test_parallel_categories_with_one_code_make_one(server, db):
    award, _, organizer, _ = _scene(db)
    headers = _token(server, organizer.email)
    body = {"code": "SS", "name": "Song song", "accepted_kinds": ["pdf"]}
    url = f"{server.base}/api/v1/awards/{award.id}/categories"
    responses = _parallel([lambda http: http.post(url, headers=headers, json=body)] * PARALLEL)
    assert _statuses(responses) == [201, 409, 409, 409]


def test_categories_are_not_added_after_the_award_closes(server, db):
    award, _, organizer, _ = _scene(db)
    headers = _token(server, organizer.email)
    url = f"{server.base}/api/v1/awards/{award.id}"

    def add(i):
        return lambda http: http.post(f"{url}/categories", headers=headers, json={
            "code": f"K{i}", "name": f"Thể loại {i}", "accepted_kinds": ["pdf"]})

    responses = _parallel([lambda http: http.patch(url, headers=headers,
                                                   json={"status": "closed"})]
                          + [add(i) for i in range(PARALLEL)])
    assert responses[0].status_code == 200
    assert all(r.status_code in (201, 409) for r in responses[1:])
    from app.audit.models import AuditEntry

    with Session(db) as session:
        closed_at = session.exec(select(AuditEntry.id).where(
            AuditEntry.object_type == "award", AuditEntry.object_id == award.id,
            AuditEntry.action == "award.status").order_by(AuditEntry.id.desc())).first()
        positions = session.exec(select(Category.position).where(
            Category.award_id == award.id).order_by(Category.position)).all()
        created = session.exec(select(AuditEntry.id).where(
            AuditEntry.action == "category.create",
            AuditEntry.id > closed_at)).all()
    assert created == []
    assert positions == list(range(len(positions)))


def test_parallel_registrations_of_one_address_make_one_account(server, db):
    forms = ["song.song@example.vn", "Song.Song@Example.VN", "ｓｏｎｇ.ｓｏｎｇ@example.vn",
             "SONG.SONG@EXAMPLE.VN"]

    def register(email):
        return lambda http: http.post(f"{server.base}/api/v1/auth/register", json={
            "email": email, "password": "mot-mat-khau-kho-doan", "full_name": "Lê Song"})

    responses = _parallel([register(e) for e in forms])
    assert _statuses(responses) == [201, 409, 409, 409]


def test_parallel_wrong_passwords_are_counted_exactly(server, db):
    _, journalist, _, _ = _scene(db)
    url = f"{server.base}/api/v1/auth/token"
    responses = _parallel([lambda http: http.post(url, data={
        "username": journalist.email, "password": "khong-dung-dau"})] * 8)
    assert _statuses(responses) == [401] * 5 + [429] * 3, [
        (r.status_code, r.json()["detail"], r.headers.get("retry-after")) for r in responses]


def test_parallel_deletes_of_a_draft_delete_it_once(server, db):
    _, journalist, _, entry = _scene(db, files=[pdf()])
    author = _token(server, journalist.email)
    url = f"{server.base}/api/v1/entries/{entry.id}"
    responses = _parallel([lambda http: http.delete(url, headers=author)] * PARALLEL)
    assert _statuses(responses) == [204] + [404] * (PARALLEL - 1)
    with Session(db) as session:
        assert session.get(Entry, entry.id) is None


def test_deleting_a_draft_while_submitting_it_does_one_or_the_other(server, db):
    _, journalist, _, entry = _scene(db, files=[pdf()])
    author = _token(server, journalist.email)
    url = f"{server.base}/api/v1/entries/{entry.id}"
    responses = _parallel([lambda http: http.delete(url, headers=author),
                           lambda http: http.post(f"{url}/submit", headers=author)])
    statuses = [r.status_code for r in responses]
    with Session(db) as session:
        stored = session.get(Entry, entry.id)
    if stored is None:   # the delete went first: the submit finds nothing
        assert statuses == [204, 404]
    else:                # the submit went first: a submitted entry is not deleted
        assert (statuses, stored.status) == ([409, 200], "submitted")
