"""API tokens: issued once, stored hashed, looked up on every API request."""
import secrets

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from webapp.auth.models import API_SCOPES, ApiToken, User
from webapp.extensions import db
from webapp.timekeeping import utcnow

TOKEN_PREFIX = "soms_"


def create_api_token(user: User, scopes: list[str]) -> str:
    """Create a token for ``user``; the secret is returned once and only its hash is kept."""
    unknown = [scope for scope in scopes if scope not in API_SCOPES]
    if unknown:
        raise ValueError(f"unknown scope(s): {', '.join(unknown)}; choose from {', '.join(API_SCOPES)}")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    db.session.add(ApiToken(user=user, token_hash=ApiToken.hash_secret(secret), prefix=secret[:12],
                            scopes=",".join(scopes)))
    return secret


def find_api_token(secret: str) -> ApiToken | None:
    """The live token for this secret, with its last-used time brought up to date (at most once a minute)."""
    token = db.session.scalars(
        select(ApiToken).where(ApiToken.token_hash == ApiToken.hash_secret(secret), ApiToken.revoked_at.is_(None))
        .options(joinedload(ApiToken.user))
    ).first()
    if token is not None:
        now = utcnow()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            token.last_used_at = now
    return token
