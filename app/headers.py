"""Security headers on every response: one pure ASGI middleware (uploads stream through).

A header the handler set itself is kept (file downloads have their own stricter policy).
"""

from starlette.datastructures import MutableHeaders

from app.web import SESSION_COOKIE

# Pages: no inline script, no plugins, not framed, forms only to this site. The scoring page
# plays the entry's audio and video and shows its PDFs in a frame, all from this site.
PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
            "media-src 'self'; frame-src 'self'; "
            "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
# JSON and CSV are never rendered as documents.
API_CSP = "default-src 'none'; frame-ancestors 'none'"
# FastAPI's interactive API docs load Swagger UI / ReDoc from their CDN and start them with an
# inline script; they show no user data.
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
            "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net "
            "https://fonts.googleapis.com; "
            "font-src 'self' https://fonts.gstatic.com; "
            "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; "
            "worker-src 'self' blob:; object-src 'none'; base-uri 'self'; form-action 'self'; "
            "frame-ancestors 'none'")
DOCS_PATHS = ("/docs", "/docs/oauth2-redirect", "/redoc")

COMMON = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
}


def _signed_in(scope) -> bool:
    """The request carries a session cookie or a bearer token (valid or not: the answer is
    about that caller either way, so no cache may keep it)."""
    prefix = SESSION_COOKIE.encode() + b"="
    for name, value in scope["headers"]:
        if name == b"authorization":
            return True
        if name == b"cookie" and any(c.strip().startswith(prefix) for c in value.split(b";")):
            return True
    return False


def _policy(path: str) -> str:
    if path.startswith("/api/"):
        return API_CSP
    if path in DOCS_PATHS:
        return DOCS_CSP
    return PAGE_CSP


class SecurityHeadersMiddleware:
    """CSP, nosniff, Referrer-Policy and framing on every response; ``Cache-Control:
    no-store`` on every answer to a signed-in caller except static files."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope["path"]
        policy = _policy(path)
        private = _signed_in(scope) and not path.startswith("/static/")

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in COMMON.items():
                    headers.setdefault(name, value)
                headers.setdefault("content-security-policy", policy)
                if private:
                    headers.setdefault("cache-control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)
