"""File storage: streams, sniffs, hashes, stores and deletes uploaded files.

Nothing else in the app builds a path below the upload directory. Files are written to a
``.part`` name while they stream in and renamed to their final generated name only when
complete, so a cut-off upload never leaves a file that looks finished. The interface
(``open_writer``/``path_of``/``delete``) is what an object store would implement.
"""

import hashlib
import os
import re
import time
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import Path

from app.config import get_settings

SNIFF_BYTES = 64


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


_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')


def clean_filename(name: str | None) -> str:
    """The client's file name, kept for downloads: NFC, no directories, no control chars."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("", name).strip().lstrip(".").strip()
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 190] + dot + ext[:9]) if dot and len(ext) < 10 else name[:200]
    return name or "tep"


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


class UploadWriter:
    """Receives one file's bytes in chunks: writes, hashes, sniffs, and enforces the limit.

    ``accept(sniffed)`` is called once the first bytes are in; returning False stops the
    upload at once. Call ``finish()`` on success or ``abort()`` on any failure.
    """

    def __init__(self, storage: "LocalStorage", *, max_bytes: int, accept):
        self._storage = storage
        self.name = uuid.uuid4().hex
        self._part = storage.root / f"{self.name}.part"
        self._fh = open(self._part, "wb")  # noqa: SIM115 (closed in finish/abort)
        self._hash = hashlib.sha256()
        self._head = b""
        self._sniffed: Sniffed | None = None
        self._checked = False
        self._accept = accept
        self.max_bytes = max_bytes
        self.size = 0

    def write(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.max_bytes:
            raise SizeExceeded()
        if not self._checked:
            self._head += data[: SNIFF_BYTES - len(self._head)]
            if len(self._head) >= SNIFF_BYTES:
                self._check()
        self._hash.update(data)
        self._fh.write(data)

    def _check(self) -> None:
        self._checked = True
        self._sniffed = sniff(self._head)
        if self._sniffed is None or not self._accept(self._sniffed):
            raise KindRefused(self._sniffed)

    def finish(self) -> StoredFile:
        if not self._checked:
            self._check()
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()
        os.replace(self._part, self._storage.root / self.name)
        return StoredFile(self.name, self.size, self._hash.hexdigest(), self._sniffed.kind,
                          self._sniffed.content_type)

    def abort(self) -> None:
        if not self._fh.closed:
            self._fh.close()
        self._part.unlink(missing_ok=True)


class LocalStorage:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def open_writer(self, *, max_bytes: int, accept) -> UploadWriter:
        return UploadWriter(self, max_bytes=max_bytes, accept=accept)

    def path_of(self, name: str) -> Path:
        if not re.fullmatch(r"[0-9a-f]{32}", name):
            raise ValueError("not a stored file name")
        return self.root / name

    def exists(self, name: str) -> bool:
        return self.path_of(name).exists()

    def delete(self, name: str) -> None:
        self.path_of(name).unlink(missing_ok=True)

    def sweep(self, referenced: set[str], *, older_than_seconds: int = 600) -> list[str]:
        """Removes parts and files no row points at (left by a crash), once untouched long
        enough not to belong to an upload still in progress (a live upload keeps writing,
        so its modification time stays fresh)."""
        removed = []
        limit = time.time() - older_than_seconds
        for path in self.root.iterdir():
            stem = path.name.removesuffix(".part")
            if not re.fullmatch(r"[0-9a-f]{32}", stem):
                continue
            if path.name in referenced or path.stat().st_mtime > limit:
                continue
            path.unlink(missing_ok=True)
            removed.append(path.name)
        return removed


_storage: LocalStorage | None = None


def get_storage() -> LocalStorage:
    global _storage
    root = Path(get_settings().upload_dir)
    if _storage is None or _storage.root != root:
        _storage = LocalStorage(root)
    return _storage
