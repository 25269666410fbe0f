"""Settings: the shop's name and currency, and the audit thresholds."""
from decimal import Decimal
from typing import Annotated, Literal
from zoneinfo import available_timezones

from flask import Blueprint, flash, redirect, request, url_for
from pydantic import EmailStr, Field, StrictInt, field_validator

from webapp.extensions import db
from webapp.form_input import read_form
from webapp.settings.models import current_settings
from webapp.validation import StrictInput
from webapp.views import render_page

bp = Blueprint("settings", __name__, url_prefix="/settings")


class SettingsIn(StrictInput):
    shop_name: Annotated[str, Field(min_length=1, max_length=120)]
    currency: Annotated[str, Field(pattern=r"^[A-Za-z]{3}$")]
    price_tolerance_percent: Annotated[Decimal, Field(ge=0, le=100, decimal_places=2)]
    review_total_threshold: Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]
    duplicate_window_minutes: Annotated[StrictInt, Field(ge=0, le=10_080)]
    express_window_days: Annotated[StrictInt, Field(ge=0, le=60)]
    require_shipping_address: bool = False
    shop_email: EmailStr | None = None
    email_owner_new_order: bool = False
    email_customer_confirmation: bool = False
    email_customer_shipped: bool = False
    email_customer_invoice: bool = False
    email_low_stock_alert: bool = False
    email_supplier_purchase_request: bool = False
    email_overdue_alert: bool = False
    email_failed_job_alert: bool = False
    email_daily_digest: bool = False
    email_customer_feedback: bool = False
    email_reorder_advice: bool = False
    service_level_percent: Annotated[Decimal, Field(ge=50, le=Decimal("99.9"), decimal_places=1)] = Decimal("95")
    reorder_cover_days: Annotated[StrictInt, Field(ge=1, le=365)] = 30
    shop_address: Annotated[str, Field(max_length=1000)] = ""
    tax_id: Annotated[str, Field(max_length=40)] | None = None
    payment_details: Annotated[str, Field(max_length=2000)] = ""
    invoice_footer: Annotated[str, Field(max_length=2000)] = ""
    tax_rate_percent: Annotated[Decimal, Field(ge=0, le=100, decimal_places=2)] = Decimal("0")
    prices_include_tax: bool = False
    invoice_on: Literal["confirmed", "shipped", "manual"] = "shipped"
    paper_size: Literal["A4", "Letter"] = "A4"
    time_zone: Annotated[str, Field(max_length=64)] | None = None

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value and value not in available_timezones():
            raise ValueError("is not a time zone name such as Europe/London")
        return value


INTEGERS = ("duplicate_window_minutes", "express_window_days", "reorder_cover_days")
SWITCHES = ("require_shipping_address", "email_owner_new_order", "email_customer_confirmation",
            "email_customer_shipped", "email_customer_invoice", "prices_include_tax", "email_low_stock_alert",
            "email_supplier_purchase_request", "email_overdue_alert", "email_failed_job_alert", "email_daily_digest",
            "email_customer_feedback", "email_reorder_advice")
# Webhook secrets are written, never shown back: an empty input keeps the stored one.
WEBHOOK_SECRETS = {"shopify_webhook_secret": "Shopify", "woocommerce_webhook_secret": "WooCommerce"}
LOGO_TYPES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}
MAX_LOGO_BYTES = 512 * 1024


def read_webhook_secrets(form) -> tuple[dict[str, str | None], dict[str, list[str]]]:
    """The secrets to store (None clears one) and errors; fields left empty are not changed."""
    changes: dict[str, str | None] = {}
    errors: dict[str, list[str]] = {}
    for field in WEBHOOK_SECRETS:
        secret = form.get(field, "").strip()
        if form.get(f"clear_{field}"):
            changes[field] = None
        elif secret:
            if len(secret) > 200 or not secret.isprintable():
                errors[field] = ["must be at most 200 printable characters, exactly as the platform shows it"]
            else:
                changes[field] = secret
    return changes, errors


def secret_hints(settings) -> dict[str, str]:
    """For each stored webhook secret, its last four characters (none of a short one): enough to recognise it,
    not to use it."""
    hints = {}
    for field in WEBHOOK_SECRETS:
        secret = getattr(settings, field)
        if secret:
            hints[field] = secret[-4:] if len(secret) >= 16 else ""
    return hints


def read_logo(upload) -> tuple[bytes | None, str | None, str | None]:
    """(bytes, mime type, error) of an uploaded logo; PNG or JPEG, judged by its content, up to 512 KB."""
    data = upload.read(MAX_LOGO_BYTES + 1)
    if len(data) > MAX_LOGO_BYTES:
        return None, None, "The logo must be at most 512 KB."
    mime = next((kind for magic, kind in LOGO_TYPES.items() if data.startswith(magic)), None)
    if mime is None:
        return None, None, "The logo must be a PNG or JPEG image."
    return data, mime, None


@bp.route("", methods=["GET", "POST"])
def edit_settings():
    """Edit the shop name, currency and the thresholds the order audit uses."""
    settings = current_settings()
    errors = {}
    if request.method == "POST":
        data, errors = read_form(SettingsIn, request.form, integers=INTEGERS, booleans=SWITCHES)
        secrets, secret_errors = read_webhook_secrets(request.form)
        if secret_errors:
            errors, data = {**errors, **secret_errors}, None
        upload = request.files.get("logo")
        logo = mime = None
        if upload and upload.filename:
            logo, mime, problem = read_logo(upload)
            if problem:
                errors = {**errors, "logo": [problem]}
                data = None
        if data is not None:
            if logo is not None:
                settings.logo, settings.logo_mime = logo, mime
            elif request.form.get("remove_logo"):
                settings.logo = settings.logo_mime = None
            for field, value in data.model_dump().items():
                if field == "currency":
                    value = value.upper()
                elif field == "shop_email" and value:
                    value = value.lower()
                setattr(settings, field, value)
            for field, secret in secrets.items():
                setattr(settings, field, secret)
            db.session.commit()
            flash("Settings saved.", "success")
            return redirect(url_for("settings.edit_settings"), 303)
        values = {name: value for name, value in request.form.to_dict().items() if name not in WEBHOOK_SECRETS}
    else:
        db.session.commit()  # the first visit creates the settings row
        values = {field: "" if getattr(settings, field) is None else getattr(settings, field)
                  for field in SettingsIn.model_fields}
        values.update({switch: "on" if getattr(settings, switch) else "" for switch in SWITCHES})
    return render_page("settings/page.html", "settings/_form.html", status=422 if errors else 200,
                       values=values, errors=errors, has_logo=settings.logo_mime is not None,
                       secret_hints=secret_hints(settings), webhook_secrets=WEBHOOK_SECRETS)
