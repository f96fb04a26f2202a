"""The application: API routers under /api/v1, page routers at /, one error handler."""

from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from starlette.exceptions import HTTPException as StarletteHTTPException

from app import i18n
from app.accounts import api as accounts_api
from app.accounts import pages as accounts_pages
from app.audit import api as audit_api
from app.awards import api as awards_api
from app.awards import pages as awards_pages
from app.entries import api as entries_api
from app.entries import pages as entries_pages
from app.config import get_settings
from app.db import get_engine
from app.headers import SecurityHeadersMiddleware
from app import openapi
from app.errors import N_, DomainError, NotAuthenticated
from app.web import ROOT, RequestContextMiddleware, redirect, render

API_PREFIX = "/api/v1"


def _is_api(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIX)


async def domain_error_handler(request: Request, exc: DomainError):
    message = exc.translated(i18n.gettext)
    if _is_api(request):
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, NotAuthenticated) else None
        return JSONResponse({"detail": message}, status_code=exc.status_code, headers=headers)
    if isinstance(exc, NotAuthenticated):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return redirect(f"/login?next={quote(target)}")
    return render(request, "error.html", {"message": message, "status": exc.status_code},
                  status_code=exc.status_code)


async def http_error_handler(request: Request, exc: StarletteHTTPException):
    if _is_api(request) or exc.status_code < 400:
        return await http_exception_handler(request, exc)
    messages = {
        404: N_("This page does not exist."),
        405: N_("This action is not available here."),
    }
    message = i18n.gettext(messages.get(exc.status_code, N_("The request could not be handled.")))
    if not hasattr(request.state, "lang"):
        return PlainTextResponse(message, status_code=exc.status_code)
    return render(request, "error.html", {"message": message, "status": exc.status_code},
                  status_code=exc.status_code)


async def validation_error_handler(request: Request, exc: RequestValidationError):
    if _is_api(request):
        return await request_validation_exception_handler(request, exc)
    message = i18n.gettext(N_("The request could not be handled."))
    return render(request, "error.html", {"message": message, "status": 422}, status_code=422)


def create_app() -> FastAPI:
    get_settings()  # refuse to start with an unsafe configuration
    app = FastAPI(
        title="Giải báo chí",
        description="Press-award submission and judging portal: REST API.",
        version="0.1.0",
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    app.add_middleware(RequestContextMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_exception_handler(DomainError, domain_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)

    api_routers = [m.router for m in (accounts_api, awards_api, entries_api, audit_api)]
    for router in api_routers:
        app.include_router(router, prefix=API_PREFIX)
    openapi.install(app, api_routers, prefix=API_PREFIX)
    for module in (accounts_pages, awards_pages, entries_pages):
        app.include_router(module.router)

    app.mount("/static", StaticFiles(directory=str(ROOT / "static")), name="static")

    @app.get("/healthz", include_in_schema=False)
    def healthz():
        try:
            engine = get_engine().execution_options(isolation_level="AUTOCOMMIT")
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception:
            return JSONResponse({"status": "database unavailable"}, status_code=503)
        return {"status": "ok"}

    return app


app = create_app()
