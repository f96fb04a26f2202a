import re
from dataclasses import replace

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError

from app.accounts import carry, invitations, links, service
from app.accounts.models import (
    EmailChange,
    InvitationAccept,
    PasswordChange,
    PasswordResetConfirm,
    PasswordResetRequest,
    UserProfile,
    UserRegister,
    UserUpdate,
)
from app.accounts.rules import LinkPurpose, Role
from app.audit.present import FIELD_LABELS
from app.awards import service as awards
from app.awards.rules import AwardStatus
from app.config import get_settings
from app.deps import (
    FormDep,
    Now,
    PageUser,
    PageUserOptional,
    SessionDep,
    page_csrf,
    signed_in_as,
)
from app.errors import Conflict, DomainError, TooManyAttempts
from app.i18n import LANGUAGES, gettext
from app.security import device_token
from app.web import (
    DEVICE_COOKIE,
    LANG_COOKIE,
    SESSION_COOKIE,
    client_ip,
    form_error,
    redirect,
    render,
    safe_next,
    signed_in,
)

CO_AUTHOR_FIELD = re.compile(r"co_(full_name|pen_name|email)_(\d+)")


def _carried_labels(fields) -> dict[str, str]:
    """What the carried form's fields are called on its page ("Họ và tên (2)"), for the
    summary of what was typed; technical fields (versions, buttons) have none and stay out."""
    labels = {}
    for name, _value in fields:
        if name in FIELD_LABELS:
            labels[name] = gettext(FIELD_LABELS[name])
        elif match := CO_AUTHOR_FIELD.fullmatch(name):
            labels[name] = f"{gettext(FIELD_LABELS[match.group(1)])} ({int(match.group(2)) + 2})"
    return labels


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


# Where each role lands after signing in (unless the form asked for a page).
HOMES = {"organizer": "/admin/", "judge": "/judge"}


def home_of(user) -> str:
    return HOMES.get(user.role, "/")


def _text(form, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


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
        user = service.register(session, data, now=now,
                                address=client_ip(request))
    except (DomainError, ValidationError) as err:
        message, errors = form_error(session, err)
        form.pop("password", None)
        # The address is taken: perhaps by its owner, perhaps by someone who never proved it;
        # either way the owner gets in through a reset mailed to it.
        taken = isinstance(err, Conflict) and err.field == "email"
        return render(request, "accounts/register.html",
                      {"error": message, "errors": errors, "form": form, "taken": taken},
                      status_code=422)
    token = service.start_web_session(
        session, user, now=now, user_agent=request.headers.get("user-agent"), ip=client_ip(request)
    )
    response = redirect("/me?welcome=1")
    _set_session_cookie(response, token)
    return response


def _login_page(request: Request, *, carried=None, status_code: int = 200, **context):
    values = {"next": "", **context}
    if carried is not None:
        values.update(carried=carried.encoded(), carried_action=carried.action,
                      carried_for=carried.user_id, carried_sig=carried.signature())
    return render(request, "accounts/login.html", values, status_code=status_code)


def sign_in_again_page(request: Request, carried) -> object:
    """A page form sent after its session ended: the sign-in page, carrying what was typed
    (``carried``; None when nothing could be kept)."""
    return _login_page(request, carried=carried, session_ended=True,
                       lost=carried is None, status_code=401)


@router.get("/login")
def login_form(request: Request, user: PageUserOptional, next: str | None = None,
               reset: int = 0):
    if user is not None:
        return redirect(safe_next(next, "/me"))
    return _login_page(request, next=safe_next(next, ""), reset=reset)


@router.post("/login")
def login(request: Request, form: FormDep, session: SessionDep, now: Now):
    email, password, next = (_text(form, name) for name in ("email", "password", "next"))
    carried = carry.decode(_text(form, "carried_action"), _text(form, "carried"),
                           _text(form, "carried_for"), _text(form, "carried_sig"))
    try:
        user = service.authenticate(
            session, email=email, password=password, address=client_ip(request), now=now,
            device_token=request.cookies.get(DEVICE_COOKIE),
        )
    except DomainError as err:
        message, _ = form_error(session, err)
        response = _login_page(request, carried=carried, error=message,
                               form={"email": email}, next=safe_next(next, ""),
                               session_ended=carried is not None,
                               status_code=err.status_code)
        response.headers.update(err.headers)
        return response
    old = signed_in(request)
    if old is not None:
        service.end_web_session(session, old.web_session_id, now=now)
    token = service.start_web_session(
        session, user, now=now, user_agent=request.headers.get("user-agent"), ip=client_ip(request)
    )
    if carried is not None and carried.user_id != user.id:
        carried = None  # someone else's form: never offered to another account
    if carried is not None:
        # Signed in again: the typed values in a form posting to where they were going,
        # with this new session's token; saved only when the person clicks.
        request.state.signed_in = signed_in_as(user, service.web_session_for(session, token,
                                                                             now=now))
        response = render(request, "accounts/signed_in_again.html",
                          {"carried": carried, "labels": _carried_labels(carried.fields)})
    else:
        response = redirect(safe_next(next, home_of(user)))
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


def _saved_profile(user) -> dict:
    """The account's saved values, read before an action that may fail: a failed action
    rolls the session back and expires the row, and the page shown again must still hold
    them (an empty form saved again would erase the profile)."""
    return user.model_dump()


def _me(request: Request, profile: dict, *, status_code: int = 200, **context):
    """The profile page with the account's saved values (``_saved_profile``)."""
    values = {"form": profile, "email_form": {}, **context}
    response = render(request, "accounts/me.html", values, status_code=status_code)
    error = context.get("raised")
    if error is not None:
        response.headers.update(error.headers)
    return response


def _failed(session, err):
    message, errors = form_error(session, err)
    return message, errors, (err if isinstance(err, DomainError) else None)


def open_awards(session, *, now) -> list:
    """The awards taking entries now: where a new journalist goes next."""
    found, _ = awards.list_awards(session, viewer=None, limit=200)
    return [a for a in found if a.status == AwardStatus.open
            and (a.submission_opens_at is None or a.submission_opens_at <= now)
            and (a.submission_closes_at is None or a.submission_closes_at > now)]


@router.get("/me")
def profile(request: Request, user: PageUser, session: SessionDep, now: Now, welcome: int = 0,
            saved: int = 0, sent: int = 0):
    extra = {"open_awards": open_awards(session, now=now)} if welcome else {}
    return _me(request, _saved_profile(user), welcome=welcome, saved=saved, sent=sent, **extra)


@router.post("/me")
def update_profile(request: Request, form: FormDep, user: PageUser, session: SessionDep):
    form = dict(form)
    try:
        data = UserUpdate(**{k: form.get(k) or None for k in PROFILE_FIELDS},
                          language=_text(form, "language") or None)
        service.update_profile(session, user, data)
    except (DomainError, ValidationError) as err:
        message, errors = form_error(session, err)
        return render(request, "accounts/me.html",
                      {"error": message, "errors": errors, "form": form}, status_code=422)
    response = redirect("/me?saved=1")
    # The pages follow the language chosen for the account's mails.
    response.set_cookie(LANG_COOKIE, user.language, max_age=365 * 86400, samesite="lax",
                        path="/")
    return response


@router.post("/me/verification")
def request_verification(request: Request, user: PageUser, session: SessionDep, now: Now):
    profile = _saved_profile(user)
    try:
        links.request_verification(session, user, now=now)
    except DomainError as err:
        message, _, raised = _failed(session, err)
        return _me(request, profile, verify_error=message,
                   raised=raised, status_code=err.status_code)
    return redirect("/me?sent=1")


@router.post("/me/email")
def change_email(request: Request, form: FormDep, user: PageUser, session: SessionDep,
                 now: Now):
    email, password = _text(form, "email"), _text(form, "password")
    profile = _saved_profile(user)
    try:
        links.request_email_change(session, user, EmailChange(email=email, password=password),
                                   now=now)
    except (DomainError, ValidationError) as err:
        message, errors, raised = _failed(session, err)
        status_code = err.status_code if isinstance(err, DomainError) else 422
        return _me(request, profile, email_error=message,
                   errors=errors, email_form={"email": email}, raised=raised,
                   status_code=status_code)
    return redirect("/me?saved=3")


@router.post("/me/password")
def change_password(request: Request, form: FormDep, user: PageUser, session: SessionDep,
                    now: Now):
    current_password, new_password = (_text(form, n) for n in ("current_password",
                                                                "new_password"))
    profile = _saved_profile(user)
    try:
        service.change_password(
            session, user,
            PasswordChange(current_password=current_password, new_password=new_password),
            now=now,
        )
    except (DomainError, ValidationError) as err:
        message, errors = form_error(session, err)
        return render(request, "accounts/me.html",
                      {"password_error": message, "errors": errors, "form": profile},
                      status_code=422)
    # Every session ended with the change; this browser gets a fresh one.
    token = service.start_web_session(
        session, user, now=now, user_agent=request.headers.get("user-agent"), ip=client_ip(request)
    )
    response = redirect("/me?saved=2")
    _set_session_cookie(response, token)
    return response


# --- Pages that mailed links open ----------------------------------------------------------
# GET only shows (mail scanners fetch links); the form on the page, POSTed, uses the link.

def _link_page(request: Request, purpose: LinkPurpose, *, status_code: int = 200,
               **context):
    return render(request, "accounts/link.html",
                  {"purpose": purpose.value, "token": "", **context}, status_code=status_code)


def _link_error(request: Request, session, purpose: LinkPurpose, err: DomainError):
    message, _ = form_error(session, err)
    return _link_page(request, purpose, link_error=message, status_code=err.status_code)


def _now_proved(request: Request, user) -> None:
    """The header of the page that just proved an address is the signed-in person's as it
    is now (no "not confirmed" banner), when that person is the account concerned."""
    person = signed_in(request)
    if person is not None and person.user_id == user.id:
        request.state.signed_in = replace(person, email=user.email, email_verified=True,
                                          pending_email=user.pending_email)


def _form_token(form) -> str:
    return _text(form, "token")


@router.get("/verify")
def verify_form(request: Request, session: SessionDep, now: Now, token: str | None = None):
    try:
        user = links.verification_link(session, token, now=now)
    except DomainError as err:
        return _link_error(request, session, LinkPurpose.verify_email, err)
    return _link_page(request, LinkPurpose.verify_email, token=token, email=user.email)


@router.post("/verify")
def verify(request: Request, form: FormDep, session: SessionDep, now: Now):
    try:
        user = links.confirm_verification(session, _form_token(form), now=now)
    except DomainError as err:
        return _link_error(request, session, LinkPurpose.verify_email, err)
    _now_proved(request, user)
    extra = ({"open_awards": open_awards(session, now=now)}
             if user.role == Role.journalist else {})
    return _link_page(request, LinkPurpose.verify_email, done=True, email=user.email, **extra)


@router.get("/confirm-email")
def confirm_email_form(request: Request, session: SessionDep, now: Now,
                       token: str | None = None):
    try:
        user = links.email_change_link(session, token, now=now)
    except DomainError as err:
        return _link_error(request, session, LinkPurpose.change_email, err)
    return _link_page(request, LinkPurpose.change_email, token=token, email=user.pending_email,
                      old_email=user.email)


@router.post("/confirm-email")
def confirm_email(request: Request, form: FormDep, session: SessionDep, now: Now):
    try:
        user = links.confirm_email_change(session, _form_token(form), now=now)
    except DomainError as err:
        return _link_error(request, session, LinkPurpose.change_email, err)
    _now_proved(request, user)
    return _link_page(request, LinkPurpose.change_email, done=True, email=user.email)


@router.get("/forgot-password")
def forgot_password_form(request: Request, email: str | None = None):
    return render(request, "accounts/forgot_password.html",
                  {"form": {"email": (email or "")[:320]}})


@router.post("/forgot-password")
def forgot_password(request: Request, form: FormDep, session: SessionDep, now: Now):
    email = _text(form, "email")
    try:
        links.request_password_reset(session, PasswordResetRequest(email=email), now=now,
                                     address=client_ip(request))
    except (DomainError, ValidationError) as err:
        message, errors = form_error(session, err)
        status_code = err.status_code if isinstance(err, DomainError) else 422
        response = render(request, "accounts/forgot_password.html",
                          {"error": message, "errors": errors, "form": {"email": email}},
                          status_code=status_code)
        if isinstance(err, TooManyAttempts):
            response.headers.update(err.headers)
        return response
    return render(request, "accounts/forgot_password.html", {"sent": True})


@router.get("/reset-password")
def reset_password_form(request: Request, session: SessionDep, now: Now,
                        token: str | None = None):
    try:
        user = links.reset_link(session, token, now=now)
    except DomainError as err:
        return _link_error(request, session, LinkPurpose.password_reset, err)
    return render(request, "accounts/reset_password.html", {"token": token, "email": user.email})


@router.post("/reset-password")
def reset_password(request: Request, form: FormDep, session: SessionDep, now: Now):
    token, new_password = _form_token(form), _text(form, "new_password")
    try:
        data = PasswordResetConfirm(token=token, new_password=new_password)
        links.reset_password(session, data, now=now)
    except (DomainError, ValidationError) as err:
        if isinstance(err, DomainError) and err.status_code == 400:
            return _link_error(request, session, LinkPurpose.password_reset, err)
        message, errors = form_error(session, err)
        user = links.reset_link(session, token, now=now)
        return render(request, "accounts/reset_password.html",
                      {"token": token, "email": user.email, "error": message,
                       "errors": errors}, status_code=422)
    return redirect("/login?reset=1")


@router.get("/invitations/accept")
def accept_invitation_form(request: Request, session: SessionDep, now: Now,
                           token: str | None = None):
    try:
        invitation = invitations.invitation_link(session, token, now=now)
    except DomainError as err:
        return _link_error(request, session, LinkPurpose.invitation, err)
    return render(request, "accounts/accept_invitation.html",
                  {"token": token, "invitation": invitation})


@router.post("/invitations/accept")
def accept_invitation(request: Request, form: FormDep, session: SessionDep, now: Now):
    token, password = _form_token(form), _text(form, "password")
    try:
        user = invitations.accept(session, InvitationAccept(token=token, password=password),
                                  now=now)
    except (DomainError, ValidationError) as err:
        if isinstance(err, DomainError) and err.status_code in (400, 409):
            return _link_error(request, session, LinkPurpose.invitation, err)
        message, errors = form_error(session, err)
        invitation = invitations.invitation_link(session, token, now=now)
        return render(request, "accounts/accept_invitation.html",
                      {"token": token, "invitation": invitation, "error": message,
                       "errors": errors}, status_code=422)
    old = signed_in(request)
    if old is not None:
        service.end_web_session(session, old.web_session_id, now=now)
    cookie = service.start_web_session(
        session, user, now=now, user_agent=request.headers.get("user-agent"),
        ip=client_ip(request))
    response = redirect(home_of(user))
    _set_session_cookie(response, cookie)
    return response


@router.get("/lang/{code}")
def switch_language(code: str, next: str | None = None):
    """Remember the chosen language (a preference, not a state change) and go back."""
    response = redirect(safe_next(next))
    if code in LANGUAGES:
        response.set_cookie(LANG_COOKIE, code, max_age=365 * 86400, samesite="lax", path="/")
    return response
