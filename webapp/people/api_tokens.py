"""The API tokens page: everyone manages their own tokens (the owner sees and revokes everyone's)."""
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from webapp.auth.models import API_SCOPES, ApiToken, role_allows
from webapp.auth.tokens import create_api_token
from webapp.extensions import db
from webapp.people.forms import NewTokenForm
from webapp.timekeeping import utcnow

bp = Blueprint("api_tokens", __name__, url_prefix="/tokens")


def _visible_tokens():
    query = select(ApiToken).options(joinedload(ApiToken.user)).order_by(ApiToken.revoked_at.is_not(None),
                                                                           ApiToken.created_at.desc())
    if current_user.role != "owner":
        query = query.where(ApiToken.user_id == current_user.id)
    return db.session.scalars(query).all()


def _page(form: NewTokenForm | None = None, new_secret: str | None = None, status: int = 200):
    allowed = [scope for scope in API_SCOPES if role_allows(current_user.role, scope)]
    form = form or NewTokenForm(formdata=None, scopes=allowed)
    # The secret is shown once: keep it out of every cache.
    headers = {"Cache-Control": "no-store"} if new_secret else {}
    return render_template("people/tokens.html", tokens=_visible_tokens(), form=form, allowed=allowed,
                           new_secret=new_secret), status, headers


@bp.get("")
def list_tokens():
    """Your API tokens (the owner's: everyone's), with scopes and when each was last used."""
    return _page()


@bp.post("")
def create_token():
    """Make a token with the chosen scopes; its secret is shown on this one page and never again."""
    form = NewTokenForm()
    if not form.validate():
        return _page(form, status=422)
    try:
        secret = create_api_token(current_user, form.scopes.data)
    except ValueError as error:  # a scope the role does not allow
        form.scopes.errors.append(f"Not for your role: {error}.")
        return _page(form, status=422)
    db.session.commit()
    return _page(new_secret=secret, status=201)


@bp.post("/<int(max=2147483647):token_id>/revoke")
def revoke(token_id: int):
    """Revoke a token at once; calls made with it are refused from now on."""
    token = db.session.get(ApiToken, token_id)
    if token is None or (current_user.role != "owner" and token.user_id != current_user.id):
        abort(404, f"You have no token number {token_id}.")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.commit()
    flash(f"Token {token.prefix}… is revoked.", "success")
    return redirect(url_for("api_tokens.list_tokens"))
