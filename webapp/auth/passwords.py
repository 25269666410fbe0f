"""Password rules, shared by the first-owner setup, changing a password and creating users."""
from wtforms import ValidationError
from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 200
# zxcvbn scores 0-4; below 3 a password falls to an offline guessing attack on a leaked hash within days.
MIN_STRENGTH_SCORE = 3
# The 30,000 passwords seen most often in breaches (zxcvbn's list).
_COMMON_PASSWORDS = frozenset(FREQUENCY_LISTS["passwords"])


def password_problems(password: str, email: str | None = None) -> list[str]:
    """What is wrong with a new password, in words a person can act on; an empty list when it is fine."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return [f"Use at least {MIN_PASSWORD_LENGTH} characters (this one has {len(password)})."]
    if len(password) > MAX_PASSWORD_LENGTH:
        return [f"Use at most {MAX_PASSWORD_LENGTH} characters (this one has {len(password)})."]
    lowered = password.lower()
    email = (email or "").strip().lower()
    local_part = email.split("@", 1)[0]
    if email and (email in lowered or (len(local_part) >= 3 and local_part in lowered)):
        return ["Do not put your email address (or the part before the @) in the password."]
    if lowered in _COMMON_PASSWORDS:
        return ["This is one of the most common passwords (it is on lists of breached passwords); choose another."]
    # Long enough is not enough: "aaaaaaaaaaaa" or "password1234" fall at once to a guessing attack.
    verdict = zxcvbn(password[:100], user_inputs=[email, local_part] if email else [])
    if verdict["score"] < MIN_STRENGTH_SCORE:
        hint = verdict["feedback"]["warning"] or "Add another word or two; uncommon words are better."
        return [f"This password is too easy to guess. {hint}"]
    return []


class StrongPassword:
    """WTForms validator: the password rules above, checked against the email in ``email_field`` (or the
    signed-in user's email when the form has no such field)."""

    def __init__(self, email_field: str | None = "email"):
        self.email_field = email_field

    def __call__(self, form, field):
        email = None
        if self.email_field and self.email_field in form:
            email = form[self.email_field].data
        else:
            from flask_login import current_user

            email = getattr(current_user, "email", None)
        for problem in password_problems(field.data or "", email):
            raise ValidationError(problem)
