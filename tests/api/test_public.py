"""The public endpoints through the real HTTP app: open pixel, click redirect, unsubscribe.

Each test sends real mail: a journey on a time-skipping server delivers step 1 over SMTP, and
the test follows the URLs found in the received bytes (pixel, rewritten links,
``List-Unsubscribe``) through ``create_app`` sharing the worker's database, secret and
Temporal server.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlmodel import select
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from coldflow.config import Settings
from coldflow.models import BlocklistEntry, Campaign, Lead
from coldflow.services import workspaces as workspace_service
from coldflow.store.db import unit_of_work
from tests.fixtures.smtp import SmtpServer
from tests.workflows.world import WEEKDAYS, StepSpec, World, open_world, schedule

ALWAYS_OPEN = schedule("UTC", days=WEEKDAYS, start="00:00", end="23:30")
BODY = (
    '<p>See <a href="https://acme.example/pricing?plan=pro&amp;ref=mail">pricing</a>, '
    '<a href="mailto:sales@acme.example">write us</a> or <a href="http://acme.example/">home</a>.'
    '</p><p><a href="{{unsubscribe_url}}">Unsubscribe</a></p>'
)
TWO_STEPS = [StepSpec("Hello {{company}}", BODY, delay_days=1), StepSpec("", "Following up")]


@dataclass
class Public:
    world: World
    http: httpx.AsyncClient
    headers: dict[str, str]

    async def mail(self, **options: Any) -> tuple[Campaign, Lead, WorkflowHandle[Any, Any], str]:
        """Step 1 of a two-step campaign, delivered; the journey waits for step 2."""
        inbox = await self.world.inbox()
        campaign = await self.world.campaign(
            TWO_STEPS, inboxes=[inbox], sched=ALWAYS_OPEN, **options
        )
        lead = await self.world.lead(campaign)
        handle = await self.world.enroll(campaign, lead)
        [received] = await self.world.smtp.wait_for(1)
        await self.world.wait_lead(lead.id, "waiting", step=2)
        return campaign, lead, handle, html_part(received.message)

    async def events(self, campaign_id: str) -> Counter[str]:
        return Counter(e.type for e in await self.world.events(campaign_id))

    async def sent_id(self, campaign_id: str) -> str:
        [sent] = await self.world.sent(campaign_id)
        return sent.id


@pytest.fixture
async def public(
    time_env: WorkflowEnvironment, database_url: str, smtp_server: SmtpServer, tmp_path: Path
) -> AsyncIterator[Public]:
    async with open_world(time_env, database_url, smtp_server, tmp_path / "data") as world:
        links = world.activities.links
        settings = Settings(
            env="test",
            data_dir=tmp_path / "api",
            database_url=database_url,
            temporal_address=time_env.client.service_client.config.target_host,
            task_queue=world.task_queue,
            secret_key=links.secret,
            public_url=links.public_url,
        )
        async with unit_of_work(world.sessions) as session:
            issued = await workspace_service.create_api_key(
                session=session, workspace_name="acme", scopes=("*",)
            )
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://cf.test") as http:
                yield Public(world, http, {"Authorization": f"Bearer {issued.secret}"})


def html_part(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    content: str = part.get_content()
    return content


def paths(html: str, kind: str) -> list[str]:
    """Paths of the tracking URLs of one kind ("o", "c") in a message, in order."""
    return re.findall(rf'"https://coldflow\.example\.com(/t/{kind}/[^"]+)"', html)


def path_of(url: str) -> str:
    return urlsplit(url).path


def error_code(response: httpx.Response) -> str:
    code: str = response.json()["error"]["code"]
    return code


class TestOpenPixel:
    async def test_gif_and_first_open_recorded_once(self, public: Public) -> None:
        campaign, lead, _handle, html = await public.mail(track_opens=True)
        [pixel] = paths(html, "o")
        assert html.rstrip().endswith('width="1" height="1" alt="">')

        first = await public.http.get(pixel)
        second = await public.http.get(pixel)

        for response in (first, second):
            assert response.status_code == 200
            assert response.headers["content-type"] == "image/gif"
            assert response.content.startswith(b"GIF89a")
            assert "no-store" in response.headers["cache-control"]
        row: Lead = await public.world.get(Lead, lead.id)
        assert row.opened_at is not None
        assert (await public.events(campaign.id))["email.opened"] == 1

    async def test_no_pixel_without_track_opens(self, public: Public) -> None:
        _campaign, _lead, _handle, html = await public.mail()
        assert paths(html, "o") == []
        assert "<img" not in html

    @pytest.mark.parametrize(
        "token",
        ["nope", "a.b", "0b7c6a52-3d4e-4f51-9a8b-1c2d3e4f5a6b.AAAAAAAAAAAAAAAAAAAAAAAA"],
        ids=["garbage", "bad-mac", "guessed-id"],
    )
    async def test_forged_token_404(self, public: Public, token: str) -> None:
        response = await public.http.get(f"/t/o/{token}")
        assert response.status_code == 404
        assert error_code(response) == "LINK_NOT_FOUND"

    async def test_signed_token_of_unknown_message_404(self, public: Public) -> None:
        url = public.world.activities.links.open_url("0b7c6a52-3d4e-4f51-9a8b-1c2d3e4f5a6b")
        assert (await public.http.get(path_of(url))).status_code == 404


class TestClick:
    async def test_redirects_to_the_original_and_records(self, public: Public) -> None:
        campaign, lead, _handle, html = await public.mail(track_clicks=True)
        pricing, home = paths(html, "c")
        assert 'href="mailto:sales@acme.example"' in html
        assert re.search(r'href="https://coldflow\.example\.com/u/[^"]+"', html)

        response = await public.http.get(pricing)

        assert response.status_code == 302
        assert response.headers["location"] == "https://acme.example/pricing?plan=pro&ref=mail"
        assert (await public.http.get(home)).headers["location"] == "http://acme.example/"
        row: Lead = await public.world.get(Lead, lead.id)
        assert row.clicked_at is not None
        assert row.opened_at is not None  # a click proves the open
        events = await public.events(campaign.id)
        assert (events["email.clicked"], events["email.opened"]) == (2, 1)
        [clicked, _] = [
            e for e in await public.world.events(campaign.id) if e.type == "email.clicked"
        ]
        assert clicked.data["url"] == "https://acme.example/pricing?plan=pro&ref=mail"

    async def test_no_open_redirect(self, public: Public) -> None:
        """A token names (message, link index): it reaches that message's link N and nothing
        else, whatever is signed or edited."""
        campaign, _lead, _handle, html = await public.mail(track_clicks=True)
        links = public.world.activities.links
        sent_id = await public.sent_id(campaign.id)

        async def follow(index: int) -> httpx.Response:
            return await public.http.get(path_of(links.click_url(sent_id, index)))

        assert (await follow(0)).headers["location"].startswith("https://acme.example/pricing")
        assert (await follow(2)).headers["location"] == "http://acme.example/"
        assert (await follow(1)).status_code == 404  # mailto: is never a redirect target
        assert (await follow(4)).status_code == 404  # the message has four links
        value, _, mac = paths(html, "c")[0].removeprefix("/t/c/").rpartition(".")
        assert value == f"{sent_id}.0"
        tampered = await public.http.get(f"/t/c/{sent_id}.2.{mac}")
        assert tampered.status_code == 404
        assert error_code(tampered) == "LINK_NOT_FOUND"
        assert "location" not in tampered.headers

    async def test_forged_token_404(self, public: Public) -> None:
        response = await public.http.get("/t/c/https%3A%2F%2Fevil.example.0.AAAA")
        assert response.status_code == 404
        assert "location" not in response.headers


class TestUnsubscribe:
    async def unsubscribe_path(self, public: Public) -> tuple[Campaign, Lead, Any, str]:
        campaign, lead, handle, _html = await public.mail()
        [received] = public.world.smtp.messages
        header = received.message["List-Unsubscribe"]
        assert received.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        url = re.search(r"<(https://[^>]+)>", header)
        assert url is not None
        assert "mailto:" in header
        return campaign, lead, handle, path_of(url.group(1))

    async def test_page_asks_and_changes_nothing(self, public: Public) -> None:
        _campaign, lead, _handle, path = await self.unsubscribe_path(public)

        response = await public.http.get(path)

        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        assert '<form method="post">' in response.text
        assert lead.email in response.text
        row: Lead = await public.world.get(Lead, lead.id)
        assert not row.is_unsubscribed

    async def test_one_click_ends_journey_and_blocks_enrollment(self, public: Public) -> None:
        campaign, lead, handle, path = await self.unsubscribe_path(public)

        response = await public.http.post(
            path,
            content=b"List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )

        assert response.status_code == 200
        assert "You are unsubscribed" in response.text
        assert await public.world.result(handle) == "stopped: unsubscribed"
        assert len(public.world.smtp.messages) == 1
        row: Lead = await public.world.get(Lead, lead.id)
        assert row.is_unsubscribed
        [entry] = await public.world.rows(select(BlocklistEntry))
        assert (entry.value, entry.source) == (lead.email, "unsubscribe")
        [event] = [
            e for e in await public.world.events(campaign.id) if e.type == "lead.unsubscribed"
        ]
        assert event.data["source"] == "one_click"
        # Later enrollment of the address is refused, in any campaign of the workspace.
        other = await public.http.post(
            "/api/v1/campaigns", json={"name": "Next"}, headers=public.headers
        )
        refused = await public.http.post(
            f"/api/v1/campaigns/{other.json()['data']['id']}/leads",
            json={"email": lead.email},
            headers=public.headers,
        )
        assert refused.status_code == 422
        assert error_code(refused) == "LEAD_BLOCKLISTED"

    async def test_repeated_and_form_posts_are_idempotent(self, public: Public) -> None:
        campaign, lead, handle, path = await self.unsubscribe_path(public)

        form = await public.http.post(path, data={"confirm": "yes"})
        empty = await public.http.post(path)
        page = await public.http.get(path)

        assert (form.status_code, empty.status_code, page.status_code) == (200, 200, 200)
        assert "You are unsubscribed" in page.text
        assert await public.world.result(handle) == "stopped: unsubscribed"
        events = [
            e for e in await public.world.events(campaign.id) if e.type == "lead.unsubscribed"
        ]
        assert [e.data["source"] for e in events] == ["link"]
        assert len(await public.world.rows(select(BlocklistEntry))) == 1
        assert (await public.world.get(Lead, lead.id)).is_unsubscribed

    @pytest.mark.parametrize("method", ["GET", "POST"])
    async def test_forged_token_404(self, public: Public, method: str) -> None:
        lead_id = "0b7c6a52-3d4e-4f51-9a8b-1c2d3e4f5a6b"
        response = await public.http.request(method, f"/u/{lead_id}.AAAAAAAAAAAAAAAAAAAAAAAA")
        assert response.status_code == 404
        assert "not valid" in response.text
        assert await public.world.rows(select(BlocklistEntry)) == []

    async def test_no_api_key_needed(self, public: Public) -> None:
        _campaign, _lead, _handle, path = await self.unsubscribe_path(public)
        assert (await public.http.get(path)).status_code == 200
        assert (await public.http.get("/api/v1/campaigns")).status_code == 401
