"""File storage in an S3-compatible object store (``GIAIBAO_STORAGE=s3``), with boto3.

The same interface as ``app.storage.LocalStorage``; keys are the same (entry files
``[0-9a-f]{32}``, other files ``<area>/<name>``) under the optional ``GIAIBAO_S3_PREFIX``.

- An upload streams in as it arrives: hashed and sniffed on the way, with the size limit and
  the kind check of the local backend. Bytes are held in memory up to one part
  (``GIAIBAO_S3_PART_MIB``); a full part is sent as a part of a multipart upload, started
  then. A file smaller than a part is one ``put_object`` at ``finish``. ``abort`` aborts the
  multipart upload, so nothing is left. The writer never makes a network call from
  ``write``: it sets ``pending`` and the caller runs ``flush`` in a thread (see
  ``app.entries.uploads``), so the event loop never waits on the store.
- A download proxies the object in chunks with Range support (``S3ObjectResponse``).
- The sweep deletes entry objects no row points at once older than the grace period, and
  aborts multipart uploads that received nothing for ``GIAIBAO_S3_ABANDONED_UPLOAD_MINUTES``
  (a killed server's); a live upload sends a part every few MiB and is never touched.
- A store that cannot be reached, refuses our credentials or has no bucket answers 507 when
  storing and 503 when reading, with our message; the client has short timeouts, so a
  request never hangs on a store that is down.
"""

import asyncio
import io
import logging
import uuid
from datetime import datetime, timedelta, timezone

import anyio
import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from starlette.responses import Response

from app.errors import N_, InsufficientStorage, StorageUnavailable
from app.storage import CANNOT_STORE, STORED_NAME, Intake, StoredFile

log = logging.getLogger(__name__)

CANNOT_READ = N_("The server cannot read its stored files right now. Please try again later "
                 "or tell the organizers.")

MIB = 1024 * 1024
DOWNLOAD_CHUNK = 256 * 1024
_MISSING = {"404", "NoSuchKey", "NotFound"}


def _missing(err: ClientError) -> bool:
    return str(err.response.get("Error", {}).get("Code")) in _MISSING


def _on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def cannot_store(err: Exception) -> InsufficientStorage:
    log.error("object storage failure while storing: %s", err)
    return InsufficientStorage(CANNOT_STORE)


def cannot_read(err: Exception) -> StorageUnavailable:
    log.error("object storage failure while reading: %s", err)
    return StorageUnavailable(CANNOT_READ)


class S3UploadWriter(Intake):
    """Receives one file's bytes: hashes, sniffs, enforces the limit, buffers one part.

    ``write`` only buffers (no network); once a part is full ``pending`` is true and
    ``flush`` (blocking: run it in a thread) sends it. A caller off the event loop that never
    flushes still works: ``write`` sends the parts itself once two are buffered (on the loop
    it never does: the upload's caller flushes in a thread after each chunk).
    """

    def __init__(self, storage: "S3Storage", *, max_bytes: int, accept):
        super().__init__(max_bytes=max_bytes, accept=accept)
        self._storage = storage
        self.name = uuid.uuid4().hex
        self._key = storage.object_key(self.name)
        self._buffer = bytearray()
        self._upload_id: str | None = None
        self._parts: list[dict] = []

    @property
    def pending(self) -> bool:
        return len(self._buffer) >= self._storage.part_size

    def write(self, data: bytes) -> None:
        self.take(data)
        self._buffer += data
        if len(self._buffer) >= 2 * self._storage.part_size and not _on_event_loop():
            self.flush()  # a caller that never flushes (off the loop) still holds ≤ 2 parts

    def flush(self) -> None:
        """Sends every full part buffered (blocking)."""
        size = self._storage.part_size
        while len(self._buffer) >= size:
            self._send_part(bytes(self._buffer[:size]))
            del self._buffer[:size]

    def _send_part(self, data: bytes) -> None:
        client, bucket = self._storage.client, self._storage.bucket
        try:
            if self._upload_id is None:
                self._upload_id = client.create_multipart_upload(
                    Bucket=bucket, Key=self._key)["UploadId"]
            number = len(self._parts) + 1
            answer = client.upload_part(Bucket=bucket, Key=self._key, UploadId=self._upload_id,
                                        PartNumber=number, Body=data)
        except (BotoCoreError, ClientError) as err:
            raise cannot_store(err) from err
        self._parts.append({"PartNumber": number, "ETag": answer["ETag"]})

    def finish(self) -> StoredFile:
        """Stores the file under its final key (blocking): one put for a small file, else
        the last part and the completion of the multipart upload."""
        self.checked_kind()
        client, bucket = self._storage.client, self._storage.bucket
        try:
            if self._upload_id is None:
                client.put_object(Bucket=bucket, Key=self._key, Body=bytes(self._buffer))
            else:
                self.flush()
                if self._buffer:
                    self._send_part(bytes(self._buffer))
                client.complete_multipart_upload(
                    Bucket=bucket, Key=self._key, UploadId=self._upload_id,
                    MultipartUpload={"Parts": self._parts})
        except (BotoCoreError, ClientError) as err:
            self.abort()
            raise cannot_store(err) from err
        self._buffer = bytearray()
        return self.stored(self.name)

    def abort(self) -> None:
        """Drops the buffer and aborts the multipart upload (blocking). Never raises: an
        upload it could not abort is left to the sweep."""
        self._buffer = bytearray()
        if self._upload_id is None:
            return
        upload_id, self._upload_id = self._upload_id, None
        try:
            self._storage.client.abort_multipart_upload(
                Bucket=self._storage.bucket, Key=self._key, UploadId=upload_id)
        except (BotoCoreError, ClientError) as err:
            log.error("could not abort the multipart upload of %s: %s", self._key, err)


class S3Storage:
    def __init__(self, client, bucket: str, *, prefix: str = "", part_size: int = 8 * MIB,
                 abandoned_after_seconds: float = 3600):
        self.client = client
        self.bucket = bucket
        self.prefix = prefix
        self.part_size = part_size
        self.abandoned_after_seconds = abandoned_after_seconds

    @classmethod
    def from_settings(cls, settings) -> "S3Storage":
        config = Config(
            connect_timeout=settings.s3_connect_timeout_seconds,
            read_timeout=settings.s3_read_timeout_seconds,
            retries={"max_attempts": 2, "mode": "standard"},
            s3={"addressing_style": settings.s3_addressing_style},
            # Checksums only when the store asks: many S3-compatible stores refuse the
            # newer default trailing checksums.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        client = boto3.session.Session().client(
            "s3", endpoint_url=settings.s3_endpoint_url or None,
            region_name=settings.s3_region,
            aws_access_key_id=settings.s3_access_key_id or None,
            aws_secret_access_key=settings.s3_secret_access_key or None,
            config=config)
        return cls(client, settings.s3_bucket, prefix=settings.s3_prefix,
                   part_size=settings.s3_part_mib * MIB,
                   abandoned_after_seconds=settings.s3_abandoned_upload_minutes * 60)

    # --- keys ---------------------------------------------------------------------------

    def object_key(self, key: str) -> str:
        """The object's key in the bucket of one of our keys (checked as the local one)."""
        from app.storage import _AREA_NAME

        area, slash, name = key.partition("/")
        if not slash:
            if not STORED_NAME.fullmatch(key):
                raise ValueError("not a stored file name")
        elif (not _AREA_NAME.fullmatch(area) or not name or "/" in name
                or name.startswith(".") or name != name.strip()):
            raise ValueError("not a storage key")
        return self.prefix + key

    def _our_key(self, object_key: str) -> str | None:
        from app.storage import _AREA_NAME

        if not object_key.startswith(self.prefix):
            return None
        key = object_key[len(self.prefix):]
        area, slash, name = key.partition("/")
        if not slash:
            return key if STORED_NAME.fullmatch(key) else None
        if _AREA_NAME.fullmatch(area) and name and "/" not in name and not name.startswith("."):
            return key
        return None

    # --- the interface --------------------------------------------------------------------

    def is_writable(self) -> bool:
        """Whether the bucket answers to our credentials (for /healthz)."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except (BotoCoreError, ClientError) as err:
            log.error("object storage unavailable: %s", err)
            return False
        return True

    def open_writer(self, *, max_bytes: int, accept) -> S3UploadWriter:
        return S3UploadWriter(self, max_bytes=max_bytes, accept=accept)

    def _head(self, key: str) -> dict | None:
        try:
            return self.client.head_object(Bucket=self.bucket, Key=self.object_key(key))
        except ClientError as err:
            if _missing(err) and self.is_writable():
                return None  # a HEAD's 404 says not which is missing: the bucket is there
            raise cannot_read(err) from err
        except BotoCoreError as err:
            raise cannot_read(err) from err

    def exists(self, name: str) -> bool:
        if not STORED_NAME.fullmatch(name):
            raise ValueError("not a stored file name")
        return self._head(name) is not None

    def has(self, key: str) -> bool:
        return self._head(key) is not None

    def delete(self, name: str) -> None:
        """Deletes an entry file; a failure is logged (the sweep removes it later)."""
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self.object_key(name))
        except (BotoCoreError, ClientError) as err:
            log.error("could not delete %s from the object storage: %s", name, err)

    def delete_key(self, key: str) -> None:
        """Removes the object of a key, if there is one (a restore undoing what it wrote)."""
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self.object_key(key))
        except (BotoCoreError, ClientError) as err:
            log.error("could not delete %s from the object storage: %s", key, err)

    def keys(self) -> list[str]:
        return sorted(key for key, _ in self._objects())

    def _objects(self):
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self.prefix)
            for page in pages:
                for item in page.get("Contents", ()):
                    key = self._our_key(item["Key"])
                    if key is not None:
                        yield key, item["LastModified"]
        except (BotoCoreError, ClientError) as err:
            raise cannot_read(err) from err

    def open_read(self, key: str):
        """The key's bytes as a binary file object (streamed; the caller closes it)."""
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self.object_key(key))["Body"]
        except (BotoCoreError, ClientError) as err:
            raise cannot_read(err) from err

    def put(self, key: str, source) -> None:
        """Stores a binary file object's bytes under a key (an object appears whole or not
        at all); large sources go as a multipart upload."""
        try:
            self.client.upload_fileobj(source, self.bucket, self.object_key(key))
        except (BotoCoreError, ClientError) as err:
            raise cannot_store(err) from err

    def put_bytes(self, key: str, data: bytes) -> None:
        self.put(key, io.BytesIO(data))

    def response(self, key: str, *, media_type: str, headers: dict[str, str]) -> Response:
        head = self._head(key)
        if head is None:
            raise cannot_read(FileNotFoundError(key))
        return S3ObjectResponse(self, self.object_key(key), size=head["ContentLength"],
                                media_type=media_type, headers=headers)

    def sweep(self, referenced: set[str], *, older_than_seconds: int = 600,
              abandoned_after_seconds: float | None = None) -> list[str]:
        """Deletes entry objects no row points at once older than ``older_than_seconds``,
        and aborts multipart uploads of entry files that received no part for
        ``abandoned_after_seconds`` (by default the setting). Returns what it removed: the
        object names, and ``<name>.part`` for each upload aborted."""
        if abandoned_after_seconds is None:
            abandoned_after_seconds = self.abandoned_after_seconds
        now = datetime.now(timezone.utc)
        removed = []
        try:
            for key, modified in list(self._objects()):
                if ("/" not in key and key not in referenced
                        and modified <= now - timedelta(seconds=older_than_seconds)):
                    self.client.delete_object(Bucket=self.bucket, Key=self.object_key(key))
                    removed.append(key)
            removed += self._abort_abandoned(now - timedelta(seconds=abandoned_after_seconds))
        except (BotoCoreError, ClientError, StorageUnavailable) as err:
            log.error("cannot sweep the object storage: %s", err)
        return removed

    def _abort_abandoned(self, limit: datetime) -> list[str]:
        aborted = []
        pages = self.client.get_paginator("list_multipart_uploads").paginate(
            Bucket=self.bucket, Prefix=self.prefix)
        for page in pages:
            for upload in page.get("Uploads", ()):
                name = self._our_key(upload["Key"])
                if name is None or "/" in name or upload["Initiated"] > limit:
                    continue
                parts = self.client.list_parts(Bucket=self.bucket, Key=upload["Key"],
                                               UploadId=upload["UploadId"]).get("Parts", ())
                if any(part["LastModified"] > limit for part in parts):
                    continue  # still receiving parts: a live upload
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=upload["Key"],
                                                   UploadId=upload["UploadId"])
                aborted.append(f"{name}.part")
        return aborted


def parse_range(header: str | None, size: int) -> tuple[int, int] | None | str:
    """The one byte range (first, last) a Range header asks of ``size`` bytes; None when
    there is none to honour (no header, several ranges, not bytes: the whole file is sent);
    "unsatisfiable" when it asks only beyond the end."""
    if not header:
        return None
    unit, _, spec = header.strip().partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    first, last = first.strip(), last.strip()
    if not dash or not (first.isdigit() or last.isdigit()) \
            or (first and not first.isdigit()) or (last and not last.isdigit()):
        return None
    if not first:  # the last N bytes
        suffix = int(last)
        if suffix == 0 or size == 0:
            return "unsatisfiable"
        return max(size - suffix, 0), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if last and int(last) < start:
        return None  # invalid: ignored
    if start >= size:
        return "unsatisfiable"
    return start, end


class S3ObjectResponse(Response):
    """An object proxied to the client in chunks, never whole in memory: 200 with the whole
    object, 206 with ``Content-Range`` for a single satisfiable range, 416 for one beyond
    the end. Blocking reads run in a thread."""

    def __init__(self, storage: S3Storage, object_key: str, *, size: int, media_type: str,
                 headers: dict[str, str]):
        super().__init__(content=None, media_type=media_type, headers=headers)
        self.storage = storage
        self.object_key = object_key
        self.size = size
        self.headers["accept-ranges"] = "bytes"

    async def __call__(self, scope, receive, send) -> None:
        request_headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                           for k, v in scope.get("headers", ())}
        wanted = parse_range(request_headers.get("range"), self.size)
        if wanted == "unsatisfiable":
            del self.headers["content-type"]
            self.headers["content-range"] = f"bytes */{self.size}"
            self.headers["content-length"] = "0"
            await send({"type": "http.response.start", "status": 416,
                        "headers": self.raw_headers})
            await send({"type": "http.response.body", "body": b""})
            return
        extra = {}
        if wanted is None:
            status, length = 200, self.size
        else:
            first, last = wanted
            status, length = 206, last - first + 1
            extra["Range"] = f"bytes={first}-{last}"
            self.headers["content-range"] = f"bytes {first}-{last}/{self.size}"
        self.headers["content-length"] = str(length)
        body = None
        if scope.get("method") != "HEAD" and length:
            try:
                body = (await anyio.to_thread.run_sync(lambda: self.storage.client.get_object(
                    Bucket=self.storage.bucket, Key=self.object_key, **extra)))["Body"]
            except (BotoCoreError, ClientError) as err:
                raise cannot_read(err) from err
        await send({"type": "http.response.start", "status": status,
                    "headers": self.raw_headers})
        if body is None:
            await send({"type": "http.response.body", "body": b""})
            return
        try:
            while True:
                chunk = await anyio.to_thread.run_sync(body.read, DOWNLOAD_CHUNK)
                if not chunk:
                    break
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        finally:
            body.close()
