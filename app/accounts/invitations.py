"""Invitations: the organizer brings in a judge or another organizer by e-mail, and the
invitee sets their own password through the mailed link (seven days, single use).

Nobody can squat an address meant for a judge: an account that registered the address but
never proved it is taken over when the invitation is accepted (password, sessions, name and
role replaced). An account that did prove the address is given the role directly, once the
organizer confirms that this is the person they meant.
"""

from datetime import datetime

from sqlmodel import Session, col, func, select

from app import i18n
from app.accounts import links, rules
from app.accounts import service as accounts
from app.accounts.models import (
    AccountToken,
    InvitationAccept,
    InvitationCreate,
    InvitationPublic,
    User,
)
from app.accounts.rules import LINK_TTL, ROLE_LABELS, LinkPurpose, LinkState, Role
from app.audit import service as audit
from app.config import get_settings
from app.db import flush_unique
from app.entries.writes import link_co_author_accounts
from app.errors import N_, Conflict, Invalid, NotFound
from app.mail import service as mail
from app.security import hash_password
from app.text import clean_line

PURPOSE = LinkPurpose.invitation


class NeedsConfirmation(Conflict):
    """An account with a verified address holds the invited address: the organizer must
    confirm that it is the person they meant (the page asks; the API takes
    ``confirm_existing``)."""


def public(row: AccountToken, *, now: datetime) -> InvitationPublic:
    status = {LinkState.valid: "pending", LinkState.used: "accepted",
              LinkState.expired: "expired",
              LinkState.replaced: "replaced"}[links.state_of(row, now=now)]
    return InvitationPublic(id=row.id, email=row.email, full_name=row.full_name or "",
                            role=row.role or "", status=status, created_at=row.created_at,
                            expires_at=row.expires_at, user_id=row.user_id)


def _role_label(role: str, lang: str) -> str:
    with mail.language(lang):
        return i18n.gettext(ROLE_LABELS[Role(role)])


def invite(session: Session, data: InvitationCreate, *, actor: User,
           now: datetime) -> InvitationPublic:
    """Mails an invitation (replacing an older one to the same address). An account with a
    verified address already holding it: 409 naming it, unless ``confirm_existing``, when
    it is given the role directly and told so by mail."""
    role = rules.check_invitable_role(data.role)
    email = rules.normalize_email(data.email)
    full_name = clean_line(data.full_name)
    if not full_name:
        raise Invalid(N_("Please enter the full name of the person you invite."),
                      field="full_name")
    existing = session.exec(select(User).where(User.email == email)).first()
    if existing is not None and existing.email_verified:
        if existing.id == actor.id:
            raise Conflict(N_("You cannot change your own role."), field="email")
        if existing.role == role:
            raise Conflict(N_("The account of {name} ({email}) already has this role."),
                           field="email", name=existing.full_name, email=email)
        if not data.confirm_existing:
            raise NeedsConfirmation(
                N_("The account of {name} ({email}) already uses this address. Confirm to "
                   "give it the role {role}."),
                field="email", name=existing.full_name, email=email, role=[ROLE_LABELS[role]])
        return grant_role(session, existing, role, actor=actor, now=now)
    secret, row = links.issue(session, purpose=PURPOSE, email=email, full_name=full_name,
                              role=role, actor=actor, now=now)
    lang = existing.language if existing is not None else get_settings().default_language
    mail.queue(session, to=email, template="invitation", lang=lang, now=now, secret=True,
               user_id=existing.id if existing is not None else None, context={
                   "url": mail.link(links.PAGES[PURPOSE], token=secret),
                   "days": LINK_TTL[PURPOSE].days, "role": _role_label(role, lang),
                   "inviter": actor.full_name, "full_name": full_name})
    audit.record(session, actor=actor, action="user.invite", obj=row,
                 changes={"email": email, "role": role})
    return public(row, now=now)


def grant_role(session: Session, user: User, role: Role, *, actor: User,
               now: datetime) -> InvitationPublic:
    """Gives a verified account the role it was invited to, and tells it by mail."""
    changes = audit.diff(user, {"role": role})
    user.role = role
    session.add(user)
    audit.record(session, actor=actor, action="user.role", obj=user, changes=changes)
    mail.queue_for_user(session, user, template="role_granted", now=now, context={
        "role": _role_label(role, user.language), "inviter": actor.full_name,
        "url": mail.link("/login")})
    session.flush()
    return InvitationPublic(id=None, email=user.email, full_name=user.full_name, role=role,
                            status="granted", created_at=now, expires_at=None,
                            user_id=user.id)


def list_pending(session: Session, *, now: datetime, limit: int = 50,
                 offset: int = 0) -> tuple[list[InvitationPublic], int]:
    """Invitations whose link still works, newest first."""
    pending = (AccountToken.purpose == PURPOSE, col(AccountToken.used_at).is_(None),
               AccountToken.expires_at > now)
    rows = session.exec(
        select(AccountToken).where(*pending)
        .order_by(col(AccountToken.created_at).desc(), col(AccountToken.id).desc())
        .offset(offset).limit(limit)
    ).all()
    total = session.exec(select(func.count()).select_from(AccountToken).where(*pending)).one()
    return [public(row, now=now) for row in rows], total


def resend(session: Session, invitation_id: int, *, actor: User,
           now: datetime) -> InvitationPublic:
    """A new link for an invitation not yet accepted (also an expired one); the old link
    stops working."""
    row = session.get(AccountToken, invitation_id)
    if row is None or row.purpose != PURPOSE:
        raise NotFound(N_("No such invitation."))
    if row.used_at is not None:
        raise Conflict(N_("This invitation was already accepted."))
    return invite(session, InvitationCreate(email=row.email, full_name=row.full_name or "",
                                            role=row.role or ""), actor=actor, now=now)


def invitation_link(session: Session, token: str | None, *, now: datetime) -> InvitationPublic:
    """Who is invited as what (nothing changes): the page shows it above the form."""
    return public(links.open_link(session, token, PURPOSE, now=now), now=now)


def accept(session: Session, data: InvitationAccept, *, now: datetime) -> User:
    """The invitee's account, with their own password, the invited role and a verified
    address. An account already holding the address is taken over: password replaced and
    every session and token ended; if it never proved the address, its profile is replaced
    by the invitation's name too. A weak password is refused (422) before the link is used."""
    row = links.open_link(session, data.token, PURPOSE, now=now)
    user = session.exec(
        select(User).where(User.email == row.email).with_for_update()
    ).first()
    name = row.full_name or ""
    rules.check_password(data.password, email=row.email, full_name=name)
    links.use_link(session, row, now=now)
    role = Role(row.role)
    if user is None:
        user = User(email=row.email, password_hash=hash_password(data.password), role=role,
                    full_name=name, email_verified_at=now,
                    language=i18n.current_language.get())
        session.add(user)
        flush_unique(session, Conflict(links.EMAIL_TAKEN, field="email"))
        changes = {"role": role}
    else:
        values: dict = {"role": role, "pending_email": None}
        if not user.email_verified:
            values.update(full_name=name, pen_name=None, phone=None, organization=None,
                          press_card_number=None, email_verified_at=now)
        changes = audit.diff(user, values)
        for field, value in values.items():
            setattr(user, field, value)
        user.password_hash = hash_password(data.password)
        session.add(user)
        accounts.revoke_all(session, user, now=now)
    session.flush()
    audit.record(session, actor=user, action="user.invitation_accepted", obj=user,
                 changes={"invitation": row.id, **changes})
    link_co_author_accounts(session, user)
    return user
