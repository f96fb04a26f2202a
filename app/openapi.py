"""The published OpenAPI schema tells the truth about the API's answers.

Errors have one shape, ``{"detail": "message"}`` (see ``domain_error_handler`` in app.main),
except FastAPI's own request validation, whose ``detail`` is a list of objects: a 422 may
carry either. Routes declare the errors their services raise with ``errors(...)``; the 400
of an unreadable body and the 401 and 403 of the caller and role checks are added here, from
each route's body and dependencies, so that a route cannot forget them.
"""

from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel

from app import deps
from app.storage import CONTENT_TYPES


class FieldError(BaseModel):
    field: str
    detail: str


class Error(BaseModel):
    detail: str
    # When a whole form was checked (an entry's fields): every invalid field, ``detail``
    # being the first of them.
    errors: list[FieldError] | None = None


ERROR_DESCRIPTIONS = {
    400: "The request body could not be read, or the address holds a NUL character, or a "
         "mailed link has expired, was already used or is not valid",
    401: "Not signed in, or the bearer token is unknown or expired",
    403: "The caller's role or ownership does not allow this",
    404: "No such object, or one the caller may not see",
    409: "Not possible in the object's current state",
    413: "The body is larger than allowed (1 MB, or the category's file size for uploads)",
    415: "A kind of file the category does not accept",
    429: "Too many failed attempts or requests; try again after Retry-After seconds",
    507: "The server cannot store the file now (full disk, unwritable folder)",
}

TOTAL_COUNT = {
    "X-Total-Count": {
        "description": "How many items match, over all pages",
        "required": True,
        "schema": {"type": "integer", "minimum": 0},
    }
}
WWW_AUTHENTICATE = {"WWW-Authenticate": {"schema": {"type": "string"}}}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for the errors a route answers, each ``{"detail": "message"}``."""
    return {code: {"model": Error, "description": ERROR_DESCRIPTIONS[code]} for code in codes}


def paged(*codes: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a list: its ``X-Total-Count`` header, and its errors."""
    return {200: {"headers": TOTAL_COUNT}, **errors(*codes)}


def file_download() -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a stored file: its bytes, in the type sniffed at upload."""
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {200: {"description": "The file's bytes",
                  "content": {content_type: binary for content_type in CONTENT_TYPES}}}


def _implicit_errors(route: APIRoute) -> tuple[int, ...]:
    """400 when FastAPI cannot read the body (not UTF-8 JSON, a broken form) or the address
    holds NUL, 413 when the body is over the limit (app.limits); the 401 and 403 of the caller
    and role checks."""
    # 400 also for an address holding NUL, refused before routing (app.web).
    codes = (400, 413) if route.body_field is not None else (400,)
    calls = deps.dependency_calls(route.dependant)
    if deps.api_user in calls:
        codes += (401,)
    if any(hasattr(call, "allowed_roles") for call in calls):
        codes += (403,)
    return codes


def _error_response(code: int) -> dict[str, Any]:
    response = {"description": ERROR_DESCRIPTIONS[code],
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    if code == 401:
        response["headers"] = WWW_AUTHENTICATE
    return response


def build_schema(app: FastAPI, routers: list[APIRouter], prefix: str) -> dict[str, Any]:
    schema = get_openapi(title=app.title, version=app.version, description=app.description,
                         routes=app.routes)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault("Error", Error.model_json_schema())
    validation = components.get("HTTPValidationError")
    if validation is not None:
        validation["properties"]["detail"] = {
            "title": "Detail",
            "description": "Our own checks give one message; FastAPI's request validation "
                           "a list of the fields at fault.",
            "anyOf": [{"type": "string"},
                      {"type": "array", "items": {"$ref": "#/components/schemas/ValidationError"}}],
        }
        validation["required"] = ["detail"]
    for route in (r for router in routers for r in router.routes):
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        operations = schema["paths"][prefix + route.path_format]
        for method in route.methods:
            responses = operations[method.lower()]["responses"]
            for code in _implicit_errors(route):
                responses.setdefault(str(code), _error_response(code))
    return schema


def install(app: FastAPI, routers: list[APIRouter], *, prefix: str) -> None:
    """Serve the truthful schema at ``app.openapi_url`` (built once, on first request);
    ``routers`` are the API's, included under ``prefix``."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_schema(app, routers, prefix)
        return app.openapi_schema

    app.openapi = openapi
