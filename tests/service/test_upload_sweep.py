"""The sweep `giaibao serve` runs at start-up and then periodically while it serves."""

import time

from app.cli import start_periodic_sweep
from app.config import get_settings


def test_the_periodic_sweep_removes_a_dead_writers_part_while_the_server_runs(
        session, tmp_path, monkeypatch):
    # `session`: the tables exist (the sweep reads which files rows point at).
    monkeypatch.setattr(get_settings(), "upload_dir", tmp_path)
    part = tmp_path / ("a" * 32 + ".part")
    part.write_bytes(b"half")  # fresh, but no process holds its lock: its writer died
    stop = start_periodic_sweep(0.05)
    try:
        deadline = time.monotonic() + 10
        while part.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        stop.set()
    assert not part.exists()

