"""The activity page's filters, read from the query string; anything wrong is named and that filter dropped."""
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Select, func, select

from webapp.activity.models import KINDS, ActivityEntry
from webapp.timekeeping import utc_bounds
from webapp.validation import CONTROL_CHARACTERS, FIRST_YEAR, LAST_YEAR, clean_text, parse_day


@dataclass
class LogFilters:
    who: str = ""
    kind: str = ""
    first: date | None = None
    last: date | None = None
    q: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    def as_query(self) -> dict[str, str]:
        """The filters as query parameters, for the pager and the CSV link."""
        values = {"who": self.who, "kind": self.kind, "q": self.q, "from": self.first.isoformat() if self.first else "",
                  "to": self.last.isoformat() if self.last else ""}
        return {name: value for name, value in values.items() if value}

    def apply(self, query: Select) -> Select:
        if self.who:
            query = query.where(ActivityEntry.actor == self.who)
        if self.kind:
            query = query.where(ActivityEntry.kind == self.kind)
        if self.first or self.last:
            start, end = utc_bounds(self.first or date(FIRST_YEAR, 1, 1), self.last or date(LAST_YEAR, 12, 30))
            query = query.where(ActivityEntry.at >= start, ActivityEntry.at < end)
        if self.q:
            escaped = self.q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where(func.lower(ActivityEntry.thing_ref).like(f"%{escaped}%", escape="\\"))
        return query


def read_filters(args) -> LogFilters:
    """Who, kind, from/to (shop days, YYYY-MM-DD) and q (the thing's number, SKU, email ...)."""
    filters = LogFilters(q=clean_text(args.get("q", "")))
    who = args.get("who", "")
    if len(who) > 254 or CONTROL_CHARACTERS.search(who):
        filters.errors["who"] = "'who' must be one of the names in the list (at most 254 characters)."
    else:
        filters.who = who.strip()
    kind = args.get("kind", "")
    if kind and kind not in KINDS:
        filters.errors["kind"] = f"'{kind[:40]}' is not a kind of thing; kind must be one of: {', '.join(KINDS)}."
    else:
        filters.kind = kind
    for name in ("from", "to"):
        raw = args.get(name, "")
        day = parse_day(raw) if raw else None
        if raw and day is None:
            filters.errors[name] = f"'{raw[:40]}' is not a date as YYYY-MM-DD in the years {FIRST_YEAR}–{LAST_YEAR}."
        setattr(filters, "first" if name == "from" else "last", day)
    if filters.first and filters.last and filters.last < filters.first:
        filters.errors["to"] = "The range must run forward: 'to' is before 'from'."
        filters.last = None
    return filters


def log_query(filters: LogFilters) -> Select:
    """The filtered log, newest first."""
    return filters.apply(select(ActivityEntry)).order_by(ActivityEntry.at.desc(), ActivityEntry.id.desc())
