"""What the benchmarks share: ports, the server's memory, a database of their own, the app
server as a subprocess."""

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "app.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kb(pid: int, field: str) -> int:
    """VmRSS (now) or VmHWM (peak since the last reset_peak) of a process, in kB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def reset_peak(pid: int) -> None:
    # Linux >= 4.0: writing 5 to clear_refs resets VmHWM to the current RSS.
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        pass


def wait_up(url: str) -> None:
    for _ in range(300):
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"server at {url} did not start")


@contextmanager
def bench_database(work: Path, name: str):
    """A database URL for one run, dropped at the end: a SQLite file in ``work``, or, when
    GIAIBAO_DATABASE_URL names a PostgreSQL database, a new schema in it (so that a run never
    mixes with the rows already there)."""
    given = os.environ.get("GIAIBAO_DATABASE_URL", "")
    if not given.startswith("postgresql"):
        yield f"sqlite:///{work}/{name}.db"
        return
    from sqlalchemy import text

    sys.path.insert(0, str(ROOT))
    from app.db import make_engine

    schema = f"{name}_{os.getpid()}"
    admin = make_engine(given)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in given else "?"
    try:
        yield f"{given}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def start_server(env: dict) -> tuple[subprocess.Popen, str]:
    """The app on a free port (already migrated); returns the process and its base URL."""
    port = free_port()
    server = subprocess.Popen([*CLI, "serve", "--port", str(port), "--no-migrate"], env=env,
                              cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_up(f"{base}/healthz")
    except RuntimeError:
        server.terminate()
        server.wait(10)
        raise
    return server, base


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(10)


def run_bench(prefix: str, name: str, run) -> None:
    """Runs ``run(work, database_url)`` in a temporary folder and database, both removed
    afterwards."""
    import shutil
    import tempfile

    work = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        with bench_database(work, name) as database_url:
            run(work, database_url)
    finally:
        shutil.rmtree(work, ignore_errors=True)
