"""Mailed links: proving an address, changing it, resetting a forgotten password.

A link carries a random secret (``security.new_token``); the database keeps only its HMAC
(``security.link_digest``). Opening a link's page only reads it (mail scanners fetch links
before people do); the form on that page uses it, once: a conditional UPDATE sets
``used_at`` where it is still unused and unexpired, so that two clicks cannot both use it.
A new link of the same purpose ends the older ones. Each use case writes its mail into the
outbox in the caller's transaction (app.mail.service), so a failed request sends nothing.
"""

import math
from datetime import datetime

from sqlmodel import Session, col, select, update

from app import i18n
from app.accounts import rules
from app.accounts import service as accounts
from app.accounts.models import (
    AccountToken,
    EmailChange,
    PasswordResetConfirm,
    PasswordResetRequest,
    User,
)
from app.accounts.rules import LINK_TTL, LinkPurpose, LinkState, MailScope
from app.audit import service as audit
from app.db import flush_unique
from app.entries.writes import link_co_author_accounts
from app.errors import N_, BadRequest, Conflict, Invalid, TooManyAttempts
from app.mail import service as mail
from app.security import hash_password, link_digest, new_token, verify_password

EMAIL_TAKEN = N_("An account with this e-mail already exists.")

# The pages a link opens (the mail's link, and the page that offers a new one).
PAGES = {
    LinkPurpose.verify_email: "/verify",
    LinkPurpose.change_email: "/confirm-email",
    LinkPurpose.password_reset: "/reset-password",
    LinkPurpose.invitation: "/invitations/accept",
}


def _hours(purpose: LinkPurpose) -> int:
    return int(LINK_TTL[purpose].total_seconds() // 3600)


# --- The links themselves ------------------------------------------------------------------

def issue(session: Session, *, purpose: LinkPurpose, email: str, now: datetime,
          user: User | None = None, full_name: str | None = None, role: str | None = None,
          actor: User | None = None) -> tuple[str, AccountToken]:
    """A new link (its secret, for the mail, and its row). Older unused links of the same
    purpose for the same account (invitations: the same address) stop working."""
    same = (AccountToken.user_id == user.id) if user is not None and \
        purpose is not LinkPurpose.invitation else (AccountToken.email == email)
    session.exec(
        update(AccountToken)
        .where(AccountToken.purpose == purpose, same, col(AccountToken.used_at).is_(None),
               AccountToken.expires_at > now)
        .values(expires_at=now)
    )
    secret = new_token()
    row = AccountToken(purpose=purpose, token_hash=link_digest(secret),
                       user_id=user.id if user is not None else None, email=email,
                       full_name=full_name, role=role,
                       created_by_id=actor.id if actor is not None else None,
                       created_at=now, expires_at=now + LINK_TTL[purpose])
    session.add(row)
    session.flush()
    return secret, row


def state_of(row: AccountToken, *, now: datetime) -> LinkState:
    return rules.link_state(used_at=row.used_at, expires_at=row.expires_at, now=now,
                            created_at=row.created_at,
                            lifetime=LINK_TTL[LinkPurpose(row.purpose)])


def not_valid() -> BadRequest:
    return BadRequest(rules.LINK_NOT_VALID, field="token")


def open_link(session: Session, token: str | None, purpose: LinkPurpose, *,
              now: datetime) -> AccountToken:
    """The link's row if it still works; 400 saying why not (unknown, used, expired).
    Changes nothing: the pages that links open call it on GET."""
    if not token or len(token) > rules.MAX_LINK_TOKEN:
        raise not_valid()
    row = session.exec(
        select(AccountToken).where(AccountToken.token_hash == link_digest(token),
                                   AccountToken.purpose == purpose)
        .execution_options(populate_existing=True)
    ).first()
    if row is None:
        raise not_valid()
    state = state_of(row, now=now)
    if state is not LinkState.valid:
        raise BadRequest(rules.LINK_MESSAGES[state], field="token")
    return row


def use_link(session: Session, row: AccountToken, *, now: datetime) -> None:
    """Uses the link up, atomically: of two requests holding it, one wins and the other
    gets 400 (on PostgreSQL the second UPDATE waits for the first to commit, then finds
    the link used)."""
    result = session.exec(
        update(AccountToken)
        .where(AccountToken.id == row.id, col(AccountToken.used_at).is_(None),
               AccountToken.expires_at > now)
        .values(used_at=now)
    )
    if result.rowcount != 1:
        session.refresh(row)
        state = state_of(row, now=now)
        raise BadRequest(rules.LINK_MESSAGES.get(state, rules.LINK_NOT_VALID), field="token")


def _account_of(session: Session, row: AccountToken, address_of) -> User:
    """The account a link was sent for, while the link still matches it: an address
    changed since (or, for a new address, asked for again) makes the link useless."""
    user = session.get(User, row.user_id) if row.user_id is not None else None
    if user is None or not user.is_active or row.email != address_of(user):
        raise not_valid()
    return user


def _current_email(user: User) -> str:
    return user.email


def _pending_email(user: User) -> str | None:
    return user.pending_email


# --- Throttling the mails a person can cause -----------------------------------------------



def too_many(wait: int) -> TooManyAttempts:
    if wait < 120:
        return TooManyAttempts(
            N_("You have asked for this too often. Please wait {seconds} seconds and try "
               "again."), seconds=wait, retry_after=wait)
    return TooManyAttempts(
        N_("You have asked for this too often. Please wait {minutes} minutes and try again."),
        minutes=math.ceil(wait / 60), retry_after=wait)


def _take(session: Session, scope: MailScope, key: str, *, now: datetime) -> None:
    """Counts one mail on ``key``, or refuses with 429 and the seconds to wait."""
    row = accounts.lock_counters(session, [(scope, key)])[(scope, key)]
    wait = accounts.mail_wait(row, scope, now)
    if wait:
        raise too_many(wait)
    accounts.count_mail(session, row, scope, now)


def count_registration(session: Session, address: str, *, now: datetime) -> None:
    """Counts a registration from ``address``; 429 beyond the limit (each one mails)."""
    _take(session, MailScope.registration, address[:64], now=now)


# --- Verifying the address -----------------------------------------------------------------

def send_verification(session: Session, user: User, *, now: datetime) -> None:
    """Mails the account a link proving its address (at registration, or asked again)."""
    purpose = LinkPurpose.verify_email
    secret, _ = issue(session, purpose=purpose, email=user.email, user=user, now=now)
    # Secret like every link that proves or opens an account: masked in the outbox outside
    # development, so that nobody reading the outbox can prove an address they do not own.
    mail.queue_for_user(session, user, template="verify_email", now=now, secret=True, context={
        "url": mail.link(PAGES[purpose], token=secret), "hours": _hours(purpose)})


def request_verification(session: Session, user: User, *, now: datetime) -> None:
    """A new verification link, at most one a minute and five a day per account."""
    if user.email_verified:
        raise Conflict(N_("Your e-mail address is already confirmed."))
    _take(session, MailScope.verification, str(user.id), now=now)
    send_verification(session, user, now=now)


def verification_link(session: Session, token: str | None, *, now: datetime) -> User:
    """The account a verification link would confirm (nothing changes)."""
    row = open_link(session, token, LinkPurpose.verify_email, now=now)
    return _account_of(session, row, _current_email)


def confirm_verification(session: Session, token: str | None, *, now: datetime) -> User:
    """Proves the account's address: from now on it may submit and is matched as a
    co-author (its co-author lines are linked at once)."""
    row = open_link(session, token, LinkPurpose.verify_email, now=now)
    user = _account_of(session, row, _current_email)
    use_link(session, row, now=now)
    if not user.email_verified:
        user.email_verified_at = now
        session.add(user)
        audit.record(session, actor=user, action="user.verify_email", obj=user,
                     changes={"email": user.email})
    session.flush()
    link_co_author_accounts(session, user)
    return user


# --- Changing the address ------------------------------------------------------------------

def _email_taken(session: Session, email: str, *, other_than: User) -> bool:
    return session.exec(
        select(User.id).where(User.email == email, User.id != other_than.id)
    ).first() is not None


def request_email_change(session: Session, user: User, data: EmailChange, *,
                         now: datetime) -> str:
    """Keeps the new address as pending and mails it a confirmation link (and a notice to
    the current one); the account keeps its address until the link is opened. Returns the
    new address."""
    if not verify_password(data.password, user.password_hash):
        raise Invalid(N_("The current password is wrong."), field="password")
    new = rules.normalize_email(data.email)
    if new == user.email:
        raise Invalid(N_("This is already your e-mail address."), field="email")
    if _email_taken(session, new, other_than=user):
        raise Conflict(EMAIL_TAKEN, field="email")
    _take(session, MailScope.email_change, str(user.id), now=now)
    changes = audit.diff(user, {"pending_email": new})
    user.pending_email = new
    session.add(user)
    purpose = LinkPurpose.change_email
    secret, _ = issue(session, purpose=purpose, email=new, user=user, now=now)
    mail.queue_for_user(session, user, template="change_email", to=new, now=now, secret=True,
                        context={"url": mail.link(PAGES[purpose], token=secret),
                                 "hours": _hours(purpose), "new_email": new})
    mail.queue_for_user(session, user, template="change_email_notice", now=now, context={
        "new_email": new, "url": mail.link("/me")})
    audit.record(session, actor=user, action="user.email_change_requested", obj=user,
                 changes=changes)
    return new


def email_change_link(session: Session, token: str | None, *, now: datetime) -> User:
    """The account whose address the link would change (nothing changes)."""
    row = open_link(session, token, LinkPurpose.change_email, now=now)
    return _account_of(session, row, _pending_email)


def confirm_email_change(session: Session, token: str | None, *, now: datetime) -> User:
    """The pending address becomes the account's, verified; 409 if another account took it
    in the meantime (also one registering at this very moment: the unique index)."""
    row = open_link(session, token, LinkPurpose.change_email, now=now)
    user = _account_of(session, row, _pending_email)
    use_link(session, row, now=now)
    taken = Conflict(EMAIL_TAKEN, field="email")
    if _email_taken(session, row.email, other_than=user):
        raise taken
    old = user.email
    user.email, user.pending_email, user.email_verified_at = row.email, None, now
    session.add(user)
    flush_unique(session, taken)
    audit.record(session, actor=user, action="user.email", obj=user,
                 changes={"email": [old, user.email]})
    link_co_author_accounts(session, user)
    return user


# --- A forgotten password ------------------------------------------------------------------

def request_password_reset(session: Session, data: PasswordResetRequest, *,
                           address: str | None, now: datetime) -> None:
    """Mails a reset link (one hour) to an account's address; to an address with no
    account, a mail saying so, so that the answer, the work done and its time are the same
    either way. At most five requests an hour from one network address (429 beyond) and
    three mails an hour to one address (beyond, nothing is sent and the answer is the
    same)."""
    email = rules.normalize_email(data.email)
    keys = [(MailScope.reset_address, (address or accounts.UNKNOWN_ADDRESS)[:64]),
            (MailScope.reset_email, email)]
    rows = accounts.lock_counters(session, keys)
    by_address, by_email = (rows[key] for key in keys)
    wait = accounts.mail_wait(by_address, MailScope.reset_address, now)
    if wait:
        raise too_many(wait)
    accounts.count_mail(session, by_address, MailScope.reset_address, now)
    if accounts.mail_wait(by_email, MailScope.reset_email, now):
        session.flush()
        return
    accounts.count_mail(session, by_email, MailScope.reset_email, now)
    user = session.exec(select(User).where(User.email == email)).first()
    if user is not None and user.is_active:
        _send_password_reset(session, user, now=now)
    else:
        new_token()  # the same work as issuing a link
        mail.queue(session, to=email, template="password_reset_unknown", now=now,
                   lang=i18n.current_language.get(),
                   context={"email": email, "url": mail.link("/register"),
                            "reset_url": mail.link("/forgot-password")})


def _send_password_reset(session: Session, user: User, *, now: datetime) -> None:
    purpose = LinkPurpose.password_reset
    secret, _ = issue(session, purpose=purpose, email=user.email, user=user, now=now)
    mail.queue_for_user(session, user, template="password_reset", now=now, secret=True,
                        context={"url": mail.link(PAGES[purpose], token=secret),
                                 "minutes": int(LINK_TTL[purpose].total_seconds() // 60)})


def send_password_reset_for(session: Session, user_id: int, *, actor: User,
                            now: datetime) -> User:
    """An organizer has the account mailed the same reset link the person could ask for
    (when they cannot find the page, or the mail went astray). Counted on the account's
    address like the person's own requests: beyond that limit, 429 with the wait. 409 for a
    deactivated account (reactivate it first)."""
    user = accounts.get_user(session, user_id)
    if not user.is_active:
        raise Conflict(N_("This account is deactivated: reactivate it before sending a "
                          "password reset link."))
    key = (MailScope.reset_email, user.email)
    row = accounts.lock_counters(session, [key])[key]
    wait = accounts.mail_wait(row, MailScope.reset_email, now)
    if wait:
        raise too_many(wait)
    accounts.count_mail(session, row, MailScope.reset_email, now)
    _send_password_reset(session, user, now=now)
    audit.record(session, actor=actor, action="user.password_reset_sent", obj=user,
                 changes={"email": user.email})
    return user


def reset_link(session: Session, token: str | None, *, now: datetime) -> User:
    """The account a reset link is for (nothing changes)."""
    row = open_link(session, token, LinkPurpose.password_reset, now=now)
    return _account_of(session, row, _current_email)


def reset_password(session: Session, data: PasswordResetConfirm, *, now: datetime) -> User:
    """Sets the new password and ends every session and API token of the account. A weak
    password is refused (422) before the link is used, so the person can try again. The
    link proves the address too."""
    row = open_link(session, data.token, LinkPurpose.password_reset, now=now)
    user = _account_of(session, row, _current_email)
    rules.check_password(data.new_password, email=user.email, full_name=user.full_name,
                         field="new_password")
    use_link(session, row, now=now)
    user.password_hash = hash_password(data.new_password)
    proved = not user.email_verified
    if proved:
        user.email_verified_at = now
    session.add(user)
    accounts.revoke_all(session, user, now=now)
    accounts.end_links(session, user, now=now)
    audit.record(session, actor=user, action="user.password_reset", obj=user,
                 changes={"email_verified": True} if proved else None)
    session.flush()
    link_co_author_accounts(session, user)
    return user
