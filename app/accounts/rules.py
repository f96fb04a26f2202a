"""Account rules: roles, what a password and an e-mail must be, login throttling."""

from datetime import datetime, timedelta
from enum import StrEnum

from email_validator import EmailNotValidError, validate_email

from app.errors import N_, Invalid


class Role(StrEnum):
    journalist = "journalist"
    judge = "judge"
    organizer = "organizer"


MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(
            N_("The password must have at least {n} characters."),
            field="password",
            n=MIN_PASSWORD_LENGTH,
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise Invalid(
            N_("The password must have at most {n} characters."),
            field="password",
            n=MAX_PASSWORD_LENGTH,
        )


def normalize_email(email: str) -> str:
    """A syntactically valid address, lower-cased so that one person has one account."""
    try:
        result = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError:
        raise Invalid(N_("This is not a valid e-mail address."), field="email") from None
    return result.normalized.lower()


def check_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise Invalid(N_("Unknown role."), field="role") from None


def throttle_window_start(now: datetime, minutes: int) -> datetime:
    return now - timedelta(minutes=minutes)


def is_throttled(failures: int, limit: int) -> bool:
    """Refuse once the failures inside the window have reached the limit."""
    return failures >= limit


ROLE_LABELS = {
    Role.journalist: N_("Journalist"),
    Role.judge: N_("Judge"),
    Role.organizer: N_("Organizer"),
}
