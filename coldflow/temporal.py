"""Connecting to Temporal, and the workflow sandbox every worker uses."""

from __future__ import annotations

import dataclasses

from temporalio.client import Client
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from coldflow.config import Settings


async def connect(settings: Settings) -> Client:
    """One client per process (API, worker, CLI): clients are heavy and thread-safe."""
    return await Client.connect(
        settings.resolved_temporal_address, namespace=settings.temporal_namespace
    )


def sandbox_runner() -> SandboxedWorkflowRunner:
    """The default sandbox, with ``zoneinfo.ZoneInfo`` let through.

    The schedule math runs inside workflows and needs time zones; the default restrictions
    refuse ``ZoneInfo`` (it reads files), which would fail every journey's first window check.
    Zone data comes from the pinned ``tzdata`` package, so every worker computes the same.
    """
    restrictions = dataclasses.replace(
        SandboxRestrictions.default,
        invalid_module_members=SandboxRestrictions.invalid_module_members_default.with_child_unrestricted(
            "zoneinfo", "ZoneInfo"
        ),
    )
    return SandboxedWorkflowRunner(restrictions=restrictions)
