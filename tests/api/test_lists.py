"""List endpoints (seed 004): CRUD with member counts, the batch of up to 100 contacts with
per-item results, members paged, and the keyset pages a list enrollment walks."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from coldflow.store import contacts as contact_store
from coldflow.store.db import SessionFactory, unit_of_work
from tests.fixtures.api import Tenant, make_tenant

CONTACTS = "/api/v1/contacts"
LISTS = "/api/v1/lists"


def sessions_of(client: httpx.AsyncClient) -> SessionFactory:
    sessions: SessionFactory = client.app.state.sessions  # type: ignore[attr-defined]
    return sessions


def error_of(response: httpx.Response) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["error"]
    assert error["status"] == response.status_code
    return error


async def new_list(client: httpx.AsyncClient, tenant: Tenant, name: str = "Prospects") -> str:
    response = await client.post(LISTS, json={"name": name}, headers=tenant.headers)
    assert response.status_code == 201, response.text
    list_id: str = response.json()["data"]["id"]
    return list_id


async def add(
    client: httpx.AsyncClient, tenant: Tenant, list_id: str, body: dict[str, Any]
) -> httpx.Response:
    return await client.post(f"{LISTS}/{list_id}/contacts", json=body, headers=tenant.headers)


async def add_ok(
    client: httpx.AsyncClient, tenant: Tenant, list_id: str, *contacts: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    response = await add(client, tenant, list_id, {"contacts": list(contacts), **extra})
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def shown(client: httpx.AsyncClient, tenant: Tenant, list_id: str) -> dict[str, Any]:
    response = await client.get(f"{LISTS}/{list_id}", headers=tenant.headers)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def contact(client: httpx.AsyncClient, tenant: Tenant, contact_id: str) -> dict[str, Any]:
    response = await client.get(f"{CONTACTS}/{contact_id}", headers=tenant.headers)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


class TestCreateList:
    async def test_created_empty(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        response = await client.post(
            LISTS,
            json={"name": "  Fair 2026 ", "description": "Met at the fair"},
            headers=tenant.headers,
        )

        assert response.status_code == 201, response.text
        data = response.json()["data"]
        assert (data["name"], data["description"], data["contact_count"]) == (
            "Fair 2026",
            "Met at the fair",
            0,
        )

    async def test_duplicate_name_409(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        await new_list(client, tenant, "Fair")

        response = await client.post(LISTS, json={"name": "Fair"}, headers=tenant.headers)

        assert response.status_code == 409
        error = error_of(response)
        assert (error["code"], error["details"][0]["field"]) == ("LIST_EXISTS", "name")

    async def test_same_name_in_another_workspace(
        self, client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
    ) -> None:
        await new_list(client, tenant, "Fair")
        await new_list(client, other_tenant, "Fair")

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"name": "   "}, "name"),
            ({"name": "x" * 101}, "name"),
            ({"name": "ok", "description": "x" * 501}, "description"),
            ({"name": "ok", "owner": "me"}, "owner"),
        ],
        ids=["blank-name", "long-name", "long-description", "unknown-field"],
    )
    async def test_invalid_422(
        self, client: httpx.AsyncClient, tenant: Tenant, body: dict[str, Any], field: str
    ) -> None:
        response = await client.post(LISTS, json=body, headers=tenant.headers)

        assert response.status_code == 422
        error = error_of(response)
        assert (error["code"], error["details"][0]["field"]) == ("VALIDATION_ERROR", field)

    async def test_no_key_401(self, client: httpx.AsyncClient) -> None:
        assert (await client.post(LISTS, json={"name": "x"})).status_code == 401

    async def test_missing_scope_403(self, client: httpx.AsyncClient) -> None:
        reader = await make_tenant(sessions_of(client), "ro", scopes=("contacts:read",))
        response = await client.post(LISTS, json={"name": "x"}, headers=reader.headers)
        assert response.status_code == 403
        assert error_of(response)["code"] == "INSUFFICIENT_SCOPE"


class TestListLists:
    async def test_counts_search_and_sort(
        self, client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
    ) -> None:
        fair = await new_list(client, tenant, "Fair")
        web = await new_list(client, tenant, "Web_signups")
        await new_list(client, other_tenant, "Theirs")
        await add_ok(client, tenant, fair, {"email": "a@x.io"}, {"email": "b@x.io"})
        await add_ok(client, tenant, web, {"email": "b@x.io"})

        response = await client.get(
            LISTS, params={"sort_by": "name", "sort_order": "asc"}, headers=tenant.headers
        )

        assert response.status_code == 200
        assert [(x["name"], x["contact_count"]) for x in response.json()["data"]] == [
            ("Fair", 2),
            ("Web_signups", 1),
        ]
        searched = await client.get(LISTS, params={"search": "_"}, headers=tenant.headers)
        assert [x["name"] for x in searched.json()["data"]] == ["Web_signups"]

    async def test_reader_scope_is_enough(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        await new_list(client, tenant)
        reader = await make_tenant(sessions_of(client), "ro", scopes=("contacts:read",))
        assert (await client.get(LISTS, headers=reader.headers)).status_code == 200


class TestUpdateList:
    async def test_rename_and_describe(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        list_id = await new_list(client, tenant, "Fair")

        response = await client.patch(
            f"{LISTS}/{list_id}",
            json={"name": "Fair 2026", "description": "d"},
            headers=tenant.headers,
        )

        assert response.status_code == 200, response.text
        data = response.json()["data"]
        assert (data["name"], data["description"]) == ("Fair 2026", "d")

    async def test_rename_to_a_taken_name_409(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        await new_list(client, tenant, "Fair")
        list_id = await new_list(client, tenant, "Web")

        response = await client.patch(
            f"{LISTS}/{list_id}", json={"name": "Fair"}, headers=tenant.headers
        )

        assert response.status_code == 409
        assert error_of(response)["code"] == "LIST_EXISTS"
        same = await client.patch(
            f"{LISTS}/{list_id}", json={"name": "Web"}, headers=tenant.headers
        )
        assert same.status_code == 200

    async def test_other_workspace_404(
        self, client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
    ) -> None:
        list_id = await new_list(client, tenant, "Fair")
        response = await client.patch(
            f"{LISTS}/{list_id}", json={"name": "Mine"}, headers=other_tenant.headers
        )
        assert response.status_code == 404
        assert error_of(response)["code"] == "LIST_NOT_FOUND"
        assert (await shown(client, tenant, list_id))["name"] == "Fair"


class TestDeleteList:
    async def test_contacts_stay(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        list_id = await new_list(client, tenant, "Fair")
        other = await new_list(client, tenant, "Web")
        data = await add_ok(client, tenant, list_id, {"email": "a@x.io"})
        await add_ok(client, tenant, other, {"email": "a@x.io"})

        deleted = await client.delete(f"{LISTS}/{list_id}", headers=tenant.headers)

        assert deleted.status_code == 204
        assert (await client.get(f"{LISTS}/{list_id}", headers=tenant.headers)).status_code == 404
        kept = await contact(client, tenant, data["results"][0]["contact_id"])
        assert kept["list_ids"] == [other]

    async def test_other_workspace_404(
        self, client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
    ) -> None:
        list_id = await new_list(client, tenant)
        response = await client.delete(f"{LISTS}/{list_id}", headers=other_tenant.headers)
        assert response.status_code == 404
        await shown(client, tenant, list_id)


class TestAddContacts:
    async def test_mixed_batch_has_per_item_results(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        list_id = await new_list(client, tenant)
        existing = await client.post(
            CONTACTS, json={"email": "old@x.io", "name": "Old"}, headers=tenant.headers
        )
        old_id = existing.json()["data"]["id"]

        data = await add_ok(
            client,
            tenant,
            list_id,
            {"email": "new@x.io", "name": "New", "variables": {"Job Title": "CTO"}},
            {"email": "NEW@x.io"},
            {"email": "old@x.io", "name": "Ignored"},
            {"email": "bad@x.io", "variables": {"??": "x"}},
        )

        assert (data["total"], data["created"], data["skipped"], data["failed"]) == (4, 1, 1, 2)
        results = data["results"]
        assert [(r["index"], r["email"], r["status"]) for r in results] == [
            (0, "new@x.io", "created"),
            (1, "new@x.io", "failed"),
            (2, "old@x.io", "skipped"),
            (3, "bad@x.io", "failed"),
        ]
        assert results[1]["error"] == {
            "code": "DUPLICATE_IN_BATCH",
            "field": "email",
            "message": "listed twice",
        }
        assert (results[3]["error"]["code"], results[3]["error"]["field"]) == (
            "INVALID_VARIABLE_NAME",
            "variables.??",
        )
        assert results[2]["contact_id"] == old_id
        old = await contact(client, tenant, old_id)
        assert (old["name"], old["list_ids"]) == ("Old", [list_id])
        new = await contact(client, tenant, results[0]["contact_id"])
        assert new["variables"] == {"job_title": "CTO"}
        assert (await shown(client, tenant, list_id))["contact_count"] == 2

    async def test_update_overwrites_what_was_sent(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        list_id = await new_list(client, tenant)
        first = await add_ok(
            client, tenant, list_id, {"email": "a@x.io", "name": "A", "variables": {"k": "1"}}
        )

        data = await add_ok(
            client,
            tenant,
            list_id,
            {"email": "a@x.io", "variables": {"j": "2"}},
            if_exists="update",
        )

        assert data["updated"] == 1
        updated = await contact(client, tenant, first["results"][0]["contact_id"])
        assert (updated["name"], updated["variables"]) == ("A", {"j": "2"})
        assert (await shown(client, tenant, list_id))["contact_count"] == 1

    async def test_new_contacts_get_derived_status(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        await client.post(
            "/api/v1/triggers",
            json={"email": "gone@x.io", "action": "unsubscribe"},
            headers=tenant.headers,
        )
        list_id = await new_list(client, tenant)

        data = await add_ok(client, tenant, list_id, {"email": "gone@x.io"})

        assert (await contact(client, tenant, data["results"][0]["contact_id"]))["status"] == (
            "unsubscribed"
        )

    async def test_batch_of_100_accepted(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        list_id = await new_list(client, tenant)
        data = await add_ok(client, tenant, list_id, *({"email": f"c{i}@x.io"} for i in range(100)))
        assert (data["total"], data["created"]) == (100, 100)
        assert (await shown(client, tenant, list_id))["contact_count"] == 100

    async def test_batch_over_100_413(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        list_id = await new_list(client, tenant)

        response = await add(
            client, tenant, list_id, {"contacts": [{"email": f"c{i}@x.io"} for i in range(101)]}
        )

        assert response.status_code == 413
        error = error_of(response)
        assert error["code"] == "BATCH_TOO_LARGE"
        assert error["details"][0]["limit"] == 100
        assert (await shown(client, tenant, list_id))["contact_count"] == 0

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"contacts": []}, "contacts"),
            ({"contacts": [{"email": "a@x.io"}, {"email": "nope"}]}, "contacts[1].email"),
            ({"contacts": [{"email": "a@x.io"}], "if_exists": "fail"}, "if_exists"),
            ({"contacts": [{"email": "a@x.io", "list_id": "x"}]}, "contacts[0].list_id"),
        ],
        ids=["empty", "bad-email", "if-exists", "list-id-in-item"],
    )
    async def test_invalid_body_422(
        self, client: httpx.AsyncClient, tenant: Tenant, body: dict[str, Any], field: str
    ) -> None:
        list_id = await new_list(client, tenant)

        response = await add(client, tenant, list_id, body)

        assert response.status_code == 422
        assert error_of(response)["details"][0]["field"] == field
        assert (await shown(client, tenant, list_id))["contact_count"] == 0

    async def test_unknown_or_foreign_list_404(
        self, client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
    ) -> None:
        theirs = await new_list(client, other_tenant)
        for list_id in ("missing", theirs):
            response = await add(client, tenant, list_id, {"contacts": [{"email": "a@x.io"}]})
            assert response.status_code == 404
            assert error_of(response)["code"] == "LIST_NOT_FOUND"
        assert (await shown(client, other_tenant, theirs))["contact_count"] == 0


class TestMembers:
    async def test_paged_and_filtered(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        list_id = await new_list(client, tenant)
        await add_ok(client, tenant, list_id, *({"email": f"c{i}@x.io"} for i in range(5)))
        await client.post(CONTACTS, json={"email": "outside@x.io"}, headers=tenant.headers)

        response = await client.get(
            f"{LISTS}/{list_id}/contacts",
            params={"page": 2, "page_size": 2, "sort_by": "email", "sort_order": "asc"},
            headers=tenant.headers,
        )

        assert response.status_code == 200, response.text
        body = response.json()
        assert [c["email"] for c in body["data"]] == ["c2@x.io", "c3@x.io"]
        assert body["metadata"] == {"page": 2, "page_size": 2, "total_count": 5, "total_pages": 3}
        unsubscribed = await client.get(
            f"{LISTS}/{list_id}/contacts", params={"status": "unsubscribed"}, headers=tenant.headers
        )
        assert unsubscribed.json()["data"] == []

    async def test_other_workspace_404(
        self, client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
    ) -> None:
        list_id = await new_list(client, tenant)
        response = await client.get(f"{LISTS}/{list_id}/contacts", headers=other_tenant.headers)
        assert response.status_code == 404
        assert error_of(response)["code"] == "LIST_NOT_FOUND"

    async def test_remove_keeps_the_contact(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        list_id = await new_list(client, tenant)
        data = await add_ok(client, tenant, list_id, {"email": "a@x.io"})
        contact_id = data["results"][0]["contact_id"]
        url = f"{LISTS}/{list_id}/contacts/{contact_id}"

        assert (await client.delete(url, headers=tenant.headers)).status_code == 204

        again = await client.delete(url, headers=tenant.headers)
        assert again.status_code == 404
        assert error_of(again)["code"] == "LIST_MEMBER_NOT_FOUND"
        assert (await contact(client, tenant, contact_id))["list_ids"] == []
        assert (await shown(client, tenant, list_id))["contact_count"] == 0

    async def test_remove_in_another_workspace_404(
        self, client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
    ) -> None:
        list_id = await new_list(client, tenant)
        data = await add_ok(client, tenant, list_id, {"email": "a@x.io"})
        url = f"{LISTS}/{list_id}/contacts/{data['results'][0]['contact_id']}"

        assert (await client.delete(url, headers=other_tenant.headers)).status_code == 404
        assert (await shown(client, tenant, list_id))["contact_count"] == 1

    async def test_keyset_pages_for_an_enrollment(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        list_id = await new_list(client, tenant)
        data = await add_ok(client, tenant, list_id, *({"email": f"c{i}@x.io"} for i in range(5)))
        expected = sorted(r["contact_id"] for r in data["results"])

        walked: list[str] = []
        after: str | None = None
        while True:
            async with unit_of_work(sessions_of(client)) as session:
                page = await contact_store.contacts_page_for_list(session, list_id, after, 2)
            if not page:
                break
            walked.extend(c.id for c in page)
            after = page[-1].id

        assert walked == expected
