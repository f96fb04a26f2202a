"""The application: API routers under /api/v1, page routers at /, one error handler."""

import logging
import math
import re
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from app import i18n, validation
from app.accounts import api as accounts_api
from app.accounts import pages as accounts_pages
from app.audit import api as audit_api
from app.awards import api as awards_api
from app.awards import pages as awards_pages
from app.console import pages as console_pages
from app.console import users as console_users
from app.console import results as console_results
from app.console import rounds as console_rounds
from app.entries import api as entries_api
from app.entries import pages as entries_pages
from app.judging import api as judging_api
from app.judging import pages as judging_pages
from app.mail import api as mail_api
from app.results import api as results_api
from app.results import downloads as results_downloads
from app.results import pages as results_pages
from app.config import get_settings
from app.db import get_engine
from app.deps import needs_api_user, signed_in_for_error_page
from app.headers import SecurityHeadersMiddleware
from app import openapi
from app.accounts.carry import SignInAgain
from app.accounts.pages import sign_in_again_page
from app.errors import N_, DomainError, NotAuthenticated
from app.limits import BodyLimitMiddleware, SignedInOnly
from app.web import ROOT, RequestContextMiddleware, redirect, render

API_PREFIX = "/api/v1"
logger = logging.getLogger("giaibao")


def _is_api(request: Request) -> bool:
    """The API, or a page's script asking for JSON (the scoring autosave, the upload widget):
    their refusals are ``{"detail": …}`` the script can show, never an HTML page."""
    if request.url.path.startswith(API_PREFIX):
        return True
    accept = request.headers.get("accept", "")
    return accept.startswith("application/json") and "text/html" not in accept


async def error_page(request: Request, message: str, status_code: int, headers=None):
    """The error page: the message in the user's language, with the signed-in header."""
    if not hasattr(request.state, "lang"):
        return PlainTextResponse(message, status_code=status_code, headers=headers)
    await run_in_threadpool(signed_in_for_error_page, request)
    return render(request, "error.html", {"message": message, "status": status_code},
                  status_code=status_code, headers=headers)


async def domain_error_handler(request: Request, exc: DomainError):
    message = exc.translated(i18n.gettext)
    if _is_api(request):
        headers = dict(exc.headers or {})
        if isinstance(exc, NotAuthenticated):
            headers["WWW-Authenticate"] = "Bearer"
        body = {"detail": message}
        if exc.problems:  # a form checked as a whole: every field's problem
            body["errors"] = [{"field": p.field, "detail": p.translated(i18n.gettext)}
                              for p in exc.problems]
        return JSONResponse(body, status_code=exc.status_code, headers=headers)
    if isinstance(exc, SignInAgain):
        return sign_in_again_page(request, exc.carried)
    if isinstance(exc, NotAuthenticated):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return redirect(f"/login?next={quote(target)}")
    return await error_page(request, message, exc.status_code, headers=exc.headers or None)


HTTP_MESSAGES = {
    400: N_("The form could not be read. Please reload the page and try again."),
    404: N_("This page does not exist."),
    405: N_("This action is not available here."),
}


async def http_error_handler(request: Request, exc: StarletteHTTPException):
    if isinstance(exc, DomainError):  # a refusal raised while the body was read
        return await domain_error_handler(request, exc)
    if _is_api(request) or exc.status_code < 400:
        return await http_exception_handler(request, exc)
    message = i18n.gettext(HTTP_MESSAGES.get(exc.status_code,
                                             N_("The request could not be handled.")))
    return await error_page(request, message, exc.status_code, headers=exc.headers)


# The part of a refused value a 422 repeats back (enough to recognise it).
ECHO_CHARS = 200


def _echo(value):
    """A refused input as a 422 may repeat it: non-finite numbers (NaN, Infinity, 1e309),
    which JSON cannot carry, as text; long text and large objects cut short."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, str):
        return value[:ECHO_CHARS]
    if isinstance(value, (dict, list, tuple)):
        text = repr(value)
        if len(text) > ECHO_CHARS:
            return text[:ECHO_CHARS] + "…"
        if isinstance(value, dict):
            return {k: _echo(v) for k, v in value.items()}
        return [_echo(v) for v in value]
    return value


async def validation_error_handler(request: Request, exc: RequestValidationError):
    if _is_api(request):
        errors = [{**e, "input": _echo(e["input"])} if "input" in e else e
                  for e in validation.readable(exc.errors())]
        return await request_validation_exception_handler(
            request, RequestValidationError(errors, body=None))
    if all(e.get("loc", ("",))[0] == "path" for e in exc.errors()):
        # /entries/abc on a page: an address that names nothing is a missing page.
        return await error_page(request, i18n.gettext(HTTP_MESSAGES[404]), 404)
    return await error_page(request, i18n.gettext(N_("The request could not be handled.")), 422)


async def server_error_handler(request: Request, exc: Exception):
    """An unexpected failure: still a page (or JSON) in the user's language, never a bare
    "Internal Server Error"; the traceback goes to the log."""
    logger.exception("unhandled error on %s %s", request.method, request.url.path,
                     exc_info=exc)
    message = i18n.gettext(N_("Something went wrong on our side. Please try again later."))
    if _is_api(request):
        return JSONResponse({"detail": message}, status_code=500)
    return await error_page(request, message, 500)


def create_app() -> FastAPI:
    get_settings()  # refuse to start with an unsafe configuration
    app = FastAPI(
        title="Giải báo chí",
        description="Press-award submission and judging portal: REST API.",
        version="0.1.0",
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    signed_in_only = SignedInOnly()
    app.add_middleware(BodyLimitMiddleware, signed_in_only=signed_in_only)
    app.add_middleware(RequestContextMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_exception_handler(DomainError, domain_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(Exception, server_error_handler)

    api_routers = [m.router for m in (accounts_api, awards_api, entries_api, judging_api,
                                      results_api, audit_api, mail_api)]
    for router in api_routers:
        app.include_router(router, prefix=API_PREFIX)
    openapi.install(app, api_routers, prefix=API_PREFIX)
    for router in api_routers:
        for route in router.routes:
            if needs_api_user(route):
                for method in route.methods:
                    signed_in_only.add(method, re.compile(
                        "^" + re.escape(API_PREFIX) + route.path_regex.pattern.lstrip("^")))
    # Before the other pages: /certificates/{token}.pdf must not be taken for a token.
    app.include_router(results_downloads.router)
    for module in (accounts_pages, awards_pages, entries_pages, judging_pages, console_pages,
                   console_users, console_rounds, console_results, results_pages):
        app.include_router(module.router)
    app.include_router(entries_pages.upload_router)

    app.mount("/static", StaticFiles(directory=str(ROOT / "static")), name="static")

    # FastAPI's Swagger UI page, with the language its <html> lacks (WCAG 3.1.1).
    swagger = next(r for r in app.routes if getattr(r, "path", None) == app.docs_url)
    swagger_page = swagger.endpoint

    async def api_documentation(request: Request):
        page = await swagger_page(request)
        body = page.body.replace(b"<html>", b'<html lang="en">', 1)
        return HTMLResponse(body, status_code=page.status_code)

    app.router.routes.remove(swagger)
    app.add_route(app.docs_url, api_documentation, include_in_schema=False)

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon():
        """Browsers ask for /favicon.ico whatever the page links: the SVG icon answers."""
        return FileResponse(ROOT / "static" / "favicon.svg", media_type="image/svg+xml",
                            headers={"Cache-Control": "public, max-age=86400"})

    @app.get("/healthz", include_in_schema=False)
    def healthz():
        try:
            engine = get_engine().execution_options(isolation_level="AUTOCOMMIT")
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception:
            return JSONResponse({"status": "database unavailable"}, status_code=503)
        from app.storage import get_storage

        if not get_storage().is_writable():
            what = "upload folder" if get_settings().storage == "local" else "file storage"
            return JSONResponse({"status": f"{what} unavailable"}, status_code=503)
        return {"status": "ok"}

    # Routes are matched in order, and matching walks every route before a late one (about
    # 180 on each request): the health check, polled by load balancers, answers first.
    routes = app.router.routes
    routes.insert(0, routes.pop(next(i for i, r in enumerate(routes)
                                     if getattr(r, "path", None) == "/healthz")))
    return app


app = create_app()
