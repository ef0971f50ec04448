"""Signed public links: unsubscribe, open pixel and click redirect (pure).

A token is ``value.mac``: the ids it carries and an HMAC-SHA256 of them under the installation's
secret and the link's purpose. Nobody can unsubscribe someone else, count an open or send a
reader anywhere by guessing or editing ids, an open token is no click token, and the public
endpoints reject a forged token before any database lookup.

* unsubscribe: the lead id;
* open: the sent message's row id;
* click: the sent message's row id and the link's index among the message's links. The target
  URL is never in the token: the endpoint reads it from the stored message, so a token can
  only lead to a link that message really contained (no open redirect).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial

from coldflow.rendering import Tracking

UNSUBSCRIBE = "unsubscribe"
OPEN = "open"
CLICK = "click"
# Tokens are short ASCII; anything longer or non-ASCII is garbage, refused before hashing
# (``hmac.compare_digest`` also raises on non-ASCII text).
_MAX_TOKEN = 200
_MAX_LINKS = 10_000


def _mac(secret: str, purpose: str, value: str) -> str:
    digest = hmac.new(secret.encode(), f"{purpose}:{value}".encode(), hashlib.sha256).digest()
    # 144 bits: unguessable, and short enough for a tidy URL.
    return base64.urlsafe_b64encode(digest[:18]).decode().rstrip("=")


def sign(secret: str, purpose: str, value: str) -> str:
    """``value.mac`` for a URL path segment."""
    return f"{value}.{_mac(secret, purpose, value)}"


def verify(secret: str, purpose: str, token: str) -> str | None:
    """The value inside a valid token for ``purpose``, or None."""
    if len(token) > _MAX_TOKEN or not token.isascii():
        return None
    value, _, mac = token.rpartition(".")
    if not value or not hmac.compare_digest(mac, _mac(secret, purpose, value)):
        return None
    return value


@dataclass(frozen=True, slots=True)
class ClickTarget:
    """What a click token names: a link of one sent message, by index."""

    sent_message_id: str
    link_index: int


@dataclass(frozen=True)
class Links:
    """Builds the public URLs put into outgoing mail, and reads their tokens back."""

    public_url: str
    secret: str

    def unsubscribe_url(self, lead_id: str) -> str:
        return f"{self.public_url}/u/{sign(self.secret, UNSUBSCRIBE, lead_id)}"

    def open_url(self, sent_message_id: str) -> str:
        """The tracking pixel of one sent message."""
        return f"{self.public_url}/t/o/{sign(self.secret, OPEN, sent_message_id)}"

    def click_url(self, sent_message_id: str, link_index: int) -> str:
        """The redirect standing in for link number ``link_index`` (0-based) of a message."""
        token = sign(self.secret, CLICK, f"{sent_message_id}.{link_index}")
        return f"{self.public_url}/t/c/{token}"

    def tracking(
        self, sent_message_id: str, *, opens: bool, clicks: bool, keep: Iterable[str] = ()
    ) -> Tracking | None:
        """What ``render_email`` needs to track one sent message; None when nothing is tracked.

        ``keep``: URLs that must not go through the click redirect (the unsubscribe link).
        """
        if not (opens or clicks):
            return None
        return Tracking(
            open_url=self.open_url(sent_message_id) if opens else None,
            click_url=partial(self.click_url, sent_message_id) if clicks else None,
            keep=frozenset(keep),
        )

    def unsubscribe_lead(self, token: str) -> str | None:
        """The lead id of a valid unsubscribe token."""
        return verify(self.secret, UNSUBSCRIBE, token)

    def opened_message(self, token: str) -> str | None:
        """The sent message id of a valid open token."""
        return verify(self.secret, OPEN, token)

    def clicked_link(self, token: str) -> ClickTarget | None:
        """The message and link index of a valid click token."""
        value = verify(self.secret, CLICK, token)
        if value is None:
            return None
        sent_message_id, _, index = value.rpartition(".")
        if not sent_message_id or not index.isdigit() or int(index) >= _MAX_LINKS:
            return None
        return ClickTarget(sent_message_id, int(index))
