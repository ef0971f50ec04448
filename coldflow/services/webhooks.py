"""Webhook endpoint use cases: create, change, rotate, list attempts, redeliver, test; and the
Temporal starts of deliveries and of the event relay.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client, WorkflowFailureError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from coldflow.contracts.webhooks import (
    EVENT_RELAY_WORKFLOW,
    EVENT_TYPES,
    WEBHOOK_DELIVERY_WORKFLOW,
    DeliveryInput,
    DeliveryResult,
    RelayInput,
    delivery_workflow_id,
    relay_workflow_id,
)
from coldflow.crypto import SecretBox
from coldflow.errors import InvalidInput, NotFound, Unavailable
from coldflow.ids import new_id
from coldflow.models import WebhookEndpoint
from coldflow.models.base import utcnow
from coldflow.schemas.webhooks import WebhookCreate, WebhookUpdate
from coldflow.services.journeys import Journeys
from coldflow.services.webhook_delivery import check_url
from coldflow.store import campaigns as campaign_store
from coldflow.store import webhooks as store
from coldflow.webhook_signing import new_secret

# How long the previous secret keeps signing after a rotation.
ROTATION_OVERLAP = timedelta(hours=24)
# A test delivery is one attempt of at most the HTTP timeout; this bounds the API's wait.
TEST_WAIT_SECONDS = 30.0


async def get_endpoint(
    *, session: AsyncSession, workspace_id: str, endpoint_id: str
) -> WebhookEndpoint:
    endpoint = await store.get_endpoint(session, workspace_id, endpoint_id)
    if endpoint is None:
        raise NotFound("webhook", endpoint_id)
    return endpoint


def normalize_events(events: list[str] | None) -> list[str]:
    """Catalogue order, duplicates removed; empty means every type. 422 names an unknown one."""
    for index, name in enumerate(events or []):
        if name not in EVENT_TYPES:
            raise InvalidInput.field(
                f"events[{index}]",
                f"unknown event type {name!r}; one of: {', '.join(EVENT_TYPES)}",
                code="WEBHOOK_EVENT_UNKNOWN",
            )
    chosen = set(events or [])
    return [name for name in EVENT_TYPES if name in chosen]


async def _check_campaign(session: AsyncSession, workspace_id: str, campaign_id: str) -> None:
    if await campaign_store.get_campaign(session, workspace_id, campaign_id) is None:
        raise NotFound("campaign", campaign_id)


async def create_endpoint(
    *,
    session: AsyncSession,
    box: SecretBox,
    workspace_id: str,
    data: WebhookCreate,
    allow_private: bool,
) -> tuple[WebhookEndpoint, str]:
    """The new endpoint and its secret in clear text, which is never readable again."""
    events = normalize_events(data.events)
    await check_url(data.url, allow_private=allow_private)
    if data.campaign_id is not None:
        await _check_campaign(session, workspace_id, data.campaign_id)
    secret = new_secret()
    endpoint = WebhookEndpoint(
        workspace_id=workspace_id,
        url=data.url,
        events=events,
        campaign_id=data.campaign_id,
        is_active=data.is_active,
        secret=box.encrypt(secret),
    )
    session.add(endpoint)
    await session.flush()
    return endpoint, secret


async def update_endpoint(
    *,
    session: AsyncSession,
    workspace_id: str,
    endpoint_id: str,
    data: WebhookUpdate,
    allow_private: bool,
) -> WebhookEndpoint:
    """Apply the sent fields; re-activating clears the disabled reason and the failing streak."""
    endpoint = await get_endpoint(
        session=session, workspace_id=workspace_id, endpoint_id=endpoint_id
    )
    changes: dict[str, Any] = data.model_dump(exclude_unset=True)
    if "events" in changes:
        endpoint.events = normalize_events(changes["events"])
    if changes.get("url") is not None:
        await check_url(changes["url"], allow_private=allow_private)
        endpoint.url = changes["url"]
    if "campaign_id" in changes:
        if changes["campaign_id"] is not None:
            await _check_campaign(session, workspace_id, changes["campaign_id"])
        endpoint.campaign_id = changes["campaign_id"]
    if changes.get("is_active") is not None:
        endpoint.is_active = changes["is_active"]
        if endpoint.is_active:
            endpoint.disabled_reason = None
            endpoint.failing_since = None
    endpoint.updated_at = utcnow()
    session.add(endpoint)
    await session.flush()
    return endpoint


async def delete_endpoint(*, session: AsyncSession, workspace_id: str, endpoint_id: str) -> None:
    """Its attempts go with it; a delivery still retrying finds it gone and stops."""
    endpoint = await get_endpoint(
        session=session, workspace_id=workspace_id, endpoint_id=endpoint_id
    )
    await session.delete(endpoint)
    await session.flush()


async def rotate_secret(
    *, session: AsyncSession, box: SecretBox, workspace_id: str, endpoint_id: str
) -> tuple[WebhookEndpoint, str, datetime]:
    """A new secret, and until when the current one keeps signing alongside it (24 hours).

    Rotating again within those hours drops the oldest: only one previous secret is kept.
    """
    endpoint = await get_endpoint(
        session=session, workspace_id=workspace_id, endpoint_id=endpoint_id
    )
    secret = new_secret()
    now = utcnow()
    expires = now + ROTATION_OVERLAP
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = expires
    endpoint.secret = box.encrypt(secret)
    endpoint.updated_at = now
    session.add(endpoint)
    await session.flush()
    return endpoint, secret, expires


async def redeliver(
    *,
    session: AsyncSession,
    journeys: Journeys,
    workspace_id: str,
    endpoint_id: str,
    delivery_id: str,
) -> tuple[str, str]:
    """A new delivery run of that attempt's event (its full retry schedule); (event, workflow).

    It replaces a run of the same event that is still waiting to retry: the newest request
    counts. Attempt numbers continue after the last recorded one.
    """
    endpoint = await get_endpoint(
        session=session, workspace_id=workspace_id, endpoint_id=endpoint_id
    )
    delivery = await store.get_delivery(session, workspace_id, endpoint.id, delivery_id)
    if delivery is None:
        raise NotFound("webhook_delivery", delivery_id)
    inp = DeliveryInput(
        workspace_id=workspace_id,
        endpoint_id=endpoint.id,
        event_id=delivery.event_id,
        attempt_offset=await store.last_attempt(session, endpoint.id, delivery.event_id),
        force=True,
    )
    workflow_id = delivery_workflow_id(endpoint.id, delivery.event_id)
    await journeys.start_task(WEBHOOK_DELIVERY_WORKFLOW, inp, workflow_id=workflow_id)
    return delivery.event_id, workflow_id


async def send_test(
    *, session: AsyncSession, journeys: Journeys, workspace_id: str, endpoint_id: str
) -> tuple[str, DeliveryResult]:
    """Deliver a synthetic ``webhook.test`` event once, through the worker, and wait for it.

    The worker writes the event row itself, so nothing here needs committing before the wait.
    Inactive endpoints are tested too: that is how one checks a fix before re-enabling.
    """
    endpoint = await get_endpoint(
        session=session, workspace_id=workspace_id, endpoint_id=endpoint_id
    )
    event_id = new_id()
    inp = DeliveryInput(
        workspace_id=workspace_id,
        endpoint_id=endpoint.id,
        event_id=event_id,
        max_attempts=1,
        force=True,
        is_test=True,
    )
    client = await journeys.client()
    try:
        handle = await client.start_workflow(
            WEBHOOK_DELIVERY_WORKFLOW,
            inp,
            result_type=DeliveryResult,
            id=delivery_workflow_id(endpoint.id, event_id),
            task_queue=journeys.task_queue,
            execution_timeout=timedelta(seconds=TEST_WAIT_SECONDS),
            static_summary=f"test delivery to {endpoint.url}",
        )
        result = await asyncio.wait_for(handle.result(), timeout=TEST_WAIT_SECONDS + 5)
    except (RPCError, TimeoutError, WorkflowFailureError) as exc:
        raise Unavailable(
            "The test delivery did not finish: is a worker running?", code="WEBHOOK_TEST_TIMEOUT"
        ) from exc
    return event_id, result


async def start_delivery(client: Client, task_queue: str, inp: DeliveryInput) -> None:
    """Start one (endpoint, event) delivery unless it runs or ran already (the relay's start)."""
    try:
        await client.start_workflow(
            WEBHOOK_DELIVERY_WORKFLOW,
            inp,
            id=delivery_workflow_id(inp.endpoint_id, inp.event_id),
            task_queue=task_queue,
            # A running delivery is left alone, a finished one is never repeated: the relay
            # may offer an event again after a crash, and the receiver gets it once.
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
    except WorkflowAlreadyStartedError:
        pass


async def ensure_relay(client: Client, task_queue: str) -> str:
    """Start the event relay unless it runs; called by every worker and ``coldflow dev``."""
    workflow_id = relay_workflow_id(task_queue)
    await client.start_workflow(
        EVENT_RELAY_WORKFLOW,
        RelayInput(),
        id=workflow_id,
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        static_summary="webhooks: relays new events to their deliveries",
    )
    return workflow_id
