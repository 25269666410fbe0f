"""Every API POST: one transaction, and Idempotency-Key honoured; the body is checked before it begins.

A key is claimed by inserting a row in the same transaction as the work it guards. A concurrent request with
the same key waits on the unique index (PostgreSQL) or the write lock (SQLite), then finds the finished
answer and replays it, so a retried POST never does the work twice. The claim and the answer are two plain
statements (INSERT ... ON CONFLICT DO NOTHING, then an UPDATE), not ORM flushes: every API order pays for them.
Both are built once, with parameters, so a request neither builds them nor works out their cache keys again.

The JSON body is parsed and validated before the claim, that is before the transaction writes: on SQLite a
request holds the one write lock from its first write to its commit, and checking a body needs no database.
"""
import hashlib
from functools import wraps

from flask import g, jsonify, make_response, request
from pydantic import BaseModel
from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite

from webapp.api import error_response
from webapp.api.models import IdempotentRequest
from webapp.api.params import BadInput, json_body
from webapp.extensions import db

MAX_KEY_LENGTH = 255
CLAIMS = IdempotentRequest.__table__


def _claim_statement(insert):
    return (insert(CLAIMS).values(token_id=bindparam("claim_token_id"), key=bindparam("claim_key"),
                                  fingerprint=bindparam("claim_fingerprint"))
            .on_conflict_do_nothing(index_elements=[CLAIMS.c.token_id, CLAIMS.c.key]).returning(CLAIMS.c.id))


_CLAIM = {"postgresql": _claim_statement(postgresql.insert), "sqlite": _claim_statement(sqlite.insert)}
_ANSWER = update(CLAIMS).where(CLAIMS.c.id == bindparam("claim_id")).values(
    response_status=bindparam("answer_status", type_=CLAIMS.c.response_status.type),
    response_body=bindparam("answer_body", type_=CLAIMS.c.response_body.type),
    response_location=bindparam("answer_location", type_=CLAIMS.c.response_location.type))


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
    return connection.execute(_CLAIM[connection.dialect.name], {
        "claim_token_id": g.api_token.id, "claim_key": key, "claim_fingerprint": fingerprint}).scalar()


def _replay(stored: IdempotentRequest, fingerprint: str):
    if stored.fingerprint != fingerprint:
        return error_response(422, {"Idempotency-Key": [
            "was already used for a different request; use a new key for a new request"]})
    response = make_response(jsonify(stored.response_body), stored.response_status)
    response.headers["Idempotent-Replayed"] = "true"
    if stored.response_location:
        response.headers["Location"] = stored.response_location
    return response


def api_write(body: type[BaseModel]):
    """Run a writing API view in one transaction, honouring the Idempotency-Key header; the view gets the request's
    JSON body as ``body``, an instance of that model, checked before the transaction begins."""
    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            key = request.headers.get("Idempotency-Key")
            if key is None:
                return _finish(make_response(view(*args, body=json_body(body), **kwargs)))
            key = key.strip()
            if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
                return error_response(422, {"Idempotency-Key": [
                    f"must be 1 to {MAX_KEY_LENGTH} printable characters"]})
            fingerprint = _fingerprint()
            try:
                data = json_body(body)
            except BadInput:
                stored = _stored(key)  # a key used before answers as it did (a different body: refused as such)
                if stored is not None:
                    return _replay(stored, fingerprint)
                raise
            claim_id = _claim(key, fingerprint)
            if claim_id is None:  # another request with this key finished first: answer as it did
                return _replay(_stored(key), fingerprint)
            response = make_response(view(*args, body=data, **kwargs))
            if response.status_code < 400:
                db.session.connection().execute(_ANSWER, {
                    "claim_id": claim_id, "answer_status": response.status_code,
                    "answer_body": response.get_json(), "answer_location": response.headers.get("Location")})
            return _finish(response)
        return wrapper
    return decorator


def _finish(response):
    if response.status_code < 400:
        db.session.commit()
    else:
        db.session.rollback()  # a refused request leaves the database exactly as it was
    return response
