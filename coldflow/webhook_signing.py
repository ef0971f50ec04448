"""Standard Webhooks signatures (https://www.standardwebhooks.com), pure apart from new secrets.

A secret is ``whsec_`` + base64 of 32 random bytes; the HMAC key is the decoded bytes. The
signature of one delivery is ``v1,`` + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")).
While a rotated secret is still valid, each delivery carries one signature per secret,
space-separated, so receivers verifying with either secret accept it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Sequence

from coldflow.ids import WEBHOOK_SECRET_PREFIX

SECRET_BYTES = 32
SIGNATURE_VERSION = "v1"


def new_secret() -> str:
    """A fresh endpoint secret, shown to the user once."""
    return WEBHOOK_SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_`` secret (the prefix is optional, as in the reference libs)."""
    raw = secret.removeprefix(WEBHOOK_SECRET_PREFIX)
    return base64.b64decode(raw + "=" * (-len(raw) % 4))


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 signature>`` of one delivery; ``timestamp`` is in whole Unix seconds."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode()}"


def signature_header(secrets_: Sequence[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value: one signature per secret, current secret first."""
    if not secrets_:
        raise ValueError("at least one secret is needed to sign")
    return " ".join(sign(s, msg_id, timestamp, body) for s in secrets_)


def webhook_headers(
    secrets_: Sequence[str], msg_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """The three Standard Webhooks headers plus the JSON content type.

    ``msg_id`` is the event id, identical on every retry, so receivers can deduplicate; the
    timestamp is the attempt's, since receivers reject signatures older than five minutes.
    """
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(secrets_, msg_id, timestamp, body),
        "content-type": "application/json",
    }
