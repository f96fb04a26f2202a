"""How fast is the organizer's entry list at national scale, beside a bare app?

Run with ``.venv/bin/python bench/lists.py``. Seeds BENCH_ENTRIES entries (default 10000)
in one award straight into the tables (Vietnamese titles and authors, 1-3 authors and 1-3
files each, some files shared between entries, 6 categories, statuses mixed), then the
counts (app.entries.counts.recount) and ANALYZE on PostgreSQL, as a bulk load would. Starts
the app (``giaibao serve --no-migrate``) and the bare app (bench/bare_lists.py: plain FastAPI
+ SQLModel on the same database, the same rows, filters, sort, limit and JSON fields, no
authentication), and measures each point with wrk (16 connections, BENCH_SECONDS each,
default 10): the API list page 1, its last page by cursor and by offset, filtered by status
and category, searched; the organizer's HTML page 1 and last page (100 rows; the bare app
serves the same 100 rows as JSON); /healthz beside the bare /hello. Then the list's page 1
with ``giaibao serve --workers 2`` against ``--workers 1``.
Targets: ratio to the bare app >= 0.5; last page <= 1.3 x page 1; 2 workers >= 1.7 x 1.
SQLite by default; PostgreSQL when GIAIBAO_DATABASE_URL names one (a schema of its own).
"""

import os
import random
import re
import shutil
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import CLI, free_port, run_bench, stop, wait_up  # noqa: E402

ENTRIES = int(os.environ.get("BENCH_ENTRIES", "10000"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
CONNECTIONS = 16
PASSWORD = "do-chay-thu-2026"
CATEGORIES = [("BDT", "Báo điện tử"), ("BIN", "Báo in"), ("PT", "Phát thanh"),
              ("TH", "Truyền hình"), ("AB", "Ảnh báo chí"), ("CH", "Chính luận")]
STATUSES = ["submitted"] * 35 + ["accepted"] * 35 + ["draft"] * 10 + ["returned"] * 8 + \
    ["withdrawn"] * 7 + ["rejected"] * 5
SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng",
            "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý"]
MIDDLES = ["Văn", "Thị", "Hữu", "Đức", "Minh", "Thanh", "Ngọc", "Quốc", "Thu", "Hoài"]
GIVEN = ["An", "Bình", "Châu", "Dũng", "Giang", "Hà", "Hạnh", "Khánh", "Linh", "Lộc", "Mai",
         "Nam", "Nga", "Phúc", "Quân", "Sơn", "Tâm", "Thảo", "Trang", "Tuấn", "Uyên", "Yến"]
TOPICS = ["Xây dựng Đảng ở cơ sở", "Biển đảo quê hương", "Chuyển đổi số ở nông thôn",
          "Người giữ rừng", "Giảm nghèo bền vững", "Văn hóa Chăm", "Điện gió Ninh Thuận",
          "Những người lính biên phòng", "Nước sạch cho vùng khô hạn", "Phố cổ Hội An",
          "Học sinh vùng cao đến trường", "Đổi mới giáo dục", "Y tế cơ sở"]
KINDS = ["Phóng sự", "Loạt bài", "Ký sự", "Bình luận", "Điều tra", "Chuyên đề"]


def _name(rng: random.Random) -> str:
    return f"{rng.choice(SURNAMES)} {rng.choice(MIDDLES)} {rng.choice(GIVEN)}"


def seed(database_url: str, password_hash: str) -> dict:
    """The award, its categories, 300 journalists, ENTRIES entries with their authors and
    files, straight into the tables; then the counts and the planner's statistics."""
    from sqlalchemy import select, update
    from sqlmodel import Session

    import app.models  # noqa: F401
    from app.accounts.models import User
    from app.awards import service as awards
    from app.awards.models import AwardCreate, Category, CategoryCreate
    from app.db import analyze, make_engine
    from app.entries import counts
    from app.entries.models import Entry, EntryAuthor, EntryFile
    from app.text import fold, vi_name_sort_string, vi_sort_string

    rng = random.Random(ENTRIES)
    engine = make_engine(database_url)
    now = datetime.now(UTC)
    with Session(engine, expire_on_commit=False) as session:
        organizer = User(email="btc@bench.vn", password_hash=password_hash, role="organizer",
                         full_name="Ban tổ chức", email_verified_at=now)
        session.add(organizer)
        session.flush()
        award = awards.create_award(session, AwardCreate(
            title="Giải báo chí toàn quốc 2026", year=2026, slug="bench-lists",
            submission_opens_at=now - timedelta(days=30),
            submission_closes_at=now + timedelta(days=30),
            published_from=date(2025, 11, 1), published_to=date(2026, 10, 31),
            max_entries_per_author=10, max_authors_per_entry=5, max_series_parts=5),
            actor=organizer)
        made = [awards.add_category(session, award, CategoryCreate(
            code=code, name=name, accepted_kinds=["pdf"], max_file_mb=20, url_required=False,
            prize_quota={"A": 1, "B": 2, "C": 3, "KK": 5}), actor=organizer)
            for code, name in CATEGORIES]
        awards.change_status(session, award, "open", actor=organizer, now=now)
        session.execute(User.__table__.insert(), [
            {"email": f"pv{i}@bench.vn", "password_hash": password_hash, "role": "journalist",
             "full_name": _name(rng), "is_active": True, "created_at": now,
             "email_verified_at": now, "search_text": ""} for i in range(300)])
        journalists = session.execute(select(User.id, User.full_name, User.email)
                                      .where(User.role == "journalist")).all()
        numbers = {c.id: 0 for c in made}
        rows, people = [], []
        for i in range(ENTRIES):
            category = made[i % len(made)]
            status = rng.choice(STATUSES)
            submitter = rng.choice(journalists)
            authors = [submitter.full_name] + [_name(rng) for _ in range(rng.randint(0, 2))]
            title = f"{rng.choice(KINDS)}: {rng.choice(TOPICS)} (kỳ {i % 7 + 1})"
            code = None
            if status != "draft":
                numbers[category.id] += 1
                code = f"{category.code}-{numbers[category.id]:03d}"
            created = now - timedelta(minutes=ENTRIES - i)
            rows.append({
                "award_id": award.id, "category_id": category.id, "submitter_id": submitter.id,
                "status": status, "code": code, "screening_reason": None, "title": title,
                "summary": "Tác phẩm phản ánh " + title.lower(), "outlet": "Báo Nhân Dân",
                "published_on": date(2026, 3, 1), "url": None, "series_parts": None,
                "search_text": fold(f"{code or ''} {title} {' '.join(authors)}"),
                "author_sort": vi_name_sort_string(authors[0]),
                "title_sort": vi_sort_string(title), "created_at": created,
                "updated_at": created, "submitted_at": None if code is None else created})
            people.append((submitter, authors))
        session.execute(Entry.__table__.insert(), rows)
        ids = session.execute(select(Entry.id).where(Entry.award_id == award.id)
                              .order_by(Entry.id)).scalars().all()
        authors_rows, files_rows = [], []
        shared = [f"{n:064x}" for n in range(1, 40)]
        for n, (entry_id, (submitter, names)) in enumerate(zip(ids, people, strict=True)):
            for position, full_name in enumerate(names):
                authors_rows.append({
                    "entry_id": entry_id, "position": position,
                    "user_id": submitter.id if position == 0 else None,
                    "full_name": full_name, "pen_name": None,
                    "email": submitter.email if position == 0 else None})
            for k in range(rng.randint(1, 3)):
                sha = rng.choice(shared) if rng.random() < 0.03 else f"{n:032x}{k:032x}"
                files_rows.append({
                    "entry_id": entry_id, "stored_name": f"{n:028x}{k:04x}",
                    "filename": f"tac-pham-{n}-{k + 1}.pdf", "size": 1_000_000 + n,
                    "sha256": sha, "kind": "pdf", "content_type": "application/pdf",
                    "created_at": now})
        session.execute(EntryAuthor.__table__.insert(), authors_rows)
        session.execute(EntryFile.__table__.insert(), files_rows)
        for category in made:
            session.execute(update(Category).where(Category.id == category.id)
                            .values(last_code_number=numbers[category.id]))
        counts.recount(session, [award.id])
        session.commit()
        result = {"award_id": award.id, "category_id": made[1].id, "files": len(files_rows)}
    analyze(engine)
    engine.dispose()
    return result


def start(env: dict, module: list[str], *, health: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    server = subprocess.Popen([*module, "--port", str(port)], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_up(f"{base}{health}")
    except RuntimeError:
        stop(server)
        raise
    return server, base


def ours(env: dict, workers: int = 1) -> tuple[subprocess.Popen, str]:
    return start(env, [*CLI, "serve", "--no-migrate", "--workers", str(workers)],
                 health="/healthz")


def bare(env: dict) -> tuple[subprocess.Popen, str]:
    return start(env, [sys.executable, "-m", "uvicorn", "bench.bare_lists:app",
                       "--log-level", "warning", "--no-access-log"], health="/hello")


UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(url: str, headers: dict | None = None) -> dict:
    """wrk's figures for ``url``: req/s, p50 and p99 in ms, non-2xx answers."""
    command = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "--latency", "--timeout",
               "30s"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout

    def latency(label: str) -> float:
        found = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        return float(found.group(1)) * UNITS[found.group(2)]

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p50": latency("50"), "p99": latency("99"),
            "errors": int(errors.group(1)) if errors else 0}


def api_token(client: httpx.Client) -> str:
    response = client.post("/api/v1/auth/token", data={"username": "btc@bench.vn",
                                                       "password": PASSWORD})
    response.raise_for_status()
    return response.json()["access_token"]


def page_cookie(client: httpx.Client) -> str:
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = client.post("/login", data={"email": "btc@bench.vn", "password": PASSWORD,
                                           "csrf_token": token})
    assert response.status_code == 303, response.status_code
    return f"gb_session={client.cookies['gb_session']}"


def last_cursor(client: httpx.Client, url: str, headers: dict, limit: int) -> tuple[str, int]:
    """The last page's cursor of a list, found by walking it; and that page's offset."""
    cursor, offset, last = None, 0, (None, 0)
    while True:
        params = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        response = client.get(url, params=params, headers=headers)
        response.raise_for_status()
        if cursor:
            last = (cursor, offset)
        cursor = response.headers.get("X-Next-Cursor")
        if cursor is None:
            return last  # (None, 0) when the list has one page
        offset += limit


def _ratio(a: float, b: float) -> float:
    return a / b if b else 0.0


def main() -> None:
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed (apt-get install wrk)")
    run_bench("giaibao-lists-", "bench_lists", run)


def run(work: Path, database_url: str) -> None:
    env = {**os.environ, "GIAIBAO_DATABASE_URL": database_url,
           "GIAIBAO_UPLOAD_DIR": str(work / "uploads"), "GIAIBAO_ENV": "dev",
           "GIAIBAO_MAIL_WORKER": "0", "GIAIBAO_UPLOAD_SWEEP_MINUTES": "0",
           "BENCH_BARE_DATABASE_URL": database_url}
    env.pop("GIAIBAO_SMTP_HOST", None)
    os.environ.update({k: env[k] for k in ("GIAIBAO_DATABASE_URL", "GIAIBAO_UPLOAD_DIR",
                                           "GIAIBAO_ENV")})
    subprocess.run([*CLI, "migrate"], env=env, check=True, cwd=ROOT, capture_output=True)
    from app.security import hash_password

    started = time.perf_counter()
    ids = seed(database_url, hash_password(PASSWORD))
    seeded = time.perf_counter() - started
    award, category = ids["award_id"], ids["category_id"]
    api = f"/api/v1/awards/{award}/entries"
    page = f"/admin/awards/{award}/entries"
    bare_list = f"/awards/{award}/entries"
    server, base = ours(env)
    baseline, bare_base = bare(env)
    points = []
    try:
        with httpx.Client(base_url=base, timeout=120) as client:
            token = {"Authorization": f"Bearer {api_token(client)}"}
            cookie = {"Cookie": page_cookie(client)}
            total = int(client.get(api, params={"limit": 1}, headers=token)
                        .headers["X-Total-Count"])
            cursor, last_offset = last_cursor(client, api, token, 50)
            page_cursor, page_offset = last_cursor(client, api, token, 100)
            search = quote("biển đảo")
            points = [
                ("/healthz vs /hello", "/healthz", {}, "/hello", None),
                ("API page 1", f"{api}?limit=50", token, f"{bare_list}?limit=50", None),
                ("API last page, cursor", f"{api}?limit=50"
                 + (f"&cursor={quote(cursor)}" if cursor else ""), token,
                 f"{bare_list}?limit=50&offset={last_offset}", "API page 1"),
                ("API last page, offset", f"{api}?limit=50&offset={last_offset}", token,
                 f"{bare_list}?limit=50&offset={last_offset}", "API page 1"),
                ("API status+category", f"{api}?limit=50&status=accepted&category_id="
                 f"{category}", token,
                 f"{bare_list}?limit=50&status=accepted&category_id={category}", None),
                ("API search q", f"{api}?limit=50&q={search}", token,
                 f"{bare_list}?limit=50&q={search}", None),
                ("HTML page 1", page, cookie, f"{bare_list}?limit=100", None),
                ("HTML last page, cursor", f"{page}?offset={page_offset}"
                 + (f"&cursor={quote(page_cursor)}" if page_cursor else ""), cookie,
                 f"{bare_list}?limit=100&offset={page_offset}", "HTML page 1"),
            ]
            for _label, path, headers, _bare, _ in points:  # each answers, and answers 200
                assert client.get(path, headers=headers).status_code == 200, path
        results = {}
        for label, path, headers, bare_path, _first in points:
            results[label] = (wrk(base + path, headers), wrk(bare_base + bare_path))
    finally:
        stop(server)
        stop(baseline)
    one_two = {}
    for workers in (1, 2):
        server, base = ours(env, workers)
        try:
            with httpx.Client(base_url=base, timeout=120) as client:
                token = {"Authorization": f"Bearer {api_token(client)}"}
            one_two[workers] = wrk(f"{base}{api}?limit=50", token)
        finally:
            stop(server)
    kind = "PostgreSQL" if database_url.startswith("postgresql") else "SQLite"
    print(f"entry lists on {kind}: {ENTRIES} entries in one award ({total} listed, "
          f"{ids['files']} files, seeded in {seeded:.1f} s); wrk {CONNECTIONS} connections, "
          f"{SECONDS} s per point")
    print(f"  {'point':<24}  {'ours req/s':>10} {'p50 ms':>8} {'p99 ms':>8}  "
          f"{'bare req/s':>10} {'p50 ms':>8}  {'ratio':>6}  {'last/first p50':>14}  errors")
    for label, _path, _headers, _bare, first in points:
        mine, theirs = results[label]
        depth = f"{_ratio(mine['p50'], results[first][0]['p50']):14.2f}" if first \
            else f"{'':>14}"
        print(f"  {label:<24}: {mine['rps']:10.1f} {mine['p50']:8.1f} {mine['p99']:8.1f}  "
              f"{theirs['rps']:10.1f} {theirs['p50']:8.1f}  "
              f"{_ratio(mine['rps'], theirs['rps']):6.2f}  {depth}  "
              f"{mine['errors'] + theirs['errors']}")
    print(f"  {'targets':<24}: ratio >= 0.5, last page <= 1.3 x page 1")
    print(f"  {'API page 1, 1 worker':<24}: {one_two[1]['rps']:10.1f} req/s  "
          f"p50 {one_two[1]['p50']:.1f} ms")
    print(f"  {'API page 1, 2 workers':<24}: {one_two[2]['rps']:10.1f} req/s  "
          f"p50 {one_two[2]['p50']:.1f} ms")
    print(f"  {'ratio 2 workers / 1':<24}: {_ratio(one_two[2]['rps'], one_two[1]['rps']):10.2f}  "
          "(target >= 1.7)")


if __name__ == "__main__":
    main()
