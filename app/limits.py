"""Request bodies are bounded before and while they are read.

Every request may send at most ``GIAIBAO_MAX_BODY_KB`` (1 MB by default): a declared
``Content-Length`` over the limit is refused at the first read, before a single byte is
taken from the client, and a chunked body is refused the moment the count crosses it. An
upload handler raises its own request's limit (``allow_body``) only after it has checked
who is sending what to where, so no large body is ever read for a caller who may not send it.
An API operation that needs a bearer token reads no body at all from a request without one
(401 before the first byte; FastAPI would otherwise read it before the caller is checked).
"""

import re
from collections.abc import Callable

from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request

from app import i18n
from app.config import get_settings
from app.errors import N_, DomainError, NotAuthenticated, TooLarge


class _RefusedWhileReading(StarletteHTTPException):
    """A refusal raised while the body is read: an HTTPException so that FastAPI's own body
    reading lets it through; also the DomainError it stands for (see the subclasses), so
    that handlers and pages treat it like any other refusal."""

    def __init__(self, error: DomainError):
        DomainError.__init__(self, error.message, field=error.field, **error.params)
        StarletteHTTPException.__init__(self, error.status_code,
                                        detail=error.translated(i18n.gettext))


class RequestTooLarge(_RefusedWhileReading, TooLarge):
    pass


class RequestNotAuthenticated(_RefusedWhileReading, NotAuthenticated):
    pass


def default_refusal(limit: int) -> TooLarge:
    return TooLarge(N_("The request is too large (at most {kb} KB)."), kb=limit // 1024)


class BodyLimit:
    """One request's allowance: how many bytes it may send, and what to answer beyond."""

    def __init__(self, limit: int, declared: int | None):
        self.limit = limit
        self.declared = declared
        self.received = 0
        self.refusal: Callable[[], Exception] = lambda: RequestTooLarge(
            default_refusal(self.limit))

    def check(self, more: int = 0) -> None:
        self.received += more
        if (self.declared is not None and self.declared > self.limit) or \
                self.received > self.limit:
            raise self.refusal()


def _declared_length(scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


class SignedInOnly:
    """The API operations that need a bearer token (filled in once the routes exist): their
    bodies are not read at all for a request that carries no token."""

    def __init__(self):
        self.routes: list[tuple[str, re.Pattern]] = []

    def add(self, method: str, path_regex: re.Pattern) -> None:
        self.routes.append((method, path_regex))

    def refuses(self, scope) -> bool:
        if any(name == b"authorization" and value[:7].lower() == b"bearer "
               for name, value in scope["headers"]):
            return False
        return any(method == scope["method"] and regex.match(scope["path"])
                   for method, regex in self.routes)


class BodyLimitMiddleware:
    """Pure ASGI: counts what the application reads, so uploads still stream."""

    def __init__(self, app, signed_in_only: SignedInOnly | None = None):
        self.app = app
        self.signed_in_only = signed_in_only

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        allowance = BodyLimit(get_settings().max_body_kb * 1024, _declared_length(scope))
        if self.signed_in_only is not None and self.signed_in_only.refuses(scope):
            allowance.limit = 0
            allowance.refusal = lambda: RequestNotAuthenticated(
                NotAuthenticated(N_("Please sign in.")))
        scope.setdefault("state", {})["body_limit"] = allowance

        async def limited_receive():
            allowance.check()
            message = await receive()
            if message["type"] == "http.request":
                allowance.check(len(message.get("body", b"")))
            return message

        await self.app(scope, limited_receive, send)


def allow_body(request: Request, limit: int, refusal: Callable[[], TooLarge]) -> None:
    """Lets this request send up to ``limit`` bytes; beyond, ``refusal()`` is raised.
    Call it only once the caller is known to be allowed to send such a body."""
    allowance: BodyLimit = request.state.body_limit
    allowance.limit = limit
    allowance.refusal = lambda: RequestTooLarge(refusal())
