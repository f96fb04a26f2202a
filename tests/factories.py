"""Factories that build real rows through the services (no mocks of our own code)."""

import itertools
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from sqlmodel import Session

from app.accounts.models import User
from app.accounts.rules import Role
from app.awards import service as awards
from app.awards.models import Award, AwardCreate, CategoryCreate
from app.security import hash_password

PASSWORD = "mat-khau-an-toan"
_seq = itertools.count(1)


@lru_cache
def _password_hash() -> str:
    return hash_password(PASSWORD)


def make_user(session: Session, *, role: Role | str = Role.journalist, email: str | None = None,
              full_name: str = "Nguyễn Văn An", verified: bool = True, **fields) -> User:
    """An account; its address verified unless ``verified=False``."""
    n = next(_seq)
    user = User(email=email or f"user{n}@example.vn", password_hash=_password_hash(),
                role=role, full_name=full_name,
                email_verified_at=datetime.now(UTC) if verified else None, **fields)
    session.add(user)
    session.flush()
    return user


def make_award(session: Session, *, organizer: User | None = None, status: str = "draft",
               categories: int = 1, now: datetime | None = None, **fields) -> Award:
    organizer = organizer or make_user(session, role=Role.organizer)
    now = now or datetime.now(UTC)
    n = next(_seq)
    values = dict(
        title=f"Giải báo chí thử nghiệm {n}",
        year=2026,
        slug=f"giai-thu-{n}",
        rules="## Thể lệ\n\nTác phẩm **đã đăng**.",
        submission_opens_at=now - timedelta(days=1),
        submission_closes_at=now + timedelta(days=30),
        published_from=date(2025, 11, 1),
        published_to=date(2026, 10, 31),
        max_entries_per_author=3,
        max_authors_per_entry=5,
        max_series_parts=5,
    )
    values.update(fields)
    award = awards.create_award(session, AwardCreate(**values), actor=organizer)
    for i in range(categories):
        make_category(session, award, organizer=organizer, code=f"C{i + 1}", name=f"Thể loại {i + 1}")
    path = ["open", "closed", "judging", "published"]
    for target in path[: path.index(status) + 1] if status != "draft" else []:
        if target == "published":
            publish(session, award, organizer=organizer)
        else:
            awards.change_status(session, award, target, actor=organizer)
        if target == "open" and status == "published":
            make_entry(session, award, status="accepted")
    return award


def publish(session: Session, award: Award, *, organizer: User, round_=None,
            min_score: dict | None = None):
    """Allocates the prizes from ``round_`` (closed; without one, a round of the award's
    accepted entries is run and closed, empty when there are none) and publishes."""
    from app.judging import service as judging
    from app.results import service as results
    from app.results.models import AllocateIn

    now = datetime.now(UTC)
    if round_ is None:  # one judge scores every accepted entry 30/20/20
        round_ = make_round(session, award, organizer=organizer, judges_per_entry=1)
        seat(session, round_, make_user(session, role=Role.judge),
             awards.list_categories(session, award), organizer=organizer)
        judging.assign_round(session, round_, actor=organizer, now=now)
        judging.move_round(session, round_, "start", actor=organizer, now=now)
        score_round(session, round_, lambda entry, judge: (30, 20, 20), organizer=organizer)
    results.allocate(session, award, AllocateIn(round_id=round_.id, min_score=min_score or {}),
                     actor=organizer, now=now)
    return awards.change_status(session, award, "published", actor=organizer)


def make_category(session: Session, award: Award, *, organizer: User, code: str = "BDT",
                  name: str = "Báo điện tử", **fields):
    values = dict(code=code, name=name, accepted_kinds=["pdf", "image"], max_file_mb=20,
                  url_required=False, prize_quota={"A": 1, "B": 2, "C": 3, "KK": 4})
    values.update(fields)
    return awards.add_category(session, award, CategoryCreate(**values), actor=organizer)


def api_headers(client, user: User, password: str = PASSWORD) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", data={"username": user.email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def page_login(client, user: User, password: str = PASSWORD):
    from tests.conftest import csrf_from

    token = csrf_from(client.get("/login").text)
    response = client.post("/login", data={"email": user.email, "password": password,
                                           "csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return response


def store(data: bytes, *, kinds=("pdf", "image", "audio", "video")):
    """Stores bytes as an upload would, returning the StoredFile."""
    from app.storage import get_storage

    writer = get_storage().open_writer(max_bytes=10**9, accept=lambda s: s.kind in kinds)
    writer.write(data)
    return writer.finish()


def make_entry(session: Session, award: Award, *, user: User | None = None,
               status: str = "draft", category=None, files: list[bytes] | None = None,
               title: str = "Xây dựng Đảng từ cơ sở", co_authors=(), now=None, **fields):
    """An entry created, filled and moved to ``status`` through the services."""
    from app.awards import service as award_service
    from app.entries import files as entry_files
    from app.entries import writes as entry_writes
    from app.entries.models import CoAuthorIn, EntryCreate
    from app.samples import pdf

    now = now or datetime.now(UTC)
    user = user or make_user(session)
    category = category or award_service.list_categories(session, award)[0]
    values = dict(category_id=category.id, title=title, summary="Tóm tắt", outlet="Báo Ninh Thuận",
                  published_on=date(2026, 3, 15), url=None, series_parts=None,
                  co_authors=[CoAuthorIn(**c) for c in co_authors])
    values.update(fields)
    entry = entry_writes.create_entry(session, award, EntryCreate(**values), user=user, now=now)
    for data in files if files is not None else [pdf(title.encode("ascii", "ignore").decode())]:
        entry_files.attach_file(session, entry.id, store(data), "tac-pham.pdf", user=user, now=now)
    if status == "draft":
        return entry
    entry_writes.submit_entry(session, entry, user=user, now=now)
    if status in ("accepted", "returned", "rejected"):
        organizer = make_user(session, role=Role.organizer)
        entry_writes.screen_entry(session, entry, decision={"accepted": "accept", "returned": "return",
                                                       "rejected": "reject"}[status],
                             reason="Lý do của Ban tổ chức", actor=organizer, now=now)
    elif status == "withdrawn":
        entry_writes.withdraw_entry(session, entry, user=user, now=now)
    return entry


RUBRIC = [
    {"name": "Nội dung", "description": "Tính chính xác, chiều sâu, giá trị thông tin", "max_points": 40},
    {"name": "Hình thức", "description": "Cách thể hiện, ngôn ngữ, kỹ thuật", "max_points": 30},
    {"name": "Tác động", "description": "Hiệu quả xã hội, sức lan tỏa", "max_points": 30},
]


def make_round(session: Session, award: Award, *, organizer: User | None = None,
               criteria=None, **fields):
    """A round in setup on an award that is closed or judging."""
    from app.judging import service as judging
    from app.judging.models import RoundCreate

    organizer = organizer or make_user(session, role=Role.organizer)
    values = dict(name="Vòng sơ khảo", judges_per_entry=2, blind=True, aggregation="mean",
                  criteria=criteria or RUBRIC)
    values.update(fields)
    return judging.create_round(session, award, RoundCreate(**values), actor=organizer,
                                now=datetime.now(UTC))


def seat(session: Session, round_, judge: User, categories, *, organizer: User | None = None):
    from app.judging import service as judging
    from app.judging.models import PanelIn

    organizer = organizer or make_user(session, role=Role.organizer)
    return judging.set_panel(session, round_, PanelIn(judge_id=judge.id,
                                                      category_ids=[c.id for c in categories]),
                             actor=organizer, now=datetime.now(UTC))[0]


def make_judging(session: Session, *, entries: int = 3, judges: int = 3, judges_per_entry: int = 2,
                 start: bool = True, blind: bool = True, entry_fields=None):
    """An award in judging with ``entries`` accepted entries in one category, ``judges``
    judges seated on a round's panel, assigned and (``start``) scoring. Returns a simple
    namespace: award, category, entries, judges, round, organizer."""
    from types import SimpleNamespace

    from app.awards import service as award_service
    from app.judging import service as judging

    organizer = make_user(session, role=Role.organizer, full_name="Trần Thị Tổ Chức")
    award = make_award(session, organizer=organizer, status="open")
    category = award_service.list_categories(session, award)[0]
    made = [make_entry(session, award, status="accepted", title=f"Tác phẩm số {i + 1}",
                       **(entry_fields or {})) for i in range(entries)]
    for target in ("closed", "judging"):
        award_service.change_status(session, award, target, actor=organizer)
    panel = [make_user(session, role=Role.judge, full_name=f"Giám khảo {i + 1}",
                       email=f"giamkhao{next(_seq)}@example.vn") for i in range(judges)]
    round_ = make_round(session, award, organizer=organizer, judges_per_entry=judges_per_entry,
                        blind=blind)
    for judge in panel:
        seat(session, round_, judge, [category], organizer=organizer)
    now = datetime.now(UTC)
    judging.assign_round(session, round_, actor=organizer, now=now)
    if start:
        judging.move_round(session, round_, "start", actor=organizer, now=now)
    return SimpleNamespace(award=award, category=category, entries=made, judges=panel,
                           round=round_, organizer=organizer)


def score_round(session: Session, round_, points_of, *, close: bool = True,
                organizer: User | None = None):
    """Gives every active assignment of ``round_`` a final score: ``points_of(entry, judge)``
    returns the points in the rubric's order (None: leave that one unscored). Closes the
    round unless ``close`` is false (a round with a score missing closes forced)."""
    from sqlmodel import select as _select

    from app.entries.models import Entry
    from app.judging import queries as judging_queries
    from app.judging import service as judging
    from app.judging.models import Assignment, ScoreIn

    criteria = judging_queries.criteria_of(session, round_.id)
    rows = session.exec(_select(Assignment).where(Assignment.round_id == round_.id,
                                                  Assignment.conflict_at.is_(None))
                        .order_by(Assignment.entry_id, Assignment.judge_id)).all()
    now = datetime.now(UTC)
    for a in rows:
        entry, judge = session.get(Entry, a.entry_id), session.get(User, a.judge_id)
        values = points_of(entry, judge)
        if values is None:
            continue
        data = ScoreIn(points={str(c.id): v for c, v in zip(criteria, values, strict=True)},
                       final=True)
        judging.save_score(session, round_.id, entry.id, data, judge=judge, now=now)
    if close:
        missing = judging_queries.missing_final(session, round_)
        organizer = organizer or make_user(session, role=Role.organizer)
        judging.move_round(session, round_, "close", actor=organizer, now=now,
                           force=bool(missing), reason="Hết hạn chấm" if missing else None)
    return rows
