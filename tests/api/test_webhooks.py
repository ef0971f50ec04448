"""Webhook endpoints: the contract of /api/v1/webhooks, its SSRF guard, rotation, test, replay."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook

from api.main import create_app
from coldflow.config import Settings
from coldflow.models import WebhookEndpoint
from tests.fixtures.api import Tenant, make_tenant
from tests.fixtures.webhook_receiver import Receiver, running_receiver

HOOKS = "/api/v1/webhooks"
PUBLIC_URL = "https://93.184.215.14/hooks/coldflow"  # a literal public address: no DNS needed


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


@pytest.fixture
async def strict_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app with the production default: private webhook targets refused."""
    app = create_app(settings.model_copy(update={"webhook_allow_private": False}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://coldflow.test") as http:
            yield http


async def _create(
    client: httpx.AsyncClient, tenant: Tenant, url: str = PUBLIC_URL, **body: Any
) -> httpx.Response:
    return await client.post(HOOKS, json={"url": url, **body}, headers=tenant.headers)


async def _created(client: httpx.AsyncClient, tenant: Tenant, **body: Any) -> dict[str, Any]:
    response = await _create(client, tenant, **body)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


class TestCreateWebhook:
    async def test_created_with_a_secret_shown_once(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        data = await _created(client, tenant, events=["email.replied", "email.sent"])
        assert data["secret"].startswith("whsec_")
        Webhook(data["secret"])  # a valid Standard Webhooks secret
        assert data["events"] == ["email.sent", "email.replied"]  # catalogue order
        assert (data["is_active"], data["campaign_id"], data["disabled_reason"]) == (
            True,
            None,
            None,
        )
        shown = await client.get(f"{HOOKS}/{data['id']}", headers=tenant.headers)
        listed = await client.get(HOOKS, headers=tenant.headers)
        assert "secret" not in shown.json()["data"]
        assert all("secret" not in item for item in listed.json()["data"])
        assert data["secret"] not in shown.text + listed.text

    async def test_secret_encrypted_at_rest(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        data = await _created(client, tenant)
        async with client.app.state.sessions() as session:  # type: ignore[attr-defined]
            row = await session.get(WebhookEndpoint, data["id"])
        assert row is not None
        assert data["secret"] not in row.secret
        assert client.app.state.box.decrypt(row.secret) == data["secret"]  # type: ignore[attr-defined]

    async def test_events_omitted_means_all(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        assert (await _created(client, tenant))["events"] == []

    async def test_unknown_event_422_names_it(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        response = await _create(client, tenant, events=["email.sent", "email.exploded"])
        assert response.status_code == 422
        error = response.json()["error"]
        assert error["code"] == "WEBHOOK_EVENT_UNKNOWN"
        assert error["details"][0]["field"] == "events[1]"
        assert "email.exploded" in error["message"]

    @pytest.mark.parametrize(
        "url",
        [
            "ftp://example.com/x",
            "not a url",
            "https://",
            "javascript:alert(1)",
            "http://exa mple.com/",
            "http://example.com:99999/",
        ],
    )
    async def test_invalid_url_422(
        self, client: httpx.AsyncClient, tenant: Tenant, url: str
    ) -> None:
        response = await _create(client, tenant, url=url)
        assert response.status_code == 422
        error = response.json()["error"]
        assert error["code"] == "VALIDATION_ERROR"
        assert error["details"][0]["field"] == "url"

    async def test_campaign_filter_must_be_in_the_workspace(
        self, client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
    ) -> None:
        theirs = await client.post(
            "/api/v1/campaigns", json={"name": "theirs"}, headers=other_tenant.headers
        )
        mine = await client.post("/api/v1/campaigns", json={"name": "c"}, headers=tenant.headers)
        refused = await _create(client, tenant, campaign_id=theirs.json()["data"]["id"])
        assert refused.status_code == 404
        assert refused.json()["error"]["code"] == "CAMPAIGN_NOT_FOUND"
        data = await _created(client, tenant, campaign_id=mine.json()["data"]["id"])
        assert data["campaign_id"] == mine.json()["data"]["id"]

    async def test_unknown_field_422(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        response = await _create(client, tenant, secret="mine")
        assert response.status_code == 422
        assert response.json()["error"]["details"][0]["field"] == "secret"

    async def test_no_key_401(self, client: httpx.AsyncClient) -> None:
        assert (await client.post(HOOKS, json={"url": PUBLIC_URL})).status_code == 401

    async def test_read_scope_cannot_write_403(self, client: httpx.AsyncClient) -> None:
        reader = await make_tenant(client.app.state.sessions, "ro", scopes=("webhooks:read",))  # type: ignore[attr-defined]
        response = await _create(client, reader)
        assert response.status_code == 403
        assert (await client.get(HOOKS, headers=reader.headers)).status_code == 200

    async def test_other_scopes_cannot_read_403(self, client: httpx.AsyncClient) -> None:
        leads = await make_tenant(client.app.state.sessions, "leads", scopes=("leads:read",))  # type: ignore[attr-defined]
        assert (await client.get(HOOKS, headers=leads.headers)).status_code == 403


class TestSsrfGuard:
    @pytest.mark.parametrize(
        "url",
        [
            "http://127.0.0.1:8080/hook",
            "http://localhost/hook",
            "http://10.1.2.3/hook",
            "http://192.168.0.10/hook",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]/hook",
            "http://[fd00:ec2::254]/hook",
            "http://[::ffff:127.0.0.1]/hook",
            "http://0.0.0.0/hook",
            "http://2130706433/hook",
            "http://224.0.0.1/hook",
        ],
        ids=[
            "loopback",
            "localhost",
            "private-10",
            "private-192",
            "metadata",
            "ipv6-loopback",
            "ipv6-metadata",
            "mapped-loopback",
            "unspecified",
            "decimal-loopback",
            "multicast",
        ],
    )
    async def test_private_targets_refused(
        self, strict_client: httpx.AsyncClient, tenant: Tenant, url: str
    ) -> None:
        response = await _create(strict_client, tenant, url=url)
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert error["code"] == "WEBHOOK_URL_NOT_ALLOWED"
        assert error["details"][0]["field"] == "url"

    async def test_public_target_accepted(
        self, strict_client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        assert (await _create(strict_client, tenant)).status_code == 201

    async def test_patch_to_a_private_target_refused(
        self, strict_client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        data = await _created(strict_client, tenant)
        response = await strict_client.patch(
            f"{HOOKS}/{data['id']}", json={"url": "http://127.0.0.1/x"}, headers=tenant.headers
        )
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "WEBHOOK_URL_NOT_ALLOWED"

    async def test_allow_setting_lets_private_targets_through(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        assert (await _create(client, tenant, url="http://127.0.0.1:8080/hook")).status_code == 201


class TestReadUpdateDelete:
    async def test_other_workspace_404_everywhere(
        self, client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
    ) -> None:
        hook_id = (await _created(client, tenant))["id"]
        theirs = other_tenant.headers
        for method, path in [
            ("GET", ""),
            ("PATCH", ""),
            ("DELETE", ""),
            ("POST", "/rotate-secret"),
            ("GET", "/deliveries"),
            ("POST", "/test"),
            ("POST", "/deliveries/some-id/redeliver"),
        ]:
            body = {"is_active": False} if method == "PATCH" else None
            response = await client.request(
                method, f"{HOOKS}/{hook_id}{path}", json=body, headers=theirs
            )
            assert response.status_code == 404, (method, path)
            assert response.json()["error"]["code"] == "WEBHOOK_NOT_FOUND"
        assert (await client.get(HOOKS, headers=theirs)).json()["metadata"]["total_count"] == 0

    async def test_patch_changes_only_sent_fields(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        data = await _created(client, tenant, events=["email.sent"])
        response = await client.patch(
            f"{HOOKS}/{data['id']}",
            json={"events": ["lead.completed"], "is_active": False},
            headers=tenant.headers,
        )
        assert response.status_code == 200
        updated = response.json()["data"]
        assert (updated["events"], updated["is_active"], updated["url"]) == (
            ["lead.completed"],
            False,
            PUBLIC_URL,
        )
        bad = await client.patch(
            f"{HOOKS}/{data['id']}", json={"events": ["nope"]}, headers=tenant.headers
        )
        assert bad.json()["error"]["details"][0]["field"] == "events[0]"

    async def test_reactivation_clears_the_disabled_reason(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        data = await _created(client, tenant)
        sessions = client.app.state.sessions  # type: ignore[attr-defined]
        async with sessions() as session:
            row = await session.get(WebhookEndpoint, data["id"])
            row.is_active, row.disabled_reason = False, "the endpoint answered 410 Gone"
            session.add(row)
            await session.commit()
        shown = await client.get(f"{HOOKS}/{data['id']}", headers=tenant.headers)
        assert shown.json()["data"]["disabled_reason"] == "the endpoint answered 410 Gone"
        response = await client.patch(
            f"{HOOKS}/{data['id']}", json={"is_active": True}, headers=tenant.headers
        )
        assert response.json()["data"]["disabled_reason"] is None

    async def test_delete(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        hook_id = (await _created(client, tenant))["id"]
        assert (
            await client.delete(f"{HOOKS}/{hook_id}", headers=tenant.headers)
        ).status_code == 204
        assert (await client.get(f"{HOOKS}/{hook_id}", headers=tenant.headers)).status_code == 404


class TestRotateSecret:
    async def test_new_secret_once_old_one_valid_for_a_day(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        data = await _created(client, tenant)
        response = await client.post(f"{HOOKS}/{data['id']}/rotate-secret", headers=tenant.headers)
        assert response.status_code == 200
        rotated = response.json()["data"]
        assert rotated["secret"].startswith("whsec_")
        assert rotated["secret"] != data["secret"]
        shown = (await client.get(f"{HOOKS}/{data['id']}", headers=tenant.headers)).json()["data"]
        assert shown["previous_secret_expires_at"] == rotated["previous_secret_expires_at"]
        assert rotated["secret"] not in str(shown)
        async with client.app.state.sessions() as session:  # type: ignore[attr-defined]
            row = await session.get(WebhookEndpoint, data["id"])
        box = client.app.state.box  # type: ignore[attr-defined]
        assert box.decrypt(row.previous_secret) == data["secret"]
        assert box.decrypt(row.secret) == rotated["secret"]


class TestTestAndRedeliver:
    async def test_test_event_delivered_and_logged(
        self, client: httpx.AsyncClient, tenant: Tenant, worker: None, receiver: Receiver
    ) -> None:
        data = await _created(client, tenant, url=receiver.url("/t"), events=["email.sent"])
        receiver.verify_with("/t", data["secret"])
        response = await client.post(f"{HOOKS}/{data['id']}/test", headers=tenant.headers)
        assert response.status_code == 200, response.text
        result = response.json()["data"]
        assert (result["succeeded"], result["status_code"], result["error"]) == (True, 200, None)
        [arrival] = receiver.at("/t")
        assert arrival.verified == (True,)
        assert arrival.webhook_id == result["event_id"]
        deliveries = await client.get(f"{HOOKS}/{data['id']}/deliveries", headers=tenant.headers)
        [row] = deliveries.json()["data"]
        assert (row["event_type"], row["attempt"], row["status_code"]) == ("webhook.test", 1, 200)
        assert row["latency_ms"] is not None

    async def test_failed_test_reports_the_answer(
        self, client: httpx.AsyncClient, tenant: Tenant, worker: None, receiver: Receiver
    ) -> None:
        data = await _created(client, tenant, url=receiver.url("/broken"))
        receiver.answer("/broken", 500)
        result = (await client.post(f"{HOOKS}/{data['id']}/test", headers=tenant.headers)).json()[
            "data"
        ]
        assert (result["succeeded"], result["status_code"], result["error"]) == (
            False,
            500,
            "HTTP 500",
        )
        assert result["response_snippet"] == "answer 500"
        shown = (await client.get(f"{HOOKS}/{data['id']}", headers=tenant.headers)).json()["data"]
        assert (shown["is_active"], shown["failing_since"]) == (True, None)

    async def test_redeliver_records_new_attempts(
        self, client: httpx.AsyncClient, tenant: Tenant, worker: None, receiver: Receiver
    ) -> None:
        data = await _created(client, tenant, url=receiver.url("/r"))
        tested = await client.post(f"{HOOKS}/{data['id']}/test", headers=tenant.headers)
        delivery_id = tested.json()["data"]["delivery_id"]
        response = await client.post(
            f"{HOOKS}/{data['id']}/deliveries/{delivery_id}/redeliver", headers=tenant.headers
        )
        assert response.status_code == 202, response.text
        assert response.json()["data"]["event_id"] == tested.json()["data"]["event_id"]
        arrivals = await receiver.wait_for("/r", 2)
        assert arrivals[0].webhook_id == arrivals[1].webhook_id
        for _ in range(200):  # the second attempt's row is written just after its answer
            listed = await client.get(
                f"{HOOKS}/{data['id']}/deliveries",
                params={"sort_by": "attempt", "sort_order": "asc"},
                headers=tenant.headers,
            )
            if listed.json()["metadata"]["total_count"] == 2:
                break
            await asyncio.sleep(0.05)
        assert [d["attempt"] for d in listed.json()["data"]] == [1, 2]

    async def test_redeliver_unknown_delivery_404(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        data = await _created(client, tenant)
        response = await client.post(
            f"{HOOKS}/{data['id']}/deliveries/nope/redeliver", headers=tenant.headers
        )
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "WEBHOOK_DELIVERY_NOT_FOUND"
