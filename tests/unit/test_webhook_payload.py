"""The webhook body and the SSRF guard: what is sent, and where it may be sent."""

from __future__ import annotations

import ipaddress
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from coldflow.models import Event
from coldflow.services import webhook_delivery as delivery


@pytest.mark.parametrize(
    ("address", "forbidden"),
    [
        ("93.184.215.14", False),
        ("2606:4700::1111", False),
        ("127.0.0.1", True),
        ("10.0.0.1", True),
        ("172.16.5.4", True),
        ("192.168.1.1", True),
        ("100.64.0.1", True),
        ("169.254.169.254", True),
        ("0.0.0.0", True),
        ("224.0.0.1", True),
        ("::1", True),
        ("::", True),
        ("fe80::1", True),
        ("fd00:ec2::254", True),
        ("::ffff:10.0.0.1", True),
    ],
)
def test_forbidden_addresses(address: str, forbidden: bool) -> None:
    assert delivery.is_forbidden_address(ipaddress.ip_address(address)) is forbidden


async def test_private_address_refused_at_delivery_time() -> None:
    request = delivery.Request(
        url="http://127.0.0.1:9/hook", secrets=["whsec_" + "A" * 44], event_id="e", body=b"{}"
    )
    response = await delivery.post(request, timeout=2, allow_private=False)
    assert response.status_code is None
    assert "private" in (response.error or "")


def test_payload_carries_ids_then_the_writers_fields() -> None:
    event = Event(
        id="e-1",
        workspace_id="w-1",
        type="email.bounced",
        campaign_id="c-1",
        lead_id="l-1",
        step=1,
        variant_id="v-1",
        data={"email": "nobody@example.org", "hard": True},
        occurred_at=datetime(2026, 4, 6, 14, 23, tzinfo=UTC),
    )
    body = json.loads(delivery.build_payload(event, variant="B"))
    assert body == {
        "type": "email.bounced",
        "timestamp": "2026-04-06T14:23:00.000Z",
        "data": {
            "campaign_id": "c-1",
            "lead_id": "l-1",
            "step": 1,
            "variant_id": "v-1",
            "variant": "B",
            "email": "nobody@example.org",
            "hard": True,
        },
    }
    assert delivery.build_payload(event) == delivery.build_payload(event)  # same bytes on retry


async def test_delivery_connects_to_the_checked_address(monkeypatch: pytest.MonkeyPatch) -> None:
    """Resolved once and pinned (no DNS rebinding); the name still goes in Host and TLS SNI."""
    answers = {
        "hooks.example.com": ["93.184.215.14"],
        "mixed.example.com": ["93.184.215.14", "10.0.0.7"],
    }

    async def fake_resolve(host: str, port: int) -> list[Any]:
        return [ipaddress.ip_address(a) for a in answers[host]]

    monkeypatch.setattr(delivery, "resolve", fake_resolve)
    target = await delivery.pin_target("https://hooks.example.com:8443/in?x=1", allow_private=False)
    assert target == delivery.Target(
        "https://93.184.215.14:8443/in?x=1", "hooks.example.com:8443", "hooks.example.com"
    )
    with pytest.raises(delivery.WebhookUrlNotAllowed):
        await delivery.pin_target("https://mixed.example.com/in", allow_private=False)
