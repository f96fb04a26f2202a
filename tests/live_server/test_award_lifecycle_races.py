"""An award's confirmed moves under parallel requests (double clicks, second tabs), through
the real server: the award moves once, the other requests are told it moved already."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from sqlmodel import Session, select

from app.audit.models import AuditEntry
from app.awards.models import Award
from tests.conftest import csrf_from
from tests.factories import PASSWORD, make_award, make_user
from tests.live_server.test_races import _parallel as parallel


def _page_client(server, email: str) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=server.base, timeout=60)
    token = csrf_from(client.get("/login").text)
    response = client.post("/login", data={"email": email, "password": PASSWORD,
                                           "csrf_token": token})
    assert response.status_code == 303, response.text
    return client, csrf_from(client.get("/admin/").text)


def _parallel(calls) -> list[httpx.Response]:
    """test_races' barrier, for calls that bring their own signed-in client."""
    return parallel([lambda _http, call=call: call() for call in calls])


def _scene(db, status: str):
    with Session(db, expire_on_commit=False) as session:
        organizer = make_user(session, role="organizer")
        award = make_award(session, organizer=organizer, status=status)
        session.commit()
        return award, organizer


def _moves(db, award_id: int) -> list[dict]:
    with Session(db) as session:
        return list(session.exec(select(AuditEntry.changes).where(
            AuditEntry.action == "award.status", AuditEntry.object_id == award_id)
            .order_by(AuditEntry.id)).all())


def test_four_confirmations_of_closing_close_once(server, db):
    award, organizer = _scene(db, "open")
    clients = [_page_client(server, organizer.email) for _ in range(4)]
    path = f"/admin/awards/{award.id}/status"
    try:
        responses = _parallel([
            (lambda c=c, t=t: c.post(path, data={"csrf_token": t, "status": "closed",
                                                 "from": "open", "confirmed": "1"}))
            for c, t in clients])
    finally:
        for c, _ in clients:
            c.close()
    assert sorted(r.status_code for r in responses) == [303, 409, 409, 409]
    assert all("Giải hiện ở trạng thái “Đã đóng nhận tác phẩm”" in r.text
               for r in responses if r.status_code == 409)
    assert _moves(db, award.id) == [{"status": ["draft", "open"]},
                                    {"status": ["open", "closed"]}]


def test_reopening_and_starting_judging_at_once_do_one_of_them(server, db):
    award, organizer = _scene(db, "closed")
    (reopener, t1), (starter, t2) = (_page_client(server, organizer.email) for _ in range(2))
    path = f"/admin/awards/{award.id}/status"
    day = (datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")) + timedelta(days=5)).strftime("%d/%m/%Y")
    try:
        reopened, started = _parallel([
            lambda: reopener.post(path, data={"csrf_token": t1, "status": "open",
                                              "from": "closed", "reopen_closes_date": day}),
            lambda: starter.post(path, data={"csrf_token": t2, "status": "judging",
                                             "from": "closed", "confirmed": "1"})])
    finally:
        reopener.close()
        starter.close()
    assert sorted([reopened.status_code, started.status_code]) == [303, 409]
    with Session(db) as session:
        status = session.get(Award, award.id).status
    moves = _moves(db, award.id)
    assert len(moves) == 3  # draft→open, open→closed by the factory, then one of the two
    if reopened.status_code == 303:
        assert (status, moves[-1]["status"]) == ("open", ["closed", "open"])
    else:
        assert (status, moves[-1]) == ("judging", {"status": ["closed", "judging"]})
