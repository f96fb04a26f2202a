"""Upload benchmark: a large video through the API versus a bare streaming endpoint.

Run with ``make bench`` (or ``.venv/bin/python bench/upload.py``). Starts two servers on
127.0.0.1 — the app on a fresh database, and bench/bare_app.py — and sends the same bytes
to both, alternating, several times. Prints each time, the ratio app/bare and each server's
peak resident memory growth. Targets: ratio <= 1.25, app RSS growth <= 64 MB.
Environment: BENCH_MB (default 500), BENCH_ROUNDS (default 3).
"""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from app.samples import mp4_header  # noqa: E402
from bench.common import free_port, reset_peak, rss_kb, stop, wait_up  # noqa: E402

SIZE_MB = int(os.environ.get("BENCH_MB", "500"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
CHUNK = 1024 * 1024
BOUNDARY = "benchboundary7d3f"


def body(path: Path):
    head = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"phong-su.mp4\"\r\nContent-Type: video/mp4\r\n\r\n").encode()
    yield head
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            yield chunk
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


def timed_post(client: httpx.Client, url: str, path: Path, headers: dict) -> tuple[float, dict]:
    start = time.perf_counter()
    response = client.post(url, content=body(path), headers={
        **headers, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"})
    elapsed = time.perf_counter() - start
    if response.status_code != 201:
        raise RuntimeError(f"{url}: {response.status_code} {response.text[:200]}")
    return elapsed, response.json()


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="giaibao-bench-"))
    video = work / "video.mp4"
    with video.open("wb") as fh:
        fh.write(mp4_header(CHUNK))
        block = os.urandom(CHUNK)
        for _ in range(SIZE_MB - 1):
            fh.write(block)
    env = {**os.environ, "GIAIBAO_DATABASE_URL": f"sqlite:///{work}/bench.db",
           "GIAIBAO_UPLOAD_DIR": str(work / "uploads"), "GIAIBAO_ENV": "dev",
           "BENCH_BARE_DIR": str(work)}
    py = sys.executable
    cli = [py, "-m", "app.cli"]
    subprocess.run([*cli, "migrate"], env=env, check=True, cwd=ROOT, capture_output=True)
    for email, role in (("btc@bench.vn", "organizer"), ("pv@bench.vn", "journalist")):
        subprocess.run([*cli, "create-user", "--email", email, "--password", "do-chay-thu-2026",
                        "--name", "Bench", "--role", role], env=env, check=True, cwd=ROOT,
                       capture_output=True)
    app_port, bare_port = free_port(), free_port()
    servers = {
        "app": subprocess.Popen([*cli, "serve", "--port", str(app_port), "--no-migrate"],
                                env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL),
        "bare": subprocess.Popen([py, "-m", "uvicorn", "bench.bare_app:app", "--port",
                                  str(bare_port), "--log-level", "warning"], env=env, cwd=ROOT,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
    }
    try:
        app_base, bare_base = f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{bare_port}"
        wait_up(f"{app_base}/healthz")
        wait_up(f"{bare_base}/")
        api = httpx.Client(base_url=f"{app_base}/api/v1", timeout=600)

        def token(email):
            return api.post("/auth/token", data={"username": email, "password": "do-chay-thu-2026"}
                            ).json()["access_token"]

        org = {"Authorization": f"Bearer {token('btc@bench.vn')}"}
        pv = {"Authorization": f"Bearer {token('pv@bench.vn')}"}
        now = time.time()
        award = api.post("/awards", headers=org, json={
            "title": "Bench", "year": 2026, "slug": "bench",
            "submission_opens_at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00",
                                                 time.gmtime(now - 86400)),
            "submission_closes_at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00",
                                                  time.gmtime(now + 86400)),
            "published_from": "2025-01-01", "published_to": "2026-12-31",
            "max_entries_per_author": 5, "max_authors_per_entry": 5, "max_series_parts": 5,
        }).json()
        category = api.post(f"/awards/{award['id']}/categories", headers=org, json={
            "code": "TH", "name": "Truyền hình", "accepted_kinds": ["video"],
            "max_file_mb": SIZE_MB + 10, "url_required": False, "prize_quota": {}}).json()
        api.patch(f"/awards/{award['id']}", headers=org, json={"status": "open"})
        entry = api.post(f"/awards/{award['id']}/entries", headers=pv, json={
            "category_id": category["id"], "title": "Phóng sự", "outlet": "Đài PT-TH",
            "published_on": "2026-03-01"}).json()

        client = httpx.Client(timeout=600)
        times = {"app": [], "bare": []}
        growth = {"app": [], "bare": []}
        targets = [("bare", f"{bare_base}/upload", {}),
                   ("app", f"{app_base}/api/v1/entries/{entry['id']}/files", pv)]
        for round_no in range(ROUNDS):
            # Alternate which goes first, so that neither always meets a busier disk.
            for name, url, headers in targets if round_no % 2 == 0 else targets[::-1]:
                pid = servers[name].pid
                reset_peak(pid)
                before = rss_kb(pid, "VmRSS")
                elapsed, answer = timed_post(client, url, video, headers)
                times[name].append(elapsed)
                growth[name].append((rss_kb(pid, "VmHWM") - before) / 1024)
                if name == "app":
                    if answer["size"] != video.stat().st_size:
                        raise RuntimeError(f"the app stored {answer['size']} bytes")
                    # A file is attached once per entry: remove it for the next round.
                    deleted = client.delete(f"{url}/{answer['id']}", headers=headers)
                    if deleted.status_code != 204:
                        raise RuntimeError(f"delete: {deleted.status_code} {deleted.text[:200]}")
        app_t, bare_t = statistics.median(times["app"]), statistics.median(times["bare"])
        print(f"upload of {SIZE_MB} MB, {ROUNDS} rounds, median times")
        print(f"  bare streaming endpoint : {bare_t:6.2f} s   ({SIZE_MB / bare_t:6.0f} MB/s)")
        print(f"  app API upload          : {app_t:6.2f} s   ({SIZE_MB / app_t:6.0f} MB/s)")
        print(f"  ratio app / bare        : {app_t / bare_t:6.2f}   (target <= 1.25)")
        print(f"  peak RSS growth, app    : {max(growth['app']):6.1f} MB (target <= 64 MB)")
        print(f"  peak RSS growth, bare   : {max(growth['bare']):6.1f} MB")
        print(f"  app RSS now             : {rss_kb(servers['app'].pid, 'VmRSS') / 1024:6.1f} MB")
    finally:
        for proc in servers.values():
            stop(proc)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
