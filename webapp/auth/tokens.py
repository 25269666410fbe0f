"""API tokens: issued once, stored hashed, looked up on every API request."""
import secrets
from dataclasses import dataclass
from datetime import datetime

from flask import current_app, has_request_context, request
from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import OperationalError

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


@dataclass(frozen=True)
class TokenUser:
    id: int
    email: str
    role: str


@dataclass(frozen=True)
class VerifiedToken:
    """A live token as a request reads it (``g.api_token``): plain values, so one process can keep it between
    requests."""
    id: int
    token_hash: str
    prefix: str
    scopes: tuple[str, ...]
    user: TokenUser

    @property
    def user_id(self) -> int:
        return self.user.id

    def allows(self, scope: str) -> bool:
        """The token carries the scope and its user's role still permits it (roles can change later)."""
        return scope in self.scopes and role_allows(self.user.role, scope)


TOKENS, USERS = ApiToken.__table__, User.__table__
_LIVE = TOKENS.join(USERS, USERS.c.id == TOKENS.c.user_id)
_LIVE_WHERE = (TOKENS.c.revoked_at.is_(None), USERS.c.active.is_(True))
# A token this process verified before: is its row, and its user's, still exactly as it was? One primary-key read.
_STILL_LIVE = select(TOKENS.c.last_used_at).select_from(_LIVE).where(
    TOKENS.c.id == bindparam("id"), TOKENS.c.token_hash == bindparam("token_hash"),
    TOKENS.c.scopes == bindparam("scopes"), USERS.c.id == bindparam("user_id"), USERS.c.email == bindparam("email"),
    USERS.c.role == bindparam("role"), *_LIVE_WHERE)
_LOOK_UP = select(TOKENS.c.id, TOKENS.c.prefix, TOKENS.c.scopes, TOKENS.c.last_used_at, USERS.c.id.label("user_id"),
                  USERS.c.email, USERS.c.role).select_from(_LIVE).where(
    TOKENS.c.token_hash == bindparam("token_hash"), *_LIVE_WHERE)
KEPT_TOKENS = 256  # verified tokens one process keeps; a shop has a handful


def find_api_token(secret: str) -> VerifiedToken | None:
    """The live token for this secret, with its user; a switched-off user's tokens do nothing.

    A token seen before by this process is confirmed by one cheap read of its row (revoked? user switched off, role
    or email changed?), so a revocation stops it at once, in every process, however it was written. An unknown
    secret is looked up in full. A writing request on SQLite makes either read in a read transaction of its own:
    a bad token never takes the write lock, and a good one does not hold it while the request is checked.
    """
    token_hash = ApiToken.hash_secret(secret)
    kept = current_app.extensions.setdefault("verified_api_tokens", {})
    token = kept.get(token_hash)
    if token is not None:
        last_used = _read_one(_STILL_LIVE, {
            "id": token.id, "token_hash": token_hash, "scopes": ",".join(token.scopes), "user_id": token.user.id,
            "email": token.user.email, "role": token.user.role})
        if last_used is not None:
            _note_use(token.id, last_used[0])
            return token
        kept.pop(token_hash, None)
    row = _read_one(_LOOK_UP, {"token_hash": token_hash})
    if row is None:
        return None
    token = VerifiedToken(id=row.id, token_hash=token_hash, prefix=row.prefix,
                          scopes=tuple(scope for scope in row.scopes.split(",") if scope),
                          user=TokenUser(id=row.user_id, email=row.email, role=row.role))
    if len(kept) >= KEPT_TOKENS:
        kept.clear()
    kept[token_hash] = token
    _note_use(token.id, row.last_used_at)
    return token


def _read_one(statement, params: dict):
    """The statement's first row; a writing request on SQLite reads it before its write transaction (see above),
    unless one is open already (its work must not be rolled back)."""
    if not _writes_on_sqlite() or db.session().in_transaction():
        return db.session.connection().execute(statement, params).first()
    with reading_only():
        row = db.session.connection().execute(statement, params).first()
        db.session.rollback()
    return row


def _writes_on_sqlite() -> bool:
    return (has_request_context() and request.method not in READ_ONLY_METHODS
            and db.session.get_bind().dialect.name == "sqlite")


def _note_use(token_id: int, last_used_at: datetime | None) -> None:
    """Keep last_used_at to the minute: written at most once a minute. A writing request records it with its own
    work; a read request in its own short transaction, so reads never write inside their own transaction (and
    never wait for SQLite's write lock for it); best effort."""
    now = utcnow()
    if last_used_at is not None and (now - last_used_at).total_seconds() < 60:
        return
    statement = update(TOKENS).where(TOKENS.c.id == token_id).values(last_used_at=now)
    if has_request_context() and request.method not in READ_ONLY_METHODS:
        db.session.connection().execute(statement)  # committed with the request's own work
        return
    with db.engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        try:
            # Wait at most a moment for the write: a busy shop's reads must not queue behind its writes.
            connection.exec_driver_sql("PRAGMA busy_timeout=200" if sqlite else "SET LOCAL lock_timeout = '200ms'")
            connection.execute(statement)
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
