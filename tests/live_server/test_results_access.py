"""Every results route through the real server (``giaibao serve``), requested by each
caller: anonymous, a journalist (an author of the round), a judge of the round, another
judge of it and the organizer, before and after publishing. Each answers the code of the
contract (the same table as the API tests) and never a 5xx, junk in the path or the query
included."""

import re
from datetime import UTC, datetime

import httpx
import pytest
from sqlmodel import Session, select

from app.awards import service as award_service
from app.db import make_engine
from app.results import service as results
from app.results.models import AllocateIn, Certificate
from tests.api.test_results_api import MATRIX, ROLES, hand_round, matrix_url
from tests.factories import PASSWORD
from tests.live import live_server


@pytest.fixture(scope="module")
def server():
    with live_server("results_access") as live:
        engine = make_engine(live.database_url)
        try:
            yield live, engine
        finally:
            engine.dispose()


def _world(engine, *, published: bool):
    """As the API tests' matrix_world: the hand-scored round allocated (and published)."""
    with Session(engine, expire_on_commit=False) as session:
        w = hand_round(session, entries=4)
        results.allocate(session, w.award, AllocateIn(round_id=w.round.id),
                         actor=w.organizer, now=datetime.now(UTC))
        w.token = "khong-co-giay-chung-nhan"
        if published:
            award_service.change_status(session, w.award, "published", actor=w.organizer)
            w.token = session.exec(select(Certificate.token)
                                   .where(Certificate.entry_id == w.e[1].id)).one()
        session.commit()
    return w


def _clients(base, w) -> dict[str, httpx.Client]:
    clients = {}
    for role, user in (("anonymous", None), ("journalist", w.author), ("judge", w.judges[0]),
                       ("other_judge", w.judges[1]), ("organizer", w.organizer)):
        client = httpx.Client(base_url=base, timeout=30)
        if user is not None:
            token = client.post("/api/v1/auth/token",
                                data={"username": user.email, "password": PASSWORD})
            assert token.status_code == 200, token.text
            client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        clients[role] = client
    return clients


def _junk(url: str) -> str:
    """The url with its first id replaced by letters (a certificate's token made too long),
    and a query of bad values."""
    if "/certificates/" in url:
        return url + "x" * 80 + "?limit=-1&offset=zz"
    return re.sub(r"/\d+(/|$)", r"/abc\1", url, count=1) + "?limit=-1&offset=zz&category_id=x"


@pytest.mark.parametrize("published", [False, True], ids=["before", "published"])
@pytest.mark.parametrize(("method", "path"), list(MATRIX), ids=[f"{m} {p}" for m, p in MATRIX])
def test_each_caller_gets_the_expected_code_and_never_a_5xx(server, method, path, published):
    live, engine = server
    w = _world(engine, published=published)
    body, before, after = MATRIX[(method, path)]
    url = matrix_url(w, path)
    clients = _clients(live.base, w)
    got = []
    try:
        for role in ROLES:
            kwargs = {"json": body(w)} if body is not None else {}
            response = clients[role].request(method, url, **kwargs)
            got.append(response.status_code)
            junk = clients[role].request(method, _junk(url), **kwargs)
            assert junk.status_code < 500, (role, junk.request.url, junk.status_code)
            garbage = clients[role].request(method, url, content=b"{not json",
                                            headers={"Content-Type": "application/json"})
            assert garbage.status_code < 500, (role, garbage.status_code)
    finally:
        for client in clients.values():
            client.close()
    assert max(got) < 500
    assert tuple(got) == (after if published else before), dict(zip(ROLES, got, strict=True))
