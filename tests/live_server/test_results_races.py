"""Results under parallel requests, through the real server (uvicorn's thread pool, one
database transaction per request): two overrides for a level's last place, an allocation or
an override racing the publication, a shortlist racing the start of the round that judges it
(or of its own round), two publications at once. On PostgreSQL these hold only because
every change takes its locks in one order (the round's, then the award's row lock); on
SQLite the write lock serialises them."""

from datetime import UTC, datetime

import pytest
from sqlmodel import Session, col, func, select

from app.audit.models import AuditEntry
from app.awards.models import Award
from app.judging import service as judging
from app.judging.models import Round, ShortlistEntry
from app.mail.models import Mail
from app.results import service as results
from app.results.models import AllocateIn, Certificate, Prize, PrizeIn, ShortlistIn
from tests.api.test_results_api import hand_round
from tests.factories import make_judging, make_round, seat
from tests.live_server.test_races import _parallel, _statuses, _token

PUBLISHED = {"detail": "Kết quả đã công bố: không thể thay đổi giải nữa."}
ATTEMPTS = 5


def _now():
    return datetime.now(UTC)


def _allocated(db, *, free_a=False):
    """The hand-scored round (4 entries: A, B, B, C proposed), allocated; ``free_a``: the
    A prize taken back from entry 2, so that A has one place left."""
    with Session(db, expire_on_commit=False) as session:
        w = hand_round(session, entries=4)
        results.allocate(session, w.award, AllocateIn(round_id=w.round.id),
                         actor=w.organizer, now=_now())
        if free_a:
            results.set_prize(session, w.e[1], PrizeIn(level=None, reason="Đạo văn"),
                              actor=w.organizer, now=_now())
        session.commit()
    return w


def _levels(db, award_id) -> tuple[dict[int, str | None], dict[int, str]]:
    """(entry → prize level, entry → certificate level) of the award."""
    with Session(db) as session:
        prizes = {p.entry_id: p.level for p in session.exec(
            select(Prize).where(Prize.award_id == award_id))}
        certificates = {c.entry_id: c.level for c in session.exec(
            select(Certificate).where(Certificate.award_id == award_id))}
    return prizes, certificates


def _published_once(db, award_id) -> tuple[str, int, int]:
    """(status, publications in the audit log, results mails) of the award."""
    with Session(db) as session:
        status = session.get(Award, award_id).status
        moves = session.exec(select(AuditEntry).where(
            AuditEntry.action == "award.status", AuditEntry.object_id == award_id)).all()
        mails = session.exec(select(func.count()).select_from(Mail).where(
            Mail.award_id == award_id, Mail.template == "results_published")).one()
    return status, [m.changes["status"][1] for m in moves].count("published"), mails


def _awarded(prizes: dict[int, str | None]) -> dict[int, str]:
    return {entry_id: level for entry_id, level in prizes.items() if level is not None}


@pytest.mark.parametrize("attempt", range(ATTEMPTS))
def test_two_overrides_for_the_last_place_of_a_level(server, db, attempt):
    w = _allocated(db, free_a=True)
    btc = _token(server, w.organizer.email)
    contenders = (w.e[0], w.e[2])
    responses = _parallel([
        lambda http, entry=entry: http.put(f"{server.base}/api/v1/entries/{entry.id}/prize",
                                           headers=btc,
                                           json={"level": "A", "reason": "Hội đồng đề nghị"})
        for entry in contenders])
    assert _statuses(responses) == [200, 409]
    won = next(i for i, r in enumerate(responses) if r.status_code == 200)
    assert responses[1 - won].json() == {"detail": "Cơ cấu “Giải A” là 1 giải: đã đủ."}
    prizes, _ = _levels(db, w.award.id)
    assert prizes == {w.e[1].id: None, contenders[won].id: "A",
                      contenders[1 - won].id: "B", w.e[3].id: "C"}


@pytest.mark.parametrize("attempt", range(ATTEMPTS))
def test_an_allocation_racing_the_publication(server, db, attempt):
    w = _allocated(db)
    btc = _token(server, w.organizer.email)
    api = f"{server.base}/api/v1/awards/{w.award.id}"
    allocate, publish = _parallel([
        lambda http: http.post(f"{api}/prizes/allocate", headers=btc,
                               json={"round_id": w.round.id, "min_score": {"B": 70}}),
        lambda http: http.patch(api, headers=btc, json={"status": "published"}),
    ])
    assert publish.status_code == 200
    prizes, certificates = _levels(db, w.award.id)
    e = w.e
    if allocate.status_code == 200:
        # The allocation came first: B needs 70, so the pair at 65 went to C, and the
        # publication issued the certificates of that allocation.
        assert prizes == {e[1].id: "A", e[0].id: "C", e[2].id: "C", e[3].id: "C"}
    else:
        assert (allocate.status_code, allocate.json()) == (409, PUBLISHED)
        assert prizes == {e[1].id: "A", e[0].id: "B", e[2].id: "B", e[3].id: "C"}
    assert certificates == _awarded(prizes)
    assert _published_once(db, w.award.id) == ("published", 1, 5)


@pytest.mark.parametrize("attempt", range(ATTEMPTS))
def test_an_override_racing_the_publication(server, db, attempt):
    w = _allocated(db)
    btc = _token(server, w.organizer.email)
    override, publish = _parallel([
        lambda http: http.put(f"{server.base}/api/v1/entries/{w.e[3].id}/prize", headers=btc,
                              json={"level": None, "reason": "Vi phạm bản quyền"}),
        lambda http: http.patch(f"{server.base}/api/v1/awards/{w.award.id}", headers=btc,
                                json={"status": "published"}),
    ])
    assert publish.status_code == 200
    prizes, certificates = _levels(db, w.award.id)
    if override.status_code == 200:
        assert prizes[w.e[3].id] is None
    else:
        assert (override.status_code, override.json()) == (409, PUBLISHED)
        assert prizes[w.e[3].id] == "C"
    assert certificates == _awarded(prizes)
    assert _published_once(db, w.award.id) == ("published", 1, 5)


def _shortlisted_with_next_round(db):
    """The hand-scored round with entry 2 alone shortlisted, and the final round taking the
    shortlist, its one judge assigned (in setup)."""
    with Session(db, expire_on_commit=False) as session:
        w = hand_round(session, entries=4)
        results.shortlist(session, w.round, ShortlistIn(top_n=1), actor=w.organizer,
                          now=_now())
        w.final = make_round(session, w.award, organizer=w.organizer, name="Vòng chung khảo",
                             judges_per_entry=1, source_round_id=w.round.id)
        seat(session, w.final, w.judges[0], [w.category], organizer=w.organizer)
        judging.assign_round(session, w.final, actor=w.organizer, now=_now())
        session.commit()
    return w


def _shortlist_of(db, round_id) -> set[int]:
    with Session(db) as session:
        return set(session.exec(select(ShortlistEntry.entry_id)
                                .where(ShortlistEntry.round_id == round_id)).all())


def _status_of(db, round_id) -> str:
    with Session(db) as session:
        return session.get(Round, round_id).status


@pytest.mark.parametrize("attempt", range(ATTEMPTS))
def test_a_shortlist_racing_the_start_of_the_round_judging_it(server, db, attempt):
    w = _shortlisted_with_next_round(db)
    btc = _token(server, w.organizer.email)
    shortlist, start = _parallel([
        lambda http: http.post(f"{server.base}/api/v1/rounds/{w.round.id}/shortlist",
                               headers=btc, json={"top_n": 2}),
        lambda http: http.post(f"{server.base}/api/v1/rounds/{w.final.id}/start",
                               headers=btc),
    ])
    e = w.e
    if shortlist.status_code == 200:
        # The shortlist changed first, and the start saw it: two entries without a judge.
        assert shortlist.json() == {"shortlisted": 3}
        assert (start.status_code, start.json()) == (409, {"detail": (
            f"Hãy phân công giám khảo trước: các tác phẩm sau chưa đủ giám khảo: "
            f"{e[0].code}, {e[2].code}.")})
        assert (_shortlist_of(db, w.round.id), _status_of(db, w.final.id)) == (
            {e[0].id, e[1].id, e[2].id}, "setup")
    else:
        assert start.status_code == 200
        assert (shortlist.status_code, shortlist.json()) == (409, {
            "detail": "Vòng “Vòng chung khảo” đã bắt đầu chấm danh sách này: không thể thay "
                      "đổi nữa."})
        assert (_shortlist_of(db, w.round.id), _status_of(db, w.final.id)) == (
            {e[1].id}, "scoring")


@pytest.mark.parametrize("attempt", range(ATTEMPTS))
def test_a_shortlist_racing_the_start_of_its_own_round(server, db, attempt):
    """Both take the round's and the award's locks: in one order, or they deadlock."""
    with Session(db, expire_on_commit=False) as session:
        w = make_judging(session, entries=2, judges=2, judges_per_entry=2, start=False)
        session.commit()
    btc = _token(server, w.organizer.email)
    base = f"{server.base}/api/v1/rounds/{w.round.id}"
    shortlist, start = _parallel([
        lambda http: http.post(f"{base}/shortlist", headers=btc, json={"top_n": 1}),
        lambda http: http.post(f"{base}/start", headers=btc),
    ])
    assert start.status_code == 200, start.text
    assert (shortlist.status_code, shortlist.json()) == (409, {
        "detail": "Hãy kết thúc vòng chấm trước: chỉ khi đó bảng xếp hạng mới là chính thức."})
    assert (_shortlist_of(db, w.round.id), _status_of(db, w.round.id)) == (set(), "scoring")


@pytest.mark.parametrize("attempt", range(ATTEMPTS))
def test_two_publications_at_once_issue_everything_once(server, db, attempt):
    w = _allocated(db)
    btc = _token(server, w.organizer.email)
    url = f"{server.base}/api/v1/awards/{w.award.id}"
    responses = _parallel([lambda http: http.patch(url, headers=btc,
                                                   json={"status": "published"})] * 2)
    # The second finds the award published: nothing left to do (as when sent again later).
    assert _statuses(responses) == [200, 200]
    assert [r.json()["status"] for r in responses] == ["published", "published"]
    prizes, certificates = _levels(db, w.award.id)
    assert certificates == _awarded(prizes) == {
        w.e[1].id: "A", w.e[0].id: "B", w.e[2].id: "B", w.e[3].id: "C"}
    assert _published_once(db, w.award.id) == ("published", 1, 5)


def test_results_races_leave_certificates_only_where_published(db):
    """Across every test above: a certificate only for an awarded entry of a published
    award, at the level its prize has."""
    with Session(db) as session:
        rows = session.exec(select(Certificate, Prize, Award)
                            .join(Prize, Prize.entry_id == Certificate.entry_id)
                            .join(Award, Award.id == Certificate.award_id)).all()
        orphans = session.exec(select(func.count()).select_from(Certificate).where(
            col(Certificate.entry_id).not_in(select(Prize.entry_id)))).one()
    assert rows
    assert orphans == 0
    assert all(a.status == "published" and c.level == p.level for c, p, a in rows)
