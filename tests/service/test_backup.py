"""Backup and restore: a populated installation round-trips exactly (every row of every table,
every stored file), the restored one works, and damaged or unfit archives and targets are
refused before anything is written."""

import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tarfile
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import select

from app.backup import BackupError, code_revision, create_backup, restore_backup, tables
from app.cli import ROOT, migrate
from app.config import get_settings
from app.db import make_engine
from app.demo import DEMO_PASSWORD, load_demo
from app.storage import LocalStorage, get_storage
from tests.conftest import TEST_DATABASE_URL, empty_tables, fresh_database_url
from tests.factories import make_award, make_entry, make_user

ON_POSTGRESQL = TEST_DATABASE_URL.startswith("postgresql")
PDF = b"%PDF-1.4\n" + bytes(range(256)) * 40


def every_row(engine) -> dict[str, list[dict]]:
    with engine.connect() as conn:
        return {t.name: [dict(r._mapping) for r in conn.execute(
            sa.select(t).order_by(*t.primary_key.columns))] for t in tables()}


def every_file(storage) -> dict[str, str]:
    found = {}
    for key in storage.keys():
        with storage.open_read(key) as f:
            found[key] = hashlib.sha256(f.read()).hexdigest()
    return found


@pytest.fixture
def source_storage(tmp_path, monkeypatch):
    monkeypatch.setattr(get_settings(), "upload_dir", tmp_path / "source")
    return get_storage()


@pytest.fixture
def target(request, tmp_path):
    """A migrated, empty database of the test's kind and an empty storage folder."""
    url = fresh_database_url(re.sub(r"[^a-z0-9_]", "_", f"backup_{request.node.name[:40]}"
                                    .lower()))
    migrate(url)
    engine = make_engine(url)
    yield engine, LocalStorage(tmp_path / "target"), url
    engine.dispose()


def populate(session, client):
    """The demo (three awards: entries with files, judging rounds with scores, results
    published with certificates, audit log, mails in the outbox), a drawn certificate, web
    sessions and an API token."""
    from app.results.exports import certificate_key
    from app.results.models import Certificate

    load_demo(session=session)
    session.commit()
    certificate = session.exec(select(Certificate).order_by(Certificate.id)).first()
    certificate_key(session, certificate)
    sign_in(client, "btc@giaibao.vn")
    token = client.post("/api/v1/auth/token", data={"username": "giamkhao1@giaibao.vn",
                                                    "password": DEMO_PASSWORD})
    assert token.status_code == 200
    session.expire_all()
    return certificate


def sign_in(client, email: str) -> None:
    from tests.conftest import csrf_from

    token = csrf_from(client.get("/login").text)
    response = client.post("/login", data={"email": email, "password": DEMO_PASSWORD,
                                           "csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303, response.text


def test_round_trip_reproduces_every_row_and_file_and_works(storage_backend, session, client,
                                                             engine, source_storage, target,
                                                             tmp_path, monkeypatch, request):
    """On either backend: the local folder, or an S3 bucket (read through the same storage
    interface, restored into a local folder and then into a fresh bucket)."""
    assert type(source_storage).__name__ == {"local": "LocalStorage",
                                             "s3": "S3Storage"}[storage_backend]
    certificate = populate(session, client)
    rows = every_row(engine)
    files = every_file(source_storage)
    counts = {name: len(r) for name, r in rows.items()}
    assert all(counts[name] > 0 for name in (
        "user", "award", "category", "entry", "entry_file", "round", "score", "score_change",
        "certificate", "prize", "audit_entry", "mail", "web_session", "api_token"))
    assert f"certificates/{certificate.token}.pdf" in files
    assert len([k for k in files if "/" not in k]) == counts["entry_file"]

    archive = tmp_path / "backup.tar.gz"
    summary = create_backup(archive, engine=engine)
    assert (summary.rows, summary.files, summary.skipped) == (counts, len(files), [])
    assert archive.stat().st_mode & 0o777 == 0o600  # password hashes, every stored file
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []

    target_engine, target_storage, _ = target
    restored = restore_backup(archive, engine=target_engine, storage=target_storage)
    assert (restored.rows, restored.files) == (counts, len(files))
    assert every_row(target_engine) == rows
    assert every_file(target_storage) == files

    # Restored into the app's own database and storage, emptied: the portal works on it.
    session.commit()  # ends the test session's read transaction before the tables are emptied
    empty_tables(engine)
    session.expire_all()
    monkeypatch.setattr(get_settings(), "upload_dir", tmp_path / "fresh")
    if storage_backend == "s3":
        server = request.getfixturevalue("s3_server")
        for name, value in server.settings(server.new_bucket()).items():
            monkeypatch.setattr(get_settings(), name, value)
        assert type(get_storage()).__name__ == "S3Storage"
    restore_backup(archive)
    assert every_row(engine) == rows
    assert every_file(get_storage()) == files
    sign_in(client, "btc@giaibao.vn")
    entry_file = rows["entry_file"][0]
    token = client.post("/api/v1/auth/token", data={"username": "btc@giaibao.vn",
                                                    "password": DEMO_PASSWORD})
    download = client.get(f"/api/v1/files/{entry_file['id']}", headers={
        "Authorization": f"Bearer {token.json()['access_token']}"})
    assert download.status_code == 200
    assert hashlib.sha256(download.content).hexdigest() == entry_file["sha256"]
    newcomer = make_user(session)
    session.commit()
    assert newcomer.id == max(u["id"] for u in rows["user"]) + 1


def test_cli_backup_then_restore_into_a_database_without_schema(session, client, engine,
                                                                 source_storage, tmp_path):
    make_entry(session, make_award(session, status="open"), files=[PDF], status="submitted")
    session.commit()
    rows = every_row(engine)
    files = every_file(source_storage)
    archive = tmp_path / "cli.tar"

    def giaibao(*args, database_url, upload_dir):
        env = {**os.environ, "GIAIBAO_DATABASE_URL": database_url,
               "GIAIBAO_UPLOAD_DIR": str(upload_dir)}
        return subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)

    made = giaibao("backup", str(archive), database_url=TEST_DATABASE_URL,
                   upload_dir=source_storage.root)
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith(f"{archive}: {sum(len(r) for r in rows.values())} rows in "
                                  f"{len(rows)} tables, 1 files ({len(PDF)} bytes), schema "
                                  f"{code_revision()}, from {engine.dialect.name}.")
    again = giaibao("backup", str(archive), database_url=TEST_DATABASE_URL,
                    upload_dir=source_storage.root)
    assert (again.returncode, again.stderr.strip()) == (
        2, f"{archive} đã tồn tại: hãy chọn một tệp mới cho bản sao lưu.")

    url = fresh_database_url("backup_cli_target")  # no schema: restore migrates first
    restored = giaibao("restore", str(archive), database_url=url, upload_dir=tmp_path / "t")
    assert restored.returncode == 0, restored.stderr
    assert restored.stdout.splitlines()[0] == (
        f"Restored {archive} (schema {code_revision()}, made on {engine.dialect.name}): "
        f"1 files ({len(PDF)} bytes), {sum(len(r) for r in rows.values())} rows:")
    target_engine = make_engine(url)
    try:
        assert every_row(target_engine) == rows
    finally:
        target_engine.dispose()
    assert every_file(LocalStorage(tmp_path / "t")) == files

    refused = giaibao("restore", str(archive), database_url=url, upload_dir=tmp_path / "t2")
    assert (refused.returncode, refused.stderr.strip()) == (
        2, "Cơ sở dữ liệu không trống (bảng award có dữ liệu): bản sao lưu chỉ được khôi phục "
           "vào một bản cài đặt trống.")


# --- refusals ---------------------------------------------------------------------------


@pytest.fixture
def small_archive(session, engine, source_storage, tmp_path) -> Path:
    """An uncompressed archive of a small award: one entry with one file."""
    make_entry(session, make_award(session, status="open"), files=[PDF], status="submitted")
    session.commit()
    archive = tmp_path / "small.tar"
    create_backup(archive, engine=engine)
    return archive


def assert_nothing_written(target_engine, target_storage) -> None:
    assert all(r == [] for r in every_row(target_engine).values())
    assert target_storage.keys() == []


def refusal(archive, target_engine, target_storage) -> str:
    """The (English) message of a refused restore, after checking it wrote nothing."""
    with pytest.raises(BackupError) as caught:
        restore_backup(archive, engine=target_engine, storage=target_storage)
    assert_nothing_written(target_engine, target_storage)
    return caught.value.translated(lambda message: message)


def flip_byte(archive: Path, member: str, at: int = 10) -> None:
    with tarfile.open(archive) as tar:
        offset = tar.getmember(member).offset_data
    with open(archive, "r+b") as f:
        f.seek(offset + at)
        byte = f.read(1)
        f.seek(offset + at)
        f.write(bytes([byte[0] ^ 0x01]))


def rewrite_manifest(archive: Path, change) -> None:
    copy = archive.with_suffix(".new")
    with tarfile.open(archive) as old, tarfile.open(copy, "w", format=tarfile.PAX_FORMAT) as new:
        for info in old:
            data = old.extractfile(info).read()
            if info.name == "manifest.json":
                manifest = json.loads(data)
                change(manifest)
                data = json.dumps(manifest).encode()
                info.size = len(data)
            new.addfile(info, io.BytesIO(data))
    copy.replace(archive)


def test_a_tampered_file_is_refused_naming_it_and_nothing_is_written(small_archive, target):
    target_engine, target_storage, _ = target
    with tarfile.open(small_archive) as tar:
        name = next(n for n in tar.getnames() if n.startswith("files/"))
    flip_byte(small_archive, name)
    message = refusal(small_archive, target_engine, target_storage)
    assert message == (f"{name} in the archive does not match its SHA-256 in the manifest "
                       "(altered or damaged); nothing was restored.")


def test_a_tampered_table_is_refused_naming_it_and_nothing_is_written(small_archive, target):
    target_engine, target_storage, _ = target
    flip_byte(small_archive, "tables/user.jsonl", at=3)
    assert refusal(small_archive, target_engine, target_storage) == (
        "tables/user.jsonl in the archive does not match its SHA-256 in the manifest "
        "(altered or damaged); nothing was restored.")


def test_another_schema_revision_is_refused(small_archive, target):
    target_engine, target_storage, _ = target
    rewrite_manifest(small_archive, lambda m: m.update(schema_revision="0123456789ab"))
    assert refusal(small_archive, target_engine, target_storage) == (
        f"The backup is of schema revision 0123456789ab, this version of the portal is at "
        f"{code_revision()}: restore it with the version of the portal that made it (then "
        "upgrade), nothing was restored.")


def test_a_manifest_naming_a_file_outside_the_storage_is_refused(small_archive, target):
    target_engine, target_storage, _ = target
    rewrite_manifest(small_archive, lambda m: m["files"][0].update(key="certificates/../x"))
    assert refusal(small_archive, target_engine, target_storage) == (
        "The archive holds an unexpected member files/certificates/../x; nothing was restored.")


@pytest.mark.parametrize("cut", ["in a file", "in the manifest", "before the manifest"])
def test_a_truncated_archive_is_refused(small_archive, target, cut):
    target_engine, target_storage, _ = target
    with tarfile.open(small_archive) as tar:
        stored = next(m for m in tar.getmembers() if m.name.startswith("files/"))
        manifest = tar.getmember("manifest.json")
    end = {"in a file": stored.offset_data + stored.size // 2,
           "in the manifest": manifest.offset_data + manifest.size // 2,
           "before the manifest": manifest.offset}[cut]
    small_archive.write_bytes(small_archive.read_bytes()[:end])
    message = refusal(small_archive, target_engine, target_storage)
    detail = "no manifest" if cut == "before the manifest" else "unexpected end of data"
    assert message == (f"{small_archive} is not a complete backup archive (truncated or "
                       f"damaged: {detail}); nothing was restored.")


def test_a_truncated_compressed_archive_is_refused(session, engine, source_storage, target,
                                                   tmp_path):
    make_entry(session, make_award(session, status="open"), files=[PDF], status="submitted")
    session.commit()
    archive = tmp_path / "small.tar.gz"
    create_backup(archive, engine=engine)
    data = archive.read_bytes()
    archive.write_bytes(data[:-200])
    target_engine, target_storage, _ = target
    assert refusal(archive, target_engine, target_storage).startswith(
        f"{archive} is not a complete backup archive (truncated or damaged: ")


def test_a_database_with_rows_is_refused_and_nothing_is_written(small_archive, target):
    target_engine, target_storage, _ = target
    with target_engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO login_throttle (scope, key, failures, first_at, "
                             "last_at) VALUES ('pair', 'x', 1, '2026-01-01', '2026-01-01')"))
    with pytest.raises(BackupError) as caught:
        restore_backup(small_archive, engine=target_engine, storage=target_storage)
    assert caught.value.translated(lambda m: m) == (
        "The database is not empty (table login_throttle holds rows): a backup is restored "
        "only into an empty installation.")
    assert target_storage.keys() == []
    assert [len(r) for r in every_row(target_engine).values()].count(0) == len(tables()) - 1


def test_a_storage_with_files_is_refused_and_nothing_is_written(small_archive, target):
    target_engine, target_storage, _ = target
    target_storage.put("exports/left-over.csv", io.BytesIO(b"a,b\n"))
    with pytest.raises(BackupError) as caught:
        restore_backup(small_archive, engine=target_engine, storage=target_storage)
    assert caught.value.translated(lambda m: m) == (
        "The storage is not empty (it holds exports/left-over.csv): a backup is restored only "
        "into an empty installation.")
    assert target_storage.keys() == ["exports/left-over.csv"]
    assert all(r == [] for r in every_row(target_engine).values())


def test_a_failure_while_inserting_removes_the_files_and_leaves_the_database_empty(
        small_archive, target):
    """The target refuses the entry rows (a constraint the source had not): the files
    already written are removed and no row of any table stays."""
    target_engine, target_storage, _ = target
    with target_engine.begin() as conn:
        if target_engine.dialect.name == "postgresql":
            conn.execute(sa.text("ALTER TABLE entry ADD CONSTRAINT no_entries CHECK (id < 0)"))
        else:
            conn.execute(sa.text("CREATE TRIGGER no_entries BEFORE INSERT ON entry "
                                 "BEGIN SELECT RAISE(ABORT, 'no entries'); END"))
    with pytest.raises(sa.exc.IntegrityError):
        restore_backup(small_archive, engine=target_engine, storage=target_storage)
    assert_nothing_written(target_engine, target_storage)


def test_two_restores_at_once_restore_once(small_archive, target):
    """The emptiness check and the inserts are one transaction holding the tables: of two
    concurrent restores into the same empty installation one restores, the other is refused
    and removes nothing of the first's."""
    target_engine, target_storage, _ = target
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def run():
        barrier.wait()
        try:
            restore_backup(small_archive, engine=target_engine, storage=target_storage)
            outcomes.append("restored")
        except BackupError as err:
            outcomes.append(err.message.split(" (")[0])

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sorted(outcomes) == ["The database is not empty", "restored"]
    assert len(target_storage.keys()) == 1
    assert sum(len(r) for r in every_row(target_engine).values()) > 0


@pytest.mark.skipif(not ON_POSTGRESQL, reason="needs both PostgreSQL and SQLite")
def test_postgresql_to_sqlite_and_back(session, client, engine, source_storage, tmp_path):
    populate(session, client)
    rows = every_row(engine)
    files = every_file(source_storage)
    create_backup(tmp_path / "pg.tar", engine=engine)

    sqlite_url = f"sqlite:///{tmp_path}/restored.db"
    migrate(sqlite_url)
    sqlite = make_engine(sqlite_url)
    try:
        restore_backup(tmp_path / "pg.tar", engine=sqlite, storage=LocalStorage(tmp_path / "s"))
        assert every_row(sqlite) == rows
        summary = create_backup(tmp_path / "sqlite.tar", engine=sqlite,
                                storage=LocalStorage(tmp_path / "s"))
        assert summary.dialect == "sqlite"
    finally:
        sqlite.dispose()

    url = fresh_database_url("backup_from_sqlite")
    migrate(url)
    postgresql = make_engine(url)
    try:
        restore_backup(tmp_path / "sqlite.tar", engine=postgresql,
                       storage=LocalStorage(tmp_path / "p"))
        assert every_row(postgresql) == rows
        assert every_file(LocalStorage(tmp_path / "p")) == files
    finally:
        postgresql.dispose()


def test_the_tables_are_read_in_one_snapshot(session, engine, source_storage, tmp_path):
    """A row committed by another connection while the backup reads (here: right after it
    read the first table) is not in the archive: every table is read in one snapshot."""
    user = make_user(session)
    session.commit()
    first = tables()[0].name
    done = []

    def write_meanwhile(conn, cursor, statement, *args):
        if not done and f"\nFROM {first} ORDER BY" in statement:
            done.append(True)
            with engine.connect() as other, other.begin():
                other.execute(sa.text("INSERT INTO login_throttle (scope, key, failures, "
                                      "first_at, last_at) VALUES ('pair', 'x', 1, "
                                      "'2026-01-01', '2026-01-01')"))
                other.execute(sa.text('UPDATE "user" SET full_name = :n WHERE id = :i'),
                              {"n": "Đổi trong lúc sao lưu", "i": user.id})

    sa.event.listen(engine, "after_cursor_execute", write_meanwhile)
    try:
        summary = create_backup(tmp_path / "snapshot.tar", engine=engine)
    finally:
        sa.event.remove(engine, "after_cursor_execute", write_meanwhile)
    assert done == [True]
    assert (summary.rows["login_throttle"], summary.rows["user"]) == (0, 1)
    with tarfile.open(tmp_path / "snapshot.tar") as tar:
        saved = json.loads(tar.extractfile("tables/user.jsonl").read())
    assert saved["full_name"] == "Nguyễn Văn An"
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM login_throttle")).scalar() == 1


def test_a_database_at_another_revision_is_neither_backed_up_nor_restored_into(
        small_archive, target, tmp_path):
    target_engine, target_storage, _ = target
    with target_engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0123456789ab'"))
    expected = ("The database is at schema revision 0123456789ab but this version of the "
                f"portal expects {code_revision()}: run `giaibao migrate` first.")
    with pytest.raises(BackupError) as caught:
        create_backup(tmp_path / "old.tar", engine=target_engine, storage=target_storage)
    assert caught.value.translated(lambda message: message) == expected
    assert not (tmp_path / "old.tar").exists()
    assert refusal(small_archive, target_engine, target_storage) == expected
