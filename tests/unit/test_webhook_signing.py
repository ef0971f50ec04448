"""Our Standard Webhooks signatures, checked by the reference verifier (`standardwebhooks`)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from coldflow.webhook_signing import new_secret, secret_key, sign, webhook_headers

BODY = json.dumps(
    {"type": "email.replied", "timestamp": "2026-04-06T14:23:00.000Z", "data": {"step": 1}}
).encode()
MSG_ID = "0b6f0c3e-8d1e-4a51-9f59-2f4f1c7b1e11"


def test_new_secret_is_whsec_and_32_bytes() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_")
    assert len(secret_key(secret)) == 32
    assert new_secret() != secret


def test_signature_matches_the_spec_formula() -> None:
    secret = new_secret()
    now = int(time.time())
    digest = hmac.new(secret_key(secret), f"{MSG_ID}.{now}.".encode() + BODY, hashlib.sha256)
    assert sign(secret, MSG_ID, now, BODY) == "v1," + base64.b64encode(digest.digest()).decode()


def test_reference_verifier_accepts_our_delivery() -> None:
    secret = new_secret()
    headers = webhook_headers([secret], MSG_ID, int(time.time()), BODY)
    assert Webhook(secret).verify(BODY, headers) == json.loads(BODY)
    assert headers["content-type"] == "application/json"


def test_rotation_header_verifies_with_either_secret() -> None:
    current, previous = new_secret(), new_secret()
    headers = webhook_headers([current, previous], MSG_ID, int(time.time()), BODY)
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (current, previous):
        Webhook(secret).verify(BODY, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(BODY, headers)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("body", BODY.replace(b'"step": 1', b'"step": 2')),
        ("webhook-timestamp", None),
        ("webhook-id", "another-id"),
    ],
    ids=["tampered-body", "tampered-timestamp", "tampered-id"],
)
def test_tampering_fails_verification(field: str, value: bytes | str | None) -> None:
    secret = new_secret()
    now = int(time.time())
    headers = webhook_headers([secret], MSG_ID, now, BODY)
    body = BODY
    if field == "body":
        assert isinstance(value, bytes)
        assert value != BODY
        body = value
    elif field == "webhook-timestamp":
        headers[field] = str(now - 1)
    else:
        assert isinstance(value, str)
        headers[field] = value
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body, headers)


def test_old_timestamp_is_refused_by_receivers() -> None:
    secret = new_secret()
    stale = int(time.time()) - 10 * 60
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(secret).verify(BODY, webhook_headers([secret], MSG_ID, stale, BODY))


def test_signing_needs_a_secret() -> None:
    with pytest.raises(ValueError, match="secret"):
        webhook_headers([], MSG_ID, 0, BODY)
