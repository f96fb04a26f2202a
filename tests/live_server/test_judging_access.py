"""Every judging route through the real server (``giaibao serve``), requested by each role:
anonymous, a journalist (the author of the entry), a judge on no panel, the assigned judge
and the organizer. Each answers the code of the contract (the same table as the API tests)
and never a 5xx; so do the entry and file downloads a judge reaches."""

from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from sqlmodel import Session

from app.accounts.models import User
from app.config import get_settings
from app.db import make_engine
from app.judging import queries
from tests.api.test_judging_api import MATRIX, ROLES, _url
from tests.factories import PASSWORD, make_judging, make_user
from tests.live import live_server

# Routes of other domains that judges reach: (method, path) → codes for ROLES.
ENTRY_ROUTES = {
    ("GET", "/entries/{entry_id}"): (401, 200, 404, 200, 200),
    ("GET", "/files/{file_id}"): (401, 200, 404, 200, 200),
    ("GET", "/files/{file_id}?inline=1"): (401, 200, 404, 200, 200),
}


@pytest.fixture(scope="module")
def server():
    with live_server("judging_access") as live:
        settings = get_settings()
        test_uploads = settings.upload_dir
        # The files are stored where the server reads them.
        settings.upload_dir = Path(live.env["GIAIBAO_UPLOAD_DIR"])
        engine = make_engine(live.database_url)
        try:
            yield live, engine
        finally:
            settings.upload_dir = test_uploads
            engine.dispose()


def _world(engine):
    with Session(engine, expire_on_commit=False) as session:
        w = make_judging(session, entries=3, judges=3, judges_per_entry=2)
        judge = w.judges[0]
        queue = queries.judge_queue(session, w.round, judge)
        entry = next(e for e in w.entries if e.id == queue[0].entry_id)
        outsider = make_user(session, role="judge", full_name="Giám khảo ngoài")
        author = session.get(User, entry.submitter_id)
        criteria = queries.criteria_of(session, w.round.id)
        file_id = entry.files[0].id
        session.commit()
    return SimpleNamespace(**vars(w), judge=judge, entry=entry, outsider=outsider,
                           author=author, criteria=criteria, file_id=file_id)


def _clients(base, w) -> dict[str, httpx.Client]:
    clients = {}
    for role, user in (("anonymous", None), ("journalist", w.author), ("outsider", w.outsider),
                       ("judge", w.judge), ("organizer", w.organizer)):
        client = httpx.Client(base_url=base, timeout=30)
        if user is not None:
            token = client.post("/api/v1/auth/token",
                                data={"username": user.email, "password": PASSWORD})
            assert token.status_code == 200, token.text
            client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        clients[role] = client
    return clients


@pytest.mark.parametrize(("method", "path"), [*MATRIX, *ENTRY_ROUTES],
                         ids=[f"{m} {p}" for m, p in [*MATRIX, *ENTRY_ROUTES]])
def test_each_role_gets_the_expected_code_and_never_a_5xx(server, method, path):
    live, engine = server
    w = _world(engine)
    if (method, path) in MATRIX:
        body, codes = MATRIX[(method, path)]
        url = _url(w, path)
    else:
        body, codes = None, ENTRY_ROUTES[(method, path)]
        url = "/api/v1" + path.format(entry_id=w.entry.id, file_id=w.file_id)
    clients = _clients(live.base, w)
    got = []
    try:
        for role in ROLES:
            kwargs = {"json": body(w)} if body is not None else {}
            response = clients[role].request(method, url, **kwargs)
            got.append(response.status_code)
            # Junk in the path and the query never breaks the server either.
            junk = clients[role].request(method, url.replace(str(w.round.id), "abc", 1)
                                         + "?limit=-1&offset=zz", **kwargs)
            assert junk.status_code < 500, (role, junk.request.url, junk.status_code)
    finally:
        for client in clients.values():
            client.close()
    assert max(got) < 500
    assert tuple(got) == codes, dict(zip(ROLES, got, strict=True))
