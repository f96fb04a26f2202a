"""Request dependencies: the database session, the caller, role checks, pagination."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Path, Query, Request, Response
from fastapi.security import OAuth2PasswordBearer
from sqlmodel import Session
from starlette.datastructures import FormData

from app.accounts import service as accounts
from app.accounts.models import User
from app.accounts.rules import Role
from app.db import MAX_ID, get_read_engine, get_session, utcnow
from app.errors import N_, Forbidden, NotAuthenticated
from app.security import csrf_matches
from app.web import FORM_TYPES, SESSION_COOKIE

SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def read_sessions() -> Callable[[], Session]:
    """Opens read-only sessions for work that outlives the request's own session (closed
    when the handler returns), such as the body of a streamed response. Whoever opens one
    closes it."""
    return lambda: Session(get_read_engine(), expire_on_commit=False)


ReadSessions = Annotated[Callable[[], Session], Depends(read_sessions)]
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


def dependency_calls(dependant) -> list:
    """Every callable a route depends on, however deep (the OpenAPI errors and the body
    limits read them)."""
    found = []
    for dependency in dependant.dependencies:
        found.append(dependency.call)
        found.extend(dependency_calls(dependency))
    return found


def needs_api_user(route) -> bool:
    """Whether an API route refuses callers without a bearer token (app.limits uses it to
    read no body from them)."""
    return api_user in dependency_calls(route.dependant)


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

@dataclass(frozen=True)
class SignedIn:
    """What every page (its header, CSRF binding, logout) needs of the signed-in person.

    Plain values copied while the request's database session is open: error pages and
    anything else rendered after that session has closed read these, never a database row.
    """

    user_id: int
    email: str
    full_name: str
    role: str
    email_verified: bool
    pending_email: str | None
    web_session_id: int
    csrf_secret: str

    # Templates read the header's person as ``user``.
    @property
    def id(self) -> int:
        return self.user_id


def signed_in_as(user: User, web_session) -> SignedIn:
    return SignedIn(
        user_id=user.id, email=user.email, full_name=user.full_name, role=user.role,
        email_verified=user.email_verified, pending_email=user.pending_email,
        web_session_id=web_session.id, csrf_secret=web_session.csrf_secret)


def page_user_optional(request: Request, session: SessionDep, now: Now) -> User | None:
    """Loads the signed-in user, if any, and remembers the session for CSRF and logout.
    A cookie whose session has ended leaves that session's CSRF secret in
    ``request.state.ended_csrf_secret``, so that a form posted from it can be recognised
    (``page_csrf``)."""
    cookie = request.cookies.get(SESSION_COOKIE)
    web_session = accounts.web_session_for(session, cookie, now=now)
    user = session.get(User, web_session.user_id) if web_session else None
    if user is not None and not user.is_active:
        user = web_session = None
    request.state.signed_in = None if user is None else signed_in_as(user, web_session)
    if cookie and user is None and request.method == "POST":
        ended = accounts.ended_web_session(session, cookie)
        request.state.ended_csrf_secret = ended.csrf_secret if ended else None
        request.state.ended_user_id = ended.user_id if ended else None
    return user


def signed_in_for_error_page(request: Request) -> None:
    """Makes sure an error page knows who is signed in, even when the error came before the
    page's own dependencies ran (an unknown address, a malformed request): reads the session
    cookie in a short session of its own."""
    if hasattr(request.state, "signed_in") or not request.cookies.get(SESSION_COOKIE):
        return

    try:
        with Session(get_read_engine()) as session:
            page_user_optional(request, session, utcnow())
    except Exception:  # an error page must render even when the database is unavailable
        request.state.signed_in = None


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


def page_of(items: list, page: "Pagination", response: Response) -> list:
    """One page of a list computed whole, its length in X-Total-Count."""
    with_total(response, len(items))
    return items[page.offset:page.offset + page.limit]


async def _form(request: Request) -> FormData:
    from app.web import read_form

    return await read_form(request)


# The submitted form, read before the handler: handlers stay plain ``def`` and run in the
# thread pool, so that no database call ever blocks the event loop.
FormDep = Annotated[FormData, Depends(_form)]


async def page_csrf(request: Request, _user: PageUserOptional) -> None:
    """Router-wide guard for pages: loads the caller, then checks CSRF on every POST.

    A form refused because the session it came from has ended (expired, signed out
    elsewhere, revoked) is answered with the sign-in page carrying its values
    (app.accounts.carry) when it surely came from that session: its token matches the ended
    session's; the values are offered again only to that session's account."""
    from app.accounts import carry
    from app.web import check_origin, csrf_protect, read_form, signed_in

    if request.method not in ("GET", "HEAD", "OPTIONS"):
        check_origin(request)
    try:
        await csrf_protect(request)
    except Forbidden:
        if (request.method != "POST" or signed_in(request) is not None
                or not request.headers.get("content-type", "").startswith(FORM_TYPES)):
            raise
        form = await read_form(request)
        token = form.get("csrf_token")
        token = token if isinstance(token, str) else None
        ended_secret = getattr(request.state, "ended_csrf_secret", None)
        owner = getattr(request.state, "ended_user_id", None)
        # Only a form from the ended session itself (its token) is carried, for its account.
        if ended_secret is None or owner is None or not csrf_matches(ended_secret, token):
            raise
        action = carry.may_carry(
            request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        if action is None:
            raise
        raise carry.SignInAgain(carry.from_form(action, form, owner)) from None
