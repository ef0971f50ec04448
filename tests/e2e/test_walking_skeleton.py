"""The pipes end to end: API → Temporal → worker → SMTP, on the dev server and time-skipping."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import httpx
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from coldflow.config import Settings
from coldflow.ids import journey_workflow_id
from tests.e2e.helpers import add_lead, create_inbox, create_two_step_campaign, zone_open_now
from tests.fixtures.api import Tenant
from tests.fixtures.smtp import SmtpServer
from tests.fixtures.temporal import raw_describe
from worker import build_worker


def test_cli_creates_workspace_and_key(settings: Settings) -> None:
    """The CLI's --json output is one object a script can parse, and the key works."""
    env = {
        **os.environ,
        "COLDFLOW_DATABASE_URL": settings.database_url,
        "COLDFLOW_DATA_DIR": str(settings.data_dir),
    }
    coldflow = str(Path(sys.executable).parent / "coldflow")
    created = subprocess.run(
        [coldflow, "workspace", "create", "cli-team", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    workspace = json.loads(created.stdout)
    assert workspace["api_key"].startswith("cf_")
    issued = subprocess.run(
        [
            coldflow,
            "key",
            "create",
            "--workspace",
            "cli-team",
            "--scope",
            "campaigns:read",
            "--json",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    key = json.loads(issued.stdout)
    assert key["workspace_id"] == workspace["workspace_id"]
    assert key["scopes"] == ["campaigns:read"]
    missing = subprocess.run(
        [coldflow, "key", "create", "--workspace", "nope"], env=env, capture_output=True, text=True
    )
    assert missing.returncode == 1
    assert "WORKSPACE_NOT_FOUND" in missing.stderr


async def test_step_one_arrives_on_dev_server(
    client: httpx.AsyncClient,
    tenant: Tenant,
    smtp_server: SmtpServer,
    settings: Settings,
    temporal_env: WorkflowEnvironment,
) -> None:
    async with build_worker(settings, temporal_env.client) as worker, worker:
        inbox = await create_inbox(client, tenant, smtp_server)
        campaign = await create_two_step_campaign(client, tenant, inbox["id"], zone_open_now())
        lead_id = await add_lead(client, tenant, campaign["id"])
        response = await client.post(
            f"/api/v1/campaigns/{campaign['id']}/activate", headers=tenant.headers
        )
        assert response.status_code == 200, response.text
        [received] = await smtp_server.wait_for(1)
    message = received.message
    assert received.rcpt_tos == ["sarah@lead.example.com"]
    assert message["Subject"] == "Acme Corp and pipelines"
    assert "Hi Sarah," in message.get_body(("plain",)).get_content()
    assert message["Message-ID"].endswith("@sender.example.com>")
    lead = (await client.get(f"/api/v1/leads/{lead_id}", headers=tenant.headers)).json()["data"]
    assert lead["status"] == "contacted"
    assert lead["journey"]["workflow_id"] == journey_workflow_id(campaign["id"], lead_id)


async def test_second_step_threads_after_delay_time_skipping(
    client: httpx.AsyncClient,
    tenant: Tenant,
    smtp_server: SmtpServer,
    settings: Settings,
    time_env: WorkflowEnvironment,
) -> None:
    """On the time-skipping server the whole two-step journey runs in seconds."""
    client.app.state.journeys._client = time_env.client  # type: ignore[attr-defined]
    async with build_worker(settings, time_env.client) as worker, worker:
        inbox = await create_inbox(client, tenant, smtp_server)
        campaign = await create_two_step_campaign(
            client, tenant, inbox["id"], zone_open_now(), delay_days=3
        )
        lead_id = await add_lead(client, tenant, campaign["id"])
        started = await time_env.get_current_time()
        response = await client.post(
            f"/api/v1/campaigns/{campaign['id']}/activate", headers=tenant.headers
        )
        assert response.status_code == 200, response.text
        handle = time_env.client.get_workflow_handle(journey_workflow_id(campaign["id"], lead_id))
        await smtp_server.wait_for(1)
        assert len(smtp_server.messages) == 1  # step 2 waits out its delay
        await time_env.sleep(timedelta(days=3, minutes=1))
        await smtp_server.wait_for(2)
        assert await handle.result() == "completed"
    first, second = smtp_server.messages
    elapsed = await time_env.get_current_time() - started
    assert elapsed >= timedelta(days=3)
    assert second.message["In-Reply-To"] == first.message["Message-ID"]
    assert second.message["References"] == first.message["Message-ID"]
    assert second.message["Subject"] == "Re: Acme Corp and pipelines"
    status = (await raw_describe(handle)).workflow_execution_info.status
    assert status == WorkflowExecutionStatus.COMPLETED.value
