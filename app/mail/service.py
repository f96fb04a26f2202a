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
from sqlmodel import Session

from app import i18n
from app.accounts.models import User
from app.config import get_settings
from app.db import after_commit
from app.errors import N_
from app.mail.models import Mail

# Subjects, as msgids with {placeholders} filled from the mail's context.
SUBJECTS = {
    "verify_email": N_("Confirm your e-mail address"),
    "change_email": N_("Confirm your new e-mail address"),
    "password_reset": N_("Reset your password"),
    "password_reset_unknown": N_("Password reset requested"),
    "invitation": N_("You are invited to join Giải báo chí as {role}"),
    "role_granted": N_("You are now {role} on Giải báo chí"),
    "co_author_listed": N_("You are listed as a co-author of “{title}”"),
    "entry_receipt": N_("Receipt for your entry {code}: {title}"),
    "entry_returned": N_("Your entry {code} was returned for changes"),
    "entry_rejected": N_("Your entry {code} was not accepted"),
    "entry_accepted": N_("Your entry {code} was accepted"),
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
    after_commit(session, wake_sender)
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


def wake_sender() -> None:
    for wake in list(_wakers):
        wake()
