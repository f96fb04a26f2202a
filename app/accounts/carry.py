"""A form sent after its session ended keeps what was typed.

A page form posted from a browser whose session has expired or was revoked fails its CSRF
check (the token was bound to the ended session). Instead of a refusal, the person gets the
sign-in page carrying the form's text fields and its address; once signed in, a page shows
those values in a form that posts to the original address with a fresh token, and nothing
is saved until the person clicks. Nothing is replayed on its own.

A carried form belongs to the account whose session ended: it is signed (server key) with
that account's id, and it is offered again only when that same account signs in — someone
else signing in on the same computer gets the plain sign-in (nothing planted for them to
click). A form whose ended session cannot be found is not carried.

What is never carried: files, the CSRF token, passwords, the ``confirmed`` flag of a
confirmation step (the step asks again), and any form of the sign-in, registration or
password pages. The carried text is bounded (``MAX_BYTES``); beyond it nothing is carried.
"""

import hashlib
import hmac
import json
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.datastructures import FormData

from app.config import get_settings
from app.errors import N_, NotAuthenticated
from app.web import safe_next

MAX_BYTES = 64 * 1024

# Forms whose values are never carried: signing in, registering, passwords, mailed links.
NO_CARRY_PATHS = frozenset({
    "/login", "/logout", "/register", "/forgot-password", "/reset-password", "/me/password",
    "/me/email", "/me/verification", "/invitations/accept", "/verify", "/confirm-email",
})
DROPPED_FIELDS = frozenset({"csrf_token", "confirmed", "carried", "carried_action",
                            "carried_for", "carried_sig"})


@dataclass(frozen=True)
class Carried:
    """A form's address (a same-site path), its text fields in order, and the account it
    belongs to."""

    action: str
    fields: tuple[tuple[str, str], ...]
    user_id: int

    def encoded(self) -> str:
        return json.dumps([list(pair) for pair in self.fields], ensure_ascii=False)

    def signature(self) -> str:
        return _signature(self.user_id, self.action, self.encoded())


def _signature(user_id: int, action: str, encoded: str) -> str:
    key = get_settings().secret_key.encode()
    message = f"carry:{user_id}\n{action}\n{encoded}".encode("utf-8", "surrogateescape")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


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


def _bounded(action: str, pairs: list[tuple[str, str]], user_id: int) -> Carried | None:
    size = sum(len(name.encode("utf-8", "surrogateescape"))
               + len(value.encode("utf-8", "surrogateescape")) for name, value in pairs)
    if size > MAX_BYTES:
        return None
    return Carried(action=action, fields=tuple(pairs), user_id=user_id)


def from_form(action: str, form: FormData, user_id: int) -> Carried | None:
    """What a refused form carries to the sign-in page (a form of buttons only carries its
    address, to be clicked again): None when it is too large to carry (check the address
    with ``may_carry`` first)."""
    pairs = [(name, value) for name, value in form.multi_items()
             if isinstance(value, str) and _kept(name)]
    return _bounded(action, pairs, user_id)


def decode(action: str | None, encoded: str | None, owner: str | None,
           signature: str | None) -> Carried | None:
    """The carried form sent back by the sign-in page, checked again (it came through the
    browser): None when anything is off, the signature above all."""
    action = may_carry(action)
    if action is None or not encoded or len(encoded) > 4 * MAX_BYTES:
        return None
    if not (owner or "").isascii() or not (owner or "").isdigit() or len(owner) > 18:
        return None
    user_id = int(owner)
    if not hmac.compare_digest(_signature(user_id, action, encoded).encode(),
                               (signature or "").encode("utf-8", "surrogateescape")):
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
    return _bounded(action, pairs, user_id)


class SignInAgain(NotAuthenticated):
    """A page form refused because its session ended: the sign-in page is shown with the
    form's values (``carried``) instead of an error (app.main renders it)."""

    def __init__(self, carried: Carried | None):
        super().__init__(N_("Your session has ended. Please sign in again."))
        self.carried = carried
