from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError

from app.accounts import service
from app.accounts.models import PasswordChange, UserProfile, UserRegister
from app.config import get_settings
from app.deps import FormDep, Now, PageUser, PageUserOptional, SessionDep, page_csrf
from app.errors import DomainError
from app.i18n import LANGUAGES
from app.security import device_token
from app.web import (
    DEVICE_COOKIE,
    LANG_COOKIE,
    SESSION_COOKIE,
    form_error,
    redirect,
    render,
    safe_next,
    signed_in,
)

router = APIRouter(dependencies=[Depends(page_csrf)], include_in_schema=False)

PROFILE_FIELDS = tuple(UserProfile.model_fields)


def _set_session_cookie(response, token: str) -> None:
    settings = get_settings()
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_days * 86400,
        httponly=True,
        samesite="lax",
        secure=not settings.is_dev,
        path="/",
    )


def _text(form, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


@router.get("/register")
def register_form(request: Request, user: PageUserOptional):
    if user is not None:
        return redirect("/me")
    return render(request, "accounts/register.html")


@router.post("/register")
def register(request: Request, form: FormDep, session: SessionDep, now: Now):
    form = dict(form)
    try:
        data = UserRegister(**{k: form.get(k) or None for k in (*PROFILE_FIELDS, "email")},
                            password=form.get("password") or "")
        user = service.register(session, data)
    except (DomainError, ValidationError) as err:
        message, errors = form_error(session, err)
        form.pop("password", None)
        return render(request, "accounts/register.html",
                      {"error": message, "errors": errors, "form": form}, status_code=422)
    token = service.start_web_session(
        session, user, now=now, user_agent=request.headers.get("user-agent"), ip=_client_ip(request)
    )
    response = redirect("/me?welcome=1")
    _set_session_cookie(response, token)
    return response


@router.get("/login")
def login_form(request: Request, user: PageUserOptional, next: str | None = None):
    if user is not None:
        return redirect(safe_next(next, "/me"))
    return render(request, "accounts/login.html", {"next": safe_next(next, "")})


@router.post("/login")
def login(request: Request, form: FormDep, session: SessionDep, now: Now):
    email, password, next = (_text(form, name) for name in ("email", "password", "next"))
    try:
        user = service.authenticate(
            session, email=email, password=password, address=_client_ip(request), now=now,
            device_token=request.cookies.get(DEVICE_COOKIE),
        )
    except DomainError as err:
        message, _ = form_error(session, err)
        response = render(request, "accounts/login.html",
                          {"error": message, "form": {"email": email},
                           "next": safe_next(next, "")},
                          status_code=err.status_code)
        response.headers.update(err.headers)
        return response
    old = signed_in(request)
    if old is not None:
        service.end_web_session(session, old.web_session_id, now=now)
    token = service.start_web_session(
        session, user, now=now, user_agent=request.headers.get("user-agent"), ip=_client_ip(request)
    )
    default = "/admin/" if user.role == "organizer" else "/"
    response = redirect(safe_next(next, default))
    _set_session_cookie(response, token)
    # This browser is now known to the account: its own failures are counted on their own.
    response.set_cookie(DEVICE_COOKIE, device_token(user.email), max_age=365 * 86400,
                        httponly=True, samesite="lax", secure=not get_settings().is_dev,
                        path="/login")
    return response


@router.post("/logout")
def logout(request: Request, session: SessionDep, now: Now):
    old = signed_in(request)
    if old is not None:
        service.end_web_session(session, old.web_session_id, now=now)
    response = redirect("/")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/me")
def profile(request: Request, user: PageUser, welcome: int = 0, saved: int = 0):
    return render(request, "accounts/me.html",
                  {"form": user.model_dump(), "welcome": welcome, "saved": saved})


@router.post("/me")
def update_profile(request: Request, form: FormDep, user: PageUser, session: SessionDep):
    form = dict(form)
    try:
        data = UserProfile(**{k: form.get(k) or None for k in PROFILE_FIELDS})
        service.update_profile(session, user, data)
    except (DomainError, ValidationError) as err:
        message, errors = form_error(session, err)
        return render(request, "accounts/me.html",
                      {"error": message, "errors": errors, "form": form}, status_code=422)
    return redirect("/me?saved=1")


@router.post("/me/password")
def change_password(request: Request, form: FormDep, user: PageUser, session: SessionDep,
                    now: Now):
    current_password, new_password = (_text(form, n) for n in ("current_password",
                                                                "new_password"))
    try:
        service.change_password(
            session, user,
            PasswordChange(current_password=current_password, new_password=new_password),
            now=now,
        )
    except (DomainError, ValidationError) as err:
        message, errors = form_error(session, err)
        return render(request, "accounts/me.html",
                      {"password_error": message, "errors": errors, "form": user.model_dump()},
                      status_code=422)
    # Every session ended with the change; this browser gets a fresh one.
    token = service.start_web_session(
        session, user, now=now, user_agent=request.headers.get("user-agent"), ip=_client_ip(request)
    )
    response = redirect("/me?saved=2")
    _set_session_cookie(response, token)
    return response


@router.get("/lang/{code}")
def switch_language(code: str, next: str | None = None):
    """Remember the chosen language (a preference, not a state change) and go back."""
    response = redirect(safe_next(next))
    if code in LANGUAGES:
        response.set_cookie(LANG_COOKIE, code, max_age=365 * 86400, samesite="lax", path="/")
    return response
