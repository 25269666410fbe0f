"""Every API POST: one transaction, and Idempotency-Key honoured.

A key is claimed by inserting a row in the same transaction as the work it guards. A concurrent request with
the same key waits on the unique index (PostgreSQL) or the write lock (SQLite), then finds the finished
answer and replays it, so a retried POST never does the work twice. The claim and the answer are two plain
statements (INSERT ... ON CONFLICT DO NOTHING, then an UPDATE), not ORM flushes: every API order pays for them.
"""
import hashlib
from functools import wraps

from flask import g, jsonify, make_response, request
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from webapp.api import error_response
from webapp.api.models import IdempotentRequest
from webapp.extensions import db

MAX_KEY_LENGTH = 255
CLAIMS = IdempotentRequest.__table__


def _fingerprint() -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode() + b" " + request.path.encode() + b"\n")
    digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def _stored(key: str) -> IdempotentRequest | None:
    return db.session.scalars(
        select(IdempotentRequest).where(IdempotentRequest.token_id == g.api_token.id, IdempotentRequest.key == key)
    ).first()


def _claim(key: str, fingerprint: str) -> int | None:
    """Insert the key's row and return its id; None when a request with this key has finished already (on
    PostgreSQL this waits for one still running, as a plain INSERT would)."""
    connection = db.session.connection()
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    return connection.execute(
        dialect.insert(CLAIMS).values(token_id=g.api_token.id, key=key, fingerprint=fingerprint)
        .on_conflict_do_nothing(index_elements=[CLAIMS.c.token_id, CLAIMS.c.key]).returning(CLAIMS.c.id)
    ).scalar()


def _replay(stored: IdempotentRequest, fingerprint: str):
    if stored.fingerprint != fingerprint:
        return error_response(422, {"Idempotency-Key": [
            "was already used for a different request; use a new key for a new request"]})
    response = make_response(jsonify(stored.response_body), stored.response_status)
    response.headers["Idempotent-Replayed"] = "true"
    if stored.response_location:
        response.headers["Location"] = stored.response_location
    return response


def api_write(view):
    """Run a writing API view in one transaction, honouring the Idempotency-Key header."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return _finish(make_response(view(*args, **kwargs)))
        key = key.strip()
        if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
            return error_response(422, {"Idempotency-Key": [f"must be 1 to {MAX_KEY_LENGTH} printable characters"]})
        fingerprint = _fingerprint()
        claim_id = _claim(key, fingerprint)
        if claim_id is None:  # another request with this key finished first: answer as it did
            return _replay(_stored(key), fingerprint)
        response = make_response(view(*args, **kwargs))
        if response.status_code < 400:
            db.session.connection().execute(
                update(CLAIMS).where(CLAIMS.c.id == claim_id).values(
                    response_status=response.status_code, response_body=response.get_json(),
                    response_location=response.headers.get("Location")))
        return _finish(response)
    return wrapper


def _finish(response):
    if response.status_code < 400:
        db.session.commit()
    else:
        db.session.rollback()  # a refused request leaves the database exactly as it was
    return response
