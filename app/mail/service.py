"""The outbox: mails written in the caller's transaction, rendered in the recipient's language.

Services call ``queue`` (or ``queue_for_user``) next to the change that causes the mail;
nothing is sent here. A sender (app.mail.worker) delivers committed mails later, so no
request ever waits on an SMTP server or fails because of one.
"""

import re
from contextlib import contextmanager
from datetime import datetime, timedelta
from urllib.parse import urlencode

import jinja2
from sqlalchemy import text, update
from sqlmodel import Session, func, select

from app import i18n
from app.accounts.models import User
from app.accounts.rules import Role
from app.audit import service as audit
from app.config import get_settings
from app.db import after_commit
from app.errors import N_, Conflict, Forbidden, NotFound
from app.mail.models import (
    Mail,
    MailAttempt,
    MailAttemptPublic,
    MailDetail,
    MailPublic,
    MailStatus,
    MAIL_STATUS_LABELS,
)

# Subjects, as msgids with {placeholders} filled from the mail's context.
SUBJECTS = {
    "verify_email": N_("Confirm your e-mail address"),
    "change_email": N_("Confirm your new e-mail address"),
    "change_email_notice": N_("A new e-mail address was requested for your account"),
    "password_reset": N_("Reset your password"),
    "password_reset_unknown": N_("Password reset requested"),
    "invitation": N_("You are invited to join Giải báo chí as {role}"),
    "role_granted": N_("You are now {role} on Giải báo chí"),
    "co_author_listed": N_("You are listed as a co-author of “{title}”"),
    "entry_receipt": N_("Receipt for your entry {code}: {title}"),
    "entry_returned": N_("Your entry {code} was returned for changes"),
    "entry_rejected": N_("Your entry {code} was not accepted"),
    "entry_accepted": N_("Your entry {code} was accepted"),
    "judge_queue": N_("Your entries to score in “{round}”"),
    "judge_reminder": N_("Reminder: {remaining} entries still to score in “{round}”"),
    "results_published": N_("Results of {award_title}"),
}

# The query parameter that carries a link's secret (masked outside development).
_SECRET_LINK = re.compile(r"([?&]token=)[^\s&\"'<>]+")
MASK = "••••••"


def mask_secrets(text: str) -> str:
    return _SECRET_LINK.sub(lambda m: m.group(1) + MASK, text)


def link(path: str, **query) -> str:
    """An absolute link to a page of the portal (``GIAIBAO_BASE_URL``)."""
    base = get_settings().base_url.rstrip("/")
    return base + path + (("?" + urlencode(query)) if query else "")


@contextmanager
def language(lang: str):
    """Translate into ``lang`` inside the block (the recipient's, not the caller's)."""
    token = i18n.current_language.set(lang if lang in i18n.LANGUAGES else i18n.DEFAULT_LANGUAGE)
    try:
        yield
    finally:
        i18n.current_language.reset(token)


def _environment() -> jinja2.Environment:
    from app.web import templates

    # The site's filters and globals; HTML parts escaped, plain-text parts not.
    return templates.env.overlay(
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False))


_env: jinja2.Environment | None = None


def render(template: str, context: dict, lang: str) -> tuple[str, str, str]:
    """(subject, text, html) of ``template`` in ``lang``."""
    global _env
    if _env is None:
        _env = _environment()
    with language(lang):
        values = {"base_url": get_settings().base_url.rstrip("/"), "lang": lang, **context}
        subject = i18n.gettext(SUBJECTS[template]).format(
            **{k: v for k, v in values.items() if isinstance(v, (str, int))})
        text = _env.get_template(f"mail/{template}.txt").render(subject=subject, **values)
        html = _env.get_template(f"mail/{template}.html").render(subject=subject, **values)
    return subject, text.strip() + "\n", html


def queue(session: Session, *, to: str, template: str, context: dict, lang: str,
          now: datetime, user_id: int | None = None, award_id: int | None = None,
          secret: bool = False) -> Mail:
    """Writes a mail into the outbox in the caller's transaction (sent after the commit)."""
    subject, text, html = render(template, context, lang)
    mail = Mail(to=to, user_id=user_id, award_id=award_id, template=template, language=lang,
                subject=subject[:300], text=text, html=html, secret=secret, created_at=now,
                next_attempt_at=now,
                give_up_at=now + timedelta(hours=get_settings().mail_give_up_hours))
    session.add(mail)
    session.flush()
    wake_senders_after_commit(session)
    return mail


def queue_for_user(session: Session, user: User, *, template: str, context: dict,
                   now: datetime, award_id: int | None = None, secret: bool = False,
                   to: str | None = None) -> Mail:
    """A mail to an account, in its language (to its address unless ``to`` is given)."""
    return queue(session, to=to or user.email, template=template,
                 context={"user": user, **context}, lang=user.language, now=now,
                 user_id=user.id, award_id=award_id, secret=secret)


# Senders running in this process wait on this; a commit that queued mail wakes them.
_wakers: list = []

# Senders of other processes (the supervisor of `giaibao serve --workers N`, other `giaibao
# serve` behind a proxy, `giaibao worker`) LISTEN on this PostgreSQL channel.
WAKE_CHANNEL = "giaibao_mail"


def wake_sender() -> None:
    for wake in list(_wakers):
        wake()


def wake_senders_after_commit(session: Session) -> None:
    """Once the transaction commits, every sender looks for due mail at once: those of this
    process directly, those of other processes by a NOTIFY, which PostgreSQL delivers at the
    commit (and drops on a rollback). Once per transaction. On SQLite (one machine) other
    processes' senders find the mail at their next poll (``mail_poll_seconds``)."""
    if wake_sender in session.info.get("after_commit", []):
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": WAKE_CHANNEL})
    after_commit(session, wake_sender)


# --- The outbox, as organizers see it -------------------------------------------------------

def may_read_outbox(user: User) -> bool:
    """Mails carry other people's links and addresses: organizers only."""
    return user.role == Role.organizer


def _check_reader(user: User) -> None:
    if not may_read_outbox(user):
        raise Forbidden(N_("You do not have permission to do this."))


def _public(mail: Mail) -> MailPublic:
    return MailPublic(id=mail.id, to=mail.to, subject=mail.subject, template=mail.template,
                      language=mail.language, status=mail.status, attempts=mail.attempts,
                      last_error=mail.last_error, created_at=mail.created_at,
                      next_attempt_at=mail.next_attempt_at, sent_at=mail.sent_at)


def list_mails(session: Session, *, viewer: User, status: str | None = None, limit: int = 50,
               offset: int = 0) -> tuple[list[MailPublic], int]:
    """The outbox, newest first, optionally of one status; with the total over all pages.
    An unknown status matches nothing."""
    _check_reader(viewer)
    query = select(Mail)
    count = select(func.count()).select_from(Mail)
    if status is not None:
        query = query.where(Mail.status == status)
        count = count.where(Mail.status == status)
    rows = session.exec(query.order_by(Mail.created_at.desc(), Mail.id.desc())
                        .offset(offset).limit(limit)).all()
    return [_public(mail) for mail in rows], session.exec(count).one()


def reveals_secrets() -> bool:
    """Secret links (verification, reset, invitation) are shown only in development."""
    return get_settings().is_dev


def mail_detail(mail: Mail, attempts: list[MailAttempt]) -> MailDetail:
    """The mail with its parts and attempts log; its secret links masked outside
    development (the API and the pages both read mails through here)."""
    text, html = mail.text, mail.html
    if mail.secret and not reveals_secrets():
        text, html = mask_secrets(text), mask_secrets(html)
    return MailDetail(**_public(mail).model_dump(), text=text, html=html, attempts_log=[
        MailAttemptPublic(at=a.at, worker=a.worker, ok=a.ok, error=a.error) for a in attempts])


def get_mail(session: Session, mail_id: int, *, viewer: User) -> MailDetail:
    _check_reader(viewer)
    mail = session.get(Mail, mail_id)
    if mail is None:
        raise NotFound(N_("This mail does not exist."))
    attempts = session.exec(select(MailAttempt).where(MailAttempt.mail_id == mail_id)
                            .order_by(MailAttempt.at, MailAttempt.id)).all()
    return mail_detail(mail, list(attempts))


def resend_mail(session: Session, mail_id: int, *, actor: User, now: datetime) -> MailPublic:
    """Queues a failed mail again, due now and with a new give-up time; its attempts and
    last error are kept. Conditional on the mail still being failed, so that a double click
    (or two organizers at once) queues it once: the second gets a 409."""
    _check_reader(actor)
    mail = session.get(Mail, mail_id)
    if mail is None:
        raise NotFound(N_("This mail does not exist."))
    give_up_at = now + timedelta(hours=get_settings().mail_give_up_hours)
    changed = session.execute(
        update(Mail).where(Mail.id == mail_id, Mail.status == MailStatus.failed)
        .values(status=MailStatus.queued, next_attempt_at=now, give_up_at=give_up_at,
                claimed_by=None, claimed_until=None)
        .execution_options(synchronize_session=False)).rowcount
    session.refresh(mail)
    if changed != 1:
        raise Conflict(N_("Only a mail that failed can be sent again; this one is {status}."),
                       status=[MAIL_STATUS_LABELS.get(mail.status, mail.status)])
    audit.record(session, actor=actor, action="mail.resend", obj=mail,
                 changes={"status": [MailStatus.failed.value, MailStatus.queued.value]})
    wake_senders_after_commit(session)
    return _public(mail)
