"""Who may open what: one table of roles per blueprint or endpoint, checked before every request.

A route nobody classified is open to the owner alone (tests/test_role_matrix.py fails until it is classified),
so a new page can never be left open by forgetting a check.
"""
from flask import render_template, request
from flask_login import current_user

from webapp.sqlite_locking import READ_ONLY_METHODS

EVERYONE = frozenset({"owner", "staff", "viewer"})
WORKERS = frozenset({"owner", "staff"})  # the people who run the shop day to day
BOOKS = frozenset({"owner", "viewer"})  # the owner and the accountant
OWNER = frozenset({"owner"})
NOBODY = frozenset()

# Open without signing in: they check something else (a setup token, a signed link, an HMAC, localhost).
# auth.login_code grants nothing without a password that passed a moment ago.
PUBLIC_ENDPOINTS = {"auth.login", "auth.login_code", "auth.setup", "health.healthz", "static", "assets.vendor",
                    "feedback.give_feedback", "metrics.metrics", "webhooks.shopify_order_created",
                    "webhooks.woocommerce_order_created"}
# /api/v1 takes a Bearer token instead of a session; webapp.api checks the token's scopes for each endpoint.
TOKEN_BLUEPRINTS = {"api"}

# (who may read: GET and HEAD, who may change things: every other method). An endpoint's own entry wins over
# its blueprint's. Viewers read only. Staff run orders, stock, customers, invoices, printing and order imports,
# but not settings, users, exports, webhooks out or the jobs page.
RULES: dict[str, tuple[frozenset, frozenset]] = {
    "home": (EVERYONE, NOBODY),
    "auth.logout": (NOBODY, EVERYONE),
    "account": (EVERYONE, EVERYONE),  # one's own password, two-step sign-in and sessions, whatever the role
    # Who did what: the owner and the accountant read it; staff run the shop's day but do not audit it.
    "activity": (BOOKS, NOBODY),
    "alerts": (EVERYONE, WORKERS),
    "analytics": (EVERYONE, NOBODY),
    "analytics.export": (BOOKS, NOBODY),  # a CSV of the shop's figures: an export, so not for staff
    "board": (EVERYONE, WORKERS),
    "catalog": (EVERYONE, WORKERS),
    "catalog.new_product": (WORKERS, WORKERS),  # a form a viewer could not send
    "catalog.edit_product": (WORKERS, WORKERS),
    "customers": (EVERYONE, WORKERS),
    "emails": (EVERYONE, WORKERS),
    # The accountant (viewer) downloads the records they can already read page by page; staff do not export.
    "exports": (BOOKS, NOBODY),
    "forecasting": (EVERYONE, WORKERS),  # the reorder CSV is a shopping list for the supplier, not the books
    "imports": (WORKERS, WORKERS),  # importing orders is taking orders in, like pasting one
    "invoices": (EVERYONE, WORKERS),
    "jobs": (OWNER, OWNER),
    "orders": (EVERYONE, WORKERS),
    "orders.new_order": (WORKERS, WORKERS),
    "orders.paste_order": (WORKERS, WORKERS),
    "orders.find_products": (WORKERS, WORKERS),  # the product search of the order form
    "orders.ship_form": (WORKERS, WORKERS),
    "printing": (EVERYONE, WORKERS),
    "settings": (OWNER, OWNER),
    "webhooks_out": (OWNER, OWNER),
    "users": (OWNER, OWNER),
    # API tokens reach every order and customer in bulk, so, like exports, they are the owner's (issue 6).
    "api_tokens": (OWNER, OWNER),
}


def rule_for(endpoint: str) -> tuple[frozenset, frozenset] | None:
    """The (readers, writers) of an endpoint, or None when nobody classified it."""
    blueprint = endpoint.rpartition(".")[0]
    return RULES.get(endpoint) or RULES.get(blueprint)


def needs_session(endpoint: str) -> bool:
    """Pages need a signed-in person; public endpoints and the token-checked API do not."""
    return endpoint not in PUBLIC_ENDPOINTS and endpoint.rpartition(".")[0] not in TOKEN_BLUEPRINTS


def role_may(role: str, endpoint: str, method: str = "GET") -> bool:
    """Whether someone with ``role`` may call ``endpoint`` with ``method``; unclassified endpoints: owner only."""
    rule = rule_for(endpoint)
    if rule is None:
        return role == "owner"
    readers, writers = rule
    return role in (readers if method in READ_ONLY_METHODS else writers)


def can_open(endpoint: str, method: str = "GET") -> bool:
    """For templates: show a link or button only to those who may use it."""
    return current_user.is_authenticated and role_may(current_user.role, endpoint, method)


def refuse_unless_allowed():
    """Answer 403 (a page, or a message fragment for HTMX) when the signed-in role may not do this."""
    if role_may(current_user.role, request.endpoint, request.method):
        return None
    message = ("Your account can look but not change anything." if role_may(current_user.role, request.endpoint)
               else "Your account cannot open this page; the shop's owner can change your role.")
    if request.htmx:
        # htmx swaps 403s only to show this message (see base.html's htmx-config); the page stays as it was.
        body = render_template("_messages.html", messages=[("error", message)], out_of_band=True)
        return body, 403, {"HX-Reswap": "none"}
    return render_template("error.html", code=403, message=message), 403
