"""The activity log page: who did what and when, filtered, paged, and as CSV."""
from collections.abc import Iterator

from flask import Blueprint, Response, request, stream_with_context, url_for
from sqlalchemy import and_, or_, select

from webapp.activity.filters import log_query, read_filters
from webapp.activity.models import KINDS, ActivityEntry
from webapp.exports.routes import csv_lines
from webapp.extensions import db
from webapp.listing import page_of
from webapp.views import localtime, page_from_query, render_page

bp = Blueprint("activity", __name__)
CSV_BATCH = 1000
MOST_ACTORS = 200


def thing_link(entry: ActivityEntry) -> str | None:
    """The page of the thing an entry is about, when it has one and still exists."""
    if entry.action == "deleted":
        return None
    if entry.kind == "order" and entry.thing_ref:
        return url_for("orders.order_detail", number=entry.thing_ref)
    if entry.kind in ("product", "stock") and entry.thing_ref:
        return url_for("catalog.product_detail", sku=entry.thing_ref)
    if entry.kind == "customer" and entry.thing_id:
        return url_for("customers.customer_detail", customer_id=entry.thing_id)
    if entry.kind == "invoice" and entry.thing_ref:
        return url_for("invoices.download", number=entry.thing_ref, inline=1)
    if entry.kind == "import" and entry.thing_id:
        return url_for("imports.show", run_id=entry.thing_id)
    return {"settings": url_for("settings.edit_settings"), "webhook": url_for("webhooks_out.list_webhooks"),
            "user": url_for("users.list_users"), "token": url_for("api_tokens.list_tokens")}.get(entry.kind)


def changes_text(changes: dict) -> str:
    return "; ".join(f"{name}: {old if old is not None else '–'} → {new if new is not None else '–'}"
                     for name, (old, new) in changes.items())


@bp.get("/activity")
def activity_log():
    """Everything written in the shop, newest first; filter by who, kind of thing, dates and the thing's name."""
    filters = read_filters(request.args)
    errors = list(filters.errors.values())
    page = page_from_query(errors)
    listing = page_of(log_query(filters), page)
    actors = db.session.scalars(select(ActivityEntry.actor).distinct().order_by(ActivityEntry.actor)
                                .limit(MOST_ACTORS)).all()
    return render_page("activity/page.html", "activity/_entries.html", status=400 if errors else 200,
                       listing=listing, filters=filters, errors=errors, kinds=KINDS, actors=actors,
                       thing_link=thing_link)


def rows_in_batches(filters) -> Iterator:
    """The filtered log a batch at a time, each batch its own short query after the last one's end (no cursor
    stays open while a slow client downloads, and no ORM object piles up in the session)."""
    entry = ActivityEntry
    query = log_query(filters).with_only_columns(entry.at, entry.id, entry.actor, entry.kind, entry.action,
                                                 entry.thing_ref, entry.changes, entry.note)
    after = None
    while True:
        batch = query if after is None else query.where(
            or_(entry.at < after.at, and_(entry.at == after.at, entry.id < after.id)))
        rows = db.session.execute(batch.limit(CSV_BATCH)).all()
        yield from rows
        if len(rows) < CSV_BATCH:
            return
        after = rows[-1]


@bp.get("/activity.csv")
def activity_csv():
    """The filtered log as CSV, streamed so that a long log never sits in memory."""
    filters = read_filters(request.args)
    if filters.errors:
        return Response("".join(f"{name}: {message}\n" for name, message in filters.errors.items()), status=400,
                        mimetype="text/plain")
    header = ["at", "who", "kind", "action", "thing", "changes", "note"]
    rows = ([localtime(r.at, "%Y-%m-%d %H:%M:%S"), r.actor, r.kind, r.action, r.thing_ref, changes_text(r.changes),
             r.note] for r in rows_in_batches(filters))
    return Response(stream_with_context(csv_lines(header, rows)), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="solo-oms-activity.csv"'})
