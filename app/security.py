"""Password hashing, opaque tokens and CSRF tokens.

Passwords go through passlib's CryptContext with argon2id (the ``libpass`` distribution).
Session cookies and API tokens are random secrets; only their SHA-256 is stored, so a copy
of the database does not let anyone sign in. CSRF tokens are an HMAC of a per-session secret.
"""

import hashlib
import hmac
import secrets

from passlib.context import CryptContext

from app.config import get_settings

pwd_context = CryptContext(schemes=["argon2"], deprecated="auto")

# Verified against when the e-mail is unknown, so that the answer takes as long either way.
_DUMMY_HASH = pwd_context.hash("not-a-real-password-" + secrets.token_hex(8))


def hash_password(password: str) -> str:
    return pwd_context.hash(password)


# passlib refuses to hash more than this many bytes (and raises); such a password is wrong.
MAX_PASSWORD_BYTES = 4096


def verify_password(password: str, password_hash: str | None) -> bool:
    if len(password.encode("utf-8", "surrogatepass")) > MAX_PASSWORD_BYTES:
        pwd_context.verify("", _DUMMY_HASH)  # the same time as any wrong password
        return False
    if password_hash is None:
        pwd_context.verify(password, _DUMMY_HASH)
        return False
    return pwd_context.verify(password, password_hash)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token_for(binding: str) -> str:
    """The CSRF token for a session (or an anonymous visitor's pre-session cookie)."""
    key = get_settings().secret_key.encode()
    return hmac.new(key, b"csrf:" + binding.encode(), hashlib.sha256).hexdigest()


def csrf_matches(binding: str | None, token: str | None) -> bool:
    if not binding or not token:
        return False
    # Bytes, so that a token with non-ASCII characters is simply wrong, not an error.
    return hmac.compare_digest(csrf_token_for(binding).encode(),
                               token.encode("utf-8", "surrogateescape"))


def device_token(account_key: str) -> str:
    """A browser's proof that it signed in to this account before: a random id and its
    HMAC, bound to the account (sign-in throttling counts such a browser on its own)."""
    device = secrets.token_urlsafe(16)
    return f"{device}.{_device_mac(account_key, device)}"


def device_of(token: str | None, account_key: str) -> str | None:
    """The device id in ``token`` if it was issued for this account, else None."""
    device, _, mac = (token or "").partition(".")
    if not device or not mac:
        return None
    expected = _device_mac(account_key, device).encode()
    return device if hmac.compare_digest(expected, mac.encode("utf-8", "surrogateescape")) \
        else None


def _device_mac(account_key: str, device: str) -> str:
    key = get_settings().secret_key.encode()
    message = f"device:{account_key}:{device}".encode("utf-8", "surrogateescape")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def link_digest(token: str) -> str:
    """What is stored of a mailed link's secret: its HMAC under the server's key, so that
    neither a copy of the database nor a forged token opens an account."""
    key = get_settings().secret_key.encode()
    return hmac.new(key, b"link:" + token.encode("utf-8", "surrogateescape"),
                    hashlib.sha256).hexdigest()
