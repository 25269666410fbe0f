"""The board page, its self-refreshing fragment, and "more" cards for a column."""
from functools import cache, partial
from urllib.parse import quote, urlencode

from flask import Blueprint, abort, current_app, make_response, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from webapp.board.columns import (
    COLUMNS,
    COLUMNS_BY_KEY,
    board_cards,
    board_version,
    column_counts,
    read_filters,
    start_of_shop_day,
)
from webapp.board.fragments import board_fragment
from webapp.orders.models import CHANNELS, PRIORITIES
from webapp.orders.ship_dates import predict_ship, ship_time_model
from webapp.orders.workflow import ACTION_LABELS, allowed_next
from webapp.timekeeping import shop_today, shop_zone, utcnow
from webapp.validation import whole_number
from webapp.views import flashed_out_of_band, is_fragment_request, render_page

bp = Blueprint("board", __name__)

# Actions offered on a card; rejecting and holding are the audit's job, returns happen from the order page.
CARD_ACTIONS = ("confirmed", "processing", "shipped", "delivered", "cancelled")


@cache
def board_actions(status: str) -> tuple[tuple[str, str, str], ...]:
    """(next status, button class, button label) for each action a card of ``status`` offers; the same for every
    card of a status, so worked out once per process."""
    actions = [to for to in allowed_next(status) if to in CARD_ACTIONS]
    return tuple((to, "danger" if to in ("cancelled", "rejected") else "primary" if position == 0 else "",
                  ACTION_LABELS.get(to, to)) for position, to in enumerate(actions))


def order_link(endpoint: str):
    """number -> URL of an order page or action: one url_for per request rather than one per card (the board
    shows over a hundred cards, and url_for was a quarter of its rendering time)."""
    pattern = url_for(endpoint, number="--number--")
    query_strings = {}  # every card asks with the same query (next=this board), so encode it once

    def link(number: str, **query) -> str:
        url = pattern.replace("--number--", quote(number, safe=""))
        if not query:
            return url
        key = tuple(query.items())
        if key not in query_strings:
            query_strings[key] = urlencode(query)
        return f"{url}?{query_strings[key]}"

    return link


def _common_context(filters, csrf_token=None):
    return {
        "order_url": order_link("orders.order_detail"),
        "change_url_of": order_link("orders.change_status"),
        "ship_url_of": order_link("orders.ship_form"),
        "card_csrf_token": csrf_token or generate_csrf(),
        "filters": filters,
        "board_url": url_for("board.board", **filters.as_query()),
        "board_actions": board_actions,
        "can_act": current_user.role != "viewer",
        "today": shop_today(),
        # One model and one "now" for all the cards of this request.
        "ship_prediction": partial(predict_ship, model=ship_time_model(), now=utcnow(), zone=shop_zone()),
    }


def _board_context(filters, errors, day_start, csrf_token=None) -> dict:
    """What board/page.html and board/_board.html show."""
    columns = filters.columns
    limit = current_app.config["BOARD_CARDS_PER_COLUMN"]
    return dict(
        cards_by_column=board_cards(columns, filters, day_start, limit=limit),
        counts=column_counts(columns, filters, day_start),
        active_tab=filters.tab if filters.tab in {c.key for c in columns} else columns[0].key,
        poll_seconds=current_app.config["BOARD_POLL_SECONDS"],
        filter_errors=errors, columns_all=COLUMNS, channels=CHANNELS, priorities=PRIORITIES,
        **_common_context(filters, csrf_token),
    )


@bp.route("/board")
def board():
    """Orders by status with one-click next actions; answers 304 to a poll when nothing changed."""
    filters, errors = read_filters(request.args)
    version, day_start = board_version(filters, current_user.role)
    if not errors and version in request.if_none_match:
        response = make_response("", 304)
    elif not errors and is_fragment_request():
        body = board_fragment(version, lambda csrf_token: render_template(
            "board/_board.html", **_board_context(filters, errors, day_start, csrf_token)))
        response = make_response(body + flashed_out_of_band())
    else:
        body, status = render_page("board/page.html", "board/_board.html", status=400 if errors else 200,
                                   **_board_context(filters, errors, day_start))
        response = make_response(body, status)
    response.set_etag(version)
    response.headers["Cache-Control"] = "no-cache, private"
    return response


@bp.route("/board/columns/<key>")
def more_cards(key: str):
    """The next cards of one column (the "more" link), or the whole column as a page."""
    column = COLUMNS_BY_KEY.get(key)
    if column is None:
        abort(404, f"There is no board column '{key}'.")
    filters, errors = read_filters(request.args)
    offset = whole_number(request.args.get("offset"), default=0, maximum=10_000_000)
    if errors or offset is None:
        abort(400, " ".join(errors) or "offset must be a whole number.")
    day_start = start_of_shop_day()
    limit = current_app.config["BOARD_CARDS_PER_COLUMN"] * (1 if is_fragment_request() else 10)
    return render_page(
        "board/column.html", "board/_cards.html", column=column, offset=offset,
        cards=board_cards((column,), filters, day_start, limit=limit, offset=offset)[column.key],
        total=column_counts((column,), filters, day_start)[column.key], **_common_context(filters),
    )
