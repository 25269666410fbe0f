"""Sign in (password, then a code when two-step sign-in is on), sign out, and create the owner account."""
import time

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_limiter.util import get_remote_address
from flask_login import current_user, logout_user
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from webapp.auth import two_step
from webapp.auth.forms import CodeForm, LoginForm, SetupForm
from webapp.auth.models import User, spend_password_check_time
from webapp.auth.sessions import sign_in
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

# Between the password and the code: who passed the password, and when. No session is granted until the code passes.
PENDING = "two_step_pending"
PENDING_SECONDS = 300


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
# And per account, from any address: guessing one person's password from many addresses is limited too.
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"], key_func=lambda: login_limit_key())
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
            if not user.active:
                flash("This account is switched off; ask the shop's owner to switch it on.", "error")
                return render_template("auth/login.html", form=form), 403
            if user.two_step_enabled:
                session[PENDING] = {"user": user.id, "generation": user.session_generation, "at": int(time.time()),
                                    "remember": bool(form.remember.data)}
                return redirect(url_for("auth.login_code", next=request.args.get("next")))
            sign_in(user, remember=bool(form.remember.data))
            return redirect(_safe_next(request.args.get("next")))
        flash("Email or password is wrong.", "error")
        return render_template("auth/login.html", form=form), 401
    status = 422 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


def login_limit_key() -> str:
    email = (request.form.get("email") or "").strip().lower()[:254]
    return f"login-account:{email}" if email else get_remote_address()


def _pending_user() -> User | None:
    """The user who passed the password step in this browser in the last few minutes, if any."""
    pending = session.get(PENDING)
    if not isinstance(pending, dict) or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        return None
    user = db.session.get(User, pending.get("user"))
    if user is None or not user.active or not user.two_step_enabled \
            or user.session_generation != pending.get("generation"):
        return None
    return user


def two_step_limit_key() -> str:
    """Count code attempts per account, whatever address they come from."""
    pending = session.get(PENDING)
    if isinstance(pending, dict) and pending.get("user"):
        return f"two-step-user:{pending['user']}"
    if current_user.is_authenticated:
        return f"two-step-user:{current_user.id}"
    return get_remote_address()


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
@limiter.limit(lambda: current_app.config["TWO_STEP_RATE_LIMIT"], key_func=two_step_limit_key, methods=["POST"])
def login_code():
    """Second step of signing in: a code from the authenticator app, or a recovery code."""
    user = _pending_user()
    if user is None:
        session.pop(PENDING, None)
        flash("Sign in with your email and password first (the code step lasts 5 minutes).", "error")
        return redirect(url_for("auth.login", next=request.args.get("next")))
    form = CodeForm()
    if not form.validate_on_submit():
        status = 422 if request.method == "POST" else 200
        return render_template("auth/login_code.html", form=form), status
    outcome = two_step.check_code(user, form.code.data)
    if outcome is two_step.CodeCheck.MALFORMED:
        form.code.errors.append(outcome.value)
        return render_template("auth/login_code.html", form=form), 422
    if outcome is not two_step.CodeCheck.ACCEPTED:
        db.session.rollback()
        form.code.errors.append(outcome.value)
        return render_template("auth/login_code.html", form=form), 401
    db.session.commit()
    remember = bool(session.pop(PENDING, {}).get("remember"))
    sign_in(user, remember=remember)
    left = two_step.recovery_codes_left(user)
    if left <= 3:
        flash(f"You have {left} recovery codes left. Make new ones on the Two-step sign-in page.", "error")
    return redirect(_safe_next(request.args.get("next")))


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
        sign_in(user)
        flash("Welcome! Your owner account is ready.", "success")
        return redirect(url_for("board.board"))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/setup.html", form=form), status
