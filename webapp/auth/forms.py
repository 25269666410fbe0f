"""Sign-in and first-owner forms."""
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length

MIN_PASSWORD_LENGTH = 10


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Email()])
    password = PasswordField("Password", validators=[DataRequired()])


class SetupForm(FlaskForm):
    setup_token = StringField("Setup token (printed on the console)", validators=[DataRequired()])
    email = EmailField("Your email", validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField(
        "Password", validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=200)]
    )
    confirm = PasswordField("Password again", validators=[DataRequired(), EqualTo("password", "Passwords differ.")])
