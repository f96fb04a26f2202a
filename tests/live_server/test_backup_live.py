"""`giaibao backup` while the real server takes uploads: every archive is coherent (each file a
saved row points at is in it, with its hash) and restores; the uploads all succeed."""

import hashlib
import subprocess
import threading

import httpx
import sqlalchemy as sa
from sqlmodel import Session

from app.backup import restore_backup, tables
from app.cli import migrate
from app.db import make_engine
from app.samples import pdf
from app.storage import LocalStorage
from tests.conftest import fresh_database_url
from tests.factories import PASSWORD, make_award, make_entry, make_user
from tests.live import CLI, ROOT

UPLOADERS = 3
ENTRIES_EACH = 6  # 20 files each at most: room for uploads all through the backups


def test_backups_taken_during_uploads_are_coherent_and_restore(server, db, tmp_path):
    with Session(db, expire_on_commit=False) as session:
        award = make_award(session, status="open", max_entries_per_author=ENTRIES_EACH)
        people = [make_user(session) for _ in range(UPLOADERS)]
        entries = [[make_entry(session, award, user=p, files=[]) for _ in range(ENTRIES_EACH)]
                   for p in people]
        session.commit()
    tokens = [httpx.post(f"{server.base}/api/v1/auth/token",
                         data={"username": p.email, "password": PASSWORD}).json()["access_token"]
              for p in people]
    statuses: list[int] = []
    uploading = threading.Event()
    backed_up = threading.Event()
    stopped_by_backups: list[bool] = []

    def upload(n: int) -> None:
        """Uploads until both backups are done (files into the uploader's entries)."""
        with httpx.Client(base_url=server.base, timeout=60,
                          headers={"Authorization": f"Bearer {tokens[n]}"}) as client:
            for i in range(ENTRIES_EACH * 20):
                if backed_up.is_set():
                    stopped_by_backups.append(True)
                    return
                body = pdf(f"tac pham {n} tep {i}") + bytes([n, i % 256]) * 50_000
                entry = entries[n][i // 20]
                answer = client.post(f"/api/v1/entries/{entry.id}/files",
                                     files={"file": (f"tep-{i}.pdf", body, "application/pdf")})
                statuses.append(answer.status_code)
                uploading.set()

    threads = [threading.Thread(target=upload, args=(n,)) for n in range(UPLOADERS)]
    for t in threads:
        t.start()
    uploading.wait(60)
    archives = []
    for k in range(2):
        archive = tmp_path / f"during-{k}.tar"
        made = subprocess.run([*CLI, "backup", str(archive)], env=server.env, cwd=ROOT,
                              capture_output=True, text=True, timeout=300)
        assert made.returncode == 0, made.stderr
        archives.append(archive)
    backed_up.set()
    for t in threads:
        t.join(300)
    assert stopped_by_backups == [True] * UPLOADERS  # they uploaded all through the backups
    assert statuses == [201] * len(statuses)

    for k, archive in enumerate(archives):
        url = fresh_database_url(f"backup_live_restored_{k}")
        migrate(url)
        engine = make_engine(url)
        storage = LocalStorage(tmp_path / f"restored-{k}")
        try:
            summary = restore_backup(archive, engine=engine, storage=storage)
            with engine.connect() as conn:
                rows = conn.execute(sa.text("SELECT stored_name, sha256, size FROM entry_file"))
                saved = {name: (sha, size) for name, sha, size in rows}
            assert summary.rows["entry_file"] == len(saved)
            for name, (sha, size) in saved.items():
                with storage.open_read(name) as f:
                    data = f.read()
                assert (hashlib.sha256(data).hexdigest(), len(data)) == (sha, size)
            assert summary.rows["user"] == len(people) + 1  # and the organizer
            assert {t.name for t in tables()} <= set(summary.rows)
        finally:
            engine.dispose()
