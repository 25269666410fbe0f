"""API tokens: issued once, stored hashed, looked up on every API request."""
import secrets

from flask import has_request_context, request
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import contains_eager

from webapp.auth.models import API_SCOPES, ApiToken, User, role_allows
from webapp.extensions import db
from webapp.sqlite_locking import BUSY_TIMEOUT_MS, READ_ONLY_METHODS, reading_only
from webapp.timekeeping import utcnow

TOKEN_PREFIX = "soms_"


def create_api_token(user: User, scopes: list[str]) -> str:
    """Create a token for ``user``; the secret is returned once and only its hash is kept."""
    unknown = [scope for scope in scopes if scope not in API_SCOPES]
    if unknown:
        raise ValueError(f"unknown scope(s): {', '.join(unknown)}; choose from {', '.join(API_SCOPES)}")
    beyond = [scope for scope in scopes if not role_allows(user.role, scope)]
    if beyond:
        raise ValueError(f"a {user.role} may not hold {', '.join(beyond)}")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    db.session.add(ApiToken(user=user, token_hash=ApiToken.hash_secret(secret), prefix=secret[:12],
                            scopes=",".join(scopes)))
    return secret


def find_api_token(secret: str) -> ApiToken | None:
    """The live token for this secret, with its user; a switched-off user's tokens do nothing.

    A writing request on SQLite looks it up in a read transaction of its own, ended before the request's work
    begins: the request's first statement takes the write lock, which it then holds for less time. The token
    and its user come back detached, with everything the request reads of them loaded.
    """
    if _writes_on_sqlite():
        with reading_only():
            token = _live_token(secret)
            if token is None or _used_lately(token):
                if token is not None:
                    db.session.expunge(token.user)
                    db.session.expunge(token)
                db.session.rollback()
                return token
        db.session.rollback()  # last_used_at is due: it is written in the request's own transaction
    token = _live_token(secret)
    if token is not None:
        _note_use(token)
    return token


def _live_token(secret: str) -> ApiToken | None:
    return db.session.scalars(
        select(ApiToken).join(ApiToken.user)
        .where(ApiToken.token_hash == ApiToken.hash_secret(secret), ApiToken.revoked_at.is_(None), User.active)
        .options(contains_eager(ApiToken.user))
    ).first()


def _writes_on_sqlite() -> bool:
    return (has_request_context() and request.method not in READ_ONLY_METHODS
            and db.session.get_bind().dialect.name == "sqlite")


def _used_lately(token: ApiToken) -> bool:
    return token.last_used_at is not None and (utcnow() - token.last_used_at).total_seconds() < 60


def _note_use(token: ApiToken) -> None:
    """Keep last_used_at to the minute. A read request records it in its own short transaction, so reads never
    write inside their own transaction (and never wait for SQLite's write lock for it); best effort."""
    now = utcnow()
    if _used_lately(token):
        return
    if has_request_context() and request.method not in READ_ONLY_METHODS:
        token.last_used_at = now  # committed with the request's own work
        return
    with db.engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        try:
            # Wait at most a moment for the write: a busy shop's reads must not queue behind its writes.
            connection.exec_driver_sql("PRAGMA busy_timeout=200" if sqlite else "SET LOCAL lock_timeout = '200ms'")
            connection.execute(update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now))
            connection.commit()
        except OperationalError:
            connection.rollback()  # busy: the next call records it
        finally:
            if sqlite:
                connection.exec_driver_sql(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
                connection.rollback()


def revoke_api_token(prefix: str) -> ApiToken | None:
    """Revoke the live token whose secret starts with ``prefix``; returns it, or None when there is none."""
    token = db.session.scalars(
        select(ApiToken).where(ApiToken.prefix == prefix, ApiToken.revoked_at.is_(None))
    ).first()
    if token is not None:
        token.revoked_at = utcnow()
    return token
