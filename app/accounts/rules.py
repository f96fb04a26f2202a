"""Account rules: roles, what a password and an e-mail must be, login throttling, the
states of mailed links and the limits on the mails a person can cause."""

import math
import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from email_validator import EmailNotValidError, validate_email

from app.errors import N_, Invalid
from app.i18n import LANGUAGES
from app.text import fold, nfc


class Role(StrEnum):
    journalist = "journalist"
    judge = "judge"
    organizer = "organizer"


MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256
# A word of the name shorter than this may stand in a password ("an", "van", "thi").
MIN_NAME_WORD = 4
# An e-mail local part shorter than this may stand in a password.
MIN_LOCAL_PART = 3

COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")


@lru_cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords (read once), lower-cased."""
    with COMMON_PASSWORDS_FILE.open(encoding="utf-8") as lines:
        return frozenset(
            line.rstrip("\n").lower() for line in lines if line.strip() and not line.startswith("#")
        )


def _squeeze(text: str) -> str:
    """Folded for comparing a password with a name: no diacritics, lower case, no spaces."""
    return "".join(fold(unicodedata.normalize("NFKC", text)).split())


def check_password(password: str, *, email: str | None = None, full_name: str | None = None,
                   field: str = "password") -> None:
    """Refuse a password that is too short or long, common, or made of the person's e-mail
    or name. Raises Invalid on ``field``."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(
            N_("The password must have at least {n} characters."),
            field=field,
            n=MIN_PASSWORD_LENGTH,
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise Invalid(
            N_("The password must have at most {n} characters."),
            field=field,
            n=MAX_PASSWORD_LENGTH,
        )
    if email_fold(password) in common_passwords() or password.lower() in common_passwords():
        raise Invalid(
            N_("This password is one of the most commonly used; please choose another."),
            field=field,
        )
    squeezed = _squeeze(password)
    local = _squeeze(email.rpartition("@")[0]) if email and "@" in email else ""
    if len(local) >= MIN_LOCAL_PART and local in squeezed:
        raise Invalid(
            N_("The password must not contain your e-mail address."), field=field
        )
    if full_name:
        whole = _squeeze(full_name)
        words = [_squeeze(word) for word in full_name.split()]
        if (whole and whole in squeezed) or any(
            len(word) >= MIN_NAME_WORD and word in squeezed for word in words
        ):
            raise Invalid(N_("The password must not contain your name."), field=field)


def email_fold(text: str) -> str:
    """NFKC and case folding: full-width letters, ligatures ("ﬁ") and case variants of an
    address become one string."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


def normalize_email(email: str) -> str:
    """The canonical form of an address, so that one person has one account.

    Look-alike forms (full-width characters, ligatures, upper case, an IDNA ``xn--`` domain)
    give the same string: NFKC and case folding first, then ``email_validator``, which accepts
    internationalised addresses and returns the domain in its Unicode form, then folding again.
    Lower-case ASCII addresses come back unchanged.
    """
    try:
        result = validate_email(email_fold(email.strip()), check_deliverability=False)
    except EmailNotValidError:
        raise Invalid(N_("This is not a valid e-mail address."), field="email") from None
    return email_fold(result.normalized)


def login_key(email: str) -> str:
    """The account an attempt is counted against: the canonical address, or (for input that
    is not an address) its folded form, so that every attempt is counted the same way."""
    try:
        return normalize_email(email)
    except Invalid:
        return email_fold(nfc(email).strip())[:320]  # nfc drops control characters (NUL)


def check_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise Invalid(N_("Unknown role."), field="role") from None


# Login throttling. Failures are counted on three kinds of key; each check returns the seconds
# the attempt must wait (0: allowed).


class ThrottleScope(StrEnum):
    pair = "pair"  # one account from one address: a hard limit per window
    account = "account"  # one account from addresses it never signed in from: growing delays
    address = "address"  # one address, whatever the account: a hard limit per window
    device = "device"  # one account from a browser it signed in from: a hard limit per window


@dataclass(frozen=True)
class Failures:
    """The failed attempts counted on one key since ``first_at``."""

    count: int = 0
    first_at: datetime | None = None
    last_at: datetime | None = None


def current(failures: Failures, *, scope: ThrottleScope, now: datetime,
            window: timedelta) -> Failures:
    """The failures still counted at ``now``: a hard limit forgets them a window after the
    first one; growing delays forget them after a quiet window since the last one."""
    start = failures.last_at if scope is ThrottleScope.account else failures.first_at
    if start is None or now - start >= window:
        return Failures()
    return failures


def limit_wait(failures: Failures, *, limit: int, now: datetime, window: timedelta) -> int:
    """A hard limit: once ``limit`` failures were counted, wait until the window ends."""
    if failures.count < limit or failures.first_at is None:
        return 0
    return _seconds(failures.first_at + window - now)


def backoff_delay(count: int, *, free: int, window: timedelta) -> timedelta:
    """After ``free`` failures, each attempt waits 2, 4, 8 … seconds after the last failure,
    never more than the window."""
    if count < free:
        return timedelta(0)
    return min(timedelta(seconds=2 ** min(count - free + 1, 30)), window)


def backoff_wait(failures: Failures, *, free: int, now: datetime, window: timedelta) -> int:
    delay = backoff_delay(failures.count, free=free, window=window)
    # No delay is no wait, even for an attempt whose clock reading came a moment before the
    # last failure was recorded (requests read ``now`` before they queue for the lock).
    if failures.last_at is None or not delay:
        return 0
    return _seconds(failures.last_at + delay - now)


def after_failure(failures: Failures, *, now: datetime) -> Failures:
    """The counter once one more failure is recorded (on a counter already made current)."""
    return replace(failures, count=failures.count + 1, first_at=failures.first_at or now,
                   last_at=now)


@dataclass(frozen=True)
class ThrottleLimits:
    window: timedelta
    per_pair: int
    account_free: int
    per_address: int


def throttle_wait(scope: ThrottleScope, failures: Failures, *, limits: ThrottleLimits,
                  now: datetime) -> int:
    """Seconds the next attempt on this key must wait (0: it may go ahead)."""
    failures = current(failures, scope=scope, now=now, window=limits.window)
    if scope is ThrottleScope.account:
        return backoff_wait(failures, free=limits.account_free, now=now, window=limits.window)
    limit = limits.per_address if scope is ThrottleScope.address else limits.per_pair
    return limit_wait(failures, limit=limit, now=now, window=limits.window)


def throttle_keys(account: str, address: str, *, known: bool,
                  device: str | None = None) -> list[tuple[ThrottleScope, str]]:
    """The counters an attempt is checked and counted on, in the order they are locked.

    From an address the account has signed in from before, only the pair and the address
    count: a stranger's failures elsewhere do not slow the owner down. From a browser that
    carries the account's device token (set at a successful sign-in), only that browser's
    own counter counts: a stranger behind the same address (an office network) cannot lock
    the owner out, and a stolen token still allows only a few guesses per window.
    """
    if device:
        return [(ThrottleScope.device, f"{device} {account}")]
    keys = [(ThrottleScope.address, address), (ThrottleScope.pair, f"{address} {account}")]
    if not known:
        keys.insert(0, (ThrottleScope.account, account))
    return keys


def _seconds(delta: timedelta) -> int:
    return max(0, math.ceil(delta.total_seconds()))


ROLE_LABELS = {
    Role.journalist: N_("Journalist"),
    Role.judge: N_("Judge"),
    Role.organizer: N_("Organizer"),
}


# Mailed links: verification of an address, a new address, a password reset, an invitation.


class LinkPurpose(StrEnum):
    verify_email = "verify_email"
    change_email = "change_email"
    password_reset = "password_reset"
    invitation = "invitation"


LINK_TTL = {
    LinkPurpose.verify_email: timedelta(hours=48),
    LinkPurpose.change_email: timedelta(hours=48),
    LinkPurpose.password_reset: timedelta(hours=1),
    LinkPurpose.invitation: timedelta(days=7),
}


class LinkState(StrEnum):
    valid = "valid"
    used = "used"
    expired = "expired"
    replaced = "replaced"


# A link's secret is 43 characters (security.new_token); anything much longer is not one.
MAX_LINK_TOKEN = 100

LINK_NOT_VALID = N_("This link is not valid. Please check that you copied the whole address.")
LINK_MESSAGES = {
    LinkState.used: N_("This link was already used."),
    LinkState.expired: N_("This link has expired."),
    LinkState.replaced: N_("This link was replaced by a newer one: please use the link in the "
                           "most recent mail."),
}


def link_state(*, used_at: datetime | None, expires_at: datetime, now: datetime,
               created_at: datetime | None = None,
               lifetime: timedelta | None = None) -> LinkState:
    """Used wins over expired: a link opened once says so even after its time is over.
    A link replaced by a newer one of the same purpose had its ``expires_at`` brought
    forward to the moment it was replaced: given its ``created_at`` and ``lifetime``, it
    says so rather than that its time ran out."""
    if used_at is not None:
        return LinkState.used
    if expires_at <= now:
        if created_at is not None and lifetime is not None and \
                expires_at < created_at + lifetime:
            return LinkState.replaced
        return LinkState.expired
    return LinkState.valid


# Mails a person can cause to be sent are throttled, counted on LoginThrottle rows under
# their own scope names (one row per key, locked while checked and counted).


class MailScope(StrEnum):
    verification = "verify"      # verification links asked for, per account
    email_change = "email_chg"   # address changes asked for, per account
    reset_address = "reset_ip"   # password resets asked for from one network address
    reset_email = "reset_to"     # password resets asked for one e-mail address
    registration = "register"    # accounts registered from one network address
    co_author = "coauthor"       # "you are listed as a co-author" notices to one address


@dataclass(frozen=True)
class SendLimit:
    """At most ``count`` mails per ``window`` (counted from the first), and at least
    ``interval`` between two."""

    count: int
    window: timedelta
    interval: timedelta = timedelta(0)


MAIL_LIMITS = {
    MailScope.verification: SendLimit(5, timedelta(hours=24), timedelta(seconds=60)),
    MailScope.email_change: SendLimit(5, timedelta(hours=24), timedelta(seconds=60)),
    MailScope.reset_address: SendLimit(5, timedelta(hours=1)),
    MailScope.reset_email: SendLimit(3, timedelta(hours=1)),
    # Each registration mails a link to an address of the registrant's choosing, greeting
    # them with a name of the registrant's choosing: generous enough for a newsroom behind
    # one address registering together, not for a mail cannon.
    MailScope.registration: SendLimit(30, timedelta(hours=1)),
    # A submitter chooses the addresses and the title; withdrawing and submitting again
    # must not turn the notice into a way to flood someone's mailbox.
    MailScope.co_author: SendLimit(5, timedelta(hours=24)),
}


def sent_in_window(sent: Failures, *, limit: SendLimit, now: datetime) -> Failures:
    """The mails still counted at ``now`` (a counter row's values, as for failures)."""
    if sent.first_at is None or now - sent.first_at >= limit.window:
        return Failures()
    return sent


def send_wait(sent: Failures, *, limit: SendLimit, now: datetime) -> int:
    """Seconds before one more mail may be sent on this key (0: now)."""
    sent = sent_in_window(sent, limit=limit, now=now)
    wait = limit_wait(sent, limit=limit.count, now=now, window=limit.window)
    if limit.interval and sent.last_at is not None:
        wait = max(wait, _seconds(sent.last_at + limit.interval - now))
    return wait


def after_send(sent: Failures, *, limit: SendLimit, now: datetime) -> Failures:
    return after_failure(sent_in_window(sent, limit=limit, now=now), now=now)


INVITABLE_ROLES = (Role.judge, Role.organizer)


def check_invitable_role(role: str) -> Role:
    """Invitations bring in judges and organizers; journalists register themselves."""
    checked = check_role(role)
    if checked not in INVITABLE_ROLES:
        raise Invalid(N_("Only judges and organizers are invited."), field="role")
    return checked


def check_language(language: str) -> str:
    if language not in LANGUAGES:
        raise Invalid(N_("Unknown language."), field="language")
    return language
