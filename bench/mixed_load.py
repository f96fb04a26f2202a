"""Do large uploads slow everyone else down? Page and API reads, alone and beside uploads.

Starts the app on a fresh SQLite database (or, when GIAIBAO_DATABASE_URL names a PostgreSQL
database, in a new schema of it, dropped at the end), loads the demo, then measures, for
BENCH_SECONDS each (default 15):
  1. baseline: READERS threads (default 6) reading pages and the API as fast as they can;
  2. the same readers while UPLOADERS threads (default 2) each upload BENCH_UPLOAD_MB
     (default 50) files again and again (each its own file, deleted after each upload: a
     file is attached once per entry).
Prints requests per second, median / p95 / max latency of the reads in both phases, the
ratios, the uploads' throughput and any error (then exits with status 1). A stall (a read
waiting seconds behind an upload) shows as a max latency far above the p95.
"""

import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from app.samples import pdf  # noqa: E402
from bench.common import CLI, run_bench, start_server, stop  # noqa: E402

SECONDS = float(os.environ.get("BENCH_SECONDS", "15"))
READERS = int(os.environ.get("BENCH_READERS", "6"))
UPLOADERS = int(os.environ.get("BENCH_UPLOADERS", "2"))
UPLOAD_MB = int(os.environ.get("BENCH_UPLOAD_MB", "50"))
PASSWORD = "giaibao2021"


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def login(base: str, email: str) -> dict:
    """Signs in once, before any timing (argon2 is slow on purpose)."""
    token = httpx.post(f"{base}/api/v1/auth/token", data={
        "username": email, "password": PASSWORD}).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def reader(base: str, headers: dict, stop: threading.Event, latencies: list,
           errors: list) -> None:
    with httpx.Client(base_url=base, timeout=60) as client:
        paths = ["/", "/awards/xay-dung-dang-ninh-thuan-2021", "/api/v1/awards",
                 "/api/v1/awards/1/entries", "/api/v1/entries/1"]
        i = 0
        while not stop.is_set():
            path = paths[i % len(paths)]
            i += 1
            start = time.perf_counter()
            response = client.get(path, headers=headers if path.startswith("/api/") else None)
            latencies.append(time.perf_counter() - start)
            if response.status_code != 200:
                errors.append(f"{path}: {response.status_code}")


def uploader(base: str, headers: dict, stop: threading.Event, data_path: Path, done: list,
             errors: list) -> None:
    with httpx.Client(base_url=base, timeout=300) as client:
        entry = client.get("/api/v1/me/entries", headers=headers).json()
        draft = next(e for e in entry if e["status"] in ("draft", "returned"))
        while True:  # at least one upload, however short the phase
            with data_path.open("rb") as fh:
                response = client.post(f"/api/v1/entries/{draft['id']}/files", headers=headers,
                                       files={"file": ("tai-lieu.pdf", fh, "application/pdf")})
            if response.status_code != 201:
                errors.append(f"upload: {response.status_code} {response.text[:100]}")
                return
            done.append(response.json()["size"])
            deleted = client.delete(
                f"/api/v1/entries/{draft['id']}/files/{response.json()['id']}", headers=headers)
            if deleted.status_code != 204:
                errors.append(f"delete: {deleted.status_code} {deleted.text[:100]}")
                return
            if stop.is_set():
                return


def phase(base: str, with_uploads: bool, data_paths: list[Path], organizer: dict,
          journalist: dict) -> dict:
    stop = threading.Event()
    latencies: list[float] = []
    uploaded: list[int] = []
    errors: list[str] = []
    threads = [threading.Thread(target=reader, args=(base, organizer, stop, latencies, errors))
               for _ in range(READERS)]
    if with_uploads:
        # The demo journalist's draft (radio category: PDF accepted, 300 MB per file).
        # Each uploader its own content: the same file twice in one entry is refused (409).
        threads += [threading.Thread(target=uploader, args=(base, journalist, stop, path,
                                                            uploaded, errors))
                    for path in data_paths]
    for t in threads:
        t.start()
    time.sleep(SECONDS)
    stop.set()
    for t in threads:
        t.join()
    return {"n": len(latencies), "rps": len(latencies) / SECONDS,
            "p50": statistics.median(latencies), "p95": percentile(latencies, 0.95),
            "max": max(latencies), "uploaded_mb": sum(uploaded) / 2**20, "errors": errors}


def main() -> None:
    run_bench("giaibao-load-", "bench_load", run)


def run(work: Path, database_url: str) -> None:
    data_paths = []
    for i in range(UPLOADERS):
        path = work / f"big-{i}.pdf"
        path.write_bytes(pdf(f"tai lieu {i}") + b"%" * (UPLOAD_MB * 2**20))
        data_paths.append(path)
    env = {**os.environ, "GIAIBAO_DATABASE_URL": database_url,
           "GIAIBAO_UPLOAD_DIR": str(work / "uploads"), "GIAIBAO_ENV": "dev",
           "GIAIBAO_LOGIN_MAX_FAILURES_PER_ADDRESS": "1000"}
    subprocess.run([*CLI, "migrate"], env=env, check=True, cwd=ROOT, capture_output=True)
    subprocess.run([*CLI, "demo", "--if-empty"], env=env, check=True, cwd=ROOT,
                   capture_output=True)
    server, base = start_server(env)
    try:
        organizer, journalist = login(base, "btc@giaibao.vn"), login(base, "phongvien1@giaibao.vn")
        alone = phase(base, False, data_paths, organizer, journalist)
        mixed = phase(base, True, data_paths, organizer, journalist)
        kind = "PostgreSQL" if database_url.startswith("postgresql") else "SQLite"
        print(f"reads by {READERS} threads for {SECONDS:g} s each on {kind}; uploads of "
              f"{UPLOAD_MB} MB by {UPLOADERS} thread(s)")
        for name, r in (("reads alone (baseline)", alone), ("reads beside uploads", mixed)):
            print(f"  {name:<24}: {r['rps']:7.1f} req/s  p50 {r['p50'] * 1000:6.1f} ms  "
                  f"p95 {r['p95'] * 1000:6.1f} ms  max {r['max'] * 1000:7.1f} ms")
        print(f"  ratio p95 beside/alone  : {mixed['p95'] / alone['p95']:6.2f}")
        print(f"  ratio req/s beside/alone: {mixed['rps'] / alone['rps']:6.2f}")
        print(f"  uploaded meanwhile      : {mixed['uploaded_mb']:7.0f} MB "
              f"({mixed['uploaded_mb'] / SECONDS:5.1f} MB/s)")
        print(f"  errors                  : {len(alone['errors']) + len(mixed['errors'])} "
              f"{(alone['errors'] + mixed['errors'])[:3]}")
        if alone["errors"] or mixed["errors"]:
            raise SystemExit("some requests failed: the figures above are not to be trusted")
    finally:
        stop(server)


if __name__ == "__main__":
    main()
