"""`flask users ...` and `flask tokens ...`."""
import click
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from webapp.auth import two_step
from webapp.auth.models import API_SCOPES, ROLES, ApiToken, User, role_allows
from webapp.auth.passwords import password_problems
from webapp.auth.sealed_secrets import SecretUnreadable, resealed
from webapp.auth.setup_token import has_users, issue_setup_token
from webapp.auth.tokens import create_api_token, revoke_api_token
from webapp.extensions import db


@click.group()
def users():
    """Manage the people who sign in."""


@users.command("create")
@click.option("--email", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--role", type=click.Choice(ROLES), default="owner", show_default=True)
def create_user(email: str, password: str, role: str):
    """Create a user who can sign in."""
    try:
        email = validate_email(email, check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        raise click.BadParameter(str(error), param_hint="--email") from error
    problems = password_problems(password, email)
    if problems:
        raise click.BadParameter(" ".join(problems), param_hint="--password")
    if db.session.scalar(select(User.id).where(func.lower(User.email) == email)):
        raise click.ClickException(f"A user with email {email} already exists.")
    user = User(email=email, role=role)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    click.echo(f"Created {role} {email}.")


@users.command("setup-token")
def setup_token():
    """Print a one-time token for creating the owner account at /setup (only while no user exists)."""
    if has_users():
        click.echo("There is already a user; sign in at /login.")
        return
    token = issue_setup_token()
    db.session.commit()
    click.echo(token)


@users.command("reseal-two-step-keys")
def reseal_two_step_keys():
    """Seal every stored two-step sign-in key under the current SECRET_KEY (after rotating it, before removing
    the old one from OLD_SECRET_KEYS)."""
    resealed_count, unreadable = 0, []
    for user in db.session.scalars(select(User).where(User.totp_secret_sealed.is_not(None)).order_by(User.id)):
        try:
            sealed = resealed(user.totp_secret_sealed)
        except SecretUnreadable:
            unreadable.append(user.email)
            continue
        if sealed:
            user.totp_secret_sealed = sealed
            resealed_count += 1
    db.session.commit()
    click.echo(f"Sealed {resealed_count} two-step sign-in key(s) again under the current SECRET_KEY.")
    if unreadable:
        click.echo("Not readable with SECRET_KEY or OLD_SECRET_KEYS (they sign in with a recovery code, or "
                   f"`flask users reset-two-step --email …`): {', '.join(unreadable)}")


@users.command("reset-two-step")
@click.option("--email", required=True)
def reset_two_step(email: str):
    """Turn a person's two-step sign-in off (lost phone and recovery codes); their sessions end."""
    user = db.session.scalars(select(User).where(func.lower(User.email) == email.strip().lower())).first()
    if user is None:
        raise click.BadParameter(f"no user with email {email}", param_hint="--email")
    two_step.disable(user)
    user.session_generation += 1
    db.session.commit()
    click.echo(f"Two-step sign-in is off for {user.email}; they sign in with their password and can set it up again.")


@click.group()
def tokens():
    """Manage API tokens."""


@tokens.command("create")
@click.option("--email", required=True, help="The user the token acts for.")
@click.option("--scopes", default=None, help=f"Comma-separated, of {', '.join(API_SCOPES)}. "
              "Default: all that the user's role allows.")
def create_token(email: str, scopes: str | None):
    """Create an API token; it is printed once, alone on the last line."""
    user = db.session.scalars(select(User).where(func.lower(User.email) == email.strip().lower())).first()
    if user is None:
        raise click.BadParameter(f"no user with email {email}", param_hint="--email")
    if scopes is None:
        scopes = ",".join(scope for scope in API_SCOPES if role_allows(user.role, scope))
    try:
        secret = create_api_token(user, [scope.strip() for scope in scopes.split(",") if scope.strip()])
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--scopes") from error
    db.session.commit()
    click.echo(f"Token for {user.email} (scopes: {scopes}). Store it now; it is not shown again:")
    click.echo(secret)


@tokens.command("list")
def list_tokens():
    """List API tokens: prefix, user, scopes, created, last used, revoked."""
    rows = db.session.scalars(select(ApiToken).options(joinedload(ApiToken.user)).order_by(ApiToken.id)).all()
    if not rows:
        click.echo("No API tokens.")
    for token in rows:
        state = f"revoked {token.revoked_at:%Y-%m-%d %H:%M}" if token.revoked_at else "live"
        used = f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never"
        click.echo(f"{token.prefix}  {token.user.email}  {token.scopes}  created {token.created_at:%Y-%m-%d}  "
                   f"last used {used}  {state}")


@tokens.command("revoke")
@click.argument("prefix")
def revoke_token(prefix: str):
    """Revoke the token whose secret starts with PREFIX (as shown by `tokens list`)."""
    token = revoke_api_token(prefix.strip())
    if token is None:
        raise click.ClickException(f"No live token starts with {prefix}.")
    db.session.commit()
    click.echo(f"Revoked {token.prefix} of {token.user.email}.")
