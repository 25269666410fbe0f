"""encrypt the two-step sign-in key at rest: users.totp_secret (plain) becomes users.totp_secret_sealed (Fernet)

Revision ID: 713906b929b8
Revises: f0ba029a1b17
Create Date: 2026-12-01 16:53:01.548130

A data migration: every key already stored is sealed under SECRET_KEY, read as the app reads it (the environment,
else instance/secret_key: the Flask app this runs in has it in its config). The downgrade opens them again with
SECRET_KEY or OLD_SECRET_KEYS and stops, changing nothing, if one cannot be opened.
"""
import base64

import sqlalchemy as sa
from alembic import op
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

# revision identifiers, used by Alembic.
revision = '713906b929b8'
down_revision = 'f0ba029a1b17'
branch_labels = None
depends_on = None

# The derivation of webapp/auth/sealed_secrets.py, kept here as it was when this ran (tests check they agree).
PURPOSE = b"solo-oms two-step sign-in key"

users = sa.table("users", sa.column("id", sa.Integer), sa.column("totp_secret", sa.String),
                 sa.column("totp_secret_sealed", sa.String))


def _fernet(secret_key: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=PURPOSE).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def _keys() -> MultiFernet:
    config = current_app.config
    return MultiFernet([_fernet(config["SECRET_KEY"])] + [_fernet(key) for key in config.get("OLD_SECRET_KEYS") or ()])


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('totp_secret_sealed', sa.String(length=255), nullable=True))
    connection = op.get_bind()
    keys = _keys()
    plain = connection.execute(sa.select(users.c.id, users.c.totp_secret)
                               .where(users.c.totp_secret.is_not(None))).all()
    for user_id, secret in plain:
        connection.execute(sa.update(users).where(users.c.id == user_id)
                           .values(totp_secret_sealed=keys.encrypt(secret.encode()).decode()))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('totp_secret')


def downgrade():
    connection = op.get_bind()
    keys = _keys()
    sealed = connection.execute(sa.select(users.c.id, users.c.totp_secret_sealed)
                                .where(users.c.totp_secret_sealed.is_not(None))).all()
    opened, unreadable = {}, []
    for user_id, token in sealed:
        try:
            opened[user_id] = keys.decrypt(token.encode()).decode()
        except InvalidToken:
            unreadable.append(user_id)
    if unreadable:
        raise RuntimeError(f"The two-step sign-in keys of users {unreadable} cannot be opened with SECRET_KEY or "
                           "OLD_SECRET_KEYS: set the key they were sealed under, or reset their two-step sign-in "
                           "(`flask users reset-two-step --email …`) before downgrading.")
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('totp_secret', sa.String(length=32), nullable=True))
    for user_id, secret in opened.items():
        connection.execute(sa.update(users).where(users.c.id == user_id).values(totp_secret=secret))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('totp_secret_sealed')
