"""What the activity log tracks, how each thing is named, and how a value is written down (secrets never)."""
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from urllib.parse import urlsplit

REDACTED = "[redacted]"
LONGEST_VALUE = 300
IGNORED_EVERYWHERE = frozenset({"id", "created_at", "updated_at"})


@dataclass(frozen=True)
class Tracked:
    kind: str
    name: Callable[[object], str]
    ignored: frozenset = frozenset()  # bookkeeping that changes on its own and says nothing about who did what
    linked: bool = True  # whether the entry's thing_id opens the thing's page


@cache
def tracked_models() -> dict[type, Tracked]:
    """The shop's things, by model class. Order lines and timeline events fold into their order's entry, and
    stock movements are entries of their own (see recording.py)."""
    from webapp.auth.models import ApiToken, User
    from webapp.catalog.models import Product
    from webapp.customers.models import Customer
    from webapp.imports.models import ColumnMapping, ImportRun
    from webapp.invoices.models import Invoice
    from webapp.orders.models import Order
    from webapp.settings.models import ShopSettings
    from webapp.webhooks_out.models import Webhook

    return {
        Order: Tracked("order", lambda o: o.number or ""),
        Product: Tracked("product", lambda p: p.sku),
        Customer: Tracked("customer", lambda c: f"{c.name} <{c.email}>" if c.email else c.name),
        Invoice: Tracked("invoice", lambda i: i.number, frozenset({"pdf", "pdf_rendered_at", "render_error"})),
        ShopSettings: Tracked("settings", lambda s: "shop settings"),
        User: Tracked("user", lambda u: u.email),
        ApiToken: Tracked("token", lambda t: f"{t.prefix}…", frozenset({"last_used_at"})),
        Webhook: Tracked("webhook", lambda w: url_without_path(w.url)),
        ImportRun: Tracked("import", lambda r: r.filename, frozenset({"path", "errors", "summary", "job_id"})),
        ColumnMapping: Tracked("import", lambda m: f"column mapping {m.name}", linked=False),
    }


def is_secret(field: str) -> bool:
    """Passwords, token hashes and signing secrets are never written to the log, only that they changed."""
    return "password" in field or "secret" in field or field.endswith("_hash")


def url_without_path(url: str | None) -> str:
    """A webhook's address as the log shows it: receivers (Slack, Zapier) often carry a secret in the path."""
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}/…" if parts.netloc else "webhook"


def as_text(field: str, value) -> str | None:
    """A value as the log shows it: short text, secrets redacted."""
    if value is None:
        return None
    if is_secret(field):
        return REDACTED
    if field == "url":
        return url_without_path(str(value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, (date, Decimal, int)):
        return str(value)
    if isinstance(value, bytes):
        return f"{len(value)} bytes"
    if isinstance(value, (list, dict)):
        text = "; ".join(map(str, value)) if isinstance(value, list) else json.dumps(value, default=str)
    else:
        text = str(value)
    return text if len(text) <= LONGEST_VALUE else text[:LONGEST_VALUE - 1] + "…"
