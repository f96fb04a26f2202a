"""The smoke run: the real server (``giaibao serve``), every GET route of the pages and the
API, as anonymous, journalist, judge and organizer, with ids that exist and are the
caller's, ids of someone else's objects, missing ids and junk — no answer is ever a 5xx."""

import itertools
import re
from pathlib import Path

import httpx
import pytest
from fastapi.routing import iter_route_contexts
from sqlmodel import Session

from app.config import get_settings
from app.db import make_engine
from app.storage import get_storage
from app.main import app
from app.samples import pdf, png
from tests.conftest import csrf_from
from tests.factories import PASSWORD, make_award, make_entry, make_user
from tests.live import live_server

JUNK_QUERY = ("?offset=-1&limit=0&status=zzz&category_id=%C2%B2&sort=zzz&q=%25%00'&lang=xx"
              "&next=//evil.example&saved=abc&uploaded=abc&inline=abc&welcome=%EF%BC%91")


def _get_routes() -> list[str]:
    return sorted({
        r.path for r in iter_route_contexts(app.routes)
        if getattr(r, "dependant", None) is not None and "GET" in (r.methods or ())
        and r.path not in ("/docs", "/redoc", "/docs/oauth2-redirect", "/openapi.json")
    })


@pytest.fixture(scope="module")
def scene():
    with live_server("smoke") as server:
        engine = make_engine(server.database_url)
        settings = get_settings()
        test_uploads = settings.upload_dir
        # The files are stored where the server reads them.
        settings.upload_dir = Path(server.env["GIAIBAO_UPLOAD_DIR"])
        with Session(engine, expire_on_commit=False) as session:
            organizer = make_user(session, role="organizer", full_name="Ban Tổ Chức")
            judge = make_user(session, role="judge", full_name="Giám Khảo")
            mine_user = make_user(session, full_name="Phóng Viên Một")
            other_user = make_user(session, full_name="Phóng Viên Hai")
            award = make_award(session, organizer=organizer, status="open")
            draft_award = make_award(session, organizer=organizer, status="draft")
            mine = make_entry(session, award, user=mine_user, status="submitted",
                              files=[pdf("cua toi"), png()])
            other = make_entry(session, award, user=other_user, files=[pdf("cua nguoi khac")])
            # A row whose bytes are gone (a backup restored without its files).
            lost = make_entry(session, award, user=mine_user, title="Tệp đã mất",
                              files=[pdf("mat")])
            get_storage().delete(lost.files[0].stored_name)
            from tests.mail_helpers import queue_mail

            mails = [queue_mail(session, user=mine_user, secret=True),
                     queue_mail(session, user=judge, status="failed", last_error="550 Không")]
            rounds, judged = _judging(session, organizer, judge)
            published = make_award(session, organizer=organizer, status="published")
            from sqlmodel import select

            from app.results.models import Certificate

            tokens = [c.token for c in session.exec(select(Certificate)).all()]
            session.commit()
            values = {
                "slug": [award.slug, draft_award.slug, published.slug, "khong-co-giai-nay"],
                "award_id": [award.id, draft_award.id, published.id, 999_999, "abc",
                             99_999_999_999],
                "token": [*tokens, "khong-co-giay-nay", "x" * 100],
                "category_id": [_category_id(session, award), 999_999, "abc"],
                "entry_id": [mine.id, other.id, lost.id, *judged, 999_999, "abc", -1],
                "round_id": [*rounds, 999_999, "abc"],
                "judge_id": [judge.id, 999_999, "abc"],
                "file_id": [mine.files[0].id, other.files[0].id, lost.files[0].id, 999_999,
                            "abc"],
                "code": ["vi", "en", "xx"],
                "mail_id": [mails[0].id, mails[1].id, 999_999, "abc"],
                "user_id": [mine_user.id, organizer.id, 999_999, "abc"],
                "action": ["deactivate", "reactivate", "password-reset", "xoa"],
            }
            users = {"journalist": mine_user.email, "judge": judge.email,
                     "organizer": organizer.email}
        settings.upload_dir = test_uploads
        engine.dispose()
        yield server, values, users


def _judging(session, organizer, judge) -> tuple[list[int], list[int]]:
    """An award in judging: a blind round scoring with the judge on its panel and assigned
    (one entry), a round in setup; their ids and the entries'."""
    from datetime import UTC, datetime

    from app.awards import service
    from app.judging import service as judging
    from tests.factories import make_round, seat

    now = datetime.now(UTC)
    award = make_award(session, organizer=organizer, status="open")
    entries = [make_entry(session, award, status="accepted", title=f"Được chấm {i}")
               for i in range(2)]
    for target in ("closed", "judging"):
        service.change_status(session, award, target, actor=organizer)
    category = service.list_categories(session, award)[0]
    scoring = make_round(session, award, organizer=organizer, judges_per_entry=1)
    setup = make_round(session, award, organizer=organizer, judges_per_entry=1,
                       name="Vòng chung khảo")
    for round_ in (scoring, setup):
        seat(session, round_, judge, [category], organizer=organizer)
        judging.assign_round(session, round_, actor=organizer, now=now)
    judging.move_round(session, scoring, "start", actor=organizer, now=now)
    return [scoring.id, setup.id], [e.id for e in entries]


def _category_id(session, award) -> int:
    from app.awards import service

    return service.list_categories(session, award)[0].id


def _paths(route: str, values: dict) -> list[str]:
    names = re.findall(r"\{(\w+)\}", route)
    paths = []
    for combo in itertools.product(*(values[n] for n in names)):
        path = route
        for name, value in zip(names, combo, strict=True):
            path = path.replace("{" + name + "}", str(value))
        paths.append(path)
    return paths


def _signed_in(server, role: str, email: str | None) -> httpx.Client:
    client = httpx.Client(base_url=server.base, timeout=30)
    if email is None:
        return client
    token = csrf_from(client.get("/login").text)
    response = client.post("/login", data={"email": email, "password": PASSWORD,
                                           "csrf_token": token})
    assert response.status_code == 303, response.text
    api = client.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD})
    client.headers["Authorization"] = f"Bearer {api.json()['access_token']}"
    return client


@pytest.mark.parametrize("role", ["anonymous", "journalist", "judge", "organizer"])
def test_no_get_route_answers_5xx(scene, role):
    server, values, users = scene
    client = _signed_in(server, role, users.get(role))
    failures, seen = [], 0
    try:
        for route in _get_routes():
            for path in _paths(route, values):
                for query in ("", JUNK_QUERY):
                    seen += 1
                    try:
                        response = client.get(path + query)
                    except httpx.TransportError as exc:  # the server dropped the connection
                        failures.append((path + query, type(exc).__name__))
                        continue
                    if response.status_code >= 500:
                        failures.append((path + query, response.status_code))
    finally:
        client.close()
    assert failures == [], "\n".join(f"{p} -> {s}" for p, s in failures)
    assert seen > 200
