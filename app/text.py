"""Vietnamese-aware text helpers: NFC normalisation, diacritic folding, slugs, sort keys."""

import re
import unicodedata
from datetime import date, datetime, time

from app.errors import N_, Invalid

# Control characters (tabs and newlines kept) and the bidirectional overrides and isolates
# that can make a title or a name read differently from what it is ("T\u202egnp.exe").
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u061c\u200e\u200f\u202a-\u202e"
                      r"\u2066-\u2069]")


def nfc(value: str | None) -> str | None:
    """Normalise to NFC and drop control characters (keeps tabs and newlines) and bidi
    controls."""
    if value is None:
        return None
    return _CONTROL.sub("", unicodedata.normalize("NFC", value))


def clean_line(value: str | None) -> str | None:
    """NFC, single-line, trimmed; empty becomes None."""
    if value is None:
        return None
    value = " ".join(nfc(value).split())
    return value or None


def visible(value: str | None) -> bool:
    """Whether the text shows anything: not only spaces, controls or invisible format
    characters (a zero-width space is no reason)."""
    return any(unicodedata.category(ch)[0] not in "CZ" for ch in value or "")


def fold(value: str) -> str:
    """Lower-case and strip Vietnamese diacritics for search ("Đảng" -> "dang").

    ``đ`` does not decompose under NFD, so it is mapped explicitly.
    """
    value = unicodedata.normalize("NFD", value.lower()).replace("đ", "d")
    return "".join(c for c in value if unicodedata.category(c) != "Mn")


def slugify(value: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", fold(value)).strip("-")


# Vietnamese alphabet order; letters not listed sort after, by code point.
_ALPHABET = "aăâbcdđeêghiklmnoôơpqrstuưvxy"
_BASE_RANK = {ch: i for i, ch in enumerate(_ALPHABET)}
_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}  # huyền hỏi ngã sắc nặng
_SHAPE = {"\u0306": "ă", "\u0302": "^", "\u031b": "ư"}


def _letters(value: str) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for ch in unicodedata.normalize("NFC", value.lower()):
        decomposed = unicodedata.normalize("NFD", ch)
        base, marks = decomposed[0], decomposed[1:]
        tone = 0
        letter = base
        for mark in marks:
            if mark in _TONES:
                tone = _TONES[mark]
            elif mark == "\u0306":
                letter = "ă"
            elif mark == "\u0302":
                letter = {"a": "â", "e": "ê", "o": "ô"}.get(base, base)
            elif mark == "\u031b":
                letter = {"o": "ơ", "u": "ư"}.get(base, base)
        rank = -1 if letter.isspace() else _BASE_RANK.get(letter, len(_ALPHABET) + ord(letter))
        out.append((rank, tone))
    return out


def vi_sort_key(value: str) -> tuple:
    """Sort key in Vietnamese order: letters first, tones as a secondary difference."""
    letters = _letters(value or "")
    return (tuple(r for r, _ in letters), tuple(t for _, t in letters))


def vi_name_sort_key(full_name: str) -> tuple:
    """Vietnamese personal names sort by given name (the last word), then the rest."""
    words = (full_name or "").split()
    if not words:
        return vi_sort_key("")
    return (vi_sort_key(words[-1]), vi_sort_key(" ".join(words[:-1])))


def vi_sort_string(value: str, *, width: int = 200) -> str:
    """``vi_sort_key`` as a digits-only string, so that SQL ``ORDER BY`` gives Vietnamese
    order under any collation: two digits per letter, then the tones."""
    letters = _letters(value or "")[:width]
    base = "".join(f"{min(r + 2, 99):02d}" for r, _ in letters)
    tones = "".join(str(t) for _, t in letters)
    return f"{base}00{tones}"


def vi_name_sort_string(full_name: str) -> str:
    words = (full_name or "").split()
    if not words:
        return ""
    return vi_sort_string(" ".join([words[-1], *words[:-1]]), width=100)


_ASCII_INT = re.compile(r"-?[0-9]{1,10}")


def parse_int(value) -> int | None:
    """A whole number typed in a form (ASCII digits only: "²" or "١٢" are not numbers here),
    or None."""
    if not isinstance(value, str) or not _ASCII_INT.fullmatch(value.strip()):
        return None
    return int(value.strip())


def parse_datetime(value: str | None) -> datetime | None:
    """An ISO 8601 time from a hidden form field, or None when absent or malformed."""
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


# Dates as Vietnamese offices write them: 01/11/2026 (also 1/11/2026, 01-11-2026, 01.11.2026,
# 01112026 from a phone's digit pad); ISO 2026-11-01 is still read for older forms and scripts.
_DAY = re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})|(\d{2})(\d{2})(\d{4})", re.ASCII)
_ISO_DAY = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})", re.ASCII)
# Times on the 24-hour clock: 17:00, 8:30, 8h30, 17h, 1700.
_CLOCK = re.compile(r"(\d{1,2})(?:[:hH.](\d{2})?)?|(\d{2})(\d{2})", re.ASCII)
DAY_PATTERN = r"\s*(\d{1,2}[\/.\-]\d{1,2}[\/.\-]\d{4}|\d{8}|\d{4}-\d{1,2}-\d{1,2})\s*"
CLOCK_PATTERN = r"\s*(\d{1,2}([:hH.](\d{2})?)?|\d{4})\s*"


def parse_day(value: str | None, *, field: str) -> date | None:
    """A date typed as dd/mm/yyyy (or ISO), None when empty; Invalid on ``field`` else."""
    text = (value or "").strip()
    if not text:
        return None
    if match := _DAY.fullmatch(text):
        day, month, year = (int(g) for g in (match.groups()[:3] if match.group(1)
                                             else match.groups()[3:]))
    elif match := _ISO_DAY.fullmatch(text):
        year, month, day = (int(g) for g in match.groups())
    else:
        raise Invalid(N_("The date must be written as dd/mm/yyyy."), field=field)
    try:
        return date(year, month, day)
    except ValueError:
        raise Invalid(N_("There is no such day: {value}."), field=field, value=text) from None


def parse_clock(value: str | None, *, field: str) -> time | None:
    """A time of day on the 24-hour clock (17:00, 8h30, 1700), None when empty."""
    text = (value or "").strip()
    if not text:
        return None
    match = _CLOCK.fullmatch(text)
    if not match:
        raise Invalid(N_("The time must be written as HH:MM on the 24-hour clock, e.g. "
                         "17:00."), field=field)
    hour, minute = ((match.group(1), match.group(2)) if match.group(1)
                    else (match.group(3), match.group(4)))
    try:
        return time(int(hour), int(minute or 0))
    except ValueError:
        raise Invalid(N_("The time must be written as HH:MM on the 24-hour clock, e.g. "
                         "17:00."), field=field) from None


def parse_local_datetime(day: str | None, clock: str | None, *, field: str,
                         default_clock: time) -> datetime | None:
    """A date field and a time field read together (naive: the caller knows the zone).
    An ISO date-time in the date field ("2026-11-01T08:00") is read as it is; a date without
    a time takes ``default_clock``; a time without a date is refused."""
    text = (day or "").strip()
    if "T" in text:
        try:
            return datetime.fromisoformat(text).replace(second=0, microsecond=0)
        except ValueError:
            raise Invalid(N_("The date must be written as dd/mm/yyyy."), field=field) from None
    the_day = parse_day(text, field=field)
    the_clock = parse_clock(clock, field=f"{field}_time")
    if the_day is None:
        if the_clock is not None:
            raise Invalid(N_("Please enter the date as well (dd/mm/yyyy)."), field=field)
        return None
    return datetime.combine(the_day, the_clock or default_clock)
