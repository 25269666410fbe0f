"""The one-time token that guards creating the first owner account (never a default password)."""
import hmac
import secrets

from sqlalchemy import select

from webapp.auth.models import ApiToken, User
from webapp.extensions import db
from webapp.settings.models import current_settings


def has_users() -> bool:
    return db.session.scalar(select(User.id).limit(1)) is not None


def issue_setup_token() -> str:
    """Make a new setup token, store its hash and return it to be printed on the console."""
    token = secrets.token_urlsafe(16)
    current_settings().setup_token_hash = ApiToken.hash_secret(token)
    return token


def setup_token_exists() -> bool:
    return current_settings().setup_token_hash is not None


def check_setup_token(token: str) -> bool:
    stored = current_settings().setup_token_hash
    return bool(stored and token) and hmac.compare_digest(stored, ApiToken.hash_secret(token.strip()))


def spend_setup_token() -> None:
    current_settings().setup_token_hash = None
