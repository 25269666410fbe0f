"""Forms of the users and API tokens pages (Flask-WTF: each carries its CSRF token)."""
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, SelectMultipleField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, Email, Length, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from webapp.auth.models import API_SCOPES, ROLES
from webapp.auth.passwords import StrongPassword

ROLE_CHOICES = [SelectChoice(role, role.capitalize()) for role in ROLES]
# The same rules as setup and "change password" (webapp/auth/passwords.py), against the person's email.
PASSWORD_RULES = [DataRequired("Give a password."), StrongPassword("email")]


def _role_field():
    # validate_choice=False: AnyOf says which roles exist, where WTForms would only say "Not a valid choice".
    return SelectField("Role", choices=ROLE_CHOICES, validate_choice=False,
                       validators=[AnyOf(ROLES, message=f"Choose one of: {', '.join(ROLES)}.")])


def _known_scopes(form, field) -> None:
    unknown = [scope for scope in field.data or [] if scope not in API_SCOPES]
    if unknown:
        raise ValidationError(f"Unknown scope {', '.join(unknown)[:80]}; choose from {', '.join(API_SCOPES)}.")


class AddPersonForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired("Give an email address."),
                                            Email("This is not an email address."), Length(max=254)],
                        filters=[lambda value: value.strip() if value else value])  # pasted with spaces
    role = _role_field()
    password = PasswordField("Initial password (tell them; they sign in with it)", validators=PASSWORD_RULES)


class RoleForm(FlaskForm):
    role = _role_field()


class PasswordForm(FlaskForm):
    # The rules against the person's own email are checked in the view, which knows whose password this is.
    password = PasswordField("New password", validators=[DataRequired("Give a password.")])


class NewTokenForm(FlaskForm):
    scopes = SelectMultipleField("Scopes", choices=[SelectChoice(scope) for scope in API_SCOPES],
                                 widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
                                 validate_choice=False,
                                 validators=[DataRequired("Choose at least one scope."), _known_scopes])
