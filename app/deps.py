"""Request dependencies: the database session, the caller, role checks, pagination."""

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Path, Query, Request, Response
from fastapi.security import OAuth2PasswordBearer
from sqlmodel import Session
from starlette.datastructures import FormData

from app.accounts import service as accounts
from app.accounts.models import User
from app.accounts.rules import Role
from app.db import MAX_ID, get_session, utcnow
from app.errors import N_, Forbidden, NotAuthenticated
from app.web import SESSION_COOKIE

SessionDep = Annotated[Session, Depends(get_session, scope="function")]

Id = Annotated[int, Path(ge=1, le=MAX_ID)]
OptionalId = Annotated[int | None, Query(ge=1, le=MAX_ID)]
Offset = Annotated[int, Query(ge=0, le=MAX_ID)]


def get_now() -> datetime:
    return utcnow()


Now = Annotated[datetime, Depends(get_now)]

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


# --- API callers (bearer tokens) -----------------------------------------------------------

def api_user_optional(
    session: SessionDep, now: Now, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> User | None:
    row = accounts.api_token_for(session, token, now=now)
    if row is None:
        return None
    user = session.get(User, row.user_id)
    return user if user is not None and user.is_active else None


def api_user(user: Annotated[User | None, Depends(api_user_optional)]) -> User:
    if user is None:
        raise NotAuthenticated(N_("Please sign in."))
    return user


ApiUserOptional = Annotated[User | None, Depends(api_user_optional)]
ApiUser = Annotated[User, Depends(api_user)]


def _role_checker(loader: Callable, roles: tuple[Role, ...]):
    def check(user: Annotated[User, Depends(loader)]) -> User:
        if user.role not in roles:
            raise Forbidden(N_("You do not have permission to do this."))
        return user

    check.allowed_roles = roles  # read by the route-walking access test
    return check


def api_role(*roles: Role):
    return Annotated[User, Depends(_role_checker(api_user, roles))]


ApiOrganizer = api_role(Role.organizer)


# --- Page callers (server-side session cookie) ---------------------------------------------

def page_user_optional(request: Request, session: SessionDep, now: Now) -> User | None:
    """Loads the signed-in user, if any, and remembers the session for CSRF and logout."""
    web_session = accounts.web_session_for(session, request.cookies.get(SESSION_COOKIE), now=now)
    user = session.get(User, web_session.user_id) if web_session else None
    if user is not None and not user.is_active:
        user = web_session = None
    request.state.web_session = web_session
    request.state.user = user
    return user


def page_user(user: Annotated[User | None, Depends(page_user_optional)]) -> User:
    if user is None:
        raise NotAuthenticated(N_("Please sign in."))
    return user


PageUserOptional = Annotated[User | None, Depends(page_user_optional)]
PageUser = Annotated[User, Depends(page_user)]


def page_role(*roles: Role):
    return Annotated[User, Depends(_role_checker(page_user, roles))]


PageOrganizer = page_role(Role.organizer)


# --- Lists ---------------------------------------------------------------------------------

class Pagination:
    def __init__(
        self,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    ):
        self.limit = limit
        self.offset = offset


PageParams = Annotated[Pagination, Depends()]


def with_total(response: Response, total: int) -> None:
    response.headers["X-Total-Count"] = str(total)


async def _form(request: Request) -> FormData:
    return await request.form()


# The submitted form, read before the handler: handlers stay plain ``def`` and run in the
# thread pool, so that no database call ever blocks the event loop.
FormDep = Annotated[FormData, Depends(_form)]


async def page_csrf(request: Request, _user: PageUserOptional) -> None:
    """Router-wide guard for pages: loads the caller, then checks CSRF on every POST."""
    from app.web import csrf_protect

    await csrf_protect(request)
