"""Sign in, sign out, and create the owner account on first run."""
from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from webapp.auth.forms import LoginForm, SetupForm
from webapp.auth.models import User, spend_password_check_time
from webapp.auth.setup_token import (
    check_setup_token,
    has_users,
    issue_setup_token,
    setup_token_exists,
    spend_setup_token,
)
from webapp.extensions import db, limiter
from webapp.sqlite_locking import reads_only
from webapp.views import safe_next_url

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    return safe_next_url(target, url_for("board.board"))


def _save_rehash() -> None:
    """Keep a transparently upgraded hash if the database lets us now; it is retried at the next sign-in."""
    try:
        db.session.commit()
    except OperationalError:
        db.session.rollback()


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
@reads_only  # hashing takes a while; it must not hold SQLite's write lock meanwhile
def login():
    """Sign in with email and password."""
    if not has_users():
        return redirect(url_for("auth.setup"))
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        user = db.session.scalars(select(User).where(func.lower(User.email) == email)).first()
        # An unknown email costs the same hashing time as a wrong password, so timing reveals no accounts.
        if user is None:
            spend_password_check_time(form.password.data)
        elif user.check_password(form.password.data):
            _save_rehash()
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
        flash("Email or password is wrong.", "error")
        return render_template("auth/login.html", form=form), 401
    status = 422 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
def logout():
    """Sign out."""
    logout_user()
    return redirect(url_for("auth.login"))


@bp.route("/setup", methods=["GET", "POST"])
def setup():
    """Create the owner account; only possible while there are no users, with the console's setup token."""
    if has_users():
        return redirect(url_for("auth.login"))
    if not setup_token_exists():
        token = issue_setup_token()
        db.session.commit()
        current_app.logger.warning("Solo OMS setup token (enter it at /setup): %s", token)
        print(f"\n  Solo OMS setup token: {token}\n", flush=True)
    form = SetupForm()
    if form.validate_on_submit():
        if not check_setup_token(form.setup_token.data):
            form.setup_token.errors.append("This is not the setup token printed on the console.")
            return render_template("auth/setup.html", form=form), 422
        user = User(email=form.email.data.strip().lower(), role="owner")
        user.set_password(form.password.data)
        db.session.add(user)
        spend_setup_token()
        db.session.commit()
        login_user(user)
        flash("Welcome! Your owner account is ready.", "success")
        return redirect(url_for("board.board"))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/setup.html", form=form), status
