"""The signed-in person's own account: change password, two-step sign-in, sign out everywhere."""
from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_login import current_user

from webapp.auth import two_step
from webapp.auth.forms import ChangePasswordForm, ConfirmSetupForm, PasswordAndCodeForm
from webapp.auth.routes import two_step_limit_key
from webapp.auth.sessions import sign_out_everywhere
from webapp.extensions import db, limiter

bp = Blueprint("account", __name__, url_prefix="/account")


def _code_limit():
    """Checking a code here is rate-limited per account like the sign-in code step."""
    return limiter.limit(lambda: current_app.config["TWO_STEP_RATE_LIMIT"], key_func=two_step_limit_key)


@bp.get("")
def account():
    """Your account: password, two-step sign-in and sessions."""
    return render_template("auth/account.html", codes_left=two_step.recovery_codes_left(current_user))


@bp.route("/password", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"], key_func=two_step_limit_key)
def change_password():
    """Change your password; every other session is signed out."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not current_user.check_password(form.current_password.data):
            form.current_password.errors.append("This is not your current password.")
        elif form.password.data == form.current_password.data:
            form.password.errors.append("The new password is the same as the current one.")
        else:
            current_user.set_password(form.password.data)
            # Commits the new password together with the new session generation.
            sign_out_everywhere(current_user._get_current_object())
            flash("Password changed. Any other session that was signed in has been signed out.", "success")
            return redirect(url_for("account.account"))
    status = 422 if form.is_submitted() else 200
    return render_template("auth/change_password.html", form=form), status


@bp.post("/sign-out-everywhere")
def sign_out_elsewhere():
    """Sign out every other session and remember cookie of yours (a lost phone, a shared computer)."""
    sign_out_everywhere(current_user._get_current_object())
    flash("Every other session has been signed out; this one stays signed in.", "success")
    return redirect(url_for("account.account"))


def _two_step_page(confirm_form=None, off_form=None, codes_form=None, status=200):
    # A setup not yet confirmed shows its key; one that can no longer be read (SECRET_KEY changed) starts again.
    secret = None if current_user.two_step_enabled else two_step.setup_secret(current_user)
    return render_template(
        "auth/two_step.html", confirm_form=confirm_form or ConfirmSetupForm(),
        off_form=off_form or PasswordAndCodeForm(), codes_form=codes_form or ConfirmSetupForm(),
        codes_left=two_step.recovery_codes_left(current_user),
        qr_code=two_step.qr_code_svg(current_user, secret) if secret else None,
        secret=two_step.grouped_secret(secret) if secret else None,
    ), status


@bp.get("/two-step")
def two_step_page():
    """Two-step sign-in: its state, and the forms to turn it on, make new recovery codes or turn it off."""
    return _two_step_page()


@bp.post("/two-step/start")
def start_two_step():
    """Make a new secret to scan into an authenticator app; it is in force only once a code confirms it."""
    if current_user.two_step_enabled:
        flash("Two-step sign-in is already on.", "error")
    else:
        two_step.start_setup(current_user)
        db.session.commit()
    return redirect(url_for("account.two_step_page"))


@bp.post("/two-step/confirm")
@_code_limit()
def confirm_two_step():
    """Turn two-step sign-in on with a code from the app, and show the recovery codes once."""
    form = ConfirmSetupForm()
    if current_user.two_step_enabled:
        flash("Two-step sign-in is already on.", "error")
        return redirect(url_for("account.two_step_page"))
    if not two_step.setup_secret(current_user):
        flash("Start by scanning a new QR code.", "error")
        return redirect(url_for("account.two_step_page"))
    if not form.validate_on_submit():
        return _two_step_page(confirm_form=form, status=422)
    outcome = two_step.check_code(current_user, form.code.data, allow_recovery=False)
    if outcome is not two_step.CodeCheck.ACCEPTED:
        db.session.rollback()
        form.code.errors.append(outcome.value)
        return _two_step_page(confirm_form=form, status=422 if outcome is two_step.CodeCheck.MALFORMED else 401)
    codes = two_step.enable(current_user)
    # Other sessions were signed in with the password alone; from now on a code is needed.
    sign_out_everywhere(current_user._get_current_object())
    return render_template("auth/recovery_codes.html", codes=codes, first_time=True)


@bp.post("/two-step/recovery-codes")
@_code_limit()
def new_recovery_codes():
    """Replace the recovery codes (after a current code), and show the new ones once."""
    form = ConfirmSetupForm()
    if not current_user.two_step_enabled:
        flash("Two-step sign-in is off; there are no recovery codes.", "error")
        return redirect(url_for("account.two_step_page"))
    if not form.validate_on_submit():
        return _two_step_page(codes_form=form, status=422)
    outcome = two_step.check_code(current_user, form.code.data)
    if outcome is not two_step.CodeCheck.ACCEPTED:
        db.session.rollback()
        form.code.errors.append(outcome.value)
        return _two_step_page(codes_form=form, status=422 if outcome is two_step.CodeCheck.MALFORMED else 401)
    codes = two_step.new_recovery_codes(current_user)
    db.session.commit()
    return render_template("auth/recovery_codes.html", codes=codes, first_time=False)


@bp.post("/two-step/off")
@_code_limit()
def turn_off_two_step():
    """Turn two-step sign-in off; needs the password and a current code (or a recovery code)."""
    form = PasswordAndCodeForm()
    if not current_user.two_step_enabled:
        flash("Two-step sign-in is already off.", "error")
        return redirect(url_for("account.two_step_page"))
    if not form.validate_on_submit():
        return _two_step_page(off_form=form, status=422)
    if not current_user.check_password(form.password.data):
        form.password.errors.append("This is not your password.")
        return _two_step_page(off_form=form, status=401)
    outcome = two_step.check_code(current_user, form.code.data)
    if outcome is not two_step.CodeCheck.ACCEPTED:
        db.session.rollback()
        form.code.errors.append(outcome.value)
        return _two_step_page(off_form=form, status=422 if outcome is two_step.CodeCheck.MALFORMED else 401)
    two_step.disable(current_user)
    db.session.commit()
    flash("Two-step sign-in is off. Signing in now needs only your password.", "success")
    return redirect(url_for("account.two_step_page"))
