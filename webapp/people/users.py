"""The users page (owner only, see webapp.auth.access): who can sign in, with which role, and since when."""
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from webapp.auth.models import User
from webapp.auth.passwords import password_problems
from webapp.extensions import db
from webapp.people.accounts import (
    AccountRefusal,
    add_person,
    change_role,
    reset_two_step,
    set_new_password,
    switch_off,
    switch_on,
)
from webapp.people.forms import AddPersonForm, PasswordForm, RoleForm

bp = Blueprint("users", __name__, url_prefix="/users")


def _page(add_form: AddPersonForm | None = None, refused: dict | None = None, status: int = 200):
    """The list with the add form; ``refused`` maps a user id to the error to show on that row."""
    people = db.session.scalars(select(User).order_by(User.active.desc(), User.email)).all()
    return render_template("people/users.html", people=people, add_form=add_form or AddPersonForm(),
                           role_form=RoleForm, password_form=PasswordForm(formdata=None),
                           refused=refused or {}), status


def _person(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404, f"There is no user number {user_id}.")
    return user


def _refuse(user: User, message: str):
    db.session.rollback()
    return _page(refused={user.id: message}, status=422)


@bp.get("")
def list_users():
    """Everyone who can sign in: email, role, created, last sign-in, and whether they are switched off."""
    return _page()


@bp.post("")
def add_user():
    """Add a person with a role and an initial password to tell them."""
    form = AddPersonForm()
    if not form.validate():
        return _page(add_form=form, status=422)
    try:
        user = add_person(form.email.data, form.role.data, form.password.data)
    except AccountRefusal as refusal:
        getattr(form, refusal.field).errors.append(refusal.message)
        return _page(add_form=form, status=422)
    db.session.commit()
    flash(f"Added {user.email} as {user.role}. Tell them their password; they can sign in now.", "success")
    return redirect(url_for("users.list_users"))


@bp.post("/<int(max=2147483647):user_id>/role")
def set_role(user_id: int):
    """Give someone another role."""
    user = _person(user_id)
    form = RoleForm()
    if not form.validate():
        return _refuse(user, " ".join(form.role.errors))
    try:
        change_role(user, form.role.data)
    except AccountRefusal as refusal:
        return _refuse(user, refusal.message)
    db.session.commit()
    flash(f"{user.email} is now {user.role}.", "success")
    return redirect(url_for("users.list_users"))


@bp.post("/<int(max=2147483647):user_id>/switch-off")
def deactivate(user_id: int):
    """Switch an account off: no signing in, sessions end, API tokens stop working."""
    user = _person(user_id)
    try:
        switch_off(user)
    except AccountRefusal as refusal:
        return _refuse(user, refusal.message)
    db.session.commit()
    flash(f"{user.email} is switched off and signed out everywhere.", "success")
    return redirect(url_for("users.list_users"))


@bp.post("/<int(max=2147483647):user_id>/switch-on")
def reactivate(user_id: int):
    """Let a switched-off person sign in again (their unrevoked tokens work again too)."""
    user = _person(user_id)
    switch_on(user)
    db.session.commit()
    flash(f"{user.email} can sign in again.", "success")
    return redirect(url_for("users.list_users"))


@bp.post("/<int(max=2147483647):user_id>/password")
def reset_password(user_id: int):
    """Set a new password for someone who forgot theirs."""
    user = _person(user_id)
    form = PasswordForm()
    if not form.validate():
        return _refuse(user, " ".join(form.password.errors))
    problems = password_problems(form.password.data, user.email)  # against their email, not the owner's
    if problems:
        return _refuse(user, " ".join(problems))
    set_new_password(user, form.password.data)
    db.session.commit()
    flash(f"New password set for {user.email}; tell them.", "success")
    return redirect(url_for("users.list_users"))


@bp.post("/<int(max=2147483647):user_id>/two-step/reset")
def reset_two_step_sign_in(user_id: int):
    """Turn someone's two-step sign-in off (a lost phone, or a key this server can no longer read)."""
    user = _person(user_id)
    try:
        reset_two_step(user, current_user._get_current_object())
    except AccountRefusal as refusal:
        return _refuse(user, refusal.message)
    db.session.commit()
    flash(f"Two-step sign-in is off for {user.email} and their sessions ended; they sign in with their password "
          "and can set it up again.", "success")
    return redirect(url_for("users.list_users"))
