"""Two-step sign-in: an authenticator app's 6-digit codes (TOTP), and one-time recovery codes."""
import hashlib
import hmac
import re
import secrets
import time
from enum import Enum

import pyotp
import segno
from flask import current_app
from markupsafe import Markup
from sqlalchemy import delete, or_, select, update

from webapp.activity.recording import record_bulk
from webapp.auth.models import RecoveryCode, User
from webapp.auth.sealed_secrets import SecretUnreadable, open_sealed, resealed, seal
from webapp.extensions import db
from webapp.timekeeping import utcnow

ISSUER = "Solo OMS"
RECOVERY_CODE_COUNT = 10
# A code stays good for one 30-second step either side of now: phone clocks drift and people type slowly.
ALLOWED_DRIFT_STEPS = 1
_TOTP_CODE = re.compile(r"[0-9]{6}")  # \d would take full-width and other digits
_RECOVERY_CODE = re.compile(r"[0-9a-f]{16}")


class CodeCheck(Enum):
    """The outcome of checking a code, each with the words shown to the person who typed it."""
    ACCEPTED = ""
    MALFORMED = ("Enter the 6-digit code from your authenticator app, or one of your recovery codes "
                 "(16 letters and digits).")
    WRONG = "That code is not right. Check the clock on your phone and use the newest code."
    REPLAYED = "That code was already used. Wait for the next code in your authenticator app."
    WRONG_RECOVERY = "That recovery code is not one of yours, or it was already used."
    KEY_UNREADABLE = ("Codes from your authenticator app cannot be checked at the moment: the key they are made "
                      "from was stored under a secret key this server no longer has. Use one of your recovery codes "
                      "instead, then set up two-step sign-in again (or ask the shop's owner to reset it).")


def start_setup(user: User) -> str:
    """Give the user a new secret, not yet in force until confirmed with a code; returns it (stored sealed)."""
    secret = pyotp.random_base32()
    user.totp_secret_sealed = seal(secret)
    user.totp_enabled_at = None
    user.totp_last_step = None
    return secret


def secret_of(user: User) -> str | None:
    """The user's authenticator secret in the clear, None when there is none; SecretUnreadable when it was sealed
    under a SECRET_KEY this server no longer has."""
    return open_sealed(user.totp_secret_sealed) if user.totp_secret_sealed else None


def setup_secret(user: User) -> str | None:
    """The secret of a setup not yet confirmed, to show; None when there is none or it can no longer be read
    (the person then simply starts again)."""
    try:
        return secret_of(user)
    except SecretUnreadable:
        return None


def qr_code_svg(user: User, secret: str) -> Markup:
    """The secret as a QR code, an inline SVG (no script, no image request)."""
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)
    svg = segno.make(uri, error="m").svg_inline(scale=5, dark="#111", light="#fff",
                                                title="QR code for your authenticator app")
    return Markup(svg)


def grouped_secret(secret: str) -> str:
    """The secret in groups of four, easier to type into an app by hand."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def _normalise(text: str) -> str:
    return re.sub(r"[\s-]", "", text or "").lower()


def check_code(user: User, text: str, *, allow_recovery: bool = True) -> CodeCheck:
    """Check an authenticator code (or, when allowed, a recovery code) and spend it, so it never works twice.

    Spending is a conditional UPDATE, so two requests racing with the same code cannot both pass.
    The caller commits.
    """
    code = _normalise(text)
    if _TOTP_CODE.fullmatch(code):
        return _check_totp(user, code)
    if allow_recovery and _RECOVERY_CODE.fullmatch(code):
        return _use_recovery_code(user, code)
    return CodeCheck.MALFORMED


def _check_totp(user: User, code: str) -> CodeCheck:
    if not user.totp_secret_sealed:
        return CodeCheck.WRONG
    try:
        totp = pyotp.TOTP(secret_of(user))
    except SecretUnreadable:
        current_app.logger.error("the two-step sign-in key of user %s cannot be opened with SECRET_KEY or "
                                 "OLD_SECRET_KEYS; they can sign in with a recovery code", user.id)
        return CodeCheck.KEY_UNREADABLE
    now_step = int(time.time()) // totp.interval
    matched = [step for step in range(now_step - ALLOWED_DRIFT_STEPS, now_step + ALLOWED_DRIFT_STEPS + 1)
               if hmac.compare_digest(totp.generate_otp(step), code)]
    if not matched:
        return CodeCheck.WRONG
    step = matched[-1]
    spent = db.session.execute(
        update(User).where(User.id == user.id, or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step).execution_options(synchronize_session=False)
    ).rowcount
    if not spent:
        return CodeCheck.REPLAYED
    user.totp_last_step = step
    # Sealed under an old SECRET_KEY (OLD_SECRET_KEYS): sealed again under the current one, in the caller's commit.
    user.totp_secret_sealed = resealed(user.totp_secret_sealed) or user.totp_secret_sealed
    return CodeCheck.ACCEPTED


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def _use_recovery_code(user: User, code: str) -> CodeCheck:
    spent = db.session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _hash(code), RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow()).execution_options(synchronize_session=False)
    ).rowcount
    return CodeCheck.ACCEPTED if spent else CodeCheck.WRONG_RECOVERY


def new_recovery_codes(user: User) -> list[str]:
    """Replace the user's recovery codes with ten new ones; they are returned to be shown once, and only their
    hashes are kept. 64 random bits each, so a plain SHA-256 keeps them safe (as for API tokens)."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    record_bulk(db.session, kind="user", thing_ref=user.email, thing_id=user.id, action="updated",
                note=f"New recovery codes ({RECOVERY_CODE_COUNT}); the old ones no longer work.")
    codes = [secrets.token_hex(8) for _ in range(RECOVERY_CODE_COUNT)]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_hash(code)) for code in codes)
    return ["-".join(code[i:i + 4] for i in range(0, 16, 4)) for code in codes]


def recovery_codes_left(user: User) -> int:
    return len(db.session.scalars(
        select(RecoveryCode.id).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    ).all())


def enable(user: User) -> list[str]:
    """Switch two-step sign-in on (after a confirmed code); returns the first recovery codes."""
    user.totp_enabled_at = utcnow()
    return new_recovery_codes(user)


def disable(user: User) -> None:
    """Switch two-step sign-in off and forget the secret and the recovery codes."""
    user.totp_secret_sealed = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
