"""Contact endpoints (seed 004) and the subscription status every campaign of a workspace shares:
derived at creation, unsubscribing through PATCH, and the ``mark_address`` hook's precedence."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlmodel import select

from coldflow.models import BlocklistEntry, ContactStatus, Lead
from coldflow.services import contacts as contact_service
from coldflow.store import contacts as contact_store
from coldflow.store.db import SessionFactory, unit_of_work
from tests.fixtures.api import Tenant, make_tenant

CONTACTS = "/api/v1/contacts"
LISTS = "/api/v1/lists"
CAMPAIGNS = "/api/v1/campaigns"


def sessions_of(client: httpx.AsyncClient) -> SessionFactory:
    sessions: SessionFactory = client.app.state.sessions  # type: ignore[attr-defined]
    return sessions


def error_of(response: httpx.Response) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["error"]
    assert error["status"] == response.status_code
    return error


async def create(
    client: httpx.AsyncClient, tenant: Tenant, email: str, **body: Any
) -> dict[str, Any]:
    response = await client.post(CONTACTS, json={"email": email, **body}, headers=tenant.headers)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def new_list(client: httpx.AsyncClient, tenant: Tenant, name: str = "Prospects") -> str:
    response = await client.post(LISTS, json={"name": name}, headers=tenant.headers)
    assert response.status_code == 201, response.text
    list_id: str = response.json()["data"]["id"]
    return list_id


async def patch(
    client: httpx.AsyncClient, tenant: Tenant, contact_id: str, body: dict[str, Any]
) -> httpx.Response:
    return await client.patch(f"{CONTACTS}/{contact_id}", json=body, headers=tenant.headers)


async def campaign_with_lead(client: httpx.AsyncClient, tenant: Tenant, email: str) -> str:
    campaign = await client.post(CAMPAIGNS, json={"name": "Q2"}, headers=tenant.headers)
    campaign_id: str = campaign.json()["data"]["id"]
    lead = await client.post(
        f"{CAMPAIGNS}/{campaign_id}/leads", json={"email": email}, headers=tenant.headers
    )
    assert lead.status_code == 201, lead.text
    return campaign_id


async def enroll(client: httpx.AsyncClient, tenant: Tenant, email: str) -> httpx.Response:
    campaign = await client.post(CAMPAIGNS, json={"name": "Later"}, headers=tenant.headers)
    campaign_id = campaign.json()["data"]["id"]
    return await client.post(
        f"{CAMPAIGNS}/{campaign_id}/leads", json={"email": email}, headers=tenant.headers
    )


class TestCreateContact:
    async def test_seed_004_body_with_list_id_alias(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        list_id = await new_list(client, tenant)

        data = await create(client, tenant, "New@Example.com", name="John Doe", listId=list_id)

        assert (data["email"], data["name"], data["status"]) == (
            "new@example.com",
            "John Doe",
            "subscribed",
        )
        assert data["list_ids"] == [list_id]
        shown = await client.get(f"{CONTACTS}/{data['id']}", headers=tenant.headers)
        assert shown.json()["data"] == data

    async def test_snake_case_list_id_and_normalised_variables(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        list_id = await new_list(client, tenant)

        data = await create(
            client,
            tenant,
            "ann@example.com",
            list_id=list_id,
            variables={"First Name": "Ann", "companyURL": "acme.io"},
        )

        assert data["list_ids"] == [list_id]
        assert data["variables"] == {"first_name": "Ann", "company_url": "acme.io"}

    async def test_existing_address_409(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        await create(client, tenant, "ann@example.com")

        response = await client.post(
            CONTACTS, json={"email": "ANN@example.com"}, headers=tenant.headers
        )

        assert response.status_code == 409
        error = error_of(response)
        assert error["code"] == "CONTACT_EXISTS"
        assert error["details"][0]["field"] == "email"

    @pytest.mark.parametrize(
        ("body", "code", "field"),
        [
            ({"email": "not-an-address"}, "VALIDATION_ERROR", "email"),
            ({"email": "a@example.com", "name": "x" * 201}, "VALIDATION_ERROR", "name"),
            ({"email": "a@example.com", "variables": {"n": 5}}, "VALIDATION_ERROR", "variables.n"),
            ({"email": "a@example.com", "colour": "red"}, "VALIDATION_ERROR", "colour"),
            ({"email": "a@example.com", "variables": {"!!": "x"}}, "INVALID_VARIABLE_NAME", None),
        ],
        ids=["email", "long-name", "non-text-variable", "unknown-field", "variable-name"],
    )
    async def test_invalid_422(
        self,
        client: httpx.AsyncClient,
        tenant: Tenant,
        body: dict[str, Any],
        code: str,
        field: str | None,
    ) -> None:
        response = await client.post(CONTACTS, json=body, headers=tenant.headers)

        assert response.status_code == 422, response.text
        error = error_of(response)
        assert error["code"] == code
        assert error["details"][0]["field"] == (field or "variables.!!")
        listed = await client.get(CONTACTS, headers=tenant.headers)
        assert listed.json()["metadata"]["total_count"] == 0

    async def test_unknown_or_foreign_list_404(
        self, client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
    ) -> None:
        theirs = await new_list(client, other_tenant)
        for list_id in ("missing", theirs):
            response = await client.post(
                CONTACTS,
                json={"email": "a@example.com", "list_id": list_id},
                headers=tenant.headers,
            )
            assert response.status_code == 404
            assert error_of(response)["code"] == "LIST_NOT_FOUND"

    async def test_no_key_401(self, client: httpx.AsyncClient) -> None:
        assert (await client.post(CONTACTS, json={"email": "a@example.com"})).status_code == 401

    async def test_missing_scope_403(self, client: httpx.AsyncClient) -> None:
        reader = await make_tenant(sessions_of(client), "ro", scopes=("contacts:read",))
        response = await client.post(
            CONTACTS, json={"email": "a@example.com"}, headers=reader.headers
        )
        assert response.status_code == 403
        assert error_of(response)["code"] == "INSUFFICIENT_SCOPE"

    async def test_leads_scope_cannot_read_contacts_403(self, client: httpx.AsyncClient) -> None:
        leads_only = await make_tenant(sessions_of(client), "leads", scopes=("leads:read",))
        assert (await client.get(CONTACTS, headers=leads_only.headers)).status_code == 403


class TestStatusDerivation:
    async def test_address_unsubscribed_from_a_campaign_starts_unsubscribed(
        self, client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
    ) -> None:
        await campaign_with_lead(client, tenant, "ann@example.com")
        unsubscribed = await client.post(
            "/api/v1/triggers",
            json={"email": "ann@example.com", "action": "unsubscribe"},
            headers=tenant.headers,
        )
        assert unsubscribed.status_code == 200, unsubscribed.text

        assert (await create(client, tenant, "Ann@example.com"))["status"] == "unsubscribed"
        # Another workspace's unsubscribe is none of this workspace's business.
        assert (await create(client, other_tenant, "ann@example.com"))["status"] == "subscribed"

    async def test_address_a_lead_bounced_on_starts_bounced(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        await campaign_with_lead(client, tenant, "gone@example.com")
        async with unit_of_work(sessions_of(client)) as session:
            lead = (await session.exec(select(Lead).where(Lead.email == "gone@example.com"))).one()
            lead.is_bounced = True
            session.add(lead)

        assert (await create(client, tenant, "gone@example.com"))["status"] == "bounced"

    async def test_manual_block_leaves_the_contact_subscribed(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        await client.post("/api/v1/blocklist", json={"email": "@spam.io"}, headers=tenant.headers)

        assert (await create(client, tenant, "bob@spam.io"))["status"] == "subscribed"


class TestListContacts:
    async def test_filters_search_and_sort(
        self, client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
    ) -> None:
        list_id = await new_list(client, tenant)
        ann = await create(client, tenant, "ann@example.com", name="Ann 100%", list_id=list_id)
        bob = await create(client, tenant, "bob@example.com", name="Bob")
        await create(client, other_tenant, "carol@example.com")
        await patch(client, tenant, bob["id"], {"status": "unsubscribed"})

        async def emails(params: dict[str, Any]) -> list[str]:
            response = await client.get(CONTACTS, params=params, headers=tenant.headers)
            assert response.status_code == 200, response.text
            return [c["email"] for c in response.json()["data"]]

        assert await emails({"sort_by": "email", "sort_order": "asc"}) == [
            "ann@example.com",
            "bob@example.com",
        ]
        assert await emails({"list_id": list_id}) == [ann["email"]]
        assert await emails({"listId": list_id}) == [ann["email"]]
        assert await emails({"status": "unsubscribed"}) == [bob["email"]]
        assert await emails({"search": "100%"}) == [ann["email"]]
        assert await emails({"search": "_"}) == []

    async def test_unknown_sort_422(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        response = await client.get(CONTACTS, params={"sort_by": "name"}, headers=tenant.headers)
        assert response.status_code == 422
        error = error_of(response)
        assert (error["code"], error["details"][0]["field"]) == ("INVALID_SORT", "sort_by")

    async def test_other_workspace_contact_404(
        self, client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
    ) -> None:
        contact = await create(client, tenant, "ann@example.com")
        response = await client.get(f"{CONTACTS}/{contact['id']}", headers=other_tenant.headers)
        assert response.status_code == 404
        assert error_of(response)["code"] == "CONTACT_NOT_FOUND"


class TestUpdateContact:
    async def test_name_and_variables(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        contact = await create(client, tenant, "ann@example.com", variables={"a": "1", "b": "2"})

        response = await patch(
            client, tenant, contact["id"], {"name": "Ann", "variables": {"Role": "CTO"}}
        )

        assert response.status_code == 200, response.text
        data = response.json()["data"]
        assert (data["name"], data["variables"], data["status"]) == (
            "Ann",
            {"role": "CTO"},
            "subscribed",
        )

    @pytest.mark.parametrize("status", ["unsubscribed", "complained"])
    async def test_unsubscribe_blocklists_and_refuses_enrolment(
        self, client: httpx.AsyncClient, tenant: Tenant, status: str
    ) -> None:
        campaign_id = await campaign_with_lead(client, tenant, "ann@example.com")
        contact = await create(client, tenant, "ann@example.com")

        response = await patch(client, tenant, contact["id"], {"status": status})

        assert response.status_code == 200, response.text
        assert response.json()["data"]["status"] == status
        check = await client.get(
            "/api/v1/blocklist/check", params={"email": "ann@example.com"}, headers=tenant.headers
        )
        assert check.json()["data"]["blocked"] is True
        async with unit_of_work(sessions_of(client)) as session:
            entry = (await session.exec(select(BlocklistEntry))).one()
            assert (entry.value, entry.source) == ("ann@example.com", "unsubscribe")
        leads = await client.get(f"{CAMPAIGNS}/{campaign_id}/leads", headers=tenant.headers)
        assert leads.json()["data"][0]["is_unsubscribed"] is True
        refused = await enroll(client, tenant, "ann@example.com")
        assert refused.status_code == 422
        assert error_of(refused)["code"] == "LEAD_BLOCKLISTED"

    async def test_back_to_subscribed_409(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        contact = await create(client, tenant, "ann@example.com")
        await patch(client, tenant, contact["id"], {"status": "unsubscribed"})

        response = await patch(client, tenant, contact["id"], {"status": "subscribed"})

        assert response.status_code == 409
        error = error_of(response)
        assert (error["code"], error["details"][0]["field"]) == ("CONTACT_SUPPRESSED", "status")
        assert "permanent" in error["message"]

    async def test_subscribed_to_subscribed_is_harmless(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        contact = await create(client, tenant, "ann@example.com")
        response = await patch(client, tenant, contact["id"], {"status": "subscribed"})
        assert response.status_code == 200
        assert response.json()["data"]["status"] == "subscribed"

    async def test_bounced_is_not_settable_422(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        contact = await create(client, tenant, "ann@example.com")

        response = await patch(client, tenant, contact["id"], {"status": "bounced"})

        assert response.status_code == 422
        error = error_of(response)
        assert error["code"] == "CONTACT_STATUS_NOT_SETTABLE"
        assert error["details"][0]["field"] == "status"

    async def test_complained_is_not_lowered_to_unsubscribed(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        contact = await create(client, tenant, "ann@example.com")
        await patch(client, tenant, contact["id"], {"status": "complained"})

        response = await patch(client, tenant, contact["id"], {"status": "unsubscribed"})

        assert response.status_code == 200
        assert response.json()["data"]["status"] == "complained"

    @pytest.mark.parametrize(
        ("body", "code", "field"),
        [
            ({"email": "b@example.com"}, "VALIDATION_ERROR", "email"),
            ({"status": "paused"}, "VALIDATION_ERROR", "status"),
            ({"variables": {"--": "x"}}, "INVALID_VARIABLE_NAME", "variables.--"),
        ],
        ids=["email-not-patchable", "unknown-status", "variable-name"],
    )
    async def test_invalid_422_changes_nothing(
        self,
        client: httpx.AsyncClient,
        tenant: Tenant,
        body: dict[str, Any],
        code: str,
        field: str,
    ) -> None:
        contact = await create(client, tenant, "ann@example.com", name="Ann")

        response = await patch(client, tenant, contact["id"], {"name": "Changed", **body})

        assert response.status_code == 422
        error = error_of(response)
        assert (error["code"], error["details"][0]["field"]) == (code, field)
        shown = await client.get(f"{CONTACTS}/{contact['id']}", headers=tenant.headers)
        assert shown.json()["data"]["name"] == "Ann"

    async def test_other_workspace_404_changes_nothing(
        self, client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
    ) -> None:
        contact = await create(client, tenant, "ann@example.com")

        response = await patch(client, other_tenant, contact["id"], {"status": "unsubscribed"})

        assert response.status_code == 404
        assert error_of(response)["code"] == "CONTACT_NOT_FOUND"
        shown = await client.get(f"{CONTACTS}/{contact['id']}", headers=tenant.headers)
        assert shown.json()["data"]["status"] == "subscribed"

    async def test_missing_scope_403(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        contact = await create(client, tenant, "ann@example.com")
        reader = await make_tenant(sessions_of(client), "ro", scopes=("contacts:read",))
        response = await patch(client, reader, contact["id"], {"name": "x"})
        assert response.status_code == 403


class TestDeleteContact:
    async def test_delete_then_404_and_memberships_go(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        list_id = await new_list(client, tenant)
        contact = await create(client, tenant, "ann@example.com", list_id=list_id)

        deleted = await client.delete(f"{CONTACTS}/{contact['id']}", headers=tenant.headers)

        assert deleted.status_code == 204
        again = await client.delete(f"{CONTACTS}/{contact['id']}", headers=tenant.headers)
        assert again.status_code == 404
        assert error_of(again)["code"] == "CONTACT_NOT_FOUND"
        shown = await client.get(f"{LISTS}/{list_id}", headers=tenant.headers)
        assert shown.json()["data"]["contact_count"] == 0

    async def test_unsubscribe_outlives_the_contact(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        contact = await create(client, tenant, "ann@example.com")
        await patch(client, tenant, contact["id"], {"status": "unsubscribed"})
        await client.delete(f"{CONTACTS}/{contact['id']}", headers=tenant.headers)

        assert (await create(client, tenant, "ann@example.com"))["status"] == "unsubscribed"

    async def test_other_workspace_404(
        self, client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
    ) -> None:
        contact = await create(client, tenant, "ann@example.com")
        response = await client.delete(f"{CONTACTS}/{contact['id']}", headers=other_tenant.headers)
        assert response.status_code == 404
        shown = await client.get(f"{CONTACTS}/{contact['id']}", headers=tenant.headers)
        assert shown.status_code == 200


class TestMarkAddress:
    @pytest.mark.parametrize(
        ("marks", "expected"),
        [
            (["bounced"], "bounced"),
            (["bounced", "unsubscribed"], "unsubscribed"),
            (["unsubscribed", "bounced"], "unsubscribed"),
            (["complained", "unsubscribed", "bounced"], "complained"),
            (["unsubscribed", "complained"], "complained"),
            (["bounced", "subscribed"], "bounced"),
        ],
        ids=lambda v: "-".join(v) if isinstance(v, list) else v,
    )
    async def test_precedence(
        self, client: httpx.AsyncClient, tenant: Tenant, marks: list[str], expected: str
    ) -> None:
        contact = await create(client, tenant, "ann@example.com")
        for mark in marks:
            async with unit_of_work(sessions_of(client)) as session:
                await contact_service.mark_address(
                    session, tenant.workspace_id, "Ann@Example.com", ContactStatus(mark)
                )

        shown = await client.get(f"{CONTACTS}/{contact['id']}", headers=tenant.headers)
        assert shown.json()["data"]["status"] == expected

    async def test_creates_nothing_and_stays_in_its_workspace(
        self, client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
    ) -> None:
        theirs = await create(client, other_tenant, "ann@example.com")
        async with unit_of_work(sessions_of(client)) as session:
            await contact_service.mark_address(
                session, tenant.workspace_id, "ann@example.com", ContactStatus.bounced
            )
            assert await contact_store.count_contacts(session, tenant.workspace_id) == 0

        shown = await client.get(f"{CONTACTS}/{theirs['id']}", headers=other_tenant.headers)
        assert shown.json()["data"]["status"] == "subscribed"

    async def test_suppressed_emails(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        await create(client, tenant, "ok@example.com")
        await create(client, tenant, "gone@example.com")
        async with unit_of_work(sessions_of(client)) as session:
            await contact_service.mark_address(
                session, tenant.workspace_id, "gone@example.com", ContactStatus.bounced
            )
        async with unit_of_work(sessions_of(client)) as session:
            found = await contact_store.suppressed_emails(
                session, tenant.workspace_id, ["OK@example.com", "Gone@example.com", "x@y.io"]
            )
            assert found == {"gone@example.com"}
            assert await contact_store.count_contacts(session, tenant.workspace_id) == 2
