"""The authenticator key of two-step sign-in, kept encrypted at rest (Fernet) under a key derived from SECRET_KEY.

Rotating SECRET_KEY: list the old one in OLD_SECRET_KEYS. Keys sealed under it still open (MultiFernet); each is
sealed again under the new SECRET_KEY when it is next used, and `flask users reseal-two-step-keys` does them all at
once, after which the old key can go. A key sealed under a SECRET_KEY this server no longer has cannot be opened.
"""
import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

# Keeps this use of SECRET_KEY apart from its others (sessions, CSRF tokens, feedback links). The migration that
# sealed the keys already stored derives the same way (migration 713906b929b8).
PURPOSE = b"solo-oms two-step sign-in key"


class SecretUnreadable(Exception):
    """The stored key was sealed under a SECRET_KEY that is neither SECRET_KEY nor one of OLD_SECRET_KEYS."""


def fernet_for(secret_key: str) -> Fernet:
    """The Fernet key derived from one SECRET_KEY (HKDF-SHA256)."""
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=PURPOSE).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def _current() -> Fernet:
    return fernet_for(current_app.config["SECRET_KEY"])


def _all_keys() -> MultiFernet:
    """The current key first (it seals), then the old ones (they only open)."""
    old = [fernet_for(key) for key in current_app.config.get("OLD_SECRET_KEYS") or ()]
    return MultiFernet([_current(), *old])


def seal(secret: str) -> str:
    """The secret encrypted under the current SECRET_KEY, as text for the database."""
    return _current().encrypt(secret.encode()).decode()


def open_sealed(sealed: str) -> str:
    """The secret again; SecretUnreadable when no key this server has can open it."""
    try:
        return _all_keys().decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable("sealed under a SECRET_KEY this server does not have") from None


def resealed(sealed: str) -> str | None:
    """The secret sealed under the current SECRET_KEY when it was sealed under an old one, else None (no change).
    SecretUnreadable when no key opens it."""
    try:
        _current().decrypt(sealed.encode())
        return None
    except InvalidToken:
        pass
    try:
        return _all_keys().rotate(sealed.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable("sealed under a SECRET_KEY this server does not have") from None
