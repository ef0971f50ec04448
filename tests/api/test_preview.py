"""Campaign preview: every step rendered for a lead, and the simulated send timeline."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from coldflow.sequencing import VariantChoice, choose_variant
from coldflow.services import workspaces as workspace_service
from coldflow.store.db import unit_of_work
from tests.fixtures.api import Tenant, make_tenant

CAMPAIGNS = "/api/v1/campaigns"
MONDAY_8_UTC = "2025-01-06T08:00:00Z"
SARAH = {"email": "Sarah@Acme.io", "first_name": "Sarah", "company": "Acme"}
case = pytest.param


@dataclass(frozen=True)
class Api:
    client: httpx.AsyncClient
    tenant: Tenant

    async def call(
        self, method: str, path: str, body: Any = None, tenant: Tenant | None = None
    ) -> httpx.Response:
        headers = (tenant or self.tenant).headers
        return await self.client.request(method, path, json=body, headers=headers)

    async def ok(self, method: str, path: str, body: Any = None) -> Any:
        response = await self.call(method, path, body)
        assert response.status_code in (200, 201), response.text
        return response.json()["data"]

    async def campaign(self, **body: Any) -> dict[str, Any]:
        campaign: dict[str, Any] = await self.ok("POST", CAMPAIGNS, {"name": "Intro", **body})
        return campaign

    async def inbox(self, email: str, **body: Any) -> str:
        body = {"email": email, "provider": "sandbox", **body}
        inbox_id: str = (await self.ok("POST", "/api/v1/inboxes", body))["id"]
        return inbox_id

    async def preview(self, cid: str, body: dict[str, Any]) -> dict[str, Any]:
        preview: dict[str, Any] = await self.ok("POST", f"{CAMPAIGNS}/{cid}/preview", body)
        return preview


def error_of(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code
    return error


@pytest.fixture
def api(client: httpx.AsyncClient, tenant: Tenant) -> Api:
    return Api(client, tenant)


@pytest.fixture
async def two_steps(api: Api) -> dict[str, Any]:
    """Step 1 with spintax and a variable without fallback, step 2 threaded (empty subject)."""
    return await api.campaign(
        sequences=[
            {
                "subject": "{{company}} and {{SPINTAX|pipeline|revenue}}",
                "body": "Hi {{first_name}},\n\nAs {{role}} at {{company|your team}}: worth it?",
            },
            {"delay_days": 3, "subject": "", "body": "Bumping this, {{first_name|there}}."},
        ]
    )


class TestPreviewLead:
    async def test_renders_every_step_for_an_adhoc_lead(
        self, api: Api, two_steps: dict[str, Any]
    ) -> None:
        await api.ok(
            "PATCH",
            f"{CAMPAIGNS}/{two_steps['id']}/sequences/{two_steps['sequences'][0]['id']}",
            {"condition": "always"},
        )
        data = await api.preview(two_steps["id"], {"lead": SARAH})

        assert data["lead"]["email"] == "sarah@acme.io"
        assert data["lead"]["is_stored"] is False
        first, second = data["steps"]
        assert (first["step"], first["variant"], first["condition"]) == (1, "A", "always")
        assert first["subject"] in ("Acme and pipeline", "Acme and revenue")
        assert first["html"].startswith("<p>Hi Sarah,</p><p>As {{role}} at Acme: worth it?</p>")
        assert first["text"].startswith("Hi Sarah,\n\nAs {{role}} at Acme: worth it?")
        assert first["missing_variables"] == ["role"]
        assert (second["subject"], second["missing_variables"]) == (f"Re: {first['subject']}", [])
        # unsubscribe_option is on by default: every body carries the link (issue 4).
        assert second["text"].startswith("Bumping this, Sarah.\n\nUnsubscribe (http")
        assert data["missing_variables"] == ["role"]
        assert data["timeline"] is None
        # The same address always previews the same way (stable seed id).
        again = await api.preview(two_steps["id"], {"lead": {**SARAH, "email": "sarah@acme.io"}})
        assert (again["lead"]["id"], again["steps"]) == (data["lead"]["id"], data["steps"])

    async def test_stored_lead_with_sender_and_unsubscribe_link(self, api: Api) -> None:
        inbox_id = await api.inbox("alex@sender.io", first_name="Alex", signature="-- Alex")
        campaign = await api.campaign(
            sequences=[{"subject": "Hi {{first_name}}", "body": "From {{sender_name}}."}],
            inbox_ids=[inbox_id],
        )
        leads = await api.ok(
            "POST", f"{CAMPAIGNS}/{campaign['id']}/leads", {"leads": [{"email": "jo@x.io"}]}
        )
        lead_id = leads["results"][0]["id"]

        data = await api.preview(campaign["id"], {"lead_id": lead_id})

        assert data["lead"] == {"id": lead_id, "email": "jo@x.io", "is_stored": True}
        assert data["sender"]["inbox_id"] == inbox_id
        [step] = data["steps"]
        assert step["subject"] == "Hi {{first_name}}"
        assert step["missing_variables"] == ["first_name"]
        assert "From Alex." in step["text"]
        assert "-- Alex" in step["text"]

    async def test_variant_is_the_journeys_choice(self, api: Api) -> None:
        campaign = await api.campaign(sequences=[{"subject": "A", "body": "a"}])
        [step] = campaign["sequences"]
        a = step["variants"][0]
        b = await api.ok(
            "POST",
            f"{CAMPAIGNS}/{campaign['id']}/sequences/{step['id']}/variants",
            {"subject": "B", "weight": 60},
        )
        choices = [VariantChoice(a["id"], "A", 100, True), VariantChoice(b["id"], "B", 60, True)]
        for n in range(6):
            email = f"lead{n}@x.io"
            leads = await api.ok(
                "POST", f"{CAMPAIGNS}/{campaign['id']}/leads", {"leads": [{"email": email}]}
            )
            lead_id = leads["results"][0]["id"]
            data = await api.preview(campaign["id"], {"lead_id": lead_id})
            expected = choose_variant(choices, lead_id=lead_id, step=1)
            assert data["steps"][0]["variant_id"] == expected.id
            assert data["steps"][0]["subject"] == expected.label

    async def test_text_only_has_no_html(self, api: Api) -> None:
        campaign = await api.campaign(
            text_only=True,
            unsubscribe_option=False,
            sequences=[{"subject": "Hi", "body": "<p>One <b>two</b></p>"}],
        )
        [step] = (await api.preview(campaign["id"], {"lead": SARAH}))["steps"]
        assert (step["html"], step["text"]) == (None, "One two")

    @pytest.mark.parametrize(
        ("body", "code", "field"),
        [
            case({"lead": SARAH, "lead_id": "x"}, "VALIDATION_ERROR", "lead_id", id="both"),
            case({}, "VALIDATION_ERROR", "lead", id="nothing-asked"),
            case({"lead": {"email": "not-an-email"}}, "VALIDATION_ERROR", "lead.email",
                 id="bad-email"),
            case({"lead": {**SARAH, "timezone": "Mars/Base"}}, "INVALID_TIMEZONE",
                 "lead.timezone", id="bad-timezone"),
            case({"lead": {**SARAH, "title": "CEO"}}, "VALIDATION_ERROR", "lead.title",
                 id="unknown-lead-field"),
            case({"timeline": {"leads": 0}}, "VALIDATION_ERROR", "timeline.leads",
                 id="no-leads"),
            case({"timeline": {"leads": 100_001}}, "VALIDATION_ERROR", "timeline.leads",
                 id="too-many-leads"),
            case({"timeline": {"leads": 5, "start_at": "2025-01-06T08:00:00"}},
                 "VALIDATION_ERROR", "timeline.start_at", id="naive-start"),
        ],
    )  # fmt: skip
    async def test_invalid_body_422(
        self, api: Api, two_steps: dict[str, Any], body: dict[str, Any], code: str, field: str
    ) -> None:
        response = await api.call("POST", f"{CAMPAIGNS}/{two_steps['id']}/preview", body)
        error = error_of(response, 422, code)
        assert [d["field"] for d in error["details"]] == [field]

    async def test_lead_of_another_campaign_404(self, api: Api, two_steps: dict[str, Any]) -> None:
        other = await api.campaign(name="Other")
        leads = await api.ok(
            "POST", f"{CAMPAIGNS}/{other['id']}/leads", {"leads": [{"email": "jo@x.io"}]}
        )
        body = {"lead_id": leads["results"][0]["id"]}
        response = await api.call("POST", f"{CAMPAIGNS}/{two_steps['id']}/preview", body)
        error_of(response, 404, "LEAD_NOT_FOUND")

    async def test_missing_key_401(
        self, client: httpx.AsyncClient, two_steps: dict[str, Any]
    ) -> None:
        response = await client.post(f"{CAMPAIGNS}/{two_steps['id']}/preview", json={"lead": SARAH})
        error_of(response, 401, "API_KEY_MISSING")

    async def test_missing_scope_403(self, api: Api, two_steps: dict[str, Any]) -> None:
        sessions = api.client.app.state.sessions  # type: ignore[attr-defined]
        lead_reader = await make_tenant(sessions, "lead-readers", scopes=("leads:read",))
        url = f"{CAMPAIGNS}/{two_steps['id']}/preview"
        error = error_of(
            await api.call("POST", url, {"lead": SARAH}, lead_reader), 403, "INSUFFICIENT_SCOPE"
        )
        assert error["details"] == [{"required_scope": "campaigns:read"}]

    async def test_stored_lead_needs_leads_read_403(
        self, api: Api, two_steps: dict[str, Any]
    ) -> None:
        sessions = api.client.app.state.sessions  # type: ignore[attr-defined]
        async with unit_of_work(sessions) as session:
            issued = await workspace_service.create_api_key(
                session=session, workspace_name=api.tenant.name, scopes=("campaigns:read",)
            )
        reader = Tenant(api.tenant.workspace_id, api.tenant.name, issued.secret)
        url = f"{CAMPAIGNS}/{two_steps['id']}/preview"
        assert (await api.call("POST", url, {"lead": SARAH}, reader)).status_code == 200
        error = error_of(
            await api.call("POST", url, {"lead_id": "any"}, reader), 403, "INSUFFICIENT_SCOPE"
        )
        assert error["details"] == [{"required_scope": "leads:read"}]

    async def test_other_workspace_404(
        self, api: Api, two_steps: dict[str, Any], other_tenant: Tenant
    ) -> None:
        url = f"{CAMPAIGNS}/{two_steps['id']}/preview"
        response = await api.call("POST", url, {"lead": SARAH}, other_tenant)
        error_of(response, 404, "CAMPAIGN_NOT_FOUND")


class TestPreviewTimeline:
    async def test_limit_and_inboxes_spread_step_one_over_days(self, api: Api) -> None:
        inboxes = [await api.inbox(f"s{n}@sender.io", daily_campaign_limit=30) for n in (1, 2)]
        campaign = await api.campaign(daily_limit=50, inbox_ids=inboxes)

        data = await api.preview(
            campaign["id"], {"timeline": {"start_at": MONDAY_8_UTC, "leads": 120}}
        )

        timeline = data["timeline"]
        assert data["steps"] is None
        assert [(d["date"], d["first_steps"], d["follow_ups"]) for d in timeline["days"]] == [
            ("2025-01-06", 50, 0),
            ("2025-01-07", 50, 0),
            ("2025-01-08", 20, 0),
        ]
        assert timeline["steps"] == [
            {"step": 1, "sent": 120, "first_day": "2025-01-06", "last_day": "2025-01-08"}
        ]
        assert (timeline["inboxes"], timeline["daily_capacity"]) == (2, 50)
        assert (timeline["finishes_on"], timeline["unsent"], timeline["warnings"]) == (
            "2025-01-08", 0, [],
        )  # fmt: skip

    async def test_follow_ups_after_their_delay_with_a_lead_preview(
        self, api: Api, two_steps: dict[str, Any]
    ) -> None:
        body = {"lead": SARAH, "timeline": {"start_at": MONDAY_8_UTC, "leads": 10}}

        data = await api.preview(two_steps["id"], body)

        days = [(d["date"], d["first_steps"], d["follow_ups"]) for d in data["timeline"]["days"]]
        assert days == [("2025-01-06", 10, 0), ("2025-01-09", 0, 10)]
        assert [s["send_at"] for s in data["steps"]] == [
            "2025-01-06T09:00:00Z",
            "2025-01-09T09:00:00Z",
        ]
        # No inbox attached: simulated anyway, and said so.
        assert data["timeline"]["inboxes"] == 1
        assert "No active, connected inbox" in data["timeline"]["warnings"][0]
