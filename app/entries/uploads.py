"""Receiving an upload from the HTTP body, shared by the API and the pages.

The multipart body is parsed as it arrives (python-multipart's push parser fed from
``request.stream()``) and the file part goes straight into storage while it is hashed and
sniffed: no whole file in memory, no temporary copy, and the size limit and the kind check
stop the upload as soon as they fail. Any failure removes the partial file; a storage failure
(full disk, unwritable folder) raises ``InsufficientStorage`` (507) from the storage layer.
The writer's network calls (an object store's parts, its completion or abort) run in a thread,
never on the event loop: after each chunk a writer holding a full part (``pending``) is
flushed in a thread.
"""

from urllib.parse import quote, unquote

from collections.abc import Callable

from fastapi import Request
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
import anyio
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from app.entries import files as entry_files
from app.errors import N_, BadRequest, Invalid
from app.limits import allow_body
from app.storage import KindRefused, SizeExceeded, StoredFile, UploadWriter, clean_filename, \
    get_storage

# Room for the multipart envelope (and a few small fields) around the file: the whole body
# may be at most the file's limit plus this.
ENVELOPE_BYTES = 64 * 1024
# A part's headers are a few hundred bytes; more is an attack on memory.
MAX_PART_HEADER_BYTES = 8 * 1024
# The CSRF token a page form sends before its file (64 hex characters).
MAX_TOKEN_BYTES = 256

CsrfCheck = Callable[[str | None], None]


class _FilePart:
    def __init__(self, max_bytes: int, kinds: list[str], csrf: CsrfCheck | None):
        self.max_bytes = max_bytes
        self.kinds = kinds
        self.csrf = csrf
        self.token = b""
        self._in_token = False
        self._header_bytes = 0
        self.writer: UploadWriter | None = None
        self.filename: str | None = None
        self.done = False
        self._header_field = b""
        self._header_value = b""
        self._headers: dict[bytes, bytes] = {}
        self._in_file = False

    # python-multipart callbacks ---------------------------------------------------------
    def on_part_begin(self):
        self._headers = {}
        self._header_bytes = 0
        self._in_file = self._in_token = False

    def _count_header(self, size: int) -> None:
        self._header_bytes += size
        if self._header_bytes > MAX_PART_HEADER_BYTES:
            raise BadRequest(N_("The upload could not be read: a part's headers are too long."))

    def on_header_field(self, data, start, end):
        self._count_header(end - start)
        self._header_field += data[start:end]

    def on_header_value(self, data, start, end):
        self._count_header(end - start)
        self._header_value += data[start:end]

    def on_header_end(self):
        self._headers[self._header_field.lower()] = self._header_value
        self._header_field = self._header_value = b""

    def on_headers_finished(self):
        disposition, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        if options.get(b"name") == b"csrf_token" and b"filename" not in options:
            self._in_token = True
            return
        if options.get(b"name") != b"file" or self.writer is not None:
            return
        # A page form's token comes before its file: nothing is stored without it.
        self.check_token()
        raw = options.get(b"filename*")
        if raw and raw.lower().startswith(b"utf-8''"):
            name = unquote(raw[7:].decode("latin-1"), encoding="utf-8", errors="replace")
        else:
            name = (options.get(b"filename") or b"").decode("utf-8", errors="replace")
        self.filename = clean_filename(name)
        self.writer = get_storage().open_writer(
            max_bytes=self.max_bytes, accept=lambda sniffed: sniffed.kind in self.kinds)
        self._in_file = True

    def check_token(self) -> None:
        """Runs the CSRF check once, on the token received so far (raises if wrong)."""
        if self.csrf is not None:
            check, self.csrf = self.csrf, None
            check(self.token.decode("utf-8", "replace") if self.token else None)

    def on_part_data(self, data, start, end):
        if self._in_file:
            self.writer.write(data[start:end])
        elif self._in_token and len(self.token) + end - start <= MAX_TOKEN_BYTES:
            self.token += data[start:end]

    def on_part_end(self):
        if self._in_file:
            self._in_file = False
            self.done = True


async def receive_file(request: Request, *, max_bytes: int, kinds: list[str],
                       csrf: CsrfCheck | None = None) -> tuple[StoredFile, str]:
    """Streams the ``file`` field of a multipart body into storage.

    Raises 413 over ``max_bytes``, 415 for a kind not in ``kinds`` (judged by content),
    422 when there is no file or it is empty, 507 when storage cannot take it, 400 for a
    body that is not well-formed multipart. The whole body may hold the file's limit plus a
    small envelope (413 beyond, whatever the other fields hold). With ``csrf``, a
    ``csrf_token`` field must come before the file and pass ``csrf(token)`` (which raises).
    The name returned is the client's, cleaned; ``entry_files.attach_file`` gives it its final
    extension.
    """
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    if content_type != b"multipart/form-data" or not params.get(b"boundary"):
        raise Invalid(N_("Send the file as multipart/form-data in a field named “file”."),
                      field="file")
    allow_body(request, max_bytes + ENVELOPE_BYTES, lambda: entry_files.refuse_size(max_bytes))
    part = _FilePart(max_bytes, kinds, csrf)
    try:
        parser = MultipartParser(params[b"boundary"], {
            "on_part_begin": part.on_part_begin, "on_header_field": part.on_header_field,
            "on_header_value": part.on_header_value, "on_header_end": part.on_header_end,
            "on_headers_finished": part.on_headers_finished, "on_part_data": part.on_part_data,
            "on_part_end": part.on_part_end,
        })
        async for chunk in request.stream():
            parser.write(chunk)
            if part.writer is not None and part.writer.pending:
                await run_in_threadpool(part.writer.flush)
        parser.finalize()
        part.check_token()  # a body without a file part still needed its token
        if part.writer is None or not part.done:
            raise Invalid(N_("Please choose a file to upload."), field="file")
        if part.writer.size == 0:
            raise Invalid(N_("The file is empty."), field="file")
        stored = await run_in_threadpool(part.writer.finish)
    except SizeExceeded:
        await _abort(part)
        raise entry_files.refuse_size(max_bytes) from None
    except KindRefused:
        await _abort(part)
        raise entry_files.refuse_kind(kinds) from None
    except ClientDisconnect:
        await _abort(part)
        raise Invalid(N_("The upload was interrupted."), field="file") from None
    except FormParserError:
        await _abort(part)
        raise BadRequest(N_("The upload could not be read: the form data is malformed."),
                         field="file") from None
    except BaseException:
        await _abort(part)
        raise
    return stored, part.filename


async def _abort(part: _FilePart) -> None:
    """Aborts the writer in a thread (an object store's abort is a network call), shielded
    so that a cancelled request still removes what it had stored."""
    if part.writer is not None:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(part.writer.abort)


def content_disposition(filename: str, *, inline: bool = False) -> str:
    """RFC 6266: an ASCII fallback plus the exact UTF-8 name."""
    fallback = filename.encode("ascii", "replace").decode().replace('"', "").replace("?", "_")
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
