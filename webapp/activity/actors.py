"""Who is acting right now: a background job, an API token, a signed-in person, a webhook, the command line."""
import click
from flask import g, has_request_context, request
from rq import get_current_job


def current_actor() -> tuple[str, int | None]:
    """The actor's label for the log and, when a person stands behind it, their user id."""
    job = get_current_job()
    if job is not None:  # first: a job run inside a request or a command still acts on its own
        return f"job:{job.id}", None
    if has_request_context():
        token = g.get("api_token")
        if token is not None:
            return f"{token.user.email} (API token {token.prefix}…)", token.user_id
        # flask-login keeps the user it loaded in g; reading current_user here could query in the middle of a flush.
        user = g.get("_login_user")
        if user is not None and user.is_authenticated:
            return user.email, user.id
        if request.blueprint == "webhooks":
            return f"webhook:{request.path.split('/')[2]}", None  # /webhooks/<channel>/...
        if request.blueprint == "feedback":
            return "customer", None
        return "visitor", None  # the sign-in and first-owner pages
    if click.get_current_context(silent=True) is not None:
        return "cli", None
    return "system", None
