"""The ``world`` fixture: a fresh database and a worker on the test's own time-skipping server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.fixtures.smtp import SmtpServer
from tests.workflows.world import World, open_world


@pytest.fixture
async def world(
    time_env: WorkflowEnvironment, database_url: str, smtp_server: SmtpServer, tmp_path: Path
) -> AsyncIterator[World]:
    """Everything a journey needs, with a running worker that fails workflows on any bug."""
    async with open_world(time_env, database_url, smtp_server, tmp_path / "data") as world:
        yield world
