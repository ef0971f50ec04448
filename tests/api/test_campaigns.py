"""Campaign endpoints: create (name only and seed 000's body), list, show, update, the status
machine, and inbox attach, each against the real app, a real database and the dev server."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError

from coldflow.config import Settings
from tests.fixtures.api import Tenant, make_tenant

CAMPAIGNS = "/api/v1/campaigns"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday")
WEEKEND = ("saturday", "sunday")

# Seed 000's "Creating a campaign" curl body, copied verbatim (both steps).
SEED_000_BODY = r"""{
"name": "Q2 Series B Outreach",
"daily_limit": 50,
"timezone": "America/New_York",
"schedule": {
"days": ["monday", "tuesday", "wednesday", "thursday", "friday"],
"start_hour": 8,
"end_hour": 17
},
"sequences": [
{
"step": 1,
"delay_days": 0,
"subject": "{{company}} and pipeline visibility",
"body": "Hi {{first_name}},\n\n{{ai_personalized_opening}}\n\n{{value_prop}}\n\nWorth a quick look?"
},
{
"step": 2,
"delay_days": 3,
"subject": "Re: {{company}} and pipeline visibility",
"body": "Hi {{first_name}},\n\nQuick follow-up on my last note. {{case_study_snippet}}\n\nHappy to share more details if relevant."
}
]
}"""  # noqa: E501  (verbatim from the seed)


def weekday_schedule(timezone: str, start: str, end: str) -> dict[str, Any]:
    """Seed 003's schedule document for Monday–Friday in one window."""
    return {
        "timezone": timezone,
        "default_window": {"start": start, "end": end},
        "days": {
            **{day: {"enabled": True, "start": None, "end": None} for day in WEEKDAYS},
            **{day: {"enabled": False, "start": None, "end": None} for day in WEEKEND},
        },
    }


async def create_campaign(client: httpx.AsyncClient, tenant: Tenant, **body: Any) -> dict[str, Any]:
    body.setdefault("name", "Outreach")
    response = await client.post(CAMPAIGNS, json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def create_ready_campaign(client: httpx.AsyncClient, tenant: Tenant) -> dict[str, Any]:
    """A draft that can be activated: a step with a subject and a connected sandbox inbox."""
    inbox = await create_inbox(client, tenant, "sender@acme.io")
    return await create_campaign(
        client,
        tenant,
        sequences=[{"subject": "Hello {{first_name|there}}", "body": "Short note."}],
        inbox_ids=[inbox["id"]],
    )


async def create_inbox(client: httpx.AsyncClient, tenant: Tenant, email: str) -> dict[str, Any]:
    """A sandbox inbox: connected at once, no SMTP server involved."""
    response = await client.post(
        "/api/v1/inboxes", json={"email": email, "provider": "sandbox"}, headers=tenant.headers
    )
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def add_lead(
    client: httpx.AsyncClient, tenant: Tenant, campaign_id: str, email: str
) -> dict[str, Any]:
    response = await client.post(
        f"{CAMPAIGNS}/{campaign_id}/leads",
        json={"leads": [{"email": email, "first_name": "Sarah"}]},
        headers=tenant.headers,
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()["data"]["results"][0]
    assert result["status"] == "created", result
    return result


async def get_campaign(
    client: httpx.AsyncClient, tenant: Tenant, campaign_id: str
) -> dict[str, Any]:
    response = await client.get(f"{CAMPAIGNS}/{campaign_id}", headers=tenant.headers)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def count_campaigns(client: httpx.AsyncClient, tenant: Tenant) -> int:
    response = await client.get(CAMPAIGNS, headers=tenant.headers)
    assert response.status_code == 200, response.text
    total: int = response.json()["metadata"]["total_count"]
    return total


def error_of(response: httpx.Response) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["error"]
    assert error["status"] == response.status_code
    assert error["request_id"] == response.headers["X-Request-ID"]
    return error


class TestCreateCampaign:
    async def test_name_only_creates_draft_with_defaults(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        response = await client.post(CAMPAIGNS, json={"name": "Cold intro"}, headers=tenant.headers)

        assert response.status_code == 201, response.text
        campaign = response.json()["data"]
        assert campaign["name"] == "Cold intro"
        assert campaign["status"] == "draft"
        assert campaign["options"]["stop_on_reply"] is True
        assert campaign["schedule"] == weekday_schedule("UTC", "09:00", "17:00")
        assert campaign["inboxes"] == []
        [step] = campaign["sequences"]
        assert step["step"] == 1
        assert step["delay_days"] is None
        [variant] = step["variants"]
        assert variant["letter"] == "A"
        assert variant["enabled"] is True
        assert variant["subject"] is None
        # unsubscribe_option defaults on, so even the empty body carries the link.
        assert "{{unsubscribe_url}}" in variant["body_html"]

    async def test_seed000_body_accepted_as_is(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        body = json.loads(SEED_000_BODY)

        response = await client.post(CAMPAIGNS, json=body, headers=tenant.headers)

        assert response.status_code == 201, response.text
        campaign = await get_campaign(client, tenant, response.json()["data"]["id"])
        assert campaign["name"] == "Q2 Series B Outreach"
        assert campaign["status"] == "draft"
        assert campaign["options"]["daily_limit"] == 50
        assert campaign["schedule"] == weekday_schedule("America/New_York", "08:00", "17:00")
        steps = campaign["sequences"]
        assert [s["step"] for s in steps] == [1, 2]
        # Seed 000 counts days after the previous step; coldflow stores days after this step.
        assert [s["delay_days"] for s in steps] == [3, None]
        for step, sent in zip(steps, body["sequences"], strict=True):
            [variant] = step["variants"]
            assert variant["subject"] == sent["subject"]
            # Stored as sanitized HTML; its text form reads back as sent, plus the
            # unsubscribe line the default unsubscribe_option adds.
            assert variant["body_text"].startswith(sent["body"])
            assert "{{unsubscribe_url}}" in variant["body_html"]
        assert campaign["stats"]["sequence_steps"] == 2

    async def test_template_syntax_error_names_field_and_offset(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        body = {
            "name": "Broken",
            "sequences": [
                {"step": 1, "subject": "Hi", "body": "Fine"},
                {"step": 2, "delay_days": 2, "subject": "Re: Hi", "body": "Hi {{first_name,"},
            ],
        }

        response = await client.post(CAMPAIGNS, json=body, headers=tenant.headers)

        assert response.status_code == 422, response.text
        error = error_of(response)
        assert error["code"] == "TEMPLATE_SYNTAX_ERROR"
        assert error["details"][0]["field"] == "sequences[1].body"
        assert error["details"][0]["offset"] == 3
        assert await count_campaigns(client, tenant) == 0

    @pytest.mark.parametrize("timezone", ["Mars/Olympus_Mons", "Africa/Lagos"])
    async def test_unsupported_timezone_422(
        self, client: httpx.AsyncClient, tenant: Tenant, timezone: str
    ) -> None:
        response = await client.post(
            CAMPAIGNS, json={"name": "Elsewhere", "timezone": timezone}, headers=tenant.headers
        )

        assert response.status_code == 422, response.text
        error = error_of(response)
        assert error["code"] == "INVALID_TIMEZONE"
        assert error["details"][0]["field"] == "timezone"
        assert await count_campaigns(client, tenant) == 0

    async def test_template_error_in_unsorted_steps_names_sent_index(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        body = {
            "name": "Unsorted",
            "sequences": [
                {"step": 2, "delay_days": 2, "subject": "Re: Hi", "body": "Hi {{first_name"},
                {"step": 1, "subject": "Hi", "body": "Fine"},
            ],
        }

        response = await client.post(CAMPAIGNS, json=body, headers=tenant.headers)

        assert response.status_code == 422
        assert error_of(response)["details"][0]["field"] == "sequences[0].body"

    async def test_duplicate_step_numbers_422(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        body = {
            "name": "Twice",
            "sequences": [{"step": 1, "subject": "First"}, {"step": 1, "subject": "Second"}],
        }

        response = await client.post(CAMPAIGNS, json=body, headers=tenant.headers)

        assert response.status_code == 422
        assert error_of(response)["details"][0]["field"] == "sequences[1].step"
        assert await count_campaigns(client, tenant) == 0

    async def test_schedule_error_names_schedule_field(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        body = {"name": "Late", "schedule": {"default_window": {"start": "25:00", "end": "17:00"}}}

        response = await client.post(CAMPAIGNS, json=body, headers=tenant.headers)

        assert response.status_code == 422
        error = error_of(response)
        assert error["code"] == "INVALID_TIME"
        assert error["details"][0]["field"] == "schedule.default_window.start"

    async def test_seed003_schedule_snaps_to_grid(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        body = {
            "name": "Paris",
            "timezone": "Europe/Paris",
            "schedule": {"default_window": {"start": "09:23", "end": "18:00"}},
        }

        campaign = await create_campaign(client, tenant, **body)

        assert campaign["schedule"] == weekday_schedule("Europe/Paris", "09:30", "18:00")

    async def test_blank_name_422(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        response = await client.post(CAMPAIGNS, json={"name": "   "}, headers=tenant.headers)

        assert response.status_code == 422
        assert error_of(response)["details"][0]["field"] == "name"
        assert await count_campaigns(client, tenant) == 0

    async def test_missing_name_422(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        response = await client.post(CAMPAIGNS, json={"daily_limit": 5}, headers=tenant.headers)

        assert response.status_code == 422
        error = error_of(response)
        assert error["code"] == "VALIDATION_ERROR"
        assert [d["field"] for d in error["details"]] == ["name"]

    async def test_other_workspace_inbox_id_404_saves_nothing(
        self, client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
    ) -> None:
        foreign = await create_inbox(client, other_tenant, "theirs@globex.io")

        response = await client.post(
            CAMPAIGNS, json={"name": "Sneaky", "inbox_ids": [foreign["id"]]}, headers=tenant.headers
        )

        assert response.status_code == 404
        assert error_of(response)["code"] == "INBOX_NOT_FOUND"
        assert await count_campaigns(client, tenant) == 0

    async def test_missing_scope_403(self, client: httpx.AsyncClient) -> None:
        reader = await make_tenant(
            client.app.state.sessions,  # type: ignore[attr-defined]
            "readers",
            scopes=("campaigns:read",),
        )

        response = await client.post(CAMPAIGNS, json={"name": "x"}, headers=reader.headers)

        assert response.status_code == 403
        assert error_of(response)["code"] == "INSUFFICIENT_SCOPE"


class TestListCampaigns:
    async def test_paging_metadata(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        for name in ("One", "Two", "Three"):
            await create_campaign(client, tenant, name=name)

        first = await client.get(CAMPAIGNS, params={"page_size": 2}, headers=tenant.headers)
        second = await client.get(
            CAMPAIGNS, params={"page_size": 2, "page": 2}, headers=tenant.headers
        )

        assert first.status_code == second.status_code == 200
        assert first.json()["metadata"] == {
            "page": 1,
            "page_size": 2,
            "total_count": 3,
            "total_pages": 2,
        }
        assert second.json()["metadata"]["page"] == 2
        names = [c["name"] for c in first.json()["data"] + second.json()["data"]]
        assert sorted(names) == ["One", "Three", "Two"]

    async def test_default_page_size_is_30(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        response = await client.get(CAMPAIGNS, headers=tenant.headers)

        assert response.json() == {
            "data": [],
            "metadata": {"page": 1, "page_size": 30, "total_count": 0, "total_pages": 0},
        }

    async def test_search_by_name_is_case_insensitive(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        for name in ("Series B founders", "Agencies", "series a founders"):
            await create_campaign(client, tenant, name=name)

        response = await client.get(CAMPAIGNS, params={"search": "SERIES"}, headers=tenant.headers)

        assert response.status_code == 200
        assert sorted(c["name"] for c in response.json()["data"]) == [
            "Series B founders",
            "series a founders",
        ]
        assert response.json()["metadata"]["total_count"] == 2

    async def test_sort_by_name(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        for name in ("Bravo", "Charlie", "Alpha"):
            await create_campaign(client, tenant, name=name)

        ascending = await client.get(
            CAMPAIGNS, params={"sort_by": "name", "sort_order": "asc"}, headers=tenant.headers
        )
        descending = await client.get(
            CAMPAIGNS, params={"sort_by": "name", "sort_order": "desc"}, headers=tenant.headers
        )

        assert [c["name"] for c in ascending.json()["data"]] == ["Alpha", "Bravo", "Charlie"]
        assert [c["name"] for c in descending.json()["data"]] == ["Charlie", "Bravo", "Alpha"]

    async def test_unknown_sort_by_422(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        response = await client.get(CAMPAIGNS, params={"sort_by": "id"}, headers=tenant.headers)

        assert response.status_code == 422
        error = error_of(response)
        assert error["code"] == "INVALID_SORT"
        assert error["details"][0]["field"] == "sort_by"
        assert "name" in error["message"]

    @pytest.mark.parametrize(
        "params", [{"page_size": 101}, {"page": 0}, {"sort_order": "up"}], ids=str
    )
    async def test_invalid_paging_params_422(
        self, client: httpx.AsyncClient, tenant: Tenant, params: dict[str, Any]
    ) -> None:
        response = await client.get(CAMPAIGNS, params=params, headers=tenant.headers)

        assert response.status_code == 422
        assert error_of(response)["details"][0]["field"] == next(iter(params))

    async def test_search_wildcards_are_literal(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        await create_campaign(client, tenant, name="100% inbound")
        await create_campaign(client, tenant, name="1000 accounts")

        response = await client.get(CAMPAIGNS, params={"search": "100%"}, headers=tenant.headers)

        assert [c["name"] for c in response.json()["data"]] == ["100% inbound"]

    async def test_other_workspace_campaigns_not_listed(
        self, client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
    ) -> None:
        await create_campaign(client, other_tenant, name="Theirs")
        await create_campaign(client, tenant, name="Ours")

        response = await client.get(CAMPAIGNS, headers=tenant.headers)

        assert [c["name"] for c in response.json()["data"]] == ["Ours"]


class TestGetCampaign:
    async def test_unknown_id_404(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        response = await client.get(f"{CAMPAIGNS}/does-not-exist", headers=tenant.headers)

        assert response.status_code == 404
        assert error_of(response)["code"] == "CAMPAIGN_NOT_FOUND"

    async def test_other_workspace_404(
        self, client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
    ) -> None:
        theirs = await create_campaign(client, other_tenant, name="Theirs")

        response = await client.get(f"{CAMPAIGNS}/{theirs['id']}", headers=tenant.headers)

        assert response.status_code == 404
        assert error_of(response)["code"] == "CAMPAIGN_NOT_FOUND"


class TestUpdateCampaign:
    async def test_updates_name_and_options(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        campaign = await create_campaign(client, tenant, name="Before")

        response = await client.patch(
            f"{CAMPAIGNS}/{campaign['id']}",
            json={"name": "After", "daily_limit": 120, "stop_on_reply": False, "text_only": True},
            headers=tenant.headers,
        )

        assert response.status_code == 200, response.text
        stored = await get_campaign(client, tenant, campaign["id"])
        assert stored["name"] == "After"
        assert stored["options"]["daily_limit"] == 120
        assert stored["options"]["stop_on_reply"] is False
        assert stored["options"]["text_only"] is True
        assert stored["options"]["esp_matching"] is False

    async def test_one_invalid_field_saves_nothing(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        campaign = await create_campaign(client, tenant, name="Original", daily_limit=40)

        response = await client.patch(
            f"{CAMPAIGNS}/{campaign['id']}",
            json={"name": "Renamed", "stop_on_reply": False, "daily_limit": -1},
            headers=tenant.headers,
        )

        assert response.status_code == 422
        error = error_of(response)
        assert [d["field"] for d in error["details"]] == ["daily_limit"]
        stored = await get_campaign(client, tenant, campaign["id"])
        assert stored["name"] == "Original"
        assert stored["options"]["daily_limit"] == 40
        assert stored["options"]["stop_on_reply"] is True

    async def test_null_option_422_saves_nothing(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        campaign = await create_campaign(client, tenant, name="Original")

        response = await client.patch(
            f"{CAMPAIGNS}/{campaign['id']}",
            json={"name": "Renamed", "stop_on_reply": None},
            headers=tenant.headers,
        )

        assert response.status_code == 422
        assert error_of(response)["details"][0]["field"] == "stop_on_reply"
        assert (await get_campaign(client, tenant, campaign["id"]))["name"] == "Original"

    async def test_unknown_field_422(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        campaign = await create_campaign(client, tenant, name="Original")

        response = await client.patch(
            f"{CAMPAIGNS}/{campaign['id']}",
            json={"name": "Renamed", "daily_limt": 10},
            headers=tenant.headers,
        )

        assert response.status_code == 422
        assert error_of(response)["details"][0]["field"] == "daily_limt"
        assert (await get_campaign(client, tenant, campaign["id"]))["name"] == "Original"

    async def test_invalid_status_transition_409_saves_nothing(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        campaign = await create_campaign(client, tenant, name="Original")

        response = await client.patch(
            f"{CAMPAIGNS}/{campaign['id']}",
            json={"name": "Renamed", "status": "paused"},
            headers=tenant.headers,
        )

        assert response.status_code == 409
        assert error_of(response)["code"] == "CAMPAIGN_DRAFT_TO_PAUSED_NOT_ALLOWED"
        stored = await get_campaign(client, tenant, campaign["id"])
        assert (stored["name"], stored["status"]) == ("Original", "draft")

    async def test_blank_name_422(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        campaign = await create_campaign(client, tenant, name="Original")

        response = await client.patch(
            f"{CAMPAIGNS}/{campaign['id']}", json={"name": "   "}, headers=tenant.headers
        )

        assert response.status_code == 422
        assert (await get_campaign(client, tenant, campaign["id"]))["name"] == "Original"

    async def test_other_workspace_404(
        self, client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
    ) -> None:
        theirs = await create_campaign(client, other_tenant, name="Theirs")

        response = await client.patch(
            f"{CAMPAIGNS}/{theirs['id']}", json={"name": "Mine now"}, headers=tenant.headers
        )

        assert response.status_code == 404
        assert error_of(response)["code"] == "CAMPAIGN_NOT_FOUND"
        assert (await get_campaign(client, other_tenant, theirs["id"]))["name"] == "Theirs"


class TestActivateCampaign:
    async def test_not_ready_422_names_sequences_and_inboxes(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        campaign = await create_campaign(client, tenant, name="Empty")

        response = await client.post(
            f"{CAMPAIGNS}/{campaign['id']}/activate", headers=tenant.headers
        )

        assert response.status_code == 422
        error = error_of(response)
        assert error["code"] == "CAMPAIGN_NOT_READY"
        assert {d["field"] for d in error["details"]} == {"sequences", "inboxes"}
        assert (await get_campaign(client, tenant, campaign["id"]))["status"] == "draft"

    async def test_inactive_inbox_is_not_ready(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        campaign = await create_ready_campaign(client, tenant)
        inbox_id = campaign["inboxes"][0]["id"]
        await client.patch(
            f"/api/v1/inboxes/{inbox_id}", json={"is_active": False}, headers=tenant.headers
        )

        response = await client.post(
            f"{CAMPAIGNS}/{campaign['id']}/activate", headers=tenant.headers
        )

        assert response.status_code == 422
        error = error_of(response)
        assert error["code"] == "CAMPAIGN_NOT_READY"
        assert [d["field"] for d in error["details"]] == ["inboxes"]

    async def test_ready_campaign_starts_journeys(
        self,
        client: httpx.AsyncClient,
        tenant: Tenant,
        temporal_client: Client,
        settings: Settings,
        worker: None,
    ) -> None:
        """Activation answers at once; the enrollment workflow starts the journeys."""
        campaign = await create_ready_campaign(client, tenant)
        lead = await add_lead(client, tenant, campaign["id"], "sarah@example.com")

        response = await client.post(
            f"{CAMPAIGNS}/{campaign['id']}/activate", headers=tenant.headers
        )

        assert response.status_code == 200, response.text
        assert response.json()["data"]["status"] == "active"
        handle = temporal_client.get_workflow_handle(f"journey/{campaign['id']}/{lead['id']}")
        for _ in range(200):
            try:
                description = await handle.describe()
                break
            except RPCError:
                await asyncio.sleep(0.05)
        assert description.status == WorkflowExecutionStatus.RUNNING
        assert description.task_queue == settings.task_queue
        await handle.terminate(reason="test over")

    async def test_launch_is_an_alias(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        campaign = await create_ready_campaign(client, tenant)

        response = await client.post(f"{CAMPAIGNS}/{campaign['id']}/launch", headers=tenant.headers)

        assert response.status_code == 200, response.text
        assert response.json()["data"]["status"] == "active"

    async def test_activating_twice_is_allowed(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        campaign = await create_ready_campaign(client, tenant)
        url = f"{CAMPAIGNS}/{campaign['id']}/activate"

        first = await client.post(url, headers=tenant.headers)
        second = await client.post(url, headers=tenant.headers)

        assert (first.status_code, second.status_code) == (200, 200)
        assert second.json()["data"]["status"] == "active"

    async def test_other_workspace_404(
        self, client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
    ) -> None:
        theirs = await create_ready_campaign(client, other_tenant)

        response = await client.post(f"{CAMPAIGNS}/{theirs['id']}/activate", headers=tenant.headers)

        assert response.status_code == 404
        assert error_of(response)["code"] == "CAMPAIGN_NOT_FOUND"
        assert (await get_campaign(client, other_tenant, theirs["id"]))["status"] == "draft"


class TestPauseCampaign:
    async def test_draft_to_paused_409(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        campaign = await create_campaign(client, tenant)

        response = await client.post(f"{CAMPAIGNS}/{campaign['id']}/pause", headers=tenant.headers)

        assert response.status_code == 409
        error = error_of(response)
        assert error["code"] == "CAMPAIGN_DRAFT_TO_PAUSED_NOT_ALLOWED"
        assert error["details"] == [{"field": "status", "from": "draft", "to": "paused"}]

    async def test_active_campaign_pauses(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        campaign = await create_ready_campaign(client, tenant)
        await client.post(f"{CAMPAIGNS}/{campaign['id']}/activate", headers=tenant.headers)

        response = await client.post(f"{CAMPAIGNS}/{campaign['id']}/pause", headers=tenant.headers)

        assert response.status_code == 200, response.text
        assert (await get_campaign(client, tenant, campaign["id"]))["status"] == "paused"

    async def test_other_workspace_404(
        self, client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
    ) -> None:
        theirs = await create_campaign(client, other_tenant)

        response = await client.post(f"{CAMPAIGNS}/{theirs['id']}/pause", headers=tenant.headers)

        assert response.status_code == 404
        assert error_of(response)["code"] == "CAMPAIGN_NOT_FOUND"


class TestResumeCampaign:
    async def test_draft_resume_409(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        campaign = await create_campaign(client, tenant)

        response = await client.post(f"{CAMPAIGNS}/{campaign['id']}/resume", headers=tenant.headers)

        assert response.status_code == 409
        error = error_of(response)
        assert error["code"] == "CAMPAIGN_NOT_PAUSED"
        assert error["details"] == [{"field": "status", "current": "draft"}]

    async def test_paused_campaign_resumes(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        campaign = await create_ready_campaign(client, tenant)
        await client.post(f"{CAMPAIGNS}/{campaign['id']}/activate", headers=tenant.headers)
        await client.post(f"{CAMPAIGNS}/{campaign['id']}/pause", headers=tenant.headers)

        response = await client.post(f"{CAMPAIGNS}/{campaign['id']}/resume", headers=tenant.headers)

        assert response.status_code == 200, response.text
        assert response.json()["data"]["status"] == "active"

    async def test_active_resume_409(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        campaign = await create_ready_campaign(client, tenant)
        await client.post(f"{CAMPAIGNS}/{campaign['id']}/activate", headers=tenant.headers)

        response = await client.post(f"{CAMPAIGNS}/{campaign['id']}/resume", headers=tenant.headers)

        assert response.status_code == 409
        assert error_of(response)["code"] == "CAMPAIGN_NOT_PAUSED"

    async def test_other_workspace_404(
        self, client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
    ) -> None:
        theirs = await create_campaign(client, other_tenant)

        response = await client.post(f"{CAMPAIGNS}/{theirs['id']}/resume", headers=tenant.headers)

        assert response.status_code == 404
        assert error_of(response)["code"] == "CAMPAIGN_NOT_FOUND"


class TestAttachInboxes:
    async def test_attach_is_idempotent(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        campaign = await create_campaign(client, tenant)
        first = await create_inbox(client, tenant, "a@acme.io")
        second = await create_inbox(client, tenant, "b@acme.io")
        url = f"{CAMPAIGNS}/{campaign['id']}/inboxes/attach"

        once = await client.post(
            url, json={"inbox_ids": [first["id"], first["id"]]}, headers=tenant.headers
        )
        again = await client.post(
            url, json={"inbox_ids": [first["id"], second["id"]]}, headers=tenant.headers
        )

        assert (once.status_code, again.status_code) == (200, 200)
        assert [i["email"] for i in once.json()["data"]["inboxes"]] == ["a@acme.io"]
        inboxes = (await get_campaign(client, tenant, campaign["id"]))["inboxes"]
        assert [i["email"] for i in inboxes] == ["a@acme.io", "b@acme.io"]
        assert set(inboxes[0]) == {"id", "email", "provider", "is_active", "connection_status"}

    async def test_foreign_inbox_404_attaches_nothing(
        self, client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
    ) -> None:
        campaign = await create_campaign(client, tenant)
        ours = await create_inbox(client, tenant, "ours@acme.io")
        theirs = await create_inbox(client, other_tenant, "theirs@globex.io")

        response = await client.post(
            f"{CAMPAIGNS}/{campaign['id']}/inboxes/attach",
            json={"inbox_ids": [ours["id"], theirs["id"]]},
            headers=tenant.headers,
        )

        assert response.status_code == 404
        assert error_of(response)["code"] == "INBOX_NOT_FOUND"
        assert (await get_campaign(client, tenant, campaign["id"]))["inboxes"] == []

    async def test_empty_list_422(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        campaign = await create_campaign(client, tenant)

        response = await client.post(
            f"{CAMPAIGNS}/{campaign['id']}/inboxes/attach",
            json={"inbox_ids": []},
            headers=tenant.headers,
        )

        assert response.status_code == 422
        assert error_of(response)["details"][0]["field"] == "inbox_ids"

    async def test_other_workspace_campaign_404(
        self, client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
    ) -> None:
        theirs = await create_campaign(client, other_tenant)
        ours = await create_inbox(client, tenant, "ours@acme.io")

        response = await client.post(
            f"{CAMPAIGNS}/{theirs['id']}/inboxes/attach",
            json={"inbox_ids": [ours["id"]]},
            headers=tenant.headers,
        )

        assert response.status_code == 404
        assert error_of(response)["code"] == "CAMPAIGN_NOT_FOUND"
        assert (await get_campaign(client, other_tenant, theirs["id"]))["inboxes"] == []
