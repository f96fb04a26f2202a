"""Backup and restore: the whole installation (every table, every stored file) in one archive.

The archive is a tar file (gzip-compressed when its name ends in ``.gz`` or ``.tgz``):

- ``files/<key>``: every stored file, by its storage key (``<32 hex>`` or ``<area>/<name>``);
- ``tables/<table>.jsonl``: every table of the app's metadata, one JSON object per row, ordered
  by primary key, its values written by column type so that they come back identical on
  SQLite and PostgreSQL alike (datetimes as ISO 8601 with their offset, dates ISO, JSON as
  JSON, bytes in base64, decimals as strings, enums by name);
- ``manifest.json`` last: format version, schema revision (alembic), created_at, the source
  dialect, per table its columns, row count, size and SHA-256, per file its key, size and
  SHA-256.

``alembic_version`` is not copied as a table: its revision is the manifest's
``schema_revision``, and a restore accepts only an archive of the code's own revision into a
database migrated to it (``giaibao migrate`` sets it). The secret key is not in the archive.

The tables are read in one snapshot (PostgreSQL: a REPEATABLE READ, READ ONLY transaction;
SQLite: one read transaction in WAL mode) and written to temporary files; the files are listed
after it, so every file a backed-up row points at was there when they were listed. Files go
through the storage interface (``keys``/``open_read``/``put``/``delete_key``): the local folder
or an object store. Nothing is held whole in memory.

A restore verifies the whole archive (every SHA-256, sizes, row counts, the manifest's
format and revision) before writing anything; then, inside one database transaction that
holds the tables locked (PostgreSQL: EXCLUSIVE locks; SQLite: its write lock) and checks again
that the database is empty, it writes the files, inserts the rows in foreign-key order and
moves PostgreSQL's sequences past the restored ids. Any failure rolls the transaction back and
removes the files it wrote.
"""

import base64
import decimal
import hashlib
import json
import os
import re
import shutil
import tarfile
import tempfile
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlmodel import AutoString, SQLModel

import app.models  # noqa: F401  (every table in the metadata)
from app.db import UTCDateTime
from app.errors import N_, DomainError

FORMAT = "giaibao-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
CHUNK = 1024 * 1024
INSERT_BATCH = 500
MAX_MANIFEST_BYTES = 256 * 1024 * 1024
_TABLE_MEMBER = re.compile(r"tables/([a-z_][a-z0-9_]*)\.jsonl")
# A storage key: an entry file, or a file of an area (no folders, no hidden names).
_KEY = re.compile(r"[0-9a-f]{32}|[a-z][a-z0-9-]{0,30}/[^/\x00-\x1f.][^/\x00-\x1f]*")


class BackupError(DomainError):
    """A backup or restore refused (the CLI exits 2 with the message)."""

    status_code = 409


# --- the schema revision ---------------------------------------------------------------


def code_revision() -> str:
    """The alembic head of this code: the schema its models describe."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from app.cli import ROOT

    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    return ScriptDirectory.from_config(config).get_current_head()


def database_revision(conn: Connection) -> str | None:
    """The revision in the database's ``alembic_version``; None when it has no such table
    (a database created from the models, as the tests do, is at the code's revision)."""
    if not sa.inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def _check_database_revision(conn: Connection, revision: str) -> None:
    found = database_revision(conn)
    if found is not None and found != revision:
        raise BackupError(N_("The database is at schema revision {found} but this version "
                             "of the portal expects {expected}: run `giaibao migrate` first."),
                          found=found, expected=revision)


# --- values by column type -------------------------------------------------------------


_DECORATORS = (UTCDateTime, AutoString)


def _codec(column: sa.Column):
    """(encode, decode) between a column's Python value and JSON, chosen by its type. An
    unknown type is refused, so that a new column type is handled deliberately."""
    kind = column.type
    if isinstance(kind, _DECORATORS):  # by what they store (their values are of its kind)
        kind = kind.impl_instance
    elif isinstance(kind, sa.TypeDecorator):  # Interval and others: not handled yet
        raise TypeError(f"no backup codec for {column.table.name}.{column.name} ({kind!r})")
    if isinstance(kind, sa.DateTime):
        return (lambda v: v.isoformat()), datetime.fromisoformat
    if isinstance(kind, sa.Date):
        return (lambda v: v.isoformat()), date.fromisoformat
    if isinstance(kind, sa.JSON):
        return (lambda v: v), (lambda v: v)
    if isinstance(kind, sa.Boolean):
        return bool, bool
    if isinstance(kind, sa.Enum):
        if kind.enum_class is not None:
            return (lambda v: v.name), (lambda v: kind.enum_class[v])
        return str, str
    if isinstance(kind, sa.Numeric) and not isinstance(kind, sa.Float):
        return str, decimal.Decimal
    if isinstance(kind, sa.Float):
        return float, float
    if isinstance(kind, sa.Integer):
        return int, int
    if isinstance(kind, sa.LargeBinary):
        return (lambda v: base64.b64encode(v).decode("ascii")), base64.b64decode
    if isinstance(kind, sa.Uuid):
        return str, uuid.UUID
    if isinstance(kind, sa.String):  # Text, AutoString, Unicode…
        return str, str
    raise TypeError(f"no backup codec for {column.table.name}.{column.name} ({kind!r})")


def _codecs(table: sa.Table) -> list[tuple[str, object, object]]:
    return [(c.name, *_codec(c)) for c in table.columns]


def encode_row(codecs, row) -> dict:
    return {name: None if value is None else enc(value)
            for (name, enc, _dec), value in zip(codecs, row, strict=True)}


def decode_row(codecs, data: dict) -> dict:
    return {name: None if data[name] is None else dec(data[name]) for name, _enc, dec in codecs}


def tables() -> list[sa.Table]:
    """Every table of the app, parents before children."""
    return list(SQLModel.metadata.sorted_tables)


# --- helpers ---------------------------------------------------------------------------


class _Hashing:
    """A read-only file object that hashes and counts what is read through it."""

    def __init__(self, source):
        self._source = source
        self.sha256 = hashlib.sha256()
        self.size = 0

    def read(self, n: int = -1) -> bytes:
        data = self._source.read(n)
        self.sha256.update(data)
        self.size += len(data)
        return data


def _file_size(handle) -> int | None:
    try:
        return os.fstat(handle.fileno()).st_size
    except (AttributeError, OSError, ValueError):
        return None


def _write_mode(path: Path) -> str:
    return "w:gz" if path.name.endswith((".gz", ".tgz")) else "w"


@dataclass
class BackupSummary:
    path: Path
    dialect: str
    revision: str
    rows: dict[str, int]
    files: int
    file_bytes: int
    skipped: list[str] = field(default_factory=list)


@dataclass
class RestoreSummary:
    revision: str
    dialect: str
    rows: dict[str, int]
    files: int
    file_bytes: int


# --- backup ----------------------------------------------------------------------------


def _snapshot_connection(engine: Engine) -> Connection:
    if engine.dialect.name == "postgresql":
        return engine.connect().execution_options(isolation_level="REPEATABLE READ",
                                                  postgresql_readonly=True)
    # SQLite: a deferred read transaction (see app.db._SqliteWriters) is a snapshot in WAL.
    return engine.connect().execution_options(read_only=True)


def _dump_tables(engine: Engine, workdir: Path) -> tuple[str, list[dict], set[str]]:
    """Writes every table to ``workdir`` in one snapshot; returns the revision, the tables'
    manifest entries and the stored names the rows point at."""
    revision = code_revision()
    entries = []
    referenced: set[str] = set()
    with _snapshot_connection(engine) as conn, conn.begin():
        _check_database_revision(conn, revision)
        for table in tables():
            codecs = _codecs(table)
            path = workdir / f"{table.name}.jsonl"
            digest = hashlib.sha256()
            count = 0
            order = list(table.primary_key.columns)
            rows = conn.execution_options(stream_results=True, yield_per=1000).execute(
                sa.select(table).order_by(*order))
            with open(path, "wb") as out:
                for row in rows:
                    line = (json.dumps(encode_row(codecs, row), ensure_ascii=False,
                                       separators=(",", ":"), allow_nan=False) + "\n").encode()
                    digest.update(line)
                    out.write(line)
                    count += 1
                    if table.name == "entry_file":
                        referenced.add(row._mapping["stored_name"])
            entries.append({"name": table.name, "file": f"tables/{table.name}.jsonl",
                            "columns": [c.name for c in table.columns], "rows": count,
                            "size": path.stat().st_size, "sha256": digest.hexdigest()})
    return revision, entries, referenced


def _add_stored_file(archive: tarfile.TarFile, storage, key: str, spool_dir: Path) -> dict | None:
    """Adds one stored file as ``files/<key>``; None when it vanished since it was listed."""
    try:
        source = storage.open_read(key)
    except FileNotFoundError:
        return None
    with source:
        size = _file_size(source)
        if size is None:  # a stream of unknown length (an object store): spool it to disk
            with tempfile.TemporaryFile(dir=spool_dir) as spool:
                shutil.copyfileobj(source, spool, CHUNK)
                size = spool.tell()
                spool.seek(0)
                return _add_member(archive, f"files/{key}", spool, size, key)
        return _add_member(archive, f"files/{key}", source, size, key)


def _add_member(archive: tarfile.TarFile, name: str, source, size: int, key: str) -> dict:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o600
    info.mtime = int(datetime.now(UTC).timestamp())
    hashing = _Hashing(source)
    archive.addfile(info, hashing)
    return {"key": key, "size": size, "sha256": hashing.sha256.hexdigest()}


def create_backup(path: str | os.PathLike, *, engine: Engine | None = None,
                  storage=None) -> BackupSummary:
    """Writes the database and the stored files to the archive at ``path`` (a new file; it
    is written under a temporary name and renamed when complete)."""
    from app.db import get_engine
    from app.storage import get_storage

    engine = engine or get_engine()
    storage = storage or get_storage()
    path = Path(path)
    if path.exists():
        raise BackupError(N_("{path} already exists: choose a new file for the backup."),
                          path=str(path))
    created_at = datetime.now(UTC)
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.part")
    with tempfile.TemporaryDirectory(prefix="giaibao-backup-") as work:
        workdir = Path(work)
        revision, table_entries, referenced = _dump_tables(engine, workdir)
        keys = list(storage.keys())  # after the snapshot: every referenced file is listed
        skipped: list[str] = []
        files: list[dict] = []
        try:
            # Readable by its owner only: it holds password hashes and every stored file.
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
            with (os.fdopen(fd, "wb") as out,
                  tarfile.open(fileobj=out, mode=_write_mode(path),
                               format=tarfile.PAX_FORMAT) as archive):
                archive.copybufsize = CHUNK
                for key in keys:
                    entry = _add_stored_file(archive, storage, key, workdir)
                    if entry is None:
                        skipped.append(key)
                    else:
                        files.append(entry)
                for table in table_entries:
                    with open(workdir / f"{table['name']}.jsonl", "rb") as data:
                        _add_member(archive, table["file"], data, table["size"], table["name"])
                missing = sorted(referenced - {f["key"] for f in files})
                manifest = {
                    "format": FORMAT, "format_version": FORMAT_VERSION,
                    "schema_revision": revision, "created_at": created_at.isoformat(),
                    "dialect": engine.dialect.name, "tables": table_entries, "files": files,
                    "missing_files": missing,
                }
                body = json.dumps(manifest, ensure_ascii=False, indent=1).encode()
                info = tarfile.TarInfo(MANIFEST)
                info.size = len(body)
                info.mode = 0o600
                info.mtime = int(created_at.timestamp())
                with tempfile.TemporaryFile(dir=workdir) as spool:
                    spool.write(body)
                    spool.seek(0)
                    archive.addfile(info, spool)
            fd = os.open(partial, os.O_RDONLY | os.O_CLOEXEC)
            try:
                os.fsync(fd)  # durable before it takes its final name
            finally:
                os.close(fd)
            os.replace(partial, path)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    return BackupSummary(path, engine.dialect.name, revision,
                         {t["name"]: t["rows"] for t in table_entries}, len(files),
                         sum(f["size"] for f in files), skipped + missing)


# --- restore ---------------------------------------------------------------------------


def _damaged(path: Path, detail: str) -> BackupError:
    return BackupError(N_("{path} is not a complete backup archive (truncated or damaged: "
                          "{detail}); nothing was restored."), path=str(path), detail=detail)


def _members(archive: tarfile.TarFile) -> Iterator[tuple[tarfile.TarInfo, object]]:
    for info in archive:
        if not info.isfile():
            raise BackupError(N_("The archive holds an unexpected member {name}; nothing was "
                                 "restored."), name=info.name)
        yield info, archive.extractfile(info)


@dataclass
class _Verified:
    manifest: dict
    table_files: dict[str, Path]


def verify_archive(path: Path, workdir: Path) -> _Verified:
    """Reads the whole archive once: hashes every member, keeps the tables in ``workdir``,
    and checks them against the manifest (format, revision, tables, rows, files)."""
    seen: dict[str, tuple[int, str, int]] = {}
    table_files: dict[str, Path] = {}
    manifest = None
    try:
        with tarfile.open(path, "r|*") as archive:
            for info, source in _members(archive):
                if info.name in seen or (info.name == MANIFEST and manifest is not None):
                    raise BackupError(N_("The archive holds {name} twice; nothing was "
                                         "restored."), name=info.name)
                if info.name == MANIFEST:
                    if info.size > MAX_MANIFEST_BYTES:
                        raise _damaged(path, "manifest too large")
                    manifest = json.loads(source.read().decode())
                    continue
                match = _TABLE_MEMBER.fullmatch(info.name)
                hashing = _Hashing(source)
                lines = 0
                if match:
                    target = workdir / f"{match.group(1)}.jsonl"
                    with open(target, "wb") as out:
                        while chunk := hashing.read(CHUNK):
                            out.write(chunk)
                            lines += chunk.count(b"\n")
                    table_files[match.group(1)] = target
                elif info.name.startswith("files/"):
                    while hashing.read(CHUNK):
                        pass
                else:
                    raise BackupError(N_("The archive holds an unexpected member {name}; "
                                         "nothing was restored."), name=info.name)
                seen[info.name] = (hashing.size, hashing.sha256.hexdigest(), lines)
    except (tarfile.TarError, EOFError, zlib.error, UnicodeDecodeError, ValueError) as err:
        if isinstance(err, DomainError):
            raise
        raise _damaged(path, str(err) or type(err).__name__) from None
    except FileNotFoundError:
        raise BackupError(N_("{path} does not exist."), path=str(path)) from None
    if manifest is None:
        raise _damaged(path, "no manifest")
    _check_manifest(path, manifest, seen)
    return _Verified(manifest, table_files)


def _check_manifest(path: Path, manifest: dict, seen: dict) -> None:
    if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(N_("{path} is not a backup of this format (format {format}, "
                             "version {version})."), path=str(path),
                          format=str(manifest.get("format")),
                          version=str(manifest.get("format_version")))
    expected = code_revision()
    if manifest.get("schema_revision") != expected:
        raise BackupError(N_("The backup is of schema revision {found}, this version of the "
                             "portal is at {expected}: restore it with the version of the "
                             "portal that made it (then upgrade), nothing was restored."),
                          found=str(manifest.get("schema_revision")), expected=expected)
    listed = {}
    code_tables = {t.name: t for t in tables()}
    names = [t["name"] for t in manifest["tables"]]
    if sorted(names) != sorted(code_tables):
        raise BackupError(N_("The backup's tables ({found}) are not this portal's; nothing "
                             "was restored."), found=", ".join(sorted(names)))
    for table in manifest["tables"]:
        if table["columns"] != [c.name for c in code_tables[table["name"]].columns]:
            raise BackupError(N_("The columns of table {name} in the backup are not this "
                                 "portal's; nothing was restored."), name=table["name"])
        listed[table["file"]] = (table["size"], table["sha256"], table["rows"])
    for item in manifest["files"]:
        if not _KEY.fullmatch(item["key"]) or item["key"] != item["key"].strip():
            raise BackupError(N_("The archive holds an unexpected member {name}; nothing was "
                                 "restored."), name=f"files/{item['key']}")
        listed[f"files/{item['key']}"] = (item["size"], item["sha256"], None)
    for name, (size, sha, rows) in listed.items():
        if name not in seen:
            raise BackupError(N_("{name} is listed in the manifest but missing from the "
                                 "archive; nothing was restored."), name=name)
        got_size, got_sha, got_lines = seen[name]
        if got_size != size or got_sha != sha or (rows is not None and got_lines != rows):
            raise BackupError(N_("{name} in the archive does not match its SHA-256 in the "
                                 "manifest (altered or damaged); nothing was restored."),
                              name=name)
    extra = sorted(set(seen) - set(listed))
    if extra:
        raise BackupError(N_("The archive holds {name}, which its manifest does not list; "
                             "nothing was restored."), name=extra[0])


def _lock_and_check_empty(conn: Connection) -> None:
    """Holds every table against writers until the transaction ends (PostgreSQL: EXCLUSIVE
    locks; SQLite: the write lock its engine takes at BEGIN), then checks it is empty."""
    present = set(sa.inspect(conn).get_table_names())
    missing = [t.name for t in tables() if t.name not in present]
    if missing:
        raise BackupError(N_("The database has no schema yet (table {name} is missing): run "
                             "`giaibao migrate` first."), name=missing[0])
    if conn.dialect.name == "postgresql":
        names = ", ".join(conn.dialect.identifier_preparer.quote(t.name) for t in tables())
        conn.execute(sa.text(f"LOCK TABLE {names} IN EXCLUSIVE MODE"))
    for table in tables():
        if conn.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first():
            raise BackupError(N_("The database is not empty (table {name} holds rows): a "
                                 "backup is restored only into an empty installation."),
                              name=table.name)


def _check_storage_empty(storage) -> None:
    for key in storage.keys():
        raise BackupError(N_("The storage is not empty (it holds {key}): a backup is "
                             "restored only into an empty installation."), key=key)


def _insert_rows(conn: Connection, table: sa.Table, source: Path) -> int:
    """Inserts a table's rows in batches. A column pointing at its own table (a round's
    source round) is filled in a second pass, so that the order of rows never matters."""
    codecs = _codecs(table)
    own = [c.name for c in table.columns
           if any(fk.column.table is table for fk in c.foreign_keys)]
    pk = [c.name for c in table.primary_key.columns]
    count = 0
    batch: list[dict] = []
    links: list[dict] = []

    def flush() -> None:
        if batch:
            conn.execute(table.insert(), batch)
            batch.clear()

    with open(source, "rb") as lines:
        for line in lines:
            row = decode_row(codecs, json.loads(line))
            if own and any(row[c] is not None for c in own):
                links.append({**{f"k_{c}": row[c] for c in pk},
                              **{f"v_{c}": row[c] for c in own}})
                row.update({c: None for c in own})
            batch.append(row)
            count += 1
            if len(batch) >= INSERT_BATCH:
                flush()
    flush()
    if links:
        where = sa.and_(*[table.c[c] == sa.bindparam(f"k_{c}") for c in pk])
        conn.execute(table.update().where(where).values({c: sa.bindparam(f"v_{c}")
                                                         for c in own}), links)
    return count


def _reset_sequences(conn: Connection) -> None:
    """PostgreSQL: every serial/identity column's sequence continues after the largest id."""
    if conn.dialect.name != "postgresql":
        return
    quote = conn.dialect.identifier_preparer.quote
    for table in tables():
        for column in table.primary_key.columns:
            sequence = conn.execute(sa.text("SELECT pg_get_serial_sequence(:t, :c)"),
                                    {"t": quote(table.name), "c": column.name}).scalar()
            if sequence:
                conn.execute(sa.text(
                    f"SELECT setval(:s, COALESCE((SELECT MAX({quote(column.name)}) FROM "
                    f"{quote(table.name)}), 0) + 1, false)"), {"s": sequence})


def _put_files(path: Path, expected: dict, storage, written: list[str]) -> None:
    """Stores the archive's files, checking each hash again as it is written (the archive
    could change after it was verified); ``written`` gets every key stored."""
    with tarfile.open(path, "r|*") as archive:
        for info, source in _members(archive):
            item = expected.get(info.name)
            if item is None:
                continue
            hashing = _Hashing(source)
            written.append(item["key"])
            storage.put(item["key"], hashing)
            if hashing.sha256.hexdigest() != item["sha256"]:
                raise BackupError(N_("{name} in the archive does not match its SHA-256 in "
                                     "the manifest (altered or damaged); nothing was "
                                     "restored."), name=info.name)


def restore_backup(path: str | os.PathLike, *, engine: Engine | None = None,
                   storage=None) -> RestoreSummary:
    """Rebuilds an empty installation (database migrated, no rows; storage without files)
    from the archive at ``path``. Refuses (BackupError) before writing anything when the
    target is not empty or the archive is not intact or not of the code's schema revision."""
    from app.db import get_engine
    from app.storage import get_storage

    engine = engine or get_engine()
    storage = storage or get_storage()
    path = Path(path)
    revision = code_revision()
    with engine.connect() as conn:  # refuse early, before reading a large archive
        with conn.begin():
            _check_database_revision(conn, revision)
            _lock_and_check_empty(conn)
    _check_storage_empty(storage)
    with tempfile.TemporaryDirectory(prefix="giaibao-restore-") as work:
        verified = verify_archive(path, Path(work))
        manifest = verified.manifest
        expected = {f"files/{f['key']}": f for f in manifest["files"]}
        written: list[str] = []
        rows: dict[str, int] = {}
        try:
            with engine.connect() as conn, conn.begin():
                _check_database_revision(conn, revision)
                _lock_and_check_empty(conn)
                _check_storage_empty(storage)
                try:
                    _put_files(path, expected, storage, written)
                except (tarfile.TarError, EOFError, zlib.error) as err:  # changed meanwhile
                    raise _damaged(path, str(err) or type(err).__name__) from None
                for table in tables():
                    rows[table.name] = _insert_rows(conn, table,
                                                    verified.table_files[table.name])
                _reset_sequences(conn)
        except BaseException:
            for key in written:
                try:
                    storage.delete_key(key)
                except OSError:
                    pass
            raise
    return RestoreSummary(revision, manifest["dialect"], rows, len(written),
                          sum(f["size"] for f in manifest["files"]))
