"""Lead endpoints: batch add with per-item results, show with the journey block, list and
search, each against the real app, a real database and the dev server."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from temporalio.client import Client, WorkflowExecutionStatus

from tests.fixtures.api import Tenant, make_tenant

CAMPAIGNS = "/api/v1/campaigns"
LEADS = "/api/v1/leads"

# Seed 000's "Adding leads to a campaign" lead, verbatim.
SEED_000_LEAD: dict[str, Any] = {
    "email": "sarah@example.com",
    "first_name": "Sarah",
    "last_name": "Chen",
    "company": "Acme Corp",
    "title": "VP of Engineering",
    "custom_fields": {"tech_stack": "Kubernetes, Go, Postgres", "recent_hire_count": 5},
}


async def create_campaign(client: httpx.AsyncClient, tenant: Tenant, **body: Any) -> str:
    body.setdefault("name", "Outreach")
    response = await client.post(CAMPAIGNS, json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    campaign_id: str = response.json()["data"]["id"]
    return campaign_id


async def add(
    client: httpx.AsyncClient, tenant: Tenant, campaign_id: str, body: dict[str, Any]
) -> httpx.Response:
    return await client.post(f"{CAMPAIGNS}/{campaign_id}/leads", json=body, headers=tenant.headers)


async def add_ok(
    client: httpx.AsyncClient,
    tenant: Tenant,
    campaign_id: str,
    *leads: dict[str, Any],
    **extra: Any,
) -> dict[str, Any]:
    response = await add(client, tenant, campaign_id, {"leads": list(leads), **extra})
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def get_lead(client: httpx.AsyncClient, tenant: Tenant, lead_id: str) -> dict[str, Any]:
    response = await client.get(f"{LEADS}/{lead_id}", headers=tenant.headers)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def lead_emails(
    client: httpx.AsyncClient, tenant: Tenant, params: dict[str, Any] | None = None
) -> list[str]:
    response = await client.get(LEADS, params=params or {}, headers=tenant.headers)
    assert response.status_code == 200, response.text
    return sorted(lead["email"] for lead in response.json()["data"])


def error_of(response: httpx.Response) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["error"]
    assert error["status"] == response.status_code
    assert error["request_id"] == response.headers["X-Request-ID"]
    return error


class TestAddLeads:
    async def test_batch_has_per_item_results_and_totals(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        campaign_id = await create_campaign(client, tenant)

        data = await add_ok(client, tenant, campaign_id, SEED_000_LEAD, {"email": "bob@globex.com"})

        assert (data["total"], data["created"], data["updated"]) == (2, 2, 0)
        assert (data["skipped"], data["failed"]) == (0, 0)
        assert [(r["index"], r["email"], r["status"]) for r in data["results"]] == [
            (0, "sarah@example.com", "created"),
            (1, "bob@globex.com", "created"),
        ]
        sarah = await get_lead(client, tenant, data["results"][0]["id"])
        assert (sarah["first_name"], sarah["last_name"]) == ("Sarah", "Chen")
        assert (sarah["company"], sarah["campaign_id"]) == ("Acme Corp", campaign_id)
        assert sarah["status"] == "uncontacted"
        assert (sarah["is_bounced"], sarah["is_unsubscribed"]) == (False, False)

    async def test_email_is_trimmed_and_lowercased(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        campaign_id = await create_campaign(client, tenant)

        data = await add_ok(client, tenant, campaign_id, {"email": " Sarah@Example.COM "})

        assert data["results"][0]["email"] == "sarah@example.com"

    async def test_duplicate_in_batch_fails_the_second(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        campaign_id = await create_campaign(client, tenant)

        data = await add_ok(
            client,
            tenant,
            campaign_id,
            {"email": "sarah@example.com", "first_name": "Sarah"},
            {"email": "SARAH@example.com", "first_name": "Impostor"},
        )

        assert (data["created"], data["failed"]) == (1, 1)
        second = data["results"][1]
        assert second["status"] == "failed"
        assert second["error"]["code"] == "DUPLICATE_IN_BATCH"
        assert await lead_emails(client, tenant) == ["sarah@example.com"]
        lead = await get_lead(client, tenant, data["results"][0]["id"])
        assert lead["first_name"] == "Sarah"

    async def test_existing_lead_fails_with_if_exists_fail(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        campaign_id = await create_campaign(client, tenant)
        first = await add_ok(client, tenant, campaign_id, {"email": "a@x.io", "first_name": "A"})

        data = await add_ok(
            client,
            tenant,
            campaign_id,
            {"email": "a@x.io", "first_name": "Changed"},
            {"email": "b@x.io"},
            if_exists="fail",
        )

        assert (data["created"], data["failed"]) == (1, 1)
        result = data["results"][0]
        assert (result["status"], result["error"]["code"]) == ("failed", "LEAD_EXISTS")
        assert result["id"] == first["results"][0]["id"]
        assert (await get_lead(client, tenant, result["id"]))["first_name"] == "A"

    async def test_existing_lead_skipped_with_if_exists_skip(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        campaign_id = await create_campaign(client, tenant)
        first = await add_ok(client, tenant, campaign_id, {"email": "a@x.io", "first_name": "A"})

        data = await add_ok(
            client,
            tenant,
            campaign_id,
            {"email": "a@x.io", "first_name": "Changed"},
            if_exists="skip",
        )

        assert (data["skipped"], data["created"]) == (1, 0)
        result = data["results"][0]
        assert (result["status"], result["id"]) == ("skipped", first["results"][0]["id"])
        assert (await get_lead(client, tenant, result["id"]))["first_name"] == "A"

    async def test_existing_lead_updated_with_if_exists_update(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        campaign_id = await create_campaign(client, tenant)
        first = await add_ok(client, tenant, campaign_id, {"email": "a@x.io", "first_name": "A"})

        data = await add_ok(
            client,
            tenant,
            campaign_id,
            {"email": "a@x.io", "first_name": "Changed", "custom_fields": {"Role": "CTO"}},
            if_exists="update",
        )

        assert (data["updated"], data["created"]) == (1, 0)
        result = data["results"][0]
        assert (result["status"], result["id"]) == ("updated", first["results"][0]["id"])
        lead = await get_lead(client, tenant, result["id"])
        assert lead["first_name"] == "Changed"
        assert lead["variables"] == {"role": "CTO"}
        assert await lead_emails(client, tenant) == ["a@x.io"]

    async def test_update_keeps_fields_not_sent(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        campaign_id = await create_campaign(client, tenant)
        first = await add_ok(client, tenant, campaign_id, SEED_000_LEAD)

        await add_ok(
            client,
            tenant,
            campaign_id,
            {"email": "sarah@example.com", "custom_fields": {"role": "CTO"}},
            if_exists="update",
        )

        lead = await get_lead(client, tenant, first["results"][0]["id"])
        assert (lead["first_name"], lead["company"]) == ("Sarah", "Acme Corp")
        assert lead["variables"]["role"] == "CTO"

    async def test_concurrent_batches_with_same_email_never_500(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        campaign_id = await create_campaign(client, tenant)
        transport = httpx.ASGITransport(app=client.app, raise_app_exceptions=False)  # type: ignore[attr-defined]
        url = f"{CAMPAIGNS}/{campaign_id}/leads"
        outcomes: list[int | str] = []
        async with httpx.AsyncClient(transport=transport, base_url=str(client.base_url)) as http:
            # A few rounds, so that at least one of them really interleaves the requests.
            for round_ in range(5):
                body = {"leads": [{"email": f"race{round_}@example.com"}]}
                responses = await asyncio.gather(
                    *(http.post(url, json=body, headers=tenant.headers) for _ in range(4))
                )
                outcomes.extend(
                    r.status_code if r.status_code < 400 else r.json()["error"]["code"]
                    for r in responses
                )

        # Losing a unique-constraint race is retried, and at worst a retryable 409.
        assert set(outcomes) <= {201, "CONCURRENT_CONFLICT"}, outcomes
        assert await lead_emails(client, tenant, {"search": "race"}) == [
            f"race{n}@example.com" for n in range(5)
        ]

    async def test_batch_of_100_accepted(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        campaign_id = await create_campaign(client, tenant)
        leads = [{"email": f"lead{i}@example.com"} for i in range(100)]

        data = await add_ok(client, tenant, campaign_id, *leads)

        assert (data["total"], data["created"]) == (100, 100)

    async def test_batch_over_100_413_names_limit(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        campaign_id = await create_campaign(client, tenant)
        leads = [{"email": f"lead{i}@example.com"} for i in range(101)]

        response = await add(client, tenant, campaign_id, {"leads": leads})

        assert response.status_code == 413
        error = error_of(response)
        assert error["code"] == "BATCH_TOO_LARGE"
        assert error["details"][0]["limit"] == 100
        assert "100" in error["message"]
        assert await lead_emails(client, tenant) == []

    async def test_empty_batch_422(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        campaign_id = await create_campaign(client, tenant)

        response = await add(client, tenant, campaign_id, {"leads": []})

        assert response.status_code == 422
        assert error_of(response)["details"][0]["field"] == "leads"

    async def test_invalid_email_422_names_item(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        campaign_id = await create_campaign(client, tenant)

        response = await add(
            client,
            tenant,
            campaign_id,
            {"leads": [{"email": "ok@example.com"}, {"email": "not-an-address"}]},
        )

        assert response.status_code == 422
        error = error_of(response)
        assert error["code"] == "VALIDATION_ERROR"
        assert [d["field"] for d in error["details"]] == ["leads[1].email"]
        assert await lead_emails(client, tenant) == []

    async def test_invalid_if_exists_422(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        campaign_id = await create_campaign(client, tenant)

        response = await add(
            client, tenant, campaign_id, {"leads": [{"email": "a@x.io"}], "if_exists": "merge"}
        )

        assert response.status_code == 422
        assert error_of(response)["details"][0]["field"] == "if_exists"

    async def test_invalid_lead_timezone_fails_only_that_item(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        campaign_id = await create_campaign(client, tenant)

        data = await add_ok(
            client,
            tenant,
            campaign_id,
            {"email": "a@x.io", "timezone": "Mars/Olympus_Mons"},
            {"email": "b@x.io", "timezone": "Africa/Lagos"},
        )

        assert (data["failed"], data["created"]) == (1, 1)
        failed, created = data["results"]
        assert failed["status"] == "failed"
        assert (failed["error"]["code"], failed["error"]["field"]) == (
            "INVALID_TIMEZONE",
            "timezone",
        )
        assert (await get_lead(client, tenant, created["id"]))["timezone"] == "Africa/Lagos"
        assert await lead_emails(client, tenant) == ["b@x.io"]

    async def test_custom_and_extra_fields_become_normalised_variables(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        campaign_id = await create_campaign(client, tenant)
        lead = {
            **SEED_000_LEAD,
            "LinkedIn URL": "https://linkedin.com/in/sarah",
            "custom_fields": {
                **SEED_000_LEAD["custom_fields"],
                "Tech Stack": "Kubernetes, Go, Postgres",
                "fundingStage": "Series B",
                "churned": None,
            },
        }

        data = await add_ok(client, tenant, campaign_id, lead)

        stored = await get_lead(client, tenant, data["results"][0]["id"])
        assert stored["variables"] == {
            "title": "VP of Engineering",
            "linked_in_url": "https://linkedin.com/in/sarah",
            "tech_stack": "Kubernetes, Go, Postgres",
            "recent_hire_count": "5",
            "funding_stage": "Series B",
            "churned": "",
        }

    async def test_boolean_variable_stored_as_json_text(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        campaign_id = await create_campaign(client, tenant)

        data = await add_ok(
            client, tenant, campaign_id, {"email": "a@x.io", "custom_fields": {"hiring": True}}
        )

        stored = await get_lead(client, tenant, data["results"][0]["id"])
        assert stored["variables"] == {"hiring": "true"}

    async def test_nested_extra_field_422(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        campaign_id = await create_campaign(client, tenant)

        response = await add(
            client,
            tenant,
            campaign_id,
            {"leads": [{"email": "a@x.io", "socials": {"twitter": "@a"}}]},
        )

        assert response.status_code == 422
        assert error_of(response)["details"][0]["field"] == "leads[0].socials"

    async def test_leads_of_active_campaign_start_journeys(
        self, client: httpx.AsyncClient, tenant: Tenant, temporal_client: Client
    ) -> None:
        inbox = await client.post(
            "/api/v1/inboxes",
            json={"email": "sender@acme.io", "provider": "sandbox"},
            headers=tenant.headers,
        )
        campaign_id = await create_campaign(
            client,
            tenant,
            sequences=[{"subject": "Hi {{first_name|there}}", "body": "Short."}],
            inbox_ids=[inbox.json()["data"]["id"]],
        )
        activated = await client.post(f"{CAMPAIGNS}/{campaign_id}/activate", headers=tenant.headers)
        assert activated.status_code == 200, activated.text

        data = await add_ok(client, tenant, campaign_id, {"email": "late@example.com"})

        workflow_id = f"journey/{campaign_id}/{data['results'][0]['id']}"
        handle = temporal_client.get_workflow_handle(workflow_id)
        assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
        await handle.terminate(reason="test over")

    async def test_missing_scope_403(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        campaign_id = await create_campaign(client, tenant)
        reader = await make_tenant(
            client.app.state.sessions,  # type: ignore[attr-defined]
            "lead-readers",
            scopes=("leads:read",),
        )

        response = await add(client, reader, campaign_id, {"leads": [{"email": "a@x.io"}]})

        assert response.status_code == 403
        assert error_of(response)["code"] == "INSUFFICIENT_SCOPE"

    async def test_other_workspace_campaign_404(
        self, client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
    ) -> None:
        theirs = await create_campaign(client, other_tenant)

        response = await add(client, tenant, theirs, {"leads": [{"email": "a@x.io"}]})

        assert response.status_code == 404
        assert error_of(response)["code"] == "CAMPAIGN_NOT_FOUND"
        assert await lead_emails(client, other_tenant) == []


class TestGetLead:
    async def test_journey_block(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        campaign_id = await create_campaign(client, tenant)
        data = await add_ok(client, tenant, campaign_id, SEED_000_LEAD)
        lead_id = data["results"][0]["id"]

        lead = await get_lead(client, tenant, lead_id)

        journey = lead["journey"]
        assert journey["workflow_id"] == f"journey/{campaign_id}/{lead_id}"
        assert journey["state"] == "not_started"
        assert journey["current_step"] == 0
        assert journey["next_send_at"] is None
        assert journey["hold_reason"] is None
        assert "temporal_ui_url" in journey

    async def test_unknown_id_404(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        response = await client.get(f"{LEADS}/does-not-exist", headers=tenant.headers)

        assert response.status_code == 404
        assert error_of(response)["code"] == "LEAD_NOT_FOUND"

    async def test_other_workspace_404(
        self, client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
    ) -> None:
        theirs = await create_campaign(client, other_tenant)
        data = await add_ok(client, other_tenant, theirs, {"email": "a@x.io"})

        response = await client.get(f"{LEADS}/{data['results'][0]['id']}", headers=tenant.headers)

        assert response.status_code == 404
        assert error_of(response)["code"] == "LEAD_NOT_FOUND"


class TestListLeads:
    @pytest.fixture
    async def people(self, client: httpx.AsyncClient, tenant: Tenant) -> dict[str, str]:
        first = await create_campaign(client, tenant, name="First")
        second = await create_campaign(client, tenant, name="Second")
        await add_ok(client, tenant, first, SEED_000_LEAD)
        await add_ok(
            client,
            tenant,
            first,
            {"email": "bob@globex.com", "first_name": "Bob", "last_name": "Smith"},
        )
        await add_ok(client, tenant, second, {"email": "carol@initech.com", "company": "ACME Labs"})
        return {"first": first, "second": second}

    @pytest.mark.parametrize(
        ("search", "expected"),
        [
            ("globex", ["bob@globex.com"]),
            ("sarah", ["sarah@example.com"]),
            ("SMITH", ["bob@globex.com"]),
            ("acme", ["carol@initech.com", "sarah@example.com"]),
            ("nobody", []),
        ],
        ids=["email", "first_name", "last_name", "company", "no_match"],
    )
    async def test_search(
        self,
        client: httpx.AsyncClient,
        tenant: Tenant,
        people: dict[str, str],
        search: str,
        expected: list[str],
    ) -> None:
        assert await lead_emails(client, tenant, {"search": search}) == expected

    async def test_filter_by_campaign(
        self, client: httpx.AsyncClient, tenant: Tenant, people: dict[str, str]
    ) -> None:
        response = await client.get(
            LEADS, params={"campaign_id": people["second"]}, headers=tenant.headers
        )

        assert [lead["email"] for lead in response.json()["data"]] == ["carol@initech.com"]
        assert response.json()["metadata"]["total_count"] == 1

    async def test_sort_and_paging(
        self, client: httpx.AsyncClient, tenant: Tenant, people: dict[str, str]
    ) -> None:
        response = await client.get(
            LEADS,
            params={"sort_by": "email", "sort_order": "asc", "page_size": 2},
            headers=tenant.headers,
        )

        assert [lead["email"] for lead in response.json()["data"]] == [
            "bob@globex.com",
            "carol@initech.com",
        ]
        assert response.json()["metadata"] == {
            "page": 1,
            "page_size": 2,
            "total_count": 3,
            "total_pages": 2,
        }

    async def test_unknown_sort_by_422(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        response = await client.get(LEADS, params={"sort_by": "score"}, headers=tenant.headers)

        assert response.status_code == 422
        assert error_of(response)["code"] == "INVALID_SORT"

    async def test_other_workspace_leads_not_listed(
        self,
        client: httpx.AsyncClient,
        tenant: Tenant,
        other_tenant: Tenant,
        people: dict[str, str],
    ) -> None:
        theirs = await create_campaign(client, other_tenant)
        await add_ok(client, other_tenant, theirs, {"email": "acme-spy@globex.com"})

        assert "acme-spy@globex.com" not in await lead_emails(client, tenant, {"search": "acme"})
        assert await lead_emails(client, tenant, {"campaign_id": theirs}) == []


class TestListCampaignLeads:
    async def test_lists_only_that_campaigns_leads(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        first = await create_campaign(client, tenant, name="First")
        second = await create_campaign(client, tenant, name="Second")
        await add_ok(client, tenant, first, {"email": "a@x.io"}, {"email": "b@x.io"})
        await add_ok(client, tenant, second, {"email": "a@x.io"})

        response = await client.get(f"{CAMPAIGNS}/{first}/leads", headers=tenant.headers)

        assert response.status_code == 200
        leads = response.json()["data"]
        assert sorted(lead["email"] for lead in leads) == ["a@x.io", "b@x.io"]
        assert {lead["campaign_id"] for lead in leads} == {first}
        assert all(lead["journey"]["workflow_id"].startswith(f"journey/{first}/") for lead in leads)

    async def test_other_workspace_campaign_404(
        self, client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
    ) -> None:
        theirs = await create_campaign(client, other_tenant)
        await add_ok(client, other_tenant, theirs, {"email": "a@x.io"})

        response = await client.get(f"{CAMPAIGNS}/{theirs}/leads", headers=tenant.headers)

        assert response.status_code == 404
        assert error_of(response)["code"] == "CAMPAIGN_NOT_FOUND"
