"""Settings: the shop's name and currency, and the audit thresholds."""
from decimal import Decimal
from typing import Annotated

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user
from pydantic import EmailStr, Field, StrictInt

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


INTEGERS = ("duplicate_window_minutes", "express_window_days")
SWITCHES = ("require_shipping_address", "email_owner_new_order", "email_customer_confirmation",
            "email_customer_shipped")


@bp.route("", methods=["GET", "POST"])
def edit_settings():
    """Edit the shop name, currency and the thresholds the order audit uses."""
    if current_user.role != "owner":
        abort(403, "Only the owner can change the settings.")
    settings = current_settings()
    errors = {}
    if request.method == "POST":
        data, errors = read_form(SettingsIn, request.form, integers=INTEGERS, booleans=SWITCHES)
        if data is not None:
            for field, value in data.model_dump().items():
                if field == "currency":
                    value = value.upper()
                elif field == "shop_email" and value:
                    value = value.lower()
                setattr(settings, field, value)
            db.session.commit()
            flash("Settings saved.", "success")
            return redirect(url_for("settings.edit_settings"), 303)
        values = request.form.to_dict()
    else:
        db.session.commit()  # the first visit creates the settings row
        values = {field: getattr(settings, field) or "" for field in SettingsIn.model_fields}
        values.update({switch: "on" if getattr(settings, switch) else "" for switch in SWITCHES})
    return render_page("settings/page.html", "settings/_form.html", status=422 if errors else 200,
                       values=values, errors=errors)
