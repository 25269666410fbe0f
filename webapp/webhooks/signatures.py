"""Webhook signatures: base64 HMAC-SHA256 of the raw body with the shared secret (Shopify and WooCommerce)."""
import base64
import hashlib
import hmac


def sign(body: bytes, secret: str) -> str:
    """The signature a platform sends for ``body``."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def signature_matches(body: bytes, secret: str | None, signature: str | None) -> bool:
    """True only when a secret is set and ``signature`` is the body's; compared in constant time."""
    if not secret or not signature:
        return False
    return hmac.compare_digest(sign(body, secret).encode(), signature.strip().encode("utf-8", "replace"))
