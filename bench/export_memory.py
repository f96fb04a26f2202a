"""How much memory does the CSV export of a large award take, alone and four at a time?

Run with ``make bench`` (or ``.venv/bin/python bench/export_memory.py``). Starts the app on a
fresh SQLite database (or, when GIAIBAO_DATABASE_URL names a PostgreSQL database, in a new
schema of it, dropped at the end), inserts BENCH_ENTRIES submitted entries (default 10,000)
with two authors and one file each straight into the tables, then downloads
``GET /api/v1/awards/{id}/entries.csv``: once alone, then four times concurrently. Prints
the server's resident memory before, after and at its peak (VmHWM, reset before each phase),
the seconds per export and the ratio of the peak growth with four exports to that with one.
Nothing is asserted: these are figures to read.
"""

import hashlib
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import CLI, reset_peak, rss_kb, run_bench, start_server, stop  # noqa: E402

ENTRIES = int(os.environ.get("BENCH_ENTRIES", "10000"))
CONCURRENT = 4
PASSWORD = "do-chay-thu-2026"


def load_entries(database_url: str, award_id: int, category_id: int, n: int) -> None:
    """n submitted entries, two authors and one file each; every 50th file is identical to
    the previous entry's (duplicate flags). Inserted directly: fast, no services."""
    from sqlalchemy import select

    from app.accounts.models import User
    from app.db import make_engine
    from app.entries.models import Entry, EntryAuthor, EntryFile
    from app.text import fold, vi_name_sort_string, vi_sort_string

    engine = make_engine(database_url)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        submitter = conn.execute(select(User.id).where(User.email == "pv@bench.vn")).scalar_one()
        entries = []
        for i in range(n):
            title = f"Phóng sự số {i}: Xây dựng Đảng ở cơ sở, vùng biển Ninh Thuận"
            name = f"Nguyễn Thị Hồng {i % 997}"
            entries.append({
                "award_id": award_id, "category_id": category_id, "submitter_id": submitter,
                "status": "submitted", "code": f"TH-{i + 1:05d}", "screening_reason": None,
                "title": title, "summary": "Tóm tắt " * 20, "outlet": "Đài Phát thanh - "
                "Truyền hình Ninh Thuận", "published_on": date(2026, 3, 1), "url": None,
                "series_parts": None, "search_text": fold(f"TH-{i + 1:05d} {title} {name}"),
                "author_sort": vi_name_sort_string(name), "title_sort": vi_sort_string(title),
                "created_at": now, "updated_at": now, "submitted_at": now - timedelta(
                    seconds=i)})
        conn.execute(Entry.__table__.insert(), entries)
        ids = conn.execute(select(Entry.id).where(Entry.award_id == award_id)
                           .order_by(Entry.id)).scalars().all()
        authors, files = [], []
        sha = ""
        for i, entry_id in enumerate(ids):
            authors.append({"entry_id": entry_id, "position": 0, "user_id": submitter,
                            "full_name": f"Nguyễn Thị Hồng {i % 997}", "pen_name": "Hồng Nhung",
                            "email": "pv@bench.vn"})
            authors.append({"entry_id": entry_id, "position": 1, "user_id": None,
                            "full_name": f"Trần Văn Bình {i % 991}", "pen_name": None,
                            "email": None})
            if i % 50 != 49:
                sha = hashlib.sha256(str(i).encode()).hexdigest()
            files.append({"entry_id": entry_id, "stored_name": f"bench{i:08d}",
                          "filename": f"phong-su-{i}.mp4", "size": 50 * 2**20, "sha256": sha,
                          "kind": "video", "content_type": "video/mp4", "created_at": now})
        conn.execute(EntryAuthor.__table__.insert(), authors)
        conn.execute(EntryFile.__table__.insert(), files)
    # Planner statistics, as a database that has lived a while has them (after a bulk load
    # PostgreSQL's autovacuum would take its time to gather them).
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    engine.dispose()


def export(base: str, award_id: int, headers: dict, results: list) -> None:
    start = time.perf_counter()
    lines = size = 0
    with httpx.stream("GET", f"{base}/api/v1/awards/{award_id}/entries.csv", headers=headers,
                      timeout=600) as response:
        if response.status_code != 200:
            raise RuntimeError(f"export: {response.status_code} {response.read()[:200]}")
        for chunk in response.iter_bytes():
            lines += chunk.count(b"\n")
            size += len(chunk)
    results.append((time.perf_counter() - start, lines, size))


def phase(server, base: str, award_id: int, headers: dict, n: int) -> dict:
    pid = server.pid
    before = rss_kb(pid, "VmRSS")
    reset_peak(pid)
    results: list = []
    threads = [threading.Thread(target=export, args=(base, award_id, headers, results))
               for _ in range(n)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    if len(results) != n:
        raise RuntimeError(f"{n - len(results)} export(s) failed")
    for _, lines, _ in results:
        if lines != ENTRIES + 1:
            raise RuntimeError(f"an export had {lines} lines, not {ENTRIES + 1}")
    return {"before": before / 1024, "peak": rss_kb(pid, "VmHWM") / 1024,
            "after": rss_kb(pid, "VmRSS") / 1024, "wall": wall,
            "per_export": sum(r[0] for r in results) / n, "mb": results[0][2] / 2**20}


def main() -> None:
    run_bench("giaibao-export-", "bench_export", run)


def run(work: Path, database_url: str) -> None:
    env = {**os.environ, "GIAIBAO_DATABASE_URL": database_url,
           "GIAIBAO_UPLOAD_DIR": str(work / "uploads"), "GIAIBAO_ENV": "dev"}
    subprocess.run([*CLI, "migrate"], env=env, check=True, cwd=ROOT, capture_output=True)
    for email, role in (("btc@bench.vn", "organizer"), ("pv@bench.vn", "journalist")):
        subprocess.run([*CLI, "create-user", "--email", email, "--password", PASSWORD,
                        "--name", "Bench", "--role", role], env=env, check=True, cwd=ROOT,
                       capture_output=True)
    server, base = start_server(env)
    try:
        api = httpx.Client(base_url=f"{base}/api/v1", timeout=600)
        token = api.post("/auth/token", data={"username": "btc@bench.vn", "password": PASSWORD}
                         ).json()["access_token"]
        org = {"Authorization": f"Bearer {token}"}
        now = datetime.now(UTC)
        award = api.post("/awards", headers=org, json={
            "title": "Bench export", "year": 2026, "slug": "bench-export",
            "submission_opens_at": (now - timedelta(days=1)).isoformat(),
            "submission_closes_at": (now + timedelta(days=1)).isoformat(),
            "published_from": "2025-01-01", "published_to": "2026-12-31"}).json()
        category = api.post(f"/awards/{award['id']}/categories", headers=org, json={
            "code": "TH", "name": "Truyền hình", "accepted_kinds": ["video"],
            "max_file_mb": 100, "url_required": False, "prize_quota": {}}).json()
        api.patch(f"/awards/{award['id']}", headers=org, json={"status": "open"})
        start = time.perf_counter()
        load_entries(database_url, award["id"], category["id"], ENTRIES)
        loaded = time.perf_counter() - start
        # Warm the code paths up with an export that matches nothing.
        api.get(f"/awards/{award['id']}/entries.csv?q=khong-co-gi", headers=org)
        one = phase(server, base, award["id"], org, 1)
        many = phase(server, base, award["id"], org, CONCURRENT)
        kind = "PostgreSQL" if database_url.startswith("postgresql") else "SQLite"
        print(f"CSV export of {ENTRIES} entries ({one['mb']:.1f} MB each) on {kind}; "
              f"loaded in {loaded:.1f} s")
        for name, r in (("1 export", one), (f"{CONCURRENT} concurrent exports", many)):
            print(f"  {name:<22}: RSS before {r['before']:7.1f} MB  peak {r['peak']:7.1f} MB  "
                  f"after {r['after']:7.1f} MB  growth {r['peak'] - r['before']:7.1f} MB  "
                  f"{r['per_export']:6.2f} s per export ({r['wall']:.2f} s wall)")
        growth_one = max(one["peak"] - one["before"], 0.1)
        print(f"  peak growth {CONCURRENT} / 1        : "
              f"{(many['peak'] - many['before']) / growth_one:6.2f}")
    finally:
        stop(server)


if __name__ == "__main__":
    main()
