"""A real server for tests: ``giaibao serve`` in a subprocess, on a database of its own.

Used by the browser journeys, the smoke run over every page and the parallel-request tests:
what they see is what a user sees, through uvicorn, its thread pool and real commits.
"""

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.conftest import _TMP, fresh_database_url

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "app.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    def __init__(self, base: str, database_url: str, env: dict[str, str]):
        self.base = base
        self.database_url = database_url
        self.env = env

    def cli(self, *args: str) -> None:
        subprocess.run([*CLI, *args], env=self.env, check=True, cwd=ROOT,
                       stdout=subprocess.DEVNULL)


@contextmanager
def live_server(name: str, *, log: Path | None = None, **settings: str):
    """Migrates a fresh database called ``name``, serves it, yields a LiveServer, stops it.
    ``settings`` are extra GIAIBAO_* variables (without the prefix)."""
    url = fresh_database_url(name)
    port = free_port()
    env = {**os.environ, "GIAIBAO_DATABASE_URL": url, "GIAIBAO_ENV": "test",
           "GIAIBAO_UPLOAD_DIR": str(_TMP / f"{name}-uploads"),
           "GIAIBAO_BASE_URL": f"http://127.0.0.1:{port}",
           **{f"GIAIBAO_{k.upper()}": str(v) for k, v in settings.items()}}
    subprocess.run([*CLI, "migrate"], env=env, check=True, cwd=ROOT)
    out = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115
    server = subprocess.Popen([*CLI, "serve", "--port", str(port), "--no-migrate"], env=env,
                              cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise RuntimeError("the test server did not start")
        yield LiveServer(base, url, env)
    finally:
        server.terminate()
        server.wait(10)
        if log:
            out.close()
