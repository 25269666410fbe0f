"""The exports page and its CSV downloads, streamed row by row."""
import csv
import io
import itertools
from collections.abc import Iterable, Iterator
from datetime import date, timedelta

from flask import Blueprint, Response, abort, render_template, request, stream_with_context

from webapp.exports.tables import TABLES, Range
from webapp.timekeeping import shop_today
from webapp.validation import FIRST_YEAR, LAST_YEAR, parse_day
from webapp.views import spreadsheet_safe

bp = Blueprint("exports", __name__, url_prefix="/exports")
DEFAULT_DAYS = 30



def read_range(args) -> tuple[date, date, dict[str, str]]:
    """Shop days from/to in the query string (default: the last 30 days), with errors keyed by the bad field."""
    today = shop_today()
    days, errors = {}, {}
    for name, default in (("from", today - timedelta(days=DEFAULT_DAYS - 1)), ("to", today)):
        raw = args.get(name, "")
        days[name] = default if raw == "" else parse_day(raw)
        if days[name] is None:
            errors[name] = f"'{raw[:40]}' is not a date as YYYY-MM-DD in the years {FIRST_YEAR}–{LAST_YEAR}."
    if not errors and days["to"] < days["from"]:
        errors["to"] = "The range must run forward: 'to' is before 'from'."
    return days["from"], days["to"], errors


def csv_lines(header: list[str], rows: Iterable[list]) -> Iterator[str]:
    """CSV text a line at a time, every cell made safe for spreadsheets."""
    out = io.StringIO()
    writer = csv.writer(out)
    for cells in itertools.chain([header], rows):
        writer.writerow([spreadsheet_safe(cell) for cell in cells])
        yield out.getvalue()
        out.seek(0)
        out.truncate()


@bp.get("")
def exports_page():
    """Choose a date range and download any of the shop's records as CSV."""
    first, last, errors = read_range(request.args)
    if errors:
        today = shop_today()
        first, last = today - timedelta(days=DEFAULT_DAYS - 1), today
    return render_template("exports/page.html", first=first, last=last, errors=errors,
                           tables=TABLES), 400 if errors else 200


@bp.get("/<table>.csv")
def download(table: str):
    """One table for the range as CSV, streamed so that a large export never sits in memory."""
    if table not in TABLES:
        abort(404, f"There is no export called {table}.")
    first, last, errors = read_range(request.args)
    if errors:
        return Response("".join(f"{field}: {message}\n" for field, message in errors.items()), status=400,
                        mimetype="text/plain")
    _, header, rows = TABLES[table]
    filename = f"solo-oms-{table}-{first.isoformat()}-{last.isoformat()}.csv"
    return Response(stream_with_context(csv_lines(header, rows(Range(first, last)))), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
