"""Signed public links (unsubscribe, later open and click tracking).

A link carries the lead id and an HMAC of it, so nobody can unsubscribe someone else by
guessing ids, and the public endpoints need no database lookup to reject a forged token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass


def _mac(secret: str, purpose: str, value: str) -> str:
    digest = hmac.new(secret.encode(), f"{purpose}:{value}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode().rstrip("=")


def sign(secret: str, purpose: str, value: str) -> str:
    """``value.mac`` for a URL path segment."""
    return f"{value}.{_mac(secret, purpose, value)}"


def verify(secret: str, purpose: str, token: str) -> str | None:
    """The value inside a valid token, or None."""
    value, _, mac = token.rpartition(".")
    if not value or not hmac.compare_digest(mac, _mac(secret, purpose, value)):
        return None
    return value


@dataclass(frozen=True)
class Links:
    """Builds the public URLs put into outgoing mail."""

    public_url: str
    secret: str

    def unsubscribe_url(self, lead_id: str) -> str:
        return f"{self.public_url}/u/{sign(self.secret, 'unsubscribe', lead_id)}"
