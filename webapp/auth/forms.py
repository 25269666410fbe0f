"""Sign-in, first-owner and account forms."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from webapp.auth.passwords import StrongPassword


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Email()])
    password = PasswordField("Password", validators=[DataRequired()])
    remember = BooleanField("Keep me signed in on this device")


def _code_field(label: str = "Code from your authenticator app, or a recovery code") -> StringField:
    return StringField(label, validators=[DataRequired("Enter the 6-digit code from your authenticator app."),
                                          Length(max=40)],
                       render_kw={"autocomplete": "one-time-code", "autocapitalize": "off", "spellcheck": "false"})


class CodeForm(FlaskForm):
    code = _code_field()


class ConfirmSetupForm(FlaskForm):
    code = _code_field("6-digit code shown by the app")


class SetupForm(FlaskForm):
    setup_token = StringField("Setup token (printed on the console)", validators=[DataRequired()])
    email = EmailField("Your email", validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), StrongPassword("email")])
    confirm = PasswordField("Password again", validators=[DataRequired(), EqualTo("password", "Passwords differ.")])


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[DataRequired()])
    password = PasswordField("New password", validators=[DataRequired(), StrongPassword(email_field=None)])
    confirm = PasswordField("New password again",
                            validators=[DataRequired(), EqualTo("password", "Passwords differ.")])


class PasswordAndCodeForm(FlaskForm):
    """Turning two-step sign-in off asks for both, so a session left open is not enough."""
    password = PasswordField("Password", validators=[DataRequired()])
    code = _code_field()
