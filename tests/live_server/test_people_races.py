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
    # One wins; the other is refused: deactivated meanwhile (403), or signed out (its token
    # revoked before it was read: 401).
    assert statuses[0] == 200 and statuses[1] in (401, 403), [r.text for r in responses]
    with Session(db) as session:
        active = session.exec(select(func.count()).select_from(User).where(
            User.role == "organizer", User.is_active)).one()
    assert active == 1


@pytest.mark.parametrize("attempt", range(3))
def test_no_sign_in_outlives_a_deactivation_at_the_same_moment(server, db, attempt):
    """Sign-ins racing a deactivation: each either fails (403) or gets a session or token
    that the deactivation then revokes — none works again once the account is reactivated."""
    import httpx

    from tests.factories import PASSWORD

    with Session(db, expire_on_commit=False) as session:
        organizer = make_user(session, role="organizer")
        journalist = make_user(session)
        session.commit()
    btc = _token(server, organizer.email)
    users = f"{server.base}/api/v1/users/{journalist.id}"

    def sign_in(http):
        return http.post(f"{server.base}/api/v1/auth/token",
                         data={"username": journalist.email, "password": PASSWORD})

    responses = _parallel([sign_in] * 3 + [lambda http: http.post(f"{users}/deactivate",
                                                                  headers=btc)])
    assert responses[-1].status_code == 200
    assert all(r.status_code in (200, 403) for r in responses[:-1]), \
        [r.status_code for r in responses]
    assert httpx.post(f"{users}/reactivate", headers=btc).status_code == 200
    for r in responses[:-1]:
        if r.status_code == 200:
            me = httpx.get(f"{server.base}/api/v1/me",
                           headers={"Authorization": f"Bearer {r.json()['access_token']}"})
            assert me.status_code == 401


def test_an_organizer_deactivated_meanwhile_cannot_deactivate_anyone(server, db):
    with Session(db, expire_on_commit=False) as session:
        first, second, third = (make_user(session, role="organizer") for _ in range(3))
        session.commit()
    first_token, second_token = _token(server, first.email), _token(server, second.email)
    url = f"{server.base}/api/v1/users"
    responses = _parallel([
        lambda http: http.post(f"{url}/{second.id}/deactivate", headers=first_token),
        lambda http: http.post(f"{url}/{third.id}/deactivate", headers=second_token),
    ])
    with Session(db) as session:
        second_row, third_row = session.get(User, second.id), session.get(User, third.id)
        # Either second acted first (both deactivated, in that order) or was stopped.
        if not third_row.is_active:
            assert [r.status_code for r in responses] == [200, 200]
        else:
            assert responses[0].status_code == 200
            assert responses[1].status_code in (401, 403)
        assert not second_row.is_active
