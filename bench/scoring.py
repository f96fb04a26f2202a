"""Do judges saving scores at once wait for each other? And how long does assignment take?

Run with ``make bench`` (or ``.venv/bin/python bench/scoring.py``). Starts the app on a
fresh SQLite database (or, when GIAIBAO_DATABASE_URL names a PostgreSQL database, in a new
schema of it, dropped at the end) and seeds, in this process, an award in judging with
BENCH_ENTRIES accepted entries (default 2,000; inserted straight into the tables) in
BENCH_CATEGORIES categories (default 4), BENCH_JUDGES judges (default 40) spread over the
categories, and a blind round with the 40/30/30 rubric whose panel, assignment
(BENCH_PER_ENTRY judges per entry, default 3) and start go through the judging service.
Then, for BENCH_SECONDS each (default 60):
  1. baseline: BENCH_CLIENTS threads (default 32) request ``/healthz`` as fast as they can;
  2. BENCH_CLIENTS judges, each signed in with a bearer token, save scores of their own
     queue as fast as they can (``PUT /api/v1/rounds/{id}/entries/{eid}/score``): one save
     in three final (every criterion), the others drafts (some criteria).
Prints requests per second, p50 / p95 / p99 latency of both, the ratio, the saves made and
any error (then exits with status 1). Targets: 0 errors, p95 of the saves <= 50 ms.

Last, the assignment of BENCH_ASSIGN_ENTRIES entries (default 10,000) in
BENCH_ASSIGN_CATEGORIES categories (default 10) to BENCH_ASSIGN_JUDGES judges (default 100,
as many per category), 3 per entry: the pure planner (``rules.plan_assignment``) alone, then
``service.assign_round`` on the database, its commit included. Target: <= 2 s each.
"""

import os
import random
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import CLI, run_bench, start_server, stop  # noqa: E402

SECONDS = float(os.environ.get("BENCH_SECONDS", "60"))
ENTRIES = int(os.environ.get("BENCH_ENTRIES", "2000"))
JUDGES = int(os.environ.get("BENCH_JUDGES", "40"))
CATEGORIES = int(os.environ.get("BENCH_CATEGORIES", "4"))
PER_ENTRY = int(os.environ.get("BENCH_PER_ENTRY", "3"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "32"))
ASSIGN_ENTRIES = int(os.environ.get("BENCH_ASSIGN_ENTRIES", "10000"))
ASSIGN_JUDGES = int(os.environ.get("BENCH_ASSIGN_JUDGES", "100"))
ASSIGN_CATEGORIES = int(os.environ.get("BENCH_ASSIGN_CATEGORIES", "10"))
PASSWORD = "do-chay-thu-2026"
RUBRIC = [("Nội dung", 40), ("Hình thức thể hiện", 30), ("Hiệu quả xã hội", 30)]


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


# --- Seeding -------------------------------------------------------------------------------

def _users(session, password_hash: str, role: str, prefix: str, n: int, now) -> list:
    from app.accounts.models import User

    users = [User(email=f"{prefix}{i + 1}@bench.vn", password_hash=password_hash, role=role,
                  full_name=f"{'Giám khảo' if role == 'judge' else 'Phóng viên'} {i + 1}",
                  organization=f"Cơ quan thứ {i + 1}", email_verified_at=now)
             for i in range(n)]
    session.add_all(users)
    session.flush()
    return users


def _entries(session, award, categories: list, submitters: list, n: int, now) -> None:
    """n accepted entries, one author each, spread over the categories: inserted straight
    into the tables (the entries' own services are not what is measured)."""
    from sqlalchemy import select

    from app.entries.models import Entry, EntryAuthor
    from app.text import fold, vi_name_sort_string, vi_sort_string

    rows = []
    for i in range(n):
        category = categories[i % len(categories)]
        author = submitters[i % len(submitters)]
        code = f"{category.code}-{i // len(categories) + 1:05d}"
        title = f"Phóng sự số {i + 1}: Xây dựng Đảng ở cơ sở"
        rows.append({
            "award_id": award.id, "category_id": category.id, "submitter_id": author.id,
            "status": "accepted", "code": code, "screening_reason": None, "title": title,
            "summary": "Tóm tắt " * 20, "outlet": f"Báo số {i % len(submitters) + 1}",
            "published_on": date(2026, 3, 1), "url": None, "series_parts": None,
            "search_text": fold(f"{code} {title} {author.full_name}"),
            "author_sort": vi_name_sort_string(author.full_name),
            "title_sort": vi_sort_string(title), "created_at": now, "updated_at": now,
            "submitted_at": now})
    session.execute(Entry.__table__.insert(), rows)
    ids = session.execute(select(Entry.id, Entry.submitter_id)
                          .where(Entry.award_id == award.id)).all()
    by_id = {u.id: u for u in submitters}
    session.execute(EntryAuthor.__table__.insert(), [
        {"entry_id": entry_id, "position": 0, "user_id": submitter_id,
         "full_name": by_id[submitter_id].full_name, "pen_name": None,
         "email": by_id[submitter_id].email} for entry_id, submitter_id in ids])
    from app.entries import counts

    counts.recount(session, [award.id])  # the rows came around the ORM: count them


def seed(database_url: str, *, slug: str, entries: int, judges: int, categories: int,
         per_entry: int, assign: bool = True, start: bool = True) -> dict:
    """An award in judging with its accepted entries, judges seated per category on a blind
    round (through the judging service), assigned and started. Returns the ids."""
    from sqlmodel import Session

    import app.models  # noqa: F401
    from app.accounts.models import User
    from app.awards import service as awards
    from app.awards.models import AwardCreate, CategoryCreate
    from app.db import make_engine
    from app.judging import service as judging
    from app.judging.models import CriterionIn, PanelIn, RoundCreate
    from app.security import hash_password

    engine = make_engine(database_url)
    now = datetime.now(UTC)
    password_hash = hash_password(PASSWORD)
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
            max_file_mb=20, url_required=False, prize_quota={}), actor=organizer)
            for i in range(categories)]
        awards.change_status(session, award, "open", actor=organizer, now=now)
        submitters = _users(session, password_hash, "journalist", f"pv-{slug}-", 50, now)
        _entries(session, award, made, submitters, entries, now)
        for target in ("closed", "judging"):
            awards.change_status(session, award, target, actor=organizer, now=now)
        panel = _users(session, password_hash, "judge", f"gk-{slug}-", judges, now)
        round_ = judging.create_round(session, award, RoundCreate(
            name="Vòng sơ khảo", judges_per_entry=per_entry, blind=True, aggregation="mean",
            criteria=[CriterionIn(name=name, description="", max_points=points)
                      for name, points in RUBRIC]), actor=organizer, now=now)
        for i, judge in enumerate(panel):
            judging.set_panel(session, round_, PanelIn(
                judge_id=judge.id, category_ids=[made[i % categories].id]),
                actor=organizer, now=now)
        session.commit()
        result = {"round_id": round_.id, "organizer_id": organizer.id,
                  "judges": [j.email for j in panel]}
        if assign:
            judging.assign_round(session, round_, actor=organizer, now=now)
            if start:
                judging.move_round(session, round_, "start", actor=organizer, now=now)
            session.commit()
    engine.dispose()
    return result


# --- The load ------------------------------------------------------------------------------

def login(base: str, email: str) -> dict:
    """Signs in once, before any timing (argon2 is slow on purpose)."""
    response = httpx.post(f"{base}/api/v1/auth/token",
                          data={"username": email, "password": PASSWORD}, timeout=60)
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def queue_of(base: str, round_id: int, headers: dict) -> list[int]:
    entries: list[int] = []
    with httpx.Client(base_url=base, timeout=60) as client:
        while True:
            page = client.get(f"/api/v1/rounds/{round_id}/assignments", headers=headers,
                              params={"limit": 200, "offset": len(entries)})
            page.raise_for_status()
            entries += [a["entry_id"] for a in page.json()]
            if len(entries) >= int(page.headers["X-Total-Count"]):
                return entries


def criteria_of(base: str, round_id: int, headers: dict) -> list[tuple[str, float]]:
    round_ = httpx.get(f"{base}/api/v1/rounds/{round_id}", headers=headers, timeout=60).json()
    return [(str(c["id"]), c["max_points"]) for c in round_["criteria"]]


def scorer(base: str, round_id: int, headers: dict, queue: list[int], criteria: list,
           seed_: int, stop_: threading.Event, out: dict) -> None:
    """One judge going through their queue again and again: drafts (some criteria) and, one
    save in three, a final score (every criterion)."""
    rng = random.Random(seed_)
    with httpx.Client(base_url=base, timeout=60) as client:
        i = 0
        while not stop_.is_set():
            entry_id = queue[i % len(queue)]
            final = i % 3 == 2
            chosen = criteria if final else rng.sample(criteria, rng.randint(1, len(criteria)))
            body = {"points": {key: rng.randint(0, int(top) * 2) / 2 for key, top in chosen},
                    "comment": f"Nhận xét lần {i}", "final": final}
            i += 1
            start = time.perf_counter()
            response = client.put(f"/api/v1/rounds/{round_id}/entries/{entry_id}/score",
                                  headers=headers, json=body)
            out["latencies"].append(time.perf_counter() - start)
            if response.status_code != 200:
                out["errors"].append(f"{entry_id}: {response.status_code} "
                                     f"{response.text[:100]}")
            elif final:
                out["finals"] += 1


def pinger(base: str, stop_: threading.Event, out: dict) -> None:
    with httpx.Client(base_url=base, timeout=60) as client:
        while not stop_.is_set():
            start = time.perf_counter()
            response = client.get("/healthz")
            out["latencies"].append(time.perf_counter() - start)
            if response.status_code != 200:
                out["errors"].append(f"/healthz: {response.status_code}")


def phase(targets: list) -> dict:
    """Runs one thread per (function, args) for SECONDS; the figures of all of them."""
    stop_ = threading.Event()
    out = {"latencies": [], "errors": [], "finals": 0}
    threads = [threading.Thread(target=fn, args=(*args, stop_, out)) for fn, args in targets]
    for t in threads:
        t.start()
    time.sleep(SECONDS)
    stop_.set()
    for t in threads:
        t.join()
    lat = out["latencies"]
    return {"n": len(lat), "rps": len(lat) / SECONDS, "p50": statistics.median(lat),
            "p95": percentile(lat, 0.95), "p99": percentile(lat, 0.99),
            "finals": out["finals"], "errors": out["errors"]}


# --- Assignment at size --------------------------------------------------------------------

def time_planner() -> tuple[float, int]:
    """``rules.plan_assignment`` alone on a synthetic award of the assignment's size."""
    from app.judging import rules

    per_category = ASSIGN_JUDGES // ASSIGN_CATEGORIES
    panel = {c: [rules.JudgeSpec(id=1000 + c * per_category + k,
                                 verified_email=f"gk{c}-{k}@bench.vn",
                                 organization=f"Cơ quan thứ {k}")
                 for k in range(per_category)] for c in range(ASSIGN_CATEGORIES)}
    entries = [rules.EntrySpec(id=i + 1, category_id=i % ASSIGN_CATEGORIES,
                               author_ids=frozenset({100_000 + i % 50}),
                               author_emails=frozenset({f"pv{i % 50}@bench.vn"}),
                               outlet=f"Báo số {i % 50}")
               for i in range(ASSIGN_ENTRIES)]
    start = time.perf_counter()
    plan = rules.plan_assignment(entries, panel, judges_per_entry=3)
    elapsed = time.perf_counter() - start
    if plan.uncovered:
        raise RuntimeError(f"the planner left {len(plan.uncovered)} entries uncovered")
    return elapsed, sum(len(j) for j in plan.assignments.values())


def time_assign_round(database_url: str) -> tuple[float, int]:
    """``service.assign_round`` on the database, its commit included."""
    from sqlmodel import Session

    from app.accounts.models import User
    from app.db import make_engine
    from app.judging import service as judging
    from app.judging.models import Round

    ids = seed(database_url, slug="bench-assign", entries=ASSIGN_ENTRIES,
               judges=ASSIGN_JUDGES, categories=ASSIGN_CATEGORIES, per_entry=3, assign=False)
    engine = make_engine(database_url)
    with engine.begin() as conn:  # statistics, as a database that has lived a while has
        conn.exec_driver_sql("ANALYZE")
    with Session(engine) as session:
        round_ = session.get(Round, ids["round_id"])
        organizer = session.get(User, ids["organizer_id"])
        start = time.perf_counter()
        result = judging.assign_round(session, round_, actor=organizer, now=datetime.now(UTC))
        session.commit()
        elapsed = time.perf_counter() - start
    engine.dispose()
    return elapsed, result.assignments


def main() -> None:
    run_bench("giaibao-scoring-", "bench_scoring", run)


def run(work: Path, database_url: str) -> None:
    env = {**os.environ, "GIAIBAO_DATABASE_URL": database_url,
           "GIAIBAO_UPLOAD_DIR": str(work / "uploads"), "GIAIBAO_ENV": "dev"}
    env.pop("GIAIBAO_SMTP_HOST", None)
    subprocess.run([*CLI, "migrate"], env=env, check=True, cwd=ROOT, capture_output=True)
    start = time.perf_counter()
    ids = seed(database_url, slug="bench-scoring", entries=ENTRIES, judges=JUDGES,
               categories=CATEGORIES, per_entry=PER_ENTRY)
    seeded = time.perf_counter() - start
    server, base = start_server(env)
    try:
        judges = ids["judges"][:CLIENTS]
        if len(judges) < CLIENTS:
            raise SystemExit(f"BENCH_CLIENTS ({CLIENTS}) is more than BENCH_JUDGES ({JUDGES})")
        headers = [login(base, email) for email in judges]
        round_id = ids["round_id"]
        criteria = criteria_of(base, round_id, headers[0])
        queues = [queue_of(base, round_id, h) for h in headers]
        if not all(queues):
            raise RuntimeError("a judge has an empty queue")
        baseline = phase([(pinger, (base,)) for _ in range(CLIENTS)])
        saves = phase([(scorer, (base, round_id, h, q, criteria, n))
                       for n, (h, q) in enumerate(zip(headers, queues, strict=True))])
    finally:
        stop(server)
    planned, planned_n = time_planner()
    assigned, assigned_n = time_assign_round(database_url)
    kind = "PostgreSQL" if database_url.startswith("postgresql") else "SQLite"
    print(f"score saves by {CLIENTS} judges for {SECONDS:g} s each on {kind}: {ENTRIES} "
          f"entries, {JUDGES} judges, {PER_ENTRY} per entry (seeded in {seeded:.1f} s)")
    for name, r in (("/healthz (baseline)", baseline), ("score saves", saves)):
        print(f"  {name:<24}: {r['rps']:7.1f} req/s  p50 {r['p50'] * 1000:6.1f} ms  "
              f"p95 {r['p95'] * 1000:6.1f} ms  p99 {r['p99'] * 1000:6.1f} ms")
    print(f"  ratio req/s saves/healthz: {saves['rps'] / baseline['rps']:6.2f}")
    print(f"  p95 of the saves        : {saves['p95'] * 1000:6.1f} ms (target <= 50 ms)")
    print(f"  saves                   : {saves['n']} ({saves['finals']} final)")
    errors = baseline["errors"] + saves["errors"]
    print(f"  errors                  : {len(errors)} {errors[:3]}")
    print(f"assignment of {ASSIGN_ENTRIES} entries to {ASSIGN_JUDGES} judges in "
          f"{ASSIGN_CATEGORIES} categories, 3 per entry")
    print(f"  rules.plan_assignment   : {planned:6.2f} s for {planned_n} assignments "
          "(target <= 2 s)")
    print(f"  service.assign_round    : {assigned:6.2f} s for {assigned_n} assignments, "
          "commit included (target <= 2 s)")
    if errors:
        raise SystemExit("some requests failed: the figures above are not to be trusted")


if __name__ == "__main__":
    main()
