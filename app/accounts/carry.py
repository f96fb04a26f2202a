"""A form sent after its session ended keeps what was typed.

A page form posted from a browser whose session has expired or was revoked fails its CSRF
check (the token was bound to the ended session). Instead of a refusal, the person gets the
sign-in page carrying the form's text fields and its address; once signed in, a page shows
those values in a form that posts to the original address with a fresh token, and nothing
is saved until the person clicks. Nothing is replayed on its own.

What is never carried: files, the CSRF token, passwords, the ``confirmed`` flag of a
confirmation step (the step asks again), and any form of the sign-in, registration or
password pages. The carried text is bounded (``MAX_BYTES``); beyond it nothing is carried.
"""

import json
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.datastructures import FormData

from app.errors import N_, NotAuthenticated
from app.web import safe_next

MAX_BYTES = 64 * 1024

# Forms whose values are never carried: signing in, registering, passwords, mailed links.
NO_CARRY_PATHS = frozenset({
    "/login", "/logout", "/register", "/forgot-password", "/reset-password", "/me/password",
    "/me/email", "/me/verification", "/invitations/accept", "/verify", "/confirm-email",
})
DROPPED_FIELDS = frozenset({"csrf_token", "confirmed", "carried", "carried_action"})


@dataclass(frozen=True)
class Carried:
    """A form's address (a same-site path) and its text fields, in order."""

    action: str
    fields: tuple[tuple[str, str], ...]

    def encoded(self) -> str:
        return json.dumps([list(pair) for pair in self.fields], ensure_ascii=False)


def _kept(name: str) -> bool:
    return name not in DROPPED_FIELDS and "password" not in name.lower()


def _path_of(action: str) -> str:
    return urlsplit(action).path


def may_carry(action: str | None) -> str | None:
    """The address a carried form may go back to, or None: a same-site path, not one of the
    sign-in or password pages."""
    action = safe_next(action, "")
    if not action or _path_of(action) in NO_CARRY_PATHS:
        return None
    return action


def _bounded(action: str, pairs: list[tuple[str, str]]) -> Carried | None:
    size = sum(len(name.encode()) + len(value.encode()) for name, value in pairs)
    if size > MAX_BYTES:
        return None
    return Carried(action=action, fields=tuple(pairs))


def from_form(action: str, form: FormData) -> Carried | None:
    """What a refused form carries to the sign-in page (a form of buttons only carries its
    address, to be clicked again): None when it is too large to carry (check the address
    with ``may_carry`` first)."""
    pairs = [(name, value) for name, value in form.multi_items()
             if isinstance(value, str) and _kept(name)]
    return _bounded(action, pairs)


def decode(action: str | None, encoded: str | None) -> Carried | None:
    """The carried form sent back by the sign-in page, checked again (it came through the
    browser): None when anything is off."""
    action = may_carry(action)
    if action is None or not encoded or len(encoded) > 4 * MAX_BYTES:
        return None
    try:
        raw = json.loads(encoded)
    except ValueError:
        return None
    if not isinstance(raw, list):
        return None
    pairs = []
    for item in raw:
        if (not isinstance(item, list) or len(item) != 2
                or not all(isinstance(part, str) for part in item)):
            return None
        if _kept(item[0]):
            pairs.append((item[0], item[1]))
    return _bounded(action, pairs)


def same_site_request(host: str, origin: str | None, referer: str | None) -> bool:
    """Whether the browser said the form came from this site (Origin, else Referer): a form
    is carried only then, since its CSRF token can no longer vouch for it."""
    source = origin if origin and origin != "null" else referer
    return bool(source) and urlsplit(source).netloc == host


class SignInAgain(NotAuthenticated):
    """A page form refused because its session ended: the sign-in page is shown with the
    form's values (``carried``) instead of an error (app.main renders it)."""

    def __init__(self, carried: Carried | None):
        super().__init__(N_("Your session has ended. Please sign in again."))
        self.carried = carried
