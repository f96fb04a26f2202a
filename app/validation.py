"""Validation errors that people can read: each of pydantic's error types as one of our
sentences, in the caller's language, keeping FastAPI's list shape (``loc``, ``type``, ``msg``,
``input``, ``ctx``) that API clients already parse."""

from app.errors import N_
from app.i18n import gettext

# pydantic error type → our sentence; ``{name}`` fields come from the error's ``ctx``.
MESSAGES: dict[str, str] = {
    "missing": N_("This field is required."),
    "greater_than_equal": N_("Must be at least {ge}."),
    "greater_than": N_("Must be more than {gt}."),
    "less_than_equal": N_("Must be at most {le}."),
    "less_than": N_("Must be less than {lt}."),
    "string_too_long": N_("At most {max_length} characters."),
    "string_too_short": N_("At least {min_length} characters."),
    "too_long": N_("At most {max_length} items."),
    "too_short": N_("At least {min_length} items."),
    "string_type": N_("Must be text."),
    "int_type": N_("Must be a whole number."),
    "int_parsing": N_("Must be a whole number."),
    "int_from_float": N_("Must be a whole number."),
    "float_type": N_("Must be a number."),
    "float_parsing": N_("Must be a number."),
    "finite_number": N_("Must be a finite number."),
    "bool_type": N_("Must be true or false."),
    "bool_parsing": N_("Must be true or false."),
    "literal_error": N_("Must be one of: {expected}."),
    "enum": N_("Must be one of: {expected}."),
    "date_type": N_("Must be a date written YYYY-MM-DD."),
    "date_parsing": N_("Must be a date written YYYY-MM-DD."),
    "date_from_datetime_parsing": N_("Must be a date written YYYY-MM-DD."),
    "datetime_type": N_("Must be a time written in ISO 8601, e.g. 2026-03-31T17:00:00+07:00."),
    "datetime_parsing": N_("Must be a time written in ISO 8601, e.g. 2026-03-31T17:00:00+07:00."),
    "datetime_from_date_parsing":
        N_("Must be a time written in ISO 8601, e.g. 2026-03-31T17:00:00+07:00."),
    "dict_type": N_("Must be a JSON object."),
    "model_type": N_("Must be a JSON object."),
    "model_attributes_type": N_("Must be a JSON object."),
    "list_type": N_("Must be a list."),
    "json_invalid": N_("The body is not valid JSON."),
    "extra_forbidden": N_("This field is not accepted."),
    "url_parsing": N_("Must be a web address starting with http:// or https://."),
    "url_scheme": N_("Must be a web address starting with http:// or https://."),
    "value_error": "{error}",
}


def sentence(error: dict) -> str:
    """The error's message in the caller's language; pydantic's own when we have none."""
    kind = error.get("type", "")
    if kind == "string_too_short" and (error.get("ctx") or {}).get("min_length") == 1:
        kind = "missing"  # an empty text box: the field is required
    if kind.endswith("_type") and "input" in error and error["input"] in (None, ""):
        kind = "missing"  # a form's empty box arrives as nothing at all
    template = MESSAGES.get(kind)
    if template is None:
        return error.get("msg", "")
    ctx = {k: v for k, v in (error.get("ctx") or {}).items()}
    if template == "{error}":
        # Our validators raise ValueError with an English msgid: translate it.
        text = str(ctx.get("error", "")) or error.get("msg", "")
        return gettext(text)
    try:
        return gettext(template).format(**ctx)
    except (KeyError, IndexError, ValueError):
        return error.get("msg", "")


def readable(errors: list[dict]) -> list[dict]:
    return [{**e, "msg": sentence(e)} for e in errors]
