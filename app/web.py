"""What every page needs: the request context middleware, templates, CSRF, form helpers."""

import secrets
from zoneinfo import ZoneInfo
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from pydantic import ValidationError
from sqlmodel import Session

from app import i18n, validation, zones
from app.accounts.rules import ROLE_LABELS
from app.awards.rules import KIND_LABELS, PRIZE_LABELS, PRIZE_LEVELS, STATUS_LABELS
from app.config import get_settings
from app.errors import N_, DomainError, Forbidden, Invalid
from app.security import csrf_matches, csrf_token_for
from app.text import CLOCK_PATTERN, DAY_PATTERN

ROOT = Path(__file__).resolve().parent.parent
SESSION_COOKIE = "gb_session"
DEVICE_COOKIE = "gb_device"  # set at sign-in, sent only to /login (app.security.device_token)
PRE_COOKIE = "gb_pre"
LANG_COOKIE = "lang"


class RequestContextMiddleware:
    """Chooses the language for the request and gives anonymous visitors a CSRF binding.

    A pure ASGI middleware so that request bodies (large uploads) stream through untouched.
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        cookies = SimpleCookie()
        try:
            cookies.load(headers.get("cookie", ""))
        except Exception:
            cookies = SimpleCookie()
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        is_api = scope["path"].startswith("/api/")
        lang = i18n.pick_language(
            (query.get("lang") or [None])[0],
            cookies[LANG_COOKIE].value if LANG_COOKIE in cookies else None,
            headers.get("accept-language") if is_api else None,
        )
        scope.setdefault("state", {})["lang"] = lang
        pre = cookies[PRE_COOKIE].value if PRE_COOKIE in cookies else None
        new_pre = None
        if not pre and not is_api:
            pre = new_pre = secrets.token_urlsafe(24)
        scope["state"]["pre"] = pre
        token = i18n.current_language.set(lang)
        if "\x00" in scope["path"] or b"%00" in scope.get("query_string", b""):
            # No text we store or look up may hold NUL (PostgreSQL refuses it): refused here,
            # before any handler or query sees it.
            i18n.current_language.reset(token)
            message = i18n.gettext(N_("The address contains a character that is not allowed."))
            response = (JSONResponse({"detail": message}, status_code=400) if is_api
                        else PlainTextResponse(message, status_code=400))
            return await response(scope, receive, send)

        async def send_with_cookie(message):
            if message["type"] == "http.response.start" and new_pre:
                secure = "" if get_settings().is_dev else "; Secure"
                cookie = f"{PRE_COOKIE}={new_pre}; Path=/; HttpOnly; SameSite=Lax{secure}"
                message.setdefault("headers", []).append((b"set-cookie", cookie.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_cookie)
        finally:
            i18n.current_language.reset(token)


def format_datetime(value, tz: str | None = None, fmt: str = "%H:%M %d/%m/%Y") -> str:
    """A stored (UTC) time as people read it in ``tz`` (the award's zone; Vietnam by default)."""
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(tz or "Asia/Ho_Chi_Minh")).strftime(fmt)


def _filesize(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            text = f"{value:.0f}" if unit == "B" else f"{value:.1f}"
            if i18n.current_language.get() == "vi":
                text = text.replace(".", ",")
            return f"{text} {unit}"
        value /= 1024
    return f"{size} B"


def _megabytes(mb: int | None) -> str:
    """A size limit kept in MB, shown as people read it: "50 MB", past 1,024 MB in GB
    ("1,5 GB", "4 GB"; the decimal comma in Vietnamese, as the filesize filter)."""
    if mb is None:
        return ""
    if mb < 1024:
        return f"{mb} MB"
    text = f"{mb / 1024:.1f}".removesuffix(".0")
    if i18n.current_language.get() == "vi":
        text = text.replace(".", ",")
    return f"{text} GB"


def _kind_label(kind: str) -> str:
    return i18n.gettext(KIND_LABELS.get(kind, kind))


def _format_date(value) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


templates = Jinja2Templates(
    env=jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(ROOT / "templates")),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
    )
)
templates.env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)
templates.env.filters["datetime"] = format_datetime
templates.env.filters["date"] = _format_date
templates.env.filters["filesize"] = _filesize
templates.env.filters["kind_label"] = _kind_label
templates.env.filters["zone"] = zones.label
templates.env.filters["megabytes"] = _megabytes
templates.env.globals.update(zone_choices=zones.choices, DAY_PATTERN=DAY_PATTERN,
                             CLOCK_PATTERN=CLOCK_PATTERN)
templates.env.globals.update(
    LANGUAGES=i18n.LANGUAGES,
    ROLE_LABELS=ROLE_LABELS,
    STATUS_LABELS=STATUS_LABELS,
    KIND_LABELS=KIND_LABELS,
    PRIZE_LABELS=PRIZE_LABELS,
    PRIZE_LEVELS=PRIZE_LEVELS,
)


def signed_in(request: Request):
    """The signed-in person's plain values (app.deps.SignedIn), or None."""
    return getattr(request.state, "signed_in", None)


def csrf_binding(request: Request) -> str | None:
    person = signed_in(request)
    if person is not None:
        return person.csrf_secret
    return getattr(request.state, "pre", None)


def render(request: Request, template: str, context: dict[str, Any] | None = None,
           *, status_code: int = 200, headers: dict | None = None) -> HTMLResponse:
    binding = csrf_binding(request)
    lang = getattr(request.state, "lang", "vi")
    ctx = {
        "request": request,
        "user": signed_in(request),
        "lang": lang,
        # On elements holding Vietnamese user data (titles, names) when the UI is not in
        # Vietnamese, so that screen readers pronounce them as Vietnamese: <h1{{ lang_vi }}>.
        "lang_vi": "" if lang == "vi" else Markup(' lang="vi"'),
        "csrf_token": csrf_token_for(binding) if binding else "",
        "errors": {},
        "error": None,
        "form": {},
    }
    ctx.update(context or {})
    return templates.TemplateResponse(request, template, ctx, status_code=status_code,
                                      headers=headers)


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def client_ip(request: Request) -> str | None:
    """The caller's network address (behind a trusted proxy, the one it forwarded)."""
    return request.client.host if request.client else None


def safe_next(url: str | None, default: str = "/") -> str:
    """Only same-site paths may be redirected to after a form: no scheme, no "//" host, no
    backslash, and no whitespace or control character (browsers drop a tab or a newline, so
    "/\t/evil.example" would read as "//evil.example")."""
    if not url or not url.startswith("/") or url.startswith("//") or "\\" in url:
        return default
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        return default
    return url


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin or origin == "null":
        return origin is None
    parts = urlsplit(origin)
    host = request.headers.get("host", "")
    return parts.netloc == host


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# A page form holds text only: a file part is refused (400) before it is stored anywhere.
# Files travel through the streaming upload handlers alone.
FORM_LIMITS = {"max_files": 0, "max_fields": 200, "max_part_size": 1024 * 1024}


async def read_form(request: Request):
    """The request's form, parsed once (the body limit applies while it is read)."""
    return await request.form(**FORM_LIMITS)


def check_origin(request: Request) -> None:
    if not _same_origin(request):
        raise Forbidden(N_("This form was sent from another site and has been refused."))


def check_csrf_token(request: Request, token) -> None:
    if not csrf_matches(csrf_binding(request), token if isinstance(token, str) else None):
        raise Forbidden(
            N_("The form has expired or was not sent from this site. Please reload the page "
               "and try again.")
        )


async def csrf_protect(request: Request) -> None:
    """Every state-changing page request must carry this session's CSRF token.

    The token comes from the ``X-CSRF-Token`` header (scripts) or the ``csrf_token`` field
    of a text-only form — never from the address, which ends up in logs and history; the
    Origin (or Referer), when the browser sends one, must be this site. The streaming
    upload checks its token itself (app.entries.uploads), before any file byte is stored.
    """
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    check_origin(request)
    token = request.headers.get("x-csrf-token")
    if token is None and request.headers.get("content-type", "").startswith(FORM_TYPES):
        token = (await read_form(request)).get("csrf_token")
    check_csrf_token(request, token)


def form_error(session: Session, err: DomainError | ValidationError) -> tuple[str, dict]:
    """Undo the failed change and describe it for the form: (message, {field: message})."""
    if getattr(err, "keep_changes", False):
        session.commit()
    else:
        session.rollback()
    if isinstance(err, DomainError):
        message = err.translated(i18n.gettext)
        fields: dict[str, str] = {}
        for problem in err.problems or (err,):  # a form checked as a whole: all its fields
            if problem.field and problem.field not in fields:
                fields[problem.field] = problem.translated(i18n.gettext)
        return message, fields
    fields = {}
    for item in err.errors():  # each field's first problem, as the API words it
        name = str(item["loc"][-1]) if item["loc"] else ""
        fields.setdefault(name, validation.sentence(item))
    first = next(iter(fields), "")
    message = Invalid(N_("Please check the highlighted fields."), field=first).translated(
        i18n.gettext
    )
    return message, fields
