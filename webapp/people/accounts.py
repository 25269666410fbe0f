"""The shop's people: adding them, changing their role, switching them off and on, setting a new password.

The shop always keeps at least one active owner, or nobody could manage users or settings any more.
"""
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select

from webapp.auth import two_step
from webapp.auth.models import ROLES, User
from webapp.extensions import db


class AccountRefusal(Exception):
    """A change to a person's account that is not allowed; ``field`` names the form field at fault."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def normal_email(raw: str) -> str:
    """The email as stored (lower case), or AccountRefusal naming what is wrong with it."""
    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        raise AccountRefusal("email", str(error)) from error


def add_person(email: str, role: str, password: str) -> User:
    """A new user who can sign in with ``password`` at once."""
    email = normal_email(email)
    if role not in ROLES:
        raise AccountRefusal("role", f"Choose one of: {', '.join(ROLES)}.")
    if db.session.scalar(select(User.id).where(func.lower(User.email) == email)):
        raise AccountRefusal("email", f"There is already a user with the email {email}.")
    user = User(email=email, role=role, active=True)
    user.set_password(password)
    db.session.add(user)
    return user


def _other_active_owners(user: User) -> int:
    """Active owners besides ``user``; their rows stay locked until commit on PostgreSQL, so two owners demoting
    each other at the same moment cannot both succeed (SQLite writes one at a time anyway)."""
    others = db.session.scalars(
        select(User.id).where(User.role == "owner", User.active, User.id != user.id).with_for_update()
    ).all()
    return len(others)


def _keep_an_owner(user: User, field: str, doing: str) -> None:
    if user.role == "owner" and user.active and _other_active_owners(user) == 0:
        raise AccountRefusal(field, f"{user.email} is the last active owner; make someone else owner before {doing}.")


def change_role(user: User, role: str) -> None:
    """Give ``user`` another role; their API tokens lose any scope the new role does not allow."""
    if role not in ROLES:
        raise AccountRefusal("role", f"Choose one of: {', '.join(ROLES)}.")
    if role != "owner":
        _keep_an_owner(user, "role", "changing this role")
    user.role = role


def switch_off(user: User) -> None:
    """The user can no longer sign in; their sessions end and their API tokens stop working at once."""
    _keep_an_owner(user, "active", "switching this account off")
    user.active = False
    user.session_generation += 1  # and switching back on later does not bring the old sessions back


def switch_on(user: User) -> None:
    user.active = True


def set_new_password(user: User, password: str) -> None:
    """A new password from the owner: the person's other sessions end too (someone else may have had the old)."""
    user.set_password(password)
    user.session_generation += 1


def reset_two_step(user: User, owner: User) -> None:
    """Two-step sign-in off for someone who lost their phone and recovery codes, or whose key can no longer be read
    (SECRET_KEY changed): they sign in with their password alone and set it up again. Their sessions end too (the
    phone may be in someone else's hands). Not for the owner's own account: that needs their password and a code,
    on their own Two-step sign-in page."""
    if user.id == owner.id:
        raise AccountRefusal("two_step", "Turn your own two-step sign-in off on your Two-step sign-in page: it "
                                         "needs your password and a code.")
    if not user.two_step_enabled and not user.totp_secret_sealed:
        raise AccountRefusal("two_step", f"{user.email} has no two-step sign-in to reset.")
    two_step.disable(user)
    user.session_generation += 1
