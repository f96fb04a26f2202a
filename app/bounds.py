"""Bounds that every input value respects before it reaches a rule or a column.

Text fields are limited to what their column holds (the lengths below are the columns'),
long texts to a generous size, lists to a few items, and dates and times to a calendar in
which converting between time zones can never overflow (years 1900–2200), so that no value
a client sends can make the database or the date arithmetic fail.
"""

from datetime import date, datetime
from typing import Annotated

import unicodedata

from pydantic import AfterValidator, Field, model_validator
from sqlmodel import SQLModel

NAME = 200          # a person's name or pen name
EMAIL = 320
PHONE = 40
ORGANIZATION = 300
PRESS_CARD = 60
PASSWORD = 256
TITLE = 500         # an entry's title
AWARD_TITLE = 300
OUTLET = 300
URL = 1000
SLUG = 120
TIMEZONE = 64
CATEGORY_CODE = 10
CATEGORY_NAME = 200
LONG_TEXT = 20_000  # summaries, descriptions, reasons
RULES_TEXT = 200_000  # an award's rules (thể lệ), Markdown
SHORT_CODE = 30     # enumerated values: statuses, roles, decisions, kinds

MIN_YEAR, MAX_YEAR = 1900, 2200


def _in_calendar(value):
    if value is not None and not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError("Must be between the years 1900 and 2200.")  # MIN_YEAR, MAX_YEAR
    return value


CalendarDate = Annotated[date, AfterValidator(_in_calendar)]
CalendarDateTime = Annotated[datetime, AfterValidator(_in_calendar)]
# A small count (limits, quotas, parts, megabytes): far below the column's 32-bit range.
Count = Annotated[int, Field(ge=-1_000_000, le=1_000_000)]


def _nfc_deep(value, key: str = ""):
    if isinstance(value, str):
        # Passwords are compared as typed; everything else is stored in NFC.
        return value if "password" in key else unicodedata.normalize("NFC", value)
    if isinstance(value, dict):
        return {k: _nfc_deep(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_nfc_deep(v, key) for v in value]
    return value


class NFCInput(SQLModel):
    """Base of every input schema: text is normalised to NFC *before* its length is
    checked, so that a value that grows when normalised (U+FB2C is three characters in
    NFC) is measured as it will be stored."""

    @model_validator(mode="before")
    @classmethod
    def _normalise(cls, data):
        return _nfc_deep(data)
