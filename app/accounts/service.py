"""Accounts: registration, sign-in with throttling, sessions, API tokens, profiles."""

from datetime import datetime, timedelta

from sqlmodel import Session, col, delete, func, select, update

from app.accounts import rules
from app.accounts.models import (
    ApiToken,
    LoginFailure,
    PasswordChange,
    User,
    UserCreate,
    UserProfile,
    UserRegister,
    WebSession,
)
from app.accounts.rules import Role
from app.audit import service as audit
from app.config import get_settings
from app.errors import N_, Conflict, Invalid, NotAuthenticated, NotFound, TooManyAttempts
from app.security import hash_password, new_token, token_digest, verify_password
from app.text import clean_line


def _clean_profile(data: UserProfile) -> dict:
    values = {name: clean_line(getattr(data, name)) for name in UserProfile.model_fields}
    if not values["full_name"]:
        raise Invalid(N_("Please enter your full name."), field="full_name")
    return values


def _new_user(session: Session, data: UserCreate | UserRegister, role: Role) -> User:
    email = rules.normalize_email(data.email)
    rules.check_password(data.password)
    profile = _clean_profile(UserProfile.model_validate(data.model_dump()))
    if session.exec(select(User.id).where(User.email == email)).first() is not None:
        raise Conflict(N_("An account with this e-mail already exists."), field="email")
    user = User(email=email, password_hash=hash_password(data.password), role=role, **profile)
    session.add(user)
    session.flush()
    return user


def register(session: Session, data: UserRegister) -> User:
    """Anyone may register; a registered account is always a journalist."""
    user = _new_user(session, data, Role.journalist)
    audit.record(session, actor=user, action="user.register", obj=user)
    return user


def create_user(session: Session, data: UserCreate, *, actor: User | None) -> User:
    """An organizer (or the CLI, with no actor) creates an account with any role."""
    role = rules.check_role(data.role)
    user = _new_user(session, data, role)
    audit.record(session, actor=actor, action="user.create", obj=user, changes={"role": role})
    return user


def list_users(
    session: Session, *, role: str | None = None, limit: int = 50, offset: int = 0
) -> tuple[list[User], int]:
    query = select(User)
    count = select(func.count()).select_from(User)
    if role:
        rules.check_role(role)
        query = query.where(User.role == role)
        count = count.where(User.role == role)
    users = session.exec(query.order_by(User.id).offset(offset).limit(limit)).all()
    return list(users), session.exec(count).one()


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(N_("No such user."))
    return user


def update_profile(session: Session, user: User, data: UserProfile) -> User:
    values = _clean_profile(data)
    changes = audit.diff(user, values)
    for name, value in values.items():
        setattr(user, name, value)
    session.add(user)
    if changes:
        audit.record(session, actor=user, action="user.profile", obj=user, changes=changes)
    session.flush()
    return user


def _failures(session: Session, kind: str, key: str, since: datetime) -> int:
    return session.exec(
        select(func.count())
        .select_from(LoginFailure)
        .where(LoginFailure.kind == kind, LoginFailure.key == key, LoginFailure.at >= since)
    ).one()


def authenticate(
    session: Session, *, email: str, password: str, address: str | None, now: datetime
) -> User:
    """Check a password, refusing with 429 once an account or address has failed too often.

    A failure is recorded in the database (shared by every app process) and the error asks
    the request to keep it (``keep_changes``) although the request fails. The message is the
    same whether or not the e-mail exists, and so is the time taken (a dummy hash is verified).
    """
    settings = get_settings()
    key = email.strip().lower()
    since = rules.throttle_window_start(now, settings.login_window_minutes)
    address = address or "unknown"
    if rules.is_throttled(
        _failures(session, "account", key, since), settings.login_max_failures_per_account
    ) or rules.is_throttled(
        _failures(session, "address", address, since), settings.login_max_failures_per_address
    ):
        raise TooManyAttempts(
            N_("Too many failed sign-in attempts. Please wait {minutes} minutes and try again."),
            minutes=settings.login_window_minutes,
        )
    user = session.exec(select(User).where(User.email == key)).first()
    ok = verify_password(password, user.password_hash if user else None)
    if not ok or user is None or not user.is_active:
        session.add(LoginFailure(kind="account", key=key, at=now))
        session.add(LoginFailure(kind="address", key=address, at=now))
        session.flush()
        raise NotAuthenticated(N_("Wrong e-mail or password."), keep_changes=True)
    session.exec(
        delete(LoginFailure).where(LoginFailure.kind == "account", LoginFailure.key == key)
    )
    return user


def start_web_session(
    session: Session,
    user: User,
    *,
    now: datetime,
    user_agent: str | None = None,
    ip: str | None = None,
) -> str:
    """Open a new browser session and return the cookie's secret (a new one every login)."""
    token = new_token()
    session.add(
        WebSession(
            user_id=user.id,
            token_hash=token_digest(token),
            csrf_secret=new_token(),
            created_at=now,
            expires_at=now + timedelta(days=get_settings().session_days),
            user_agent=(user_agent or "")[:300] or None,
            ip=ip,
        )
    )
    session.flush()
    return token


def web_session_for(session: Session, token: str | None, *, now: datetime) -> WebSession | None:
    if not token:
        return None
    row = session.exec(
        select(WebSession).where(WebSession.token_hash == token_digest(token))
    ).first()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    return row


def end_web_session(session: Session, web_session_id: int, *, now: datetime) -> None:
    session.exec(
        update(WebSession)
        .where(WebSession.id == web_session_id, col(WebSession.revoked_at).is_(None))
        .values(revoked_at=now)
    )


def revoke_all(session: Session, user: User, *, now: datetime) -> None:
    """End every browser session and API token of the user (after a password change)."""
    session.exec(
        update(WebSession)
        .where(WebSession.user_id == user.id, col(WebSession.revoked_at).is_(None))
        .values(revoked_at=now)
    )
    session.exec(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, col(ApiToken.revoked_at).is_(None))
        .values(revoked_at=now)
    )


def change_password(session: Session, user: User, data: PasswordChange, *, now: datetime) -> None:
    if not verify_password(data.current_password, user.password_hash):
        raise Invalid(N_("The current password is wrong."), field="current_password")
    rules.check_password(data.new_password)
    user.password_hash = hash_password(data.new_password)
    session.add(user)
    revoke_all(session, user, now=now)
    audit.record(session, actor=user, action="user.password", obj=user)
    session.flush()


def issue_api_token(session: Session, user: User, *, now: datetime) -> tuple[str, datetime]:
    token = new_token()
    expires_at = now + timedelta(hours=get_settings().token_hours)
    session.add(
        ApiToken(user_id=user.id, token_hash=token_digest(token), created_at=now,
                 expires_at=expires_at)
    )
    session.flush()
    return token, expires_at


def api_token_for(session: Session, token: str | None, *, now: datetime) -> ApiToken | None:
    if not token:
        return None
    row = session.exec(select(ApiToken).where(ApiToken.token_hash == token_digest(token))).first()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    return row


def revoke_api_token(session: Session, token: ApiToken, *, now: datetime) -> None:
    token.revoked_at = now
    session.add(token)
    session.flush()
