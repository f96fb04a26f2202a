"""Domain errors: raised by services, turned into HTTP by one handler (see app.main).

The message is an English gettext msgid with ``{name}`` placeholders; it is translated into
the caller's language only when the error is rendered.
"""


def N_(message: str) -> str:
    """Mark a string for extraction; translation happens at render time."""
    return message


class DomainError(Exception):
    status_code = 400
    headers: dict[str, str] = {}
    # Every field's problem when a form was checked as a whole (see ``raise_all``); the
    # error itself is the first of them.
    problems: tuple["DomainError", ...] = ()

    def __init__(self, message: str, *, field: str | None = None, keep_changes: bool = False,
                 **params):
        super().__init__(message)
        self.message = message
        self.field = field
        self.keep_changes = keep_changes
        self.params = params

    def translated(self, gettext) -> str:
        """The message in the active language; a list parameter holds msgids to translate
        (other items, such as ids kept for the caller, are shown as they are)."""
        text = gettext(self.message)
        if not self.params:
            return text
        params = {
            k: ", ".join(gettext(v) if isinstance(v, str) else str(v) for v in value)
            if isinstance(value, (list, tuple)) else value
            for k, value in self.params.items()
        }
        return text.format(**params)


class Invalid(DomainError):
    status_code = 422


class NotAuthenticated(DomainError):
    status_code = 401


class Forbidden(DomainError):
    status_code = 403


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    status_code = 409


class TooLarge(DomainError):
    status_code = 413


class UnsupportedKind(DomainError):
    status_code = 415


class TooManyAttempts(DomainError):
    """Refused for now; ``retry_after`` seconds is sent as the Retry-After header."""

    status_code = 429

    def __init__(self, message: str, *, retry_after: int, **kwargs):
        super().__init__(message, **kwargs)
        self.headers = {"Retry-After": str(retry_after)}

class InsufficientStorage(DomainError):
    """The server cannot store the request's file (a full disk, an unwritable folder)."""

    status_code = 507


class StorageUnavailable(DomainError):
    """The file storage cannot be reached or refuses us (an object store down, credentials
    refused, its bucket missing) while reading."""

    status_code = 503


class BadRequest(DomainError):
    """A body that cannot be read at all (malformed multipart, a file where text belongs)."""

    status_code = 400


def raise_all(problems: list[DomainError]) -> None:
    """Raises the first of ``problems`` carrying all of them (``problems``), so that a form
    shows every invalid field at once and the API's ``detail`` stays the first sentence."""
    if not problems:
        return
    first = problems[0]
    error = type(first)(first.message, field=first.field, **first.params)
    error.problems = tuple(p for err in problems for p in (err.problems or (err,)))
    raise error


def collect(*checks) -> list[DomainError]:
    """Runs every check and gives the problems of fields they raise (a refusal that is not
    about a field is raised at once: it concerns the whole form)."""
    problems: list[DomainError] = []
    for check in checks:
        try:
            check()
        except DomainError as err:
            if err.field is None:
                raise
            problems.extend(err.problems or (err,))
    return problems
