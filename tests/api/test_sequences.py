"""Sequence and variant endpoints (seed 003): steps, delays, letters, content rules, scopes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.fixtures.api import Tenant, make_tenant

CAMPAIGNS = "/api/v1/campaigns"
UNSUBSCRIBE_HREF = 'href="{{unsubscribe_url}}"'
case = pytest.param


@dataclass(frozen=True)
class Api:
    """The tenant's calls, relative to /api/v1/campaigns."""

    client: httpx.AsyncClient
    tenant: Tenant

    async def call(self, method: str, path: str, body: Any = None) -> httpx.Response:
        return await self.client.request(
            method, CAMPAIGNS + path, json=body, headers=self.tenant.headers
        )

    async def ok(self, method: str, path: str, body: Any = None) -> Any:
        response = await self.call(method, path, body)
        assert response.status_code in (200, 201, 204), response.text
        return response.json()["data"] if response.content else None

    async def campaign(self, **body: Any) -> str:
        campaign_id: str = (await self.ok("POST", "", {"name": "Outreach", **body}))["id"]
        return campaign_id

    async def steps(self, cid: str) -> list[dict[str, Any]]:
        steps: list[dict[str, Any]] = await self.ok("GET", f"/{cid}/sequences")
        return steps

    async def add_step(self, cid: str, **body: Any) -> dict[str, Any]:
        step: dict[str, Any] = await self.ok("POST", f"/{cid}/sequences", body)
        return step

    async def add_variant(self, cid: str, sid: str, **body: Any) -> dict[str, Any]:
        body.setdefault("subject", "Hello {{first_name|there}}")
        variant: dict[str, Any] = await self.ok("POST", f"/{cid}/sequences/{sid}/variants", body)
        return variant


def error_of(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code
    return error


def fields_of(error: dict[str, Any]) -> list[str]:
    return [d.get("field") for d in error["details"]]


@dataclass(frozen=True)
class Target:
    campaign_id: str
    sequence_id: str
    variant_id: str


@pytest.fixture
def api(client: httpx.AsyncClient, tenant: Tenant) -> Api:
    return Api(client, tenant)


@pytest.fixture
async def target(api: Api) -> Target:
    """A campaign whose one step has variants A and B (B may be deleted or disabled)."""
    cid = await api.campaign()
    [step] = await api.steps(cid)
    variant = await api.add_variant(cid, step["id"])
    return Target(cid, step["id"], variant["id"])


class Guarded:
    """401 without a key, 403 without the scope, 404 for another workspace: the guards of the
    endpoint each class below names with its method, path and body."""

    method = "GET"
    path = "/{c}/sequences"
    body: dict[str, Any] | None = None

    async def call(
        self, client: httpx.AsyncClient, target: Target, headers: dict[str, str]
    ) -> httpx.Response:
        ids = {"c": target.campaign_id, "s": target.sequence_id, "v": target.variant_id}
        url = CAMPAIGNS + self.path.format(**ids)
        return await client.request(self.method, url, json=self.body, headers=headers)

    async def test_missing_key_401(self, client: httpx.AsyncClient, target: Target) -> None:
        error_of(await self.call(client, target, {}), 401, "API_KEY_MISSING")

    async def test_missing_scope_403(self, client: httpx.AsyncClient, target: Target) -> None:
        # Reads need campaigns:read; a campaigns:read key is refused every write.
        needed = "campaigns:read" if self.method == "GET" else "campaigns:write"
        held = "leads:read" if self.method == "GET" else "campaigns:read"
        sessions = client.app.state.sessions  # type: ignore[attr-defined]
        key = await make_tenant(sessions, "limited", scopes=(held,))
        error = error_of(await self.call(client, target, key.headers), 403, "INSUFFICIENT_SCOPE")
        assert error["details"] == [{"required_scope": needed}]

    async def test_other_workspace_404(
        self, api: Api, target: Target, other_tenant: Tenant
    ) -> None:
        response = await self.call(api.client, target, other_tenant.headers)
        error_of(response, 404, "CAMPAIGN_NOT_FOUND")
        assert [len(s["variants"]) for s in await api.steps(target.campaign_id)] == [2]


class TestListSequences(Guarded):
    async def test_lists_steps_in_order_with_variants(self, api: Api) -> None:
        cid = await api.campaign(
            sequences=[
                {"step": 1, "subject": "Hi {{first_name}}", "body": "One"},
                {"step": 2, "delay_days": 4, "subject": "", "body": "Two"},
            ]
        )

        steps = await api.steps(cid)

        assert [(s["step"], s["delay_days"], s["condition"]) for s in steps] == [
            (1, 4, "not_replied"),
            (2, None, "not_replied"),
        ]
        [variant] = steps[0]["variants"]
        assert variant["letter"] == "A"
        assert (variant["subject"], variant["weight"], variant["enabled"]) == (
            "Hi {{first_name}}", 100, True,
        )  # fmt: skip
        assert steps[1]["variants"][0]["subject"] is None


class TestCreateSequence(Guarded):
    method, path, body = "POST", "/{c}/sequences", {}

    async def test_appends_a_last_step_with_variant_a(self, api: Api) -> None:
        cid = await api.campaign()
        before = (await api.ok("GET", f"/{cid}"))["updated_at"]

        step = await api.add_step(cid, delay_days=5, condition="always")

        assert (step["step"], step["delay_days"], step["condition"]) == (2, None, "always")
        [variant] = step["variants"]
        assert (variant["letter"], variant["subject"], variant["enabled"]) == ("A", None, True)
        # unsubscribe_option is on by default: the new body is just the unsubscribe block.
        assert UNSUBSCRIBE_HREF in variant["body_html"]
        assert "{{unsubscribe_url}}" in variant["body_text"]
        assert (await api.ok("GET", f"/{cid}"))["updated_at"] > before

    async def test_previous_delay_becomes_meaningful_again(self, api: Api) -> None:
        cid = await api.campaign()
        await api.add_step(cid, delay_days=5)
        await api.add_step(cid)
        # Step 1 never had a delay (default 3), step 2 keeps the 5 sent with it, 3 is last.
        assert [s["delay_days"] for s in await api.steps(cid)] == [3, 5, None]

    async def test_without_unsubscribe_option_body_is_null(self, api: Api) -> None:
        [variant] = (await api.add_step(await api.campaign(unsubscribe_option=False)))["variants"]
        assert (variant["body_html"], variant["body_text"]) == (None, None)

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            case({"delay_days": -1}, "delay_days", id="negative-delay"),
            case({"delay_days": 366}, "delay_days", id="delay-over-a-year"),
            case({"delay_days": "soon"}, "delay_days", id="delay-not-a-number"),
            case({"condition": "sometimes"}, "condition", id="bad-condition"),
            case({"step": 4}, "step", id="unknown-field"),
        ],
    )
    async def test_invalid_body_422(
        self, api: Api, target: Target, body: dict[str, Any], field: str
    ) -> None:
        response = await api.call("POST", f"/{target.campaign_id}/sequences", body)
        assert fields_of(error_of(response, 422, "VALIDATION_ERROR")) == [field]

    async def test_too_many_steps_409(self, api: Api, target: Target) -> None:
        for _ in range(49):
            await api.add_step(target.campaign_id)
        response = await api.call("POST", f"/{target.campaign_id}/sequences", {})
        error_of(response, 409, "TOO_MANY_STEPS")


class TestUpdateSequence(Guarded):
    method, path, body = "PATCH", "/{c}/sequences/{s}", {"delay_days": 1}

    async def test_changes_delay_and_condition(self, api: Api, target: Target) -> None:
        await api.add_step(target.campaign_id)
        data = await api.ok(
            "PATCH",
            f"/{target.campaign_id}/sequences/{target.sequence_id}",
            {"delay_days": 7, "condition": "not_opened"},
        )
        assert (data["step"], data["delay_days"], data["condition"]) == (1, 7, "not_opened")
        assert [v["letter"] for v in data["variants"]] == ["A", "B"]

    async def test_delay_of_last_step_is_kept_for_later(self, api: Api, target: Target) -> None:
        cid, url = target.campaign_id, f"/{target.campaign_id}/sequences/{target.sequence_id}"
        assert (await api.ok("PATCH", url, {"delay_days": 6}))["delay_days"] is None
        await api.add_step(cid)
        assert [s["delay_days"] for s in await api.steps(cid)] == [6, None]

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            case({"delay_days": None}, "delay_days", id="null-delay"),
            case({"delay_days": -2}, "delay_days", id="negative-delay"),
            case({"condition": None}, "condition", id="null-condition"),
            case({"condition": "replied"}, "condition", id="bad-condition"),
            case({"position": 2}, "position", id="unknown-field"),
        ],
    )
    async def test_invalid_body_422(
        self, api: Api, target: Target, body: dict[str, Any], field: str
    ) -> None:
        url = f"/{target.campaign_id}/sequences/{target.sequence_id}"
        response = await api.call("PATCH", url, body)
        assert fields_of(error_of(response, 422, "VALIDATION_ERROR")) == [field]

    async def test_step_of_another_campaign_404(self, api: Api, target: Target) -> None:
        other = await api.campaign(name="Other")
        url = f"/{other}/sequences/{target.sequence_id}"
        error_of(await api.call("PATCH", url, {"delay_days": 1}), 404, "SEQUENCE_NOT_FOUND")


class TestDeleteSequence(Guarded):
    method, path = "DELETE", "/{c}/sequences/{s}"

    async def test_later_steps_move_up(self, api: Api, target: Target) -> None:
        cid = target.campaign_id
        for delay in (4, 5, 6):
            await api.add_step(cid, delay_days=delay)
        before = await api.steps(cid)

        response = await api.call("DELETE", f"/{cid}/sequences/{before[1]['id']}")

        assert response.status_code == 204, response.text
        after = await api.steps(cid)
        assert [s["step"] for s in after] == [1, 2, 3]
        assert [s["id"] for s in after] == [before[0]["id"], before[2]["id"], before[3]["id"]]
        assert [s["delay_days"] for s in after] == [3, 5, None]

    async def test_deleting_the_last_step_makes_the_previous_one_last(
        self, api: Api, target: Target
    ) -> None:
        step = await api.add_step(target.campaign_id)
        url = f"/{target.campaign_id}/sequences/{step['id']}"
        assert (await api.call("DELETE", url)).status_code == 204
        assert [s["delay_days"] for s in await api.steps(target.campaign_id)] == [None]
        error_of(await api.call("DELETE", url), 404, "SEQUENCE_NOT_FOUND")


class TestCreateVariant(Guarded):
    method, path, body = "POST", "/{c}/sequences/{s}/variants", {"subject": "Hi"}

    async def test_adds_next_letter_with_sanitized_body(self, api: Api, target: Target) -> None:
        variant = await api.add_variant(
            target.campaign_id,
            target.sequence_id,
            subject="  Quick question, {{first_name|there}}  ",
            body_html='<p onclick="x()">Hi <b>{{first_name}}</b></p><script>alert(1)</script>',
            weight=30,
        )

        assert variant["letter"] == "C"
        assert variant["subject"] == "Quick question, {{first_name|there}}"
        assert variant["body_html"].startswith("<p>Hi <b>{{first_name}}</b></p><p><a ")
        assert UNSUBSCRIBE_HREF in variant["body_html"]
        assert "script" not in variant["body_html"]
        assert "onclick" not in variant["body_html"]
        assert variant["body_text"].startswith("Hi {{first_name}}\n\nUnsubscribe (")
        assert (variant["weight"], variant["enabled"]) == (30, True)

    async def test_plain_text_becomes_paragraphs(self, api: Api) -> None:
        cid = await api.campaign(unsubscribe_option=False)
        [step] = await api.steps(cid)
        variant = await api.add_variant(cid, step["id"], body_html="One\n\nTwo & co")
        assert variant["body_html"] == "<p>One</p><p>Two &amp; co</p>"
        assert variant["body_text"] == "One\n\nTwo & co"

    async def test_existing_unsubscribe_link_is_not_doubled(self, api: Api, target: Target) -> None:
        body = '<p>Hi</p><p><a href="{{ Unsubscribe URL }}">opt out</a></p>'
        variant = await api.add_variant(target.campaign_id, target.sequence_id, body_html=body)
        assert variant["body_html"].count("<a ") == 1

    @pytest.mark.parametrize(
        ("body", "code", "field"),
        [
            case({"subject": ""}, "VALIDATION_ERROR", "subject", id="empty-subject"),
            case({"subject": "   "}, "VALIDATION_ERROR", "subject", id="blank-subject"),
            case({"subject": "Hi\r\nBcc: x@y.z"}, "INVALID_SUBJECT", "subject",
                 id="subject-line-break"),
            case({"subject": "Hi {{first_name"}, "TEMPLATE_SYNTAX_ERROR", "subject",
                 id="subject-syntax"),
            case({"body_html": "<p>Hi {{name}</p>"}, "TEMPLATE_SYNTAX_ERROR", "body_html",
                 id="body-syntax"),
            case({"weight": 101}, "VALIDATION_ERROR", "weight", id="weight-over-100"),
            case({"weight": -1}, "VALIDATION_ERROR", "weight", id="negative-weight"),
            case({"letter": "Z"}, "VALIDATION_ERROR", "letter", id="unknown-field"),
        ],
    )  # fmt: skip
    async def test_invalid_body_422(
        self, api: Api, target: Target, body: dict[str, Any], code: str, field: str
    ) -> None:
        url = f"/{target.campaign_id}/sequences/{target.sequence_id}/variants"
        response = await api.call("POST", url, {"subject": "Hello", **body})
        assert fields_of(error_of(response, 422, code)) == [field]

    async def test_syntax_error_gives_the_offset(self, api: Api, target: Target) -> None:
        url = f"/{target.campaign_id}/sequences/{target.sequence_id}/variants"
        body = {"subject": "Hello", "body_html": "Hi {{first_name, how are you"}
        [detail] = error_of(await api.call("POST", url, body), 422, "TEMPLATE_SYNTAX_ERROR")[
            "details"
        ]
        assert (detail["field"], detail["offset"]) == ("body_html", 3)


class TestUpdateVariant(Guarded):
    method, path, body = "PATCH", "/{c}/variants/{v}", {"weight": 10}

    async def test_changes_fields(self, api: Api, target: Target) -> None:
        data = await api.ok(
            "PATCH",
            f"/{target.campaign_id}/variants/{target.variant_id}",
            {"subject": "New {{company|subject}}", "weight": 0, "enabled": False},
        )
        assert (data["letter"], data["subject"], data["weight"], data["enabled"]) == (
            "B", "New {{company|subject}}", 0, False,
        )  # fmt: skip

    async def test_removed_unsubscribe_link_is_re_added(self, api: Api, target: Target) -> None:
        url = f"/{target.campaign_id}/variants/{target.variant_id}"
        body_html = (await api.ok("PATCH", url, {"body_html": "<p>No way out</p>"}))["body_html"]
        assert body_html.startswith("<p>No way out</p>")
        assert UNSUBSCRIBE_HREF in body_html

    async def test_empty_subject_allowed_for_threaded_follow_ups(
        self, api: Api, target: Target
    ) -> None:
        url = f"/{target.campaign_id}/variants/{target.variant_id}"
        assert (await api.ok("PATCH", url, {"subject": ""}))["subject"] is None

    async def test_last_enabled_variant_cannot_be_disabled(self, api: Api, target: Target) -> None:
        variant_a = (await api.steps(target.campaign_id))[0]["variants"][0]["id"]
        off = {"enabled": False}
        await api.ok("PATCH", f"/{target.campaign_id}/variants/{target.variant_id}", off)

        response = await api.call("PATCH", f"/{target.campaign_id}/variants/{variant_a}", off)

        assert fields_of(error_of(response, 422, "CANNOT_DISABLE_LAST_VARIANT")) == ["enabled"]

    @pytest.mark.parametrize(
        ("body", "code", "field"),
        [
            case({"subject": None}, "VALIDATION_ERROR", "subject", id="null-subject"),
            case({"enabled": None}, "VALIDATION_ERROR", "enabled", id="null-enabled"),
            case({"subject": "{{SPINTAX|only}}"}, "TEMPLATE_SYNTAX_ERROR", "subject",
                 id="spintax-one-option"),
            case({"body_html": "Hi {{#if x}}"}, "TEMPLATE_SYNTAX_ERROR", "body_html",
                 id="foreign-directive"),
            case({"subject": "a\nb"}, "INVALID_SUBJECT", "subject", id="subject-line-break"),
            case({"weight": 1000}, "VALIDATION_ERROR", "weight", id="weight-over-100"),
            case({"text": "x"}, "VALIDATION_ERROR", "text", id="unknown-field"),
        ],
    )  # fmt: skip
    async def test_invalid_body_422(
        self, api: Api, target: Target, body: dict[str, Any], code: str, field: str
    ) -> None:
        response = await api.call(
            "PATCH", f"/{target.campaign_id}/variants/{target.variant_id}", body
        )
        assert fields_of(error_of(response, 422, code)) == [field]

    async def test_variant_of_another_campaign_404(self, api: Api, target: Target) -> None:
        other = await api.campaign(name="Other")
        response = await api.call("PATCH", f"/{other}/variants/{target.variant_id}", {})
        error_of(response, 404, "VARIANT_NOT_FOUND")


class TestDeleteVariant(Guarded):
    method, path = "DELETE", "/{c}/variants/{v}"

    async def test_deleted_letter_is_not_reused(self, api: Api, target: Target) -> None:
        cid, sid = target.campaign_id, target.sequence_id
        await api.add_variant(cid, sid)  # C
        assert (await api.call("DELETE", f"/{cid}/variants/{target.variant_id}")).status_code == 204

        added = await api.add_variant(cid, sid)

        assert added["letter"] == "D"
        assert [v["letter"] for v in (await api.steps(cid))[0]["variants"]] == ["A", "C", "D"]

    async def test_last_enabled_variant_cannot_be_deleted(self, api: Api, target: Target) -> None:
        cid = target.campaign_id
        await api.ok("PATCH", f"/{cid}/variants/{target.variant_id}", {"enabled": False})
        variant_a = (await api.steps(cid))[0]["variants"][0]["id"]

        response = await api.call("DELETE", f"/{cid}/variants/{variant_a}")

        assert fields_of(error_of(response, 422, "CANNOT_DELETE_LAST_VARIANT")) == ["variant_id"]
        # The disabled B can go; then A is the only variant and still cannot.
        assert (await api.call("DELETE", f"/{cid}/variants/{target.variant_id}")).status_code == 204
        response = await api.call("DELETE", f"/{cid}/variants/{variant_a}")
        error_of(response, 422, "CANNOT_DELETE_LAST_VARIANT")
