"""File storage: streams, sniffs, hashes, stores and deletes uploaded files.

Nothing else in the app builds a path below the upload directory. Files are written to a
``.part`` name while they stream in and renamed to their final generated name only when
complete, so a cut-off upload never leaves a file that looks finished.

Layout of the upload directory:

- entry files live directly in it, named ``[0-9a-f]{32}`` (finished) or ``[0-9a-f]{32}.part``
  (still streaming in); these, and only these, are what ``sweep`` considers;
- other files (exports, certificates…) live in named sub-folders, ``area("exports")``, which the
  sweep never enters.

A ``.part`` file is held under an exclusive advisory lock (``flock``) by the process writing
it, from its creation until it is renamed or removed, so a sweep (from any process sharing the
folder) removes a ``.part`` only when no running process is writing it: one left by a killed
server is removed at once, a live one never.

Storage failures (a full disk, a quota, a folder that cannot be created or written) raise
``InsufficientStorage`` (507) instead of escaping as a 500.

Two backends implement the same interface, chosen by ``GIAIBAO_STORAGE``: ``LocalStorage``
(the folder, the default) and ``app.storage_s3.S3Storage`` (an S3-compatible object store).
The interface: ``open_writer`` (a writer with ``write``/``pending``/``flush``/``finish``/
``abort``), ``exists``/``delete`` of entry files, ``has``/``put``/``open_read``/``keys`` of
any key (``<32 hex>`` or ``<area>/<name>``), ``response`` (a download of a key, Range
supported), ``sweep`` and ``is_writable``.
"""

import errno
import fcntl
import hashlib
import logging
import os
import re
import shutil
import stat
import tempfile
import time
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import Path

from app.config import get_settings
from app.errors import N_, InsufficientStorage

log = logging.getLogger(__name__)

SNIFF_BYTES = 64

STORED_NAME = re.compile(r"[0-9a-f]{32}")
_SWEPT_NAME = re.compile(r"[0-9a-f]{32}(\.part)?")
_AREA_NAME = re.compile(r"[a-z][a-z0-9-]{0,30}")

# The errors that mean "the server cannot store this now": answered 507, not 500.
STORAGE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EROFS,
                            errno.EFBIG, errno.ENOENT, errno.ENOTDIR})

CANNOT_STORE = N_("The server cannot store files right now: its storage is full or cannot be "
                  "written. Please try again later or tell the organizers.")


def storage_error(err: OSError) -> Exception:
    """The error to raise for an OSError met while storing: 507 for a storage failure."""
    if err.errno in STORAGE_ERRNOS:
        log.error("upload storage failure: %s", err)
        return InsufficientStorage(CANNOT_STORE)
    return err


@dataclass(frozen=True)
class Sniffed:
    kind: str
    content_type: str


# Every content type sniff() gives: what a stored file is served as (declared in the API schema).
CONTENT_TYPES = ("application/pdf", "image/jpeg", "image/png", "image/tiff", "audio/wav",
                 "audio/mpeg", "audio/mp4", "video/mp4", "video/quicktime")


def sniff(head: bytes) -> Sniffed | None:
    """The kind of a file from its first bytes; None when it is none we accept."""
    if head.startswith(b"%PDF-"):
        return Sniffed("pdf", "application/pdf")
    if head.startswith(b"\xff\xd8\xff"):
        return Sniffed("image", "image/jpeg")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return Sniffed("image", "image/png")
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return Sniffed("image", "image/tiff")
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return Sniffed("audio", "audio/wav")
    if head.startswith(b"ID3"):
        return Sniffed("audio", "audio/mpeg")
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and head[1] & 0x06:
        return Sniffed("audio", "audio/mpeg")  # an MPEG audio frame header
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"M4A ", b"M4B ", b"M4P "):
            return Sniffed("audio", "audio/mp4")
        if brand == b"qt  ":
            return Sniffed("video", "video/quicktime")
        return Sniffed("video", "video/mp4")
    if head[4:8] in (b"moov", b"mdat", b"wide", b"free", b"pnot"):
        return Sniffed("video", "video/quicktime")
    return None


# The extensions each sniffed content type may carry; the first is the one given.
EXTENSIONS = {
    "application/pdf": ("pdf",),
    "image/jpeg": ("jpg", "jpeg", "jpe"),
    "image/png": ("png",),
    "image/tiff": ("tif", "tiff"),
    "audio/wav": ("wav",),
    "audio/mpeg": ("mp3",),
    "audio/mp4": ("m4a", "m4b", "m4p"),
    "video/mp4": ("mp4", "m4v"),
    "video/quicktime": ("mov", "qt"),
}

# The kind each content type is stored as (the categories accept kinds).
KIND_OF_TYPE = {t: "pdf" if t == "application/pdf" else t.split("/")[0] for t in CONTENT_TYPES}


def accept_attribute(kinds: list[str]) -> str:
    """A file picker's ``accept`` for the kinds a category takes: their extensions and
    content types (the check on the server stays the content's)."""
    types = [t for t in CONTENT_TYPES if KIND_OF_TYPE[t] in kinds]
    return ",".join([f".{ext}" for t in types for ext in EXTENSIONS[t]] + types)


# Characters never kept in a name: control and format characters (among them the bidi
# embeddings, overrides and isolates U+202A–U+202E and U+2066–U+2069, the marks U+200E, U+200F
# and U+061C, zero-width characters and the BOM), lone surrogates, line and paragraph
# separators.
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_UNSAFE = re.compile(r'[/\\:*?"<>|]')
_EDGES = re.compile(r"^[\s.]+|[\s.]+$")
_EXTENSION = re.compile(r"[A-Za-z0-9]{1,10}")
MAX_NAME = 200


def clean_filename(name: str | None) -> str:
    """The client's file name, kept for downloads: NFC, no directories, no control or format
    characters (bidi tricks included), no characters Windows refuses, no leading or trailing
    dots and spaces; at most 200 characters."""
    name = "".join(ch for ch in name or "" if unicodedata.category(ch) not in _DROPPED_CATEGORIES)
    name = unicodedata.normalize("NFC", name)
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _EDGES.sub("", _UNSAFE.sub("", name))
    if len(name) > MAX_NAME:
        stem, ext = _split_extension(name)
        name = (stem[: MAX_NAME - 10] + "." + ext) if ext else name[:MAX_NAME]
    return name or "tep"


def _split_extension(name: str) -> tuple[str, str]:
    """(stem, extension): the extension is what follows the last dot when it is 1–10 ASCII
    letters or digits after a non-empty stem, else ''."""
    stem, dot, ext = name.rpartition(".")
    if dot and stem and _EXTENSION.fullmatch(ext):
        return stem, ext
    return name, ""


def download_name(filename: str | None, content_type: str) -> str:
    """The name a stored file is shown and downloaded under: the author's name, cleaned, with
    the extension of the kind its content was judged to be.

    Only the last extension counts (it is the one an operating system opens the file by): it
    is kept when it fits the content (``ANH.JPEG`` stays), otherwise replaced
    (``bao-cao.hta`` that is a PDF becomes ``bao-cao.pdf``, ``anh.jpg.exe`` that is a PNG
    becomes ``anh.jpg.png``), and a name without one gets one (``bai viet`` →
    ``bai viet.pdf``). Applying it twice changes nothing.
    """
    name = clean_filename(filename)
    allowed = EXTENSIONS.get(content_type)
    if not allowed:
        return name
    stem, ext = _split_extension(name)
    if ext.lower() in allowed:
        return name
    stem = stem[: MAX_NAME - len(allowed[0]) - 1]
    return f"{stem}.{allowed[0]}"


class SizeExceeded(Exception):
    pass


class KindRefused(Exception):
    def __init__(self, sniffed: Sniffed | None):
        self.sniffed = sniffed


@dataclass(frozen=True)
class StoredFile:
    name: str
    size: int
    sha256: str
    kind: str
    content_type: str


def _same_file(path: Path, fd: int) -> bool:
    try:
        on_disk = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (on_disk.st_dev, on_disk.st_ino) == (held.st_dev, held.st_ino)


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


class Intake:
    """What every backend's writer does with the bytes as they arrive, in one place: the
    size limit, the sniffing of the first bytes (``accept(sniffed)`` decides), the SHA-256.
    ``take(data)`` before storing them; ``checked_kind()`` at the end (a file shorter than
    the sniffing window is judged then)."""

    def __init__(self, *, max_bytes: int, accept):
        self._hash = hashlib.sha256()
        self._head = b""
        self._sniffed: Sniffed | None = None
        self._checked = False
        self._accept = accept
        self.max_bytes = max_bytes
        self.size = 0

    def take(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.max_bytes:
            raise SizeExceeded()
        if not self._checked:
            self._head += data[: SNIFF_BYTES - len(self._head)]
            if len(self._head) >= SNIFF_BYTES:
                self._check()
        self._hash.update(data)

    def _check(self) -> None:
        self._checked = True
        self._sniffed = sniff(self._head)
        if self._sniffed is None or not self._accept(self._sniffed):
            raise KindRefused(self._sniffed)

    def checked_kind(self) -> Sniffed:
        if not self._checked:
            self._check()
        return self._sniffed

    def stored(self, name: str) -> "StoredFile":
        return StoredFile(name, self.size, self._hash.hexdigest(), self._sniffed.kind,
                          self._sniffed.content_type)


class UploadWriter(Intake):
    """Receives one file's bytes in chunks: writes, hashes, sniffs, and enforces the limit.

    ``accept(sniffed)`` is called once the first bytes are in; returning False stops the
    upload at once. Call ``finish()`` on success or ``abort()`` on any failure. The ``.part``
    file is locked (``flock``) from its creation until ``finish``/``abort``.
    Raises ``InsufficientStorage`` when the file cannot be created, written or kept.
    """

    def __init__(self, storage: "LocalStorage", *, max_bytes: int, accept):
        super().__init__(max_bytes=max_bytes, accept=accept)
        self._storage = storage
        self.name, self._part, fd = self._create_locked_part(storage)
        self._fh = os.fdopen(fd, "wb")

    @staticmethod
    def _create_locked_part(storage: "LocalStorage") -> tuple[str, Path, int]:
        """Creates a new ``.part`` and locks it. A sweep may, between the creation and the
        lock, take the lock and remove the file: then the path no longer names our file (or
        the lock is taken) and we start again under another name."""
        storage.ensure_root()
        while True:
            name = uuid.uuid4().hex
            part = storage.root / f"{name}.part"
            try:
                fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
            except OSError as err:
                raise storage_error(err) from err
            if _try_lock(fd) and _same_file(part, fd):
                return name, part, fd
            os.close(fd)

    # The local writer writes as it goes: it never holds a part back for the caller to flush.
    pending = False

    def flush(self) -> None:
        pass

    def write(self, data: bytes) -> None:
        self.take(data)
        try:
            self._fh.write(data)
        except OSError as err:
            raise storage_error(err) from err

    def finish(self) -> StoredFile:
        """Makes the file durable under its final name (data, then the rename), then
        releases the lock. The caller records the row at once: the file is unreferenced
        until then, and the sweep leaves unreferenced files alone while they are fresh."""
        self.checked_kind()
        final = self._storage.root / self.name
        try:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            os.replace(self._part, final)
        except OSError as err:
            raise storage_error(err) from err
        try:
            self._storage.sync_root()
        except OSError as err:
            final.unlink(missing_ok=True)
            raise storage_error(err) from err
        self._fh.close()  # releases the lock
        return self.stored(self.name)

    def abort(self) -> None:
        """Removes the partial file (before releasing its lock). Never raises for the disk:
        closing may fail to flush what a full disk refused."""
        try:
            self._part.unlink(missing_ok=True)
        except OSError as err:
            log.error("could not remove %s: %s", self._part, err)
        try:
            self._fh.close()
        except OSError:
            pass


class LocalStorage:
    def __init__(self, root: Path):
        self.root = Path(root)
        try:
            self.ensure_root()
        except InsufficientStorage:
            pass  # start anyway: uploads answer 507 and /healthz 503 until it is fixed

    def ensure_root(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise storage_error(err) from err

    def is_writable(self) -> bool:
        """Whether the upload folder exists (or could be created) and may be written."""
        try:
            self.ensure_root()
        except (InsufficientStorage, OSError):
            return False
        return self.root.is_dir() and os.access(self.root, os.W_OK | os.X_OK)

    def sync_root(self) -> None:
        fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def open_writer(self, *, max_bytes: int, accept) -> UploadWriter:
        return UploadWriter(self, max_bytes=max_bytes, accept=accept)

    def path_of(self, name: str) -> Path:
        if not STORED_NAME.fullmatch(name):
            raise ValueError("not a stored file name")
        return self.root / name

    def exists(self, name: str) -> bool:
        return self.path_of(name).exists()

    def delete(self, name: str) -> None:
        self.path_of(name).unlink(missing_ok=True)

    def has(self, key: str) -> bool:
        """Whether a key (an entry file or ``<area>/<name>``) is stored."""
        return self._key_path(key).is_file()

    def response(self, key: str, *, media_type: str, headers: dict[str, str]):
        """A download of the key's bytes (Range requests answered by Starlette)."""
        from starlette.responses import FileResponse

        return FileResponse(self._key_path(key), media_type=media_type, headers=headers)

    def area(self, name: str) -> Path:
        """A sub-folder for files that are not entry uploads (exports, certificates…),
        created if needed; the sweep never enters it."""
        if not _AREA_NAME.fullmatch(name):
            raise ValueError("not a storage area name")
        path = self.root / name
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise storage_error(err) from err
        return path

    # --- whole-store access (backup and restore; an object store implements the same) ---

    def _key_path(self, key: str) -> Path:
        """The path of a key: an entry file ``[0-9a-f]{32}`` or ``<area>/<name>``."""
        area, slash, name = key.partition("/")
        if not slash:
            return self.path_of(key)
        if (not _AREA_NAME.fullmatch(area) or not name or "/" in name
                or name.startswith(".") or name != name.strip()):
            raise ValueError("not a storage key")
        return self.root / area / name

    def keys(self):
        """Every finished stored file as a key: entry files by name, the files of areas as
        ``<area>/<name>`` (temporary and ``.part`` files left out), sorted."""
        found = []
        if not self.root.is_dir():
            return found
        for path in self.root.iterdir():
            if path.is_file() and STORED_NAME.fullmatch(path.name):
                found.append(path.name)
            elif path.is_dir() and _AREA_NAME.fullmatch(path.name):
                found.extend(f"{path.name}/{f.name}" for f in path.iterdir()
                             if f.is_file() and not f.name.startswith("."))
        return sorted(found)

    def open_read(self, key: str):
        """The stored bytes of a key as a binary file object (the caller closes it)."""
        return open(self._key_path(key), "rb")

    def put(self, key: str, source) -> None:
        """Stores a binary file object's bytes under a key, atomically (temporary file, then
        rename): a reader never sees half a file."""
        path = self._key_path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as out:
                    shutil.copyfileobj(source, out, 1024 * 1024)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(temp, path)
            except BaseException:
                Path(temp).unlink(missing_ok=True)
                raise
        except OSError as err:
            raise storage_error(err) from err

    def delete_key(self, key: str) -> None:
        """Removes the file of a key, if there is one (a restore undoing what it wrote)."""
        self._key_path(key).unlink(missing_ok=True)

    def sweep(self, referenced: set[str], *, older_than_seconds: int = 600,
              abandoned_after_seconds: float | None = None) -> list[str]:
        """Removes what crashes left behind among the entry files (regular files directly in
        the folder named ``[0-9a-f]{32}`` or ``[0-9a-f]{32}.part``; nothing else is looked at):

        - a ``.part`` whose lock it can take, whatever its age: no running process is writing
          it (a writer holds the lock from creation to finish);
        - a finished file no row points at, once untouched for ``older_than_seconds`` (a file
          is renamed from ``.part`` just before its row is committed).

        ``abandoned_after_seconds`` is the object store's (locks tell abandoned parts here).
        """
        removed = []
        limit = time.time() - older_than_seconds
        try:
            paths = list(self.root.iterdir())
        except OSError as err:
            log.error("cannot sweep the upload folder: %s", err)
            return removed
        for path in paths:
            if not _SWEPT_NAME.fullmatch(path.name):
                continue
            try:
                info = path.lstat()
            except FileNotFoundError:
                continue
            if not stat.S_ISREG(info.st_mode):
                continue
            if path.name.endswith(".part"):
                if self._remove_abandoned_part(path):
                    removed.append(path.name)
            elif path.name not in referenced and info.st_mtime <= limit:
                path.unlink(missing_ok=True)
                removed.append(path.name)
        return removed

    @staticmethod
    def _remove_abandoned_part(path: Path) -> bool:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except FileNotFoundError:
            return False
        try:
            if not _try_lock(fd) or not _same_file(path, fd):
                return False  # being written, or already renamed or removed
            path.unlink(missing_ok=True)
            return True
        finally:
            os.close(fd)


_storage = None
_storage_config = None


def _config(settings) -> tuple:
    if settings.storage == "s3":
        return ("s3", settings.s3_bucket, settings.s3_endpoint_url, settings.s3_region,
                settings.s3_access_key_id, settings.s3_secret_access_key, settings.s3_prefix,
                settings.s3_addressing_style, settings.s3_part_mib,
                settings.s3_connect_timeout_seconds, settings.s3_read_timeout_seconds)
    return ("local", Path(settings.upload_dir))


def get_storage():
    """The storage the settings choose (``GIAIBAO_STORAGE``): made once per configuration."""
    global _storage, _storage_config
    settings = get_settings()
    config = _config(settings)
    if _storage is None or _storage_config != config:
        if config[0] == "s3":
            from app.storage_s3 import S3Storage

            _storage = S3Storage.from_settings(settings)
        else:
            _storage = LocalStorage(config[1])
        _storage_config = config
    return _storage
