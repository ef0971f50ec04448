"""`coldflow leads import` from a shell, against the dev server and a worker."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import httpx
from temporalio.testing import WorkflowEnvironment

from coldflow.config import Settings
from tests.fixtures.api import Tenant
from worker import build_worker


async def test_cli_imports_a_csv_and_exits_zero(
    client: httpx.AsyncClient,
    tenant: Tenant,
    settings: Settings,
    temporal_env: WorkflowEnvironment,
    tmp_path: Path,
) -> None:
    created = await client.post("/api/v1/campaigns", json={"name": "cli"}, headers=tenant.headers)
    campaign_id = created.json()["data"]["id"]
    csv_file = tmp_path / "leads.csv"
    csv_file.write_text(
        "email,first_name\n" + "".join(f"p{n}@example.com,P{n}\n" for n in range(1200))
    )
    env = {
        **os.environ,
        "COLDFLOW_DATABASE_URL": settings.database_url,
        "COLDFLOW_DATA_DIR": str(settings.data_dir),
        "COLDFLOW_TEMPORAL_ADDRESS": settings.temporal_address,
        "COLDFLOW_TASK_QUEUE": settings.task_queue,
        "COLDFLOW_SECRET_KEY": settings.secret_key,
    }
    async with build_worker(settings, temporal_env.client) as worker, worker:
        process = await asyncio.create_subprocess_exec(
            str(Path(sys.executable).parent / "coldflow"),
            "leads",
            "import",
            campaign_id,
            str(csv_file),
            "--workspace",
            tenant.name,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=90)
    assert process.returncode == 0, stderr.decode()
    summary = json.loads(stdout)
    assert summary["status"] == "completed"
    assert summary["created"] == 1200
    listed = await client.get(f"/api/v1/campaigns/{campaign_id}/leads", headers=tenant.headers)
    assert listed.json()["metadata"]["total_count"] == 1200
