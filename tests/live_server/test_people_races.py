"""Two organizers deactivating each other at the same moment, through the real server: on
PostgreSQL only the lock on the active organizers keeps one of them active."""

import pytest
from sqlmodel import Session, func, select, update

from app.accounts.models import User
from tests.factories import make_user
from tests.live_server.test_races import _parallel, _token


@pytest.mark.parametrize("attempt", range(4))
def test_the_last_two_organizers_deactivating_each_other_leave_one(server, db, attempt):
    with Session(db, expire_on_commit=False) as session:
        session.exec(update(User).where(User.role == "organizer").values(is_active=False))
        first = make_user(session, role="organizer")
        second = make_user(session, role="organizer")
        session.commit()
    first_token, second_token = _token(server, first.email), _token(server, second.email)
    url = f"{server.base}/api/v1/users"
    responses = _parallel([
        lambda http: http.post(f"{url}/{second.id}/deactivate", headers=first_token),
        lambda http: http.post(f"{url}/{first.id}/deactivate", headers=second_token),
    ])
    statuses = sorted(r.status_code for r in responses)
    # One wins; the other is refused as the last organizer, or (its token revoked before it
    # was read) as signed out.
    assert statuses[0] == 200 and statuses[1] in (401, 409), [r.text for r in responses]
    with Session(db) as session:
        active = session.exec(select(func.count()).select_from(User).where(
            User.role == "organizer", User.is_active)).one()
    assert active == 1
