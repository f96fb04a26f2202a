"""The baseline for bench/upload.py: an endpoint that only streams the request body to disk
while hashing it with SHA-256 — no parsing, no database, no checks."""

import hashlib
import os
import uuid

from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

TARGET = os.environ.get("BENCH_BARE_DIR", "/tmp")


async def upload(request: Request):
    digest = hashlib.sha256()
    path = os.path.join(TARGET, uuid.uuid4().hex)
    size = 0
    with open(path, "wb") as fh:
        async for chunk in request.stream():
            digest.update(chunk)
            fh.write(chunk)
            size += len(chunk)
        fh.flush()
        os.fsync(fh.fileno())
    # Deleting 500 MB takes time too: do it after answering, outside the measured part.
    return JSONResponse({"size": size, "sha256": digest.hexdigest()}, status_code=201,
                        background=BackgroundTask(os.unlink, path))


app = Starlette(routes=[Route("/upload", upload, methods=["POST"])])
