"""How long does the ranking of a large closed round take, and how does it grow?

Run with ``.venv/bin/python bench/ranking.py``. Starts the app on a fresh SQLite database
(or, when GIAIBAO_DATABASE_URL names a PostgreSQL database, in a new schema of it, dropped at
the end) and seeds, in this process, for each size of BENCH_SIZES (default "10000,100000"):
an award in judging with that many accepted entries in BENCH_CATEGORIES categories (default
10), a round with a 5-criterion rubric, 5 judges per entry (a panel of 5 per category), and a
final score of every assignment, all inserted straight into the tables; the round is then
closed. Each size's ranking is timed through the API
(``GET /api/v1/rounds/{id}/ranking?limit=50``: the first page, for which the whole ranking is
computed), BENCH_REPEAT times (default 3), median; beside it the baseline, ``/healthz`` and
the ranking of an empty round, and the number of SQL statements one ranking call runs (the
app in-process). Prints the times and the ratio of the largest to the smallest.
Targets: <= 1 s for 10,000 entries; 100,000 <= 12 x 10,000.
"""

import os
import random
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import CLI, run_bench, start_server, stop  # noqa: E402

SIZES = [int(n) for n in os.environ.get("BENCH_SIZES", "10000,100000").split(",")]
CATEGORIES = int(os.environ.get("BENCH_CATEGORIES", "10"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "3"))
PER_ENTRY = 5
PASSWORD = "do-chay-thu-2026"
RUBRIC = [("Nội dung", 30), ("Hình thức thể hiện", 20), ("Hiệu quả xã hội", 20),
          ("Tính mới", 15), ("Kỹ năng nghề nghiệp", 15)]
BATCH = 20_000


def _batches(rows, size=BATCH):
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


def seed(database_url: str, *, slug: str, entries: int, password_hash: str) -> dict:
    """An award in judging with ``entries`` accepted entries, a round of 5 judges per entry
    and 5 criteria whose every assignment has a final score, closed. Returns the ids."""
    from sqlalchemy import select, update
    from sqlmodel import Session

    import app.models  # noqa: F401
    from app.accounts.models import User
    from app.awards import service as awards
    from app.awards.models import AwardCreate, CategoryCreate
    from app.db import make_engine
    from app.judging import queries as judging_queries
    from app.judging import service as judging
    from app.judging.models import Assignment, CriterionIn, PanelIn, Round, RoundCreate, Score
    from bench.scoring import _entries, _users

    engine = make_engine(database_url)
    now = datetime.now(UTC)
    rng = random.Random(entries)
    with Session(engine, expire_on_commit=False) as session:
        organizer = User(email=f"btc-{slug}@bench.vn", password_hash=password_hash,
                         role="organizer", full_name="Ban tổ chức", email_verified_at=now)
        session.add(organizer)
        session.flush()
        award = awards.create_award(session, AwardCreate(
            title=f"Giải báo chí thử tải {slug}", year=2026, slug=slug,
            submission_opens_at=now - timedelta(days=30),
            submission_closes_at=now + timedelta(days=30),
            published_from=date(2025, 11, 1), published_to=date(2026, 10, 31),
            max_entries_per_author=3, max_authors_per_entry=5, max_series_parts=5),
            actor=organizer)
        made = [awards.add_category(session, award, CategoryCreate(
            code=f"C{i + 1}", name=f"Thể loại {i + 1}", accepted_kinds=["pdf"],
            max_file_mb=20, url_required=False,
            prize_quota={"A": 1, "B": 2, "C": 3, "KK": 5}), actor=organizer)
            for i in range(CATEGORIES)]
        awards.change_status(session, award, "open", actor=organizer, now=now)
        if entries:
            submitters = _users(session, password_hash, "journalist", f"pv-{slug}-", 50, now)
            _entries(session, award, made, submitters, entries, now)
        for target in ("closed", "judging"):
            awards.change_status(session, award, target, actor=organizer, now=now)
        round_ = judging.create_round(session, award, RoundCreate(
            name="Vòng sơ khảo", judges_per_entry=PER_ENTRY, blind=True, aggregation="mean",
            criteria=[CriterionIn(name=name, description="", max_points=points)
                      for name, points in RUBRIC]), actor=organizer, now=now)
        panel = _users(session, password_hash, "judge", f"gk-{slug}-",
                       PER_ENTRY * len(made), now)
        judges_of: dict[int, list[int]] = {}
        for i, category in enumerate(made):
            seated = panel[i * PER_ENTRY:(i + 1) * PER_ENTRY]
            judges_of[category.id] = [j.id for j in seated]
            for judge in seated:
                judging.set_panel(session, round_, PanelIn(judge_id=judge.id,
                                                           category_ids=[category.id]),
                                  actor=organizer, now=now)
        keys = [str(c.id) for c in judging_queries.criteria_of(session, round_.id)]
        tops = [points for _name, points in RUBRIC]
        session.commit()

        from app.entries.models import Entry
        listed = session.execute(select(Entry.id, Entry.category_id)
                                 .where(Entry.award_id == award.id)).all()
        assignments = [{"round_id": round_.id, "entry_id": entry_id, "judge_id": judge_id,
                        "created_at": now}
                       for entry_id, category_id in listed for judge_id in judges_of[category_id]]
        for batch in _batches(assignments):
            session.execute(Assignment.__table__.insert(), batch)
        ids = session.execute(select(Assignment.id, Assignment.entry_id, Assignment.judge_id)
                              .where(Assignment.round_id == round_.id)).all()
        scores = []
        for assignment_id, entry_id, judge_id in ids:
            values = [rng.randint(top, top * 2) / 2 for top in tops]  # half the top or more
            scores.append({"assignment_id": assignment_id, "round_id": round_.id,
                           "entry_id": entry_id, "judge_id": judge_id,
                           "points": dict(zip(keys, values, strict=True)),
                           "total": round(sum(values), 2), "comment": "", "final": True,
                           "created_at": now, "updated_at": now})
        for batch in _batches(scores):
            session.execute(Score.__table__.insert(), batch)
        session.execute(update(Round).where(Round.id == round_.id).values(
            status="closed", started_at=now, closed_at=now, updated_at=now))
        session.commit()
        result = {"round_id": round_.id, "organizer": organizer.email, "scores": len(scores)}
    engine.dispose()
    return result


def median_time(client: httpx.Client, url: str, headers: dict, expect_total: int | None):
    times = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        response = client.get(url, headers=headers)
        times.append(time.perf_counter() - start)
        response.raise_for_status()
        if expect_total is not None and int(response.headers["X-Total-Count"]) != expect_total:
            raise RuntimeError(f"{url}: {response.headers['X-Total-Count']} rows, "
                               f"{expect_total} expected")
    return statistics.median(times)


def login(client: httpx.Client, email: str) -> dict:
    response = client.post("/api/v1/auth/token", data={"username": email,
                                                       "password": PASSWORD})
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def count_statements(rounds: dict) -> dict:
    """SQL statements of one ranking call per size, the app in-process on the same
    database (GIAIBAO_DATABASE_URL is set before the app is imported)."""
    from fastapi.testclient import TestClient
    from sqlalchemy import event

    from app.db import get_engine
    from app.main import app

    statements: list[str] = []

    def listen(conn, cursor, statement, *args):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK",
                                                      "BEGIN", "COMMIT")):
            statements.append(statement)

    counts = {}
    with TestClient(app) as client:
        for size, ids in rounds.items():
            headers = login(client, ids["organizer"])
            statements.clear()
            event.listen(get_engine(), "before_cursor_execute", listen)
            try:
                client.get(f"/api/v1/rounds/{ids['round_id']}/ranking",
                           params={"limit": 50}, headers=headers).raise_for_status()
            finally:
                event.remove(get_engine(), "before_cursor_execute", listen)
            counts[size] = len(statements)
    return counts


def main() -> None:
    run_bench("giaibao-ranking-", "bench_ranking", run)


def run(work: Path, database_url: str) -> None:
    env = {**os.environ, "GIAIBAO_DATABASE_URL": database_url,
           "GIAIBAO_UPLOAD_DIR": str(work / "uploads"), "GIAIBAO_ENV": "dev"}
    env.pop("GIAIBAO_SMTP_HOST", None)
    os.environ.update({k: env[k] for k in ("GIAIBAO_DATABASE_URL", "GIAIBAO_UPLOAD_DIR",
                                           "GIAIBAO_ENV")})
    os.environ.pop("GIAIBAO_SMTP_HOST", None)
    subprocess.run([*CLI, "migrate"], env=env, check=True, cwd=ROOT, capture_output=True)
    from app.security import hash_password

    password_hash = hash_password(PASSWORD)
    rounds, seeded = {}, {}
    for n, size in enumerate([0, *SIZES]):
        start = time.perf_counter()
        rounds[size] = seed(database_url, slug=f"bench-ranking-{n}", entries=size,
                            password_hash=password_hash)
        seeded[size] = time.perf_counter() - start
    server, base = start_server(env)
    timed, first = {}, {}
    try:
        with httpx.Client(base_url=base, timeout=600) as client:
            healthz = median_time(client, "/healthz", {}, None)
            for size, ids in rounds.items():
                headers = login(client, ids["organizer"])
                url = f"/api/v1/rounds/{ids['round_id']}/ranking?limit=50"
                start = time.perf_counter()  # the first call computes the ranking
                client.get(url, headers=headers).raise_for_status()
                first[size] = time.perf_counter() - start
                timed[size] = median_time(client, url, headers, size)
    finally:
        stop(server)
    counts = count_statements(rounds)
    kind = "PostgreSQL" if database_url.startswith("postgresql") else "SQLite"
    print(f"ranking of a closed round on {kind}: {PER_ENTRY} judges x {len(RUBRIC)} criteria "
          f"per entry, {CATEGORIES} categories, median of {REPEAT} calls "
          "(GET /api/v1/rounds/{id}/ranking?limit=50)")
    print(f"  {'/healthz (baseline)':<26}: {healthz * 1000:9.1f} ms")
    print(f"  {'empty round (baseline)':<26}: {timed[0] * 1000:9.1f} ms  "
          f"{counts[0]} SQL statements")
    for size in SIZES:
        label = f"{size} entries, first call"
        print(f"  {label:<26}: {first[size] * 1000:9.1f} ms  {counts[size]} SQL statements  "
              f"({rounds[size]['scores']} final scores seeded in {seeded[size]:.1f} s)")
        label = f"{size} entries, again"
        print(f"  {label:<26}: {timed[size] * 1000:9.1f} ms  (a closed round's ranking is "
              "kept by the process)")
    small, large = min(SIZES), max(SIZES)
    print(f"  {f'ratio {large} / {small}':<26}: {first[large] / first[small]:9.2f}  "
          f"(first calls; entries x{large / small:g}; target <= 12 for x10)")
    print(f"  {f'{small} entries vs target':<26}: {first[small]:9.2f} s  (first call; "
          "target <= 1 s for 10000)")
    print(f"  {'ratio to /healthz':<26}: {first[small] / healthz:9.1f} ({small}), "
          f"{first[large] / healthz:.1f} ({large})")


if __name__ == "__main__":
    main()
