"""What every page shares: rendering a page or its fragment, template filters, and the home redirect."""
from datetime import UTC, datetime
from decimal import Decimal
from io import BytesIO
from urllib.parse import urlsplit

from flask import Flask, current_app, g, get_flashed_messages, redirect, render_template, request, send_file, url_for
from markupsafe import Markup

from webapp.extensions import db
from webapp.orders.workflow import ACTION_LABELS, STATUS_LABELS
from webapp.timekeeping import shop_zone, utcnow
from webapp.validation import clean_text, whole_number

CURRENCY_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}


def init_app(app: Flask) -> None:
    app.add_url_rule("/", "home", home)
    app.after_request(_vary_on_htmx)
    app.jinja_env.filters.update(money=money, localtime=localtime, age=age, status_label=status_label,
                                 money_text=lambda text: money(Decimal(text)))
    app.jinja_env.globals.update(action_label=lambda status: ACTION_LABELS.get(status, status), public_url=public_url)


def app_path(endpoint: str, **values) -> str:
    """The path of a page, also outside any request (workers, commands), where url_for cannot build one."""
    return current_app.url_map.bind("localhost").build(endpoint, values)


def public_url(endpoint: str, **values) -> str:
    """An absolute link for emails, which are often rendered outside any request (workers, commands)."""
    return current_app.config["PUBLIC_URL"].rstrip("/") + app_path(endpoint, **values)


def home():
    """The board is the home page."""
    return redirect(url_for("board.board"))


def is_fragment_request() -> bool:
    """An HTMX request wants a fragment, except when htmx restores history and needs the whole page."""
    return bool(request.htmx) and not request.htmx.history_restore_request


def render_page(page_template: str, fragment_template: str, status: int = 200, **context):
    """Render the fragment alone for HTMX, or the full page (which includes it) otherwise.

    A fragment carries pending flash messages out of band, so they show now rather than on a later page.
    """
    if not is_fragment_request():
        return render_template(page_template, **context), status
    return render_template(fragment_template, **context) + flashed_out_of_band(), status


def flashed_out_of_band() -> str:
    """Pending flash messages for an HTMX fragment, swapped in out of band (empty when there are none)."""
    messages = get_flashed_messages(with_categories=True)
    if not messages:
        return ""
    return render_template("_messages.html", messages=messages, out_of_band=True)


def page_from_query(errors: list[str]) -> int:
    """The ``page`` query parameter of a list page; junk is reported in ``errors`` and page 1 shown."""
    page = whole_number(request.args.get("page"), default=1, maximum=100_000)
    if not page:
        errors.append("The page number must be a whole number from 1 to 100000.")
        return 1
    return page


def search_from_query(name: str = "q") -> str:
    """Search text from the query string, cleaned of control characters and cut to 100 characters."""
    return clean_text(request.args.get(name, ""))


def safe_next_url(target: str | None, default: str) -> str:
    """Follow only links within this site (after sign-in or an action), never to another site."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc \
            and "\\" not in target:
        return target
    return default


def pdf_response(data: bytes, filename: str):
    """A PDF to download (or to view in the browser with ?inline)."""
    return send_file(BytesIO(data), mimetype="application/pdf", download_name=filename,
                     as_attachment=request.args.get("inline") is None, max_age=0)


def _vary_on_htmx(response):
    response.vary.add("HX-Request")
    return response


def shop_currency() -> str:
    """The shop's currency, read once per request."""
    if "shop_currency" not in g:
        from webapp.settings.models import ShopSettings

        settings = db.session.get(ShopSettings, 1)
        g.shop_currency = settings.currency if settings else ShopSettings.currency.default.arg
    return g.shop_currency


def money(value: Decimal | None, currency: str | None = None) -> str:
    """12.5 -> '£12.50' in the order's currency, or the shop's when none is given."""
    if value is None:
        return ""
    currency = currency or shop_currency()
    symbol = CURRENCY_SYMBOLS.get(currency or "", "")
    text = f"{value:,.2f}"
    return f"{symbol}{text}" if symbol else f"{text} {currency or ''}".strip()


def localtime(value: datetime | None, fmt: str = "%d %b %Y %H:%M") -> str:
    if value is None:
        return ""
    return value.replace(tzinfo=UTC).astimezone(shop_zone()).strftime(fmt)


def age(value: datetime | None) -> str:
    """'5 min', '3 h', '2 d': how long ago, for cards."""
    if value is None:
        return ""
    seconds = max(0, int((utcnow() - value).total_seconds()))
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


def status_label(status: str) -> Markup:
    """The coloured status badge; the known ones are built once (Markup.format was a fifth of the board's
    rendering)."""
    badge = STATUS_BADGES.get(status)
    if badge is None:
        badge = Markup('<span class="status status-{0}">{1}</span>').format(status, STATUS_LABELS.get(status, status))
    return badge


STATUS_BADGES = {status: Markup('<span class="status status-{0}">{1}</span>').format(status, label)
                 for status, label in STATUS_LABELS.items()}


def spreadsheet_safe(value):
    """A CSV cell; text that a spreadsheet would run as a formula (=, +, -, @) is quoted with an apostrophe."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
