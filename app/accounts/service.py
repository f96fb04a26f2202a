"""Accounts: registration, sign-in with throttling, sessions, API tokens, profiles."""

import math
from datetime import datetime, timedelta

from sqlalchemy import and_, or_
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, delete, func, select, update

from app.accounts import rules
from app.accounts.models import (
    AccountToken,
    ApiToken,
    KnownAddress,
    LoginThrottle,
    PasswordChange,
    User,
    UserCreate,
    UserProfile,
    UserRegister,
    UserUpdate,
    WebSession,
)
from app import i18n
from app.accounts.rules import MAIL_LIMITS, Role, ThrottleScope
from app.audit import service as audit
from app.config import get_settings
from app.db import flush_unique, utcnow
from app.errors import (
    N_,
    Conflict,
    Forbidden,
    Invalid,
    NotAuthenticated,
    NotFound,
    TooManyAttempts,
)
from app.security import device_of, hash_password, new_token, token_digest, verify_password
from app.judging.models import Assignment, Round, Score
from app.judging.rules import RoundStatus
from app.text import clean_line, fold, nfc


def _clean_profile(data: UserProfile) -> dict:
    values = {name: clean_line(getattr(data, name)) for name in UserProfile.model_fields}
    if not values["full_name"]:
        raise Invalid(N_("Please enter your full name."), field="full_name")
    return values


def _new_user(session: Session, data: UserCreate | UserRegister, role: Role) -> User:
    """A new account, refused with 409 when the canonical e-mail is taken, also by a
    registration running in parallel (the unique index, inside a savepoint so that the
    request's session stays usable)."""
    email = rules.normalize_email(data.email)
    profile = _clean_profile(UserProfile.model_validate(data.model_dump()))
    rules.check_password(data.password, email=email, full_name=profile["full_name"])
    taken = Conflict(N_("An account with this e-mail already exists."), field="email")
    if session.exec(select(User.id).where(User.email == email)).first() is not None:
        raise taken
    user = User(email=email, password_hash=hash_password(data.password), role=role, **profile)
    session.add(user)
    flush_unique(session, taken)
    return user


def register(session: Session, data: UserRegister, *, now: datetime,
             language: str | None = None, address: str | None = None) -> User:
    """Anyone may register; a registered account is always a journalist, with an address
    still to prove: a verification link is mailed at once, in the language the person
    registered in (the request's, unless ``language`` is given), which becomes the
    language of the account's mails."""
    from app.accounts import links

    # At most MAIL_LIMITS[registration] from one network address (each mails a link).
    links.count_registration(session, address or UNKNOWN_ADDRESS, now=now)
    user = _new_user(session, data, Role.journalist)
    language = language or i18n.current_language.get()
    user.language = language if language in i18n.LANGUAGES else i18n.DEFAULT_LANGUAGE
    session.add(user)
    audit.record(session, actor=user, action="user.register", obj=user)
    links.send_verification(session, user, now=now)
    return user


def create_user(session: Session, data: UserCreate, *, actor: User | None) -> User:
    """An organizer (or the CLI, with no actor) creates an account with any role."""
    role = rules.check_role(data.role)
    user = _new_user(session, data, role)
    user.email_verified_at = utcnow()  # the organizer vouches for the address
    audit.record(session, actor=actor, action="user.create", obj=user, changes={"role": role})
    return user


def list_users(
    session: Session, *, role: str | None = None, q: str | None = None,
    active: bool | None = None, limit: int = 50, offset: int = 0
) -> tuple[list[User], int]:
    """The organizer's list of accounts, oldest first: filtered by role and by active or
    deactivated; ``q`` matches name, pen name and e-mail, every word, with or without
    Vietnamese diacritics. The page and the API both call this."""
    conditions = []
    if role:
        conditions.append(User.role == rules.check_role(role))
    if active is not None:
        conditions.append(User.is_active == active)
    for word in fold(nfc(q or "")).split():
        conditions.append(col(User.search_text).contains(word, autoescape=True))
    query = select(User).where(*conditions)
    count = select(func.count()).select_from(User).where(*conditions)
    users = session.exec(query.order_by(User.id).offset(offset).limit(limit)).all()
    return list(users), session.exec(count).one()


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(N_("No such user."))
    return user


def full_names(session: Session, user_ids) -> dict[int, str]:
    """The full names of several accounts in one statement (absent ids left out)."""
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    return dict(session.exec(select(User.id, User.full_name)
                             .where(col(User.id).in_(ids))).all())


def open_assignment_count(session: Session, user: User) -> int:
    """Entries the user still has to score: assignments in rounds not closed yet, without a
    declared conflict and without a final score (a deactivated judge's stay, and show as
    missing in the round's progress)."""
    return session.exec(
        select(func.count()).select_from(Assignment)
        .join(Round, Round.id == Assignment.round_id)
        .outerjoin(Score, and_(Score.assignment_id == Assignment.id, col(Score.final)))
        .where(Assignment.judge_id == user.id, col(Assignment.conflict_at).is_(None),
               Round.status != RoundStatus.closed, col(Score.id).is_(None))
    ).one()


def _locked_organizers(session: Session) -> list[User]:
    """Every active organizer, locked in one order until the commit: two organizers
    deactivating each other at once are served one after the other, and the second sees
    the first's change."""
    return list(session.exec(
        select(User).where(User.role == Role.organizer, col(User.is_active))
        .order_by(User.id).with_for_update()
        .execution_options(populate_existing=True)
    ).all())


def _check_still_organizer(actor: User, organizers: list[User]) -> None:
    if actor.id not in {o.id for o in organizers}:
        raise Forbidden(N_("Your account can no longer do this."))


def _lock_user(session: Session, user_id: int) -> User:
    user = session.exec(
        select(User).where(User.id == user_id).with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if user is None:
        raise NotFound(N_("No such user."))
    return user


def deactivate_user(session: Session, user_id: int, *, actor: User, now: datetime) -> User:
    """The account can no longer sign in, and every session, API token and mailed link it
    has stops working at once. Its entries, assignments and scores stay as they are. An
    organizer cannot deactivate themself, nor the last active organizer (409). Deactivating
    a deactivated account changes nothing."""
    target = get_user(session, user_id)
    if target.id == actor.id:
        raise Conflict(N_("You cannot deactivate your own account."))
    # The active organizers, locked in one order: two organizers deactivating each other at
    # once are served one after the other, and an organizer deactivated a moment ago can no
    # longer act through a request already under way.
    organizers = _locked_organizers(session)
    _check_still_organizer(actor, organizers)
    target = _lock_user(session, user_id)
    if target.role == Role.organizer and target.is_active and len(organizers) <= 1:
        raise Conflict(N_("This is the last active organizer account: give another "
                          "account the organizer role first."))
    if not target.is_active:
        return target
    target.is_active = False
    session.add(target)
    revoke_all(session, target, now=now)
    end_links(session, target, now=now)
    audit.record(session, actor=actor, action="user.deactivate", obj=target,
                 changes={"is_active": [True, False]})
    session.flush()
    return target


def reactivate_user(session: Session, user_id: int, *, actor: User) -> User:
    """The account may sign in again (with its old password, or through a reset link)."""
    _check_still_organizer(actor, _locked_organizers(session))
    target = _lock_user(session, user_id)
    if target.is_active:
        return target
    target.is_active = True
    session.add(target)
    audit.record(session, actor=actor, action="user.reactivate", obj=target,
                 changes={"is_active": [False, True]})
    session.flush()
    return target


def update_profile(session: Session, user: User, data: UserUpdate) -> User:
    """Changes the fields given (the profile page gives them all) and the language of the
    account's mails ("vi" or "en", 422 otherwise)."""
    given = data.model_fields_set
    values = {name: clean_line(getattr(data, name)) for name in UserProfile.model_fields
              if name in given}
    if "full_name" in values and not values["full_name"]:
        raise Invalid(N_("Please enter your full name."), field="full_name")
    if data.language is not None:
        values["language"] = rules.check_language(data.language)
    changes = audit.diff(user, values)
    for name, value in values.items():
        setattr(user, name, value)
    session.add(user)
    if changes:
        audit.record(session, actor=user, action="user.profile", obj=user, changes=changes)
    session.flush()
    return user


def _limits() -> rules.ThrottleLimits:
    settings = get_settings()
    return rules.ThrottleLimits(
        window=timedelta(minutes=settings.login_window_minutes),
        per_pair=settings.login_max_failures_per_pair,
        account_free=settings.login_free_failures_per_account,
        per_address=settings.login_max_failures_per_address,
    )


def _is_known_address(session: Session, user: User | None, address: str) -> bool:
    if user is None or address == UNKNOWN_ADDRESS:
        return False
    return session.exec(
        select(KnownAddress.id).where(KnownAddress.user_id == user.id,
                                      KnownAddress.address == address)
    ).first() is not None


def _key_filter(keys: list[tuple[str, str]]):
    return or_(*(and_(LoginThrottle.scope == scope, LoginThrottle.key == key)
                 for scope, key in keys))


def _counters(session: Session, keys, *, lock: bool) -> dict[tuple[str, str], LoginThrottle]:
    """The counter rows of ``keys``; with ``lock``, locked (in one order) until the commit."""
    query = select(LoginThrottle).where(_key_filter(keys))
    if lock:
        query = query.order_by(LoginThrottle.scope, LoginThrottle.key).with_for_update()
    rows = session.exec(query.execution_options(populate_existing=True)).all()
    return {(row.scope, row.key): row for row in rows}


def _insert_for(session: Session):
    """The dialect's INSERT, which has ON CONFLICT (PostgreSQL and SQLite alike)."""
    dialect = session.get_bind().dialect.name
    return postgresql_insert if dialect == "postgresql" else sqlite_insert


def lock_counters(session: Session, keys) -> dict[tuple[str, str], LoginThrottle]:
    """Create the missing counter rows (an upsert, safe in parallel), then lock all of them
    (failed sign-ins here; mails asked for in app.accounts.links)."""
    insert = _insert_for(session)
    for _ in range(3):
        session.exec(
            insert(LoginThrottle)
            .values([{"scope": scope, "key": key, "failures": 0} for scope, key in keys])
            .on_conflict_do_nothing(index_elements=["scope", "key"])
        )
        rows = _counters(session, keys, lock=True)
        if len(rows) == len(keys):
            return rows
    raise RuntimeError("login counters vanished while being locked")  # pragma: no cover


def _state(row: LoginThrottle | None) -> rules.Failures:
    if row is None:
        return rules.Failures()
    return rules.Failures(count=row.failures, first_at=row.first_at, last_at=row.last_at)


def _check(rows, keys, *, limits: rules.ThrottleLimits, now: datetime) -> None:
    wait = max(
        rules.throttle_wait(rules.ThrottleScope(scope), _state(rows.get((scope, key))),
                            limits=limits, now=now)
        for scope, key in keys
    )
    if wait > 0:
        if wait < 120:
            raise TooManyAttempts(
                N_("Too many failed sign-in attempts. Please wait {seconds} seconds and try "
                   "again."),
                seconds=wait, retry_after=wait,
            )
        raise TooManyAttempts(
            N_("Too many failed sign-in attempts. Please wait {minutes} minutes and try again."),
            minutes=math.ceil(wait / 60), retry_after=wait,
        )


def _remember_address(session: Session, user: User, address: str, now: datetime) -> None:
    """Record a successful sign-in's address, keeping only the most recent few."""
    if address == UNKNOWN_ADDRESS:
        return
    insert = _insert_for(session)
    statement = insert(KnownAddress).values(user_id=user.id, address=address,
                                            last_login_at=now)
    session.exec(statement.on_conflict_do_update(
        index_elements=["user_id", "address"], set_={"last_login_at": now}
    ))
    stale = session.exec(
        select(KnownAddress.id)
        .where(KnownAddress.user_id == user.id)
        .order_by(col(KnownAddress.last_login_at).desc(), col(KnownAddress.id).desc())
        .offset(get_settings().login_known_addresses)
    ).all()
    if stale:
        session.exec(delete(KnownAddress).where(col(KnownAddress.id).in_(stale)))


UNKNOWN_ADDRESS = "unknown"


def authenticate(
    session: Session, *, email: str, password: str, address: str | None, now: datetime,
    device_token: str | None = None,
) -> User:
    """Check a password, refusing with 429 (and the seconds to wait) while throttled.

    Failures are counted per account and address, per address, and per account from
    addresses it has not signed in from before (growing delays; see rules.throttle_keys), in
    rows shared by every app process. The counters are read first so that a throttled attempt
    costs no hash; after the password is checked they are locked and checked again before a
    failure is counted, so that parallel attempts cannot pass the limit together. A failure
    asks the request to keep its changes (``keep_changes``) although the request fails. The
    message and the time taken are the same whether or not the e-mail exists (a dummy hash is
    verified).
    """
    limits = _limits()
    key = rules.login_key(email)
    address = (address or UNKNOWN_ADDRESS)[:64]
    user = session.exec(select(User).where(User.email == key)).first()
    keys = rules.throttle_keys(key, address, known=_is_known_address(session, user, address),
                               device=device_of(device_token, key))
    _check(_counters(session, keys, lock=False), keys, limits=limits, now=now)
    ok = verify_password(password, user.password_hash if user else None)
    if ok and user is not None:
        # Locked until the new session or token is committed: a deactivation at the same
        # moment either comes first (and is seen here) or waits, and then revokes it.
        user = _lock_user(session, user.id)
    if ok and user is not None and not user.is_active:
        # Said only to whoever knows the password: nobody else learns the account exists.
        raise Forbidden(N_("This account has been deactivated by the award's organizers. "
                           "Please contact them if you think this is a mistake."))
    if ok and user is not None:
        rows = _counters(session, keys, lock=True)
        _check(rows, keys, limits=limits, now=now)
        pair = rows.get(keys[-1])  # the pair's (or the browser's) own counter starts again
        if pair is not None:
            pair.failures, pair.first_at, pair.last_at = 0, None, now
            session.add(pair)
        _remember_address(session, user, address, now)
        user.last_login_at = now
        session.add(user)
        session.flush()
        return user
    rows = lock_counters(session, keys)
    _check(rows, keys, limits=limits, now=now)
    for scope, counter_key in keys:
        row = rows[(scope, counter_key)]
        state = rules.after_failure(
            rules.current(_state(row), scope=rules.ThrottleScope(scope), now=now,
                          window=limits.window),
            now=now,
        )
        row.failures, row.first_at, row.last_at = state.count, state.first_at, state.last_at
        session.add(row)
    session.flush()
    raise NotAuthenticated(N_("Wrong e-mail or password."), keep_changes=True)


def sweep_login_counters(session: Session, *, now: datetime) -> int:
    """Delete counters idle for longer than their window (they count nothing any more):
    failed sign-ins after the login window, mails asked for after their own limit's."""
    windows = [([scope.value for scope in ThrottleScope], _limits().window)]
    windows += [([scope.value], limit.window) for scope, limit in MAIL_LIMITS.items()]
    removed = 0
    for scopes, window in windows:
        removed += session.exec(
            delete(LoginThrottle).where(col(LoginThrottle.scope).in_(scopes),
                                        col(LoginThrottle.last_at) < now - window)
        ).rowcount
    return removed


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
            ip=(ip or "")[:64] or None,
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


def ended_web_session(session: Session, token: str | None) -> WebSession | None:
    """The session row a cookie names, even once revoked or expired (a form posted from it
    is recognised by its CSRF token, app.accounts.carry)."""
    if not token:
        return None
    return session.exec(
        select(WebSession).where(WebSession.token_hash == token_digest(token))
    ).first()


def end_web_session(session: Session, web_session_id: int, *, now: datetime) -> None:
    session.exec(
        update(WebSession)
        .where(WebSession.id == web_session_id, col(WebSession.revoked_at).is_(None))
        .values(revoked_at=now)
    )


def revoke_all(session: Session, user: User, *, now: datetime) -> None:
    """End every browser session and API token of the user (after a password change or
    reset, and when an organizer deactivates the account)."""
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


def mail_wait(row: LoginThrottle, scope: rules.MailScope, now: datetime) -> int:
    """Seconds before one more mail may be counted on ``row`` (0: now)."""
    return rules.send_wait(rules.Failures(count=row.failures, first_at=row.first_at,
                                          last_at=row.last_at),
                           limit=rules.MAIL_LIMITS[scope], now=now)


def count_mail(session: Session, row: LoginThrottle, scope: rules.MailScope,
               now: datetime) -> None:
    sent = rules.after_send(rules.Failures(count=row.failures, first_at=row.first_at,
                                           last_at=row.last_at),
                            limit=rules.MAIL_LIMITS[scope], now=now)
    row.failures, row.first_at, row.last_at = sent.count, sent.first_at, sent.last_at
    session.add(row)


def may_mail(session: Session, scope: rules.MailScope, key: str, *, now: datetime) -> bool:
    """Counts one mail on ``key`` if the limit allows it; False (nothing counted) if not.
    For mails that are dropped quietly beyond their limit rather than refused."""
    row = lock_counters(session, [(scope, key)])[(scope, key)]
    if mail_wait(row, scope, now):
        return False
    count_mail(session, row, scope, now)
    return True


def end_links(session: Session, user: User, *, now: datetime) -> None:
    """After the password changed (or was reset): every mailed link still open on the
    account stops working, and an address change still waiting is dropped — whoever knew
    the old password may have asked for them (a change of address to their own mailbox
    would otherwise take the account back)."""
    session.exec(
        update(AccountToken)
        .where(AccountToken.user_id == user.id, col(AccountToken.used_at).is_(None),
               AccountToken.expires_at > now)
        .values(expires_at=now)
    )
    user.pending_email = None
    session.add(user)


def change_password(session: Session, user: User, data: PasswordChange, *, now: datetime) -> None:
    if not verify_password(data.current_password, user.password_hash):
        raise Invalid(N_("The current password is wrong."), field="current_password")
    rules.check_password(data.new_password, email=user.email, full_name=user.full_name,
                         field="new_password")
    user.password_hash = hash_password(data.new_password)
    session.add(user)
    revoke_all(session, user, now=now)
    end_links(session, user, now=now)
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
