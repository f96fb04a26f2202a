"""Time zones as a Vietnamese secretariat reads them: "giờ Việt Nam (GMT+7)", not an IANA id.

The award stores the IANA name (awards.rules.check_timezone accepts any); forms offer
``CHOICES`` (Vietnam first) plus the award's own zone if it is not among them.
"""

from datetime import datetime, timezone

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.errors import N_
from app.i18n import gettext

VIETNAM = "Asia/Ho_Chi_Minh"

# (IANA name, place shown to people). Vietnamese awards are run from Vietnam; the others are
# for overseas chapters and partner awards.
CHOICES: list[tuple[str, str]] = [
    (VIETNAM, N_("Vietnam time")),
    ("Asia/Bangkok", N_("Bangkok")),
    ("Asia/Singapore", N_("Singapore")),
    ("Asia/Shanghai", N_("Beijing")),
    ("Asia/Seoul", N_("Seoul")),
    ("Asia/Tokyo", N_("Tokyo")),
    ("Australia/Sydney", N_("Sydney")),
    ("Europe/Moscow", N_("Moscow")),
    ("Europe/Berlin", N_("Berlin")),
    ("Europe/Paris", N_("Paris")),
    ("Europe/London", N_("London")),
    ("America/New_York", N_("New York")),
    ("America/Los_Angeles", N_("Los Angeles")),
    ("UTC", N_("Coordinated Universal Time")),
]
_PLACES = dict(CHOICES) | {"Asia/Saigon": N_("Vietnam time")}


def known(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def offset_text(name: str, at: datetime | None = None) -> str:
    """"GMT+7", "GMT-4", "GMT+5:30" at ``at`` (now by default: summer time moves it)."""
    at = at or datetime.now(timezone.utc)
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    minutes = int(at.astimezone(ZoneInfo(name)).utcoffset().total_seconds() // 60)
    if minutes == 0:
        return "GMT"
    sign = "+" if minutes > 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"GMT{sign}{hours}" + (f":{rest:02d}" if rest else "")


def label(name: str | None, at: datetime | None = None) -> str:
    """"giờ Việt Nam (GMT+7)" in Vietnamese, "Vietnam time (GMT+7)" in English; an unlisted
    zone by its last path part ("Asia/Jakarta" → "Jakarta (GMT+7)")."""
    name = name or VIETNAM
    place = _PLACES.get(name)
    shown = gettext(place) if place else name.rsplit("/", 1)[-1].replace("_", " ")
    return f"{shown} ({offset_text(name, at)})"


def choices(current: str | None = None, at: datetime | None = None) -> list[tuple[str, str]]:
    """(value, label) for a <select>, with ``current`` kept when it is not a listed zone and
    is a real one (a form sent back with a refused zone must still be shown)."""
    names = [name for name, _place in CHOICES]
    if current and current not in names and known(current):
        names.append(current)
    # A list item starts with a capital ("Giờ Việt Nam (GMT+7)"); mid-sentence it does not.
    return [(name, _capital(label(name, at))) for name in names]


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
