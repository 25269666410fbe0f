"""Users who sign in, and API tokens that act for them."""
import hashlib
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_login import UserMixin
from sqlalchemy import ForeignKey, String
from sqlalchemy import true as sa_true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.timekeeping import utcnow

ROLES = ("owner", "staff", "viewer")
API_SCOPES = ("orders:read", "orders:write", "products:read", "products:write")
READ_SCOPES = tuple(scope for scope in API_SCOPES if scope.endswith(":read"))


def role_allows(role: str, scope: str) -> bool:
    """A viewer (the accountant, say) may only read; owner and staff may read and write orders and products."""
    return scope in READ_SCOPES if role == "viewer" else role in ("owner", "staff")

_hasher = PasswordHasher()
_DUMMY_HASH = None


def spend_password_check_time(password: str) -> None:
    """Verify against a throwaway hash: as slow as checking a real password, and always false."""
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = _hasher.hash("not a password of anyone")
    try:
        _hasher.verify(_DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        pass


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="owner")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Two-step sign-in: the authenticator's secret (pending until confirmed with a code), encrypted under a key
    # derived from SECRET_KEY (webapp/auth/sealed_secrets.py), when it was switched on, and the last 30-second time
    # step whose code was accepted, so that no code is accepted twice.
    totp_secret_sealed: Mapped[str | None] = mapped_column(String(255))
    totp_enabled_at: Mapped[datetime | None]
    totp_last_step: Mapped[int | None]
    # Part of every session's and remember cookie's user id: raising it signs the user out everywhere.
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")

    def get_id(self) -> str:
        """The id Flask-Login keeps in the session and the remember cookie: user id and session generation."""
        return f"{self.id}:{self.session_generation}"

    # Switched off by the owner: cannot sign in, their sessions end and their API tokens stop working.
    active: Mapped[bool] = mapped_column(default=True, server_default=sa_true())
    last_sign_in_at: Mapped[datetime | None]

    @property
    def is_active(self) -> bool:
        """Flask-Login refuses to sign in an inactive user."""
        return self.active

    @property
    def two_step_enabled(self) -> bool:
        return self.totp_enabled_at is not None

    def set_password(self, password: str) -> None:
        """Store an Argon2id hash of the password."""
        self.password_hash = _hasher.hash(password)

    def check_password(self, password: str) -> bool:
        """True when the password matches; rehashes transparently when parameters have changed."""
        try:
            _hasher.verify(self.password_hash, password)
        except (VerificationError, InvalidHashError):
            return False
        if _hasher.check_needs_rehash(self.password_hash):
            self.set_password(password)
        return True


class RecoveryCode(db.Model):
    """A one-time code that stands in for the authenticator app; only its hash is kept."""
    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None]


class ApiToken(db.Model):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    scopes: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()

    @staticmethod
    def hash_secret(secret: str) -> str:
        """Tokens are long random strings, so a plain SHA-256 is enough to store them safely."""
        return hashlib.sha256(secret.encode()).hexdigest()

    @property
    def scope_list(self) -> list[str]:
        return [scope for scope in self.scopes.split(",") if scope]

    def allows(self, scope: str) -> bool:
        """The token carries the scope and its user's role still permits it (roles can change later)."""
        return scope in self.scope_list and role_allows(self.user.role, scope)
