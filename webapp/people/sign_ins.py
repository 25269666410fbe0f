"""Remember when each person last signed in, for the users page."""
from flask import Flask
from flask_login import user_logged_in
from sqlalchemy import update
from sqlalchemy.exc import OperationalError

from webapp.auth.models import User
from webapp.extensions import db
from webapp.timekeeping import utcnow


def init_app(app: Flask) -> None:
    user_logged_in.connect(note_sign_in, app)


def note_sign_in(app, user: User, **extra) -> None:
    """Best effort, like the password rehash at sign-in: a database too busy for this one write must not stop
    anyone signing in."""
    user_id = user.id
    # The sign-in request only read so far: end that read first, so that on SQLite this write starts a fresh
    # transaction that waits its turn for the lock rather than failing to upgrade a stale read.
    db.session.commit()
    try:
        db.session.execute(update(User).where(User.id == user_id).values(last_sign_in_at=utcnow()))
        db.session.commit()
    except OperationalError:
        db.session.rollback()
