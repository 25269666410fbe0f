"""Find the customer an incoming order belongs to (email, else phone), or create one."""
import re

from sqlalchemy import bindparam, func, or_, select

from webapp.customers.models import Customer
from webapp.extensions import db

# Built once: every order looks its customer up (emails are stored lower-case, so the plain index serves it).
_BY_EMAIL = select(Customer).where(Customer.email == bindparam("email")).order_by(Customer.id).limit(1)
_BY_PHONE = select(Customer).where(Customer.phone == bindparam("phone")).order_by(Customer.id).limit(1)


def normalise_phone(phone: str | None) -> str | None:
    """Digits only, keeping a leading + so '+44 7700 900123' and '+447700900123' match."""
    if not phone:
        return None
    digits = re.sub(r"[^\d]", "", phone)
    if not digits:
        return None
    return ("+" if phone.strip().startswith("+") else "") + digits


def match_or_create_customer(*, name: str, email: str | None, phone: str | None,
                             address: dict | None, known: Customer | None = None) -> Customer:
    """Return the matching customer, filling in details they did not have yet; create one when none matches.

    ``known`` is a customer the caller matched already (an import also matches on the name): only its gaps are
    filled.
    """
    email = email.strip().lower() if email else None
    phone = normalise_phone(phone)
    customer = known
    if email and customer is None:
        customer = db.session.scalars(_BY_EMAIL, {"email": email}).first()
    if customer is None and phone:
        customer = db.session.scalars(_BY_PHONE, {"phone": phone}).first()
    address = address or {}
    fields = {
        "email": email,
        "phone": phone,
        "address_line1": address.get("line1"),
        "address_line2": address.get("line2"),
        "city": address.get("city"),
        "postcode": address.get("postcode"),
        "country": address.get("country"),
    }
    if customer is None:
        customer = Customer(name=name, **fields)
        db.session.add(customer)
        return customer
    # Never overwrite what the shop already knows; only fill the gaps.
    for field, value in fields.items():
        if value and not getattr(customer, field):
            setattr(customer, field, value)
    return customer


def customers_like(*, email: str | None, phone: str | None, name: str | None, limit: int = 50) -> list[Customer]:
    """Customers who might be the sender of a message: same email, same phone ending, or a word of the name."""
    conditions = []
    if email:
        conditions.append(Customer.email == email.strip().lower())
    digits = re.sub(r"\D", "", phone or "")
    if len(digits) >= 9:
        conditions.append(Customer.phone.like(f"%{digits[-9:]}"))
    words = [w.lower() for w in re.findall(r"[^\W\d_]{3,}", name or "")][:4]
    conditions.extend(func.lower(Customer.name).like(f"%{word}%") for word in words)
    if not conditions:
        return []
    return list(db.session.scalars(select(Customer).where(or_(*conditions)).order_by(Customer.id).limit(limit)))
