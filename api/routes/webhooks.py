"""Webhook endpoints: register, change, rotate the secret, inspect and replay deliveries, test."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from api.deps import (
    JourneysDep,
    SecretBoxDep,
    SessionDep,
    SettingsDep,
    WebhooksRead,
    WebhooksWrite,
)
from api.envelope import Data, Page, PageParams
from api.errors import responses
from api.uow import UnitOfWorkRoute
from coldflow.contracts.webhooks import AttemptOutcome, AttemptResult, DeliveryResult
from coldflow.models import WebhookEndpoint
from coldflow.models.base import utcnow
from coldflow.schemas.webhooks import (
    DeliveryRead,
    RedeliveryRead,
    WebhookCreate,
    WebhookCreated,
    WebhookRead,
    WebhookSecret,
    WebhookTestRead,
    WebhookUpdate,
)
from coldflow.services import webhooks as service
from coldflow.store import webhooks as store

router = APIRouter(prefix="/webhooks", tags=["webhooks"], route_class=UnitOfWorkRoute)


def _read(endpoint: WebhookEndpoint) -> WebhookRead:
    expires = endpoint.previous_secret_expires_at
    return WebhookRead(
        id=endpoint.id,
        url=endpoint.url,
        events=endpoint.events,
        campaign_id=endpoint.campaign_id,
        is_active=endpoint.is_active,
        disabled_reason=endpoint.disabled_reason,
        failing_since=endpoint.failing_since,
        previous_secret_expires_at=expires if expires and expires > utcnow() else None,
        created_at=endpoint.created_at,
        updated_at=endpoint.updated_at,
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=Data[WebhookCreated],
    responses=responses(404),
)
async def create_webhook(
    body: WebhookCreate,
    session: SessionDep,
    box: SecretBoxDep,
    settings: SettingsDep,
    key: WebhooksWrite,
) -> Data[WebhookCreated]:
    """Register an endpoint. The answer carries its signing ``secret`` (``whsec_…``) once; it is
    never shown again. ``events`` empty or omitted means every event type. URLs that resolve to
    private, loopback, link-local or metadata addresses are refused
    (``WEBHOOK_URL_NOT_ALLOWED``) unless the operator allows them."""
    endpoint, secret = await service.create_endpoint(
        session=session,
        box=box,
        workspace_id=key.workspace_id,
        data=body,
        allow_private=settings.webhook_allow_private,
    )
    return Data(data=WebhookCreated(**_read(endpoint).model_dump(), secret=secret))


@router.get("", response_model=Page[WebhookRead], responses=responses())
async def list_webhooks(
    session: SessionDep, key: WebhooksRead, params: PageParams
) -> Page[WebhookRead]:
    """The workspace's endpoints; search by URL, sort by url, created_at, updated_at."""
    result = await store.list_endpoints(session, key.workspace_id, params)
    return Page.of(result, [_read(e) for e in result.items])  # type: ignore[arg-type]


@router.get("/{webhook_id}", response_model=Data[WebhookRead], responses=responses(404))
async def get_webhook(webhook_id: str, session: SessionDep, key: WebhooksRead) -> Data[WebhookRead]:
    """One endpoint, with ``disabled_reason`` when coldflow disabled it."""
    endpoint = await service.get_endpoint(
        session=session, workspace_id=key.workspace_id, endpoint_id=webhook_id
    )
    return Data(data=_read(endpoint))


@router.patch("/{webhook_id}", response_model=Data[WebhookRead], responses=responses(404))
async def update_webhook(
    webhook_id: str,
    body: WebhookUpdate,
    session: SessionDep,
    settings: SettingsDep,
    key: WebhooksWrite,
) -> Data[WebhookRead]:
    """Change the URL, events, campaign filter or ``is_active``; re-activating a disabled
    endpoint clears its ``disabled_reason``."""
    endpoint = await service.update_endpoint(
        session=session,
        workspace_id=key.workspace_id,
        endpoint_id=webhook_id,
        data=body,
        allow_private=settings.webhook_allow_private,
    )
    return Data(data=_read(endpoint))


@router.delete("/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT, responses=responses(404))
async def delete_webhook(webhook_id: str, session: SessionDep, key: WebhooksWrite) -> Response:
    """Remove the endpoint and its delivery log; pending retries stop."""
    await service.delete_endpoint(
        session=session, workspace_id=key.workspace_id, endpoint_id=webhook_id
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{webhook_id}/rotate-secret", response_model=Data[WebhookSecret], responses=responses(404)
)
async def rotate_webhook_secret(
    webhook_id: str, session: SessionDep, box: SecretBoxDep, key: WebhooksWrite
) -> Data[WebhookSecret]:
    """A new secret, shown once. For 24 hours every delivery is signed with both the new and
    the old secret (two ``v1,`` signatures), so receivers can switch without losing events."""
    endpoint, secret, expires = await service.rotate_secret(
        session=session, box=box, workspace_id=key.workspace_id, endpoint_id=webhook_id
    )
    return Data(
        data=WebhookSecret(id=endpoint.id, secret=secret, previous_secret_expires_at=expires)
    )


@router.get("/{webhook_id}/deliveries", response_model=Page[DeliveryRead], responses=responses(404))
async def list_deliveries(
    webhook_id: str,
    session: SessionDep,
    key: WebhooksRead,
    params: PageParams,
    event_id: Annotated[str | None, Query(max_length=36)] = None,
    succeeded: Annotated[bool | None, Query()] = None,
) -> Page[DeliveryRead]:
    """Every attempt, newest first: time, event, attempt number, status code, latency, error
    and the start of the answer. Filter by ``event_id`` or ``succeeded``."""
    endpoint = await service.get_endpoint(
        session=session, workspace_id=key.workspace_id, endpoint_id=webhook_id
    )
    result = await store.list_deliveries(
        session, endpoint.id, params, event_id=event_id, succeeded=succeeded
    )
    types = await store.event_types(session, {d.event_id for d in result.items})
    items = [
        DeliveryRead(**d.model_dump(), event_type=types.get(d.event_id, "")) for d in result.items
    ]
    return Page.of(result, items)  # type: ignore[arg-type]


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/redeliver",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Data[RedeliveryRead],
    responses=responses(404, 503),
)
async def redeliver(
    webhook_id: str,
    delivery_id: str,
    session: SessionDep,
    journeys: JourneysDep,
    key: WebhooksWrite,
) -> Data[RedeliveryRead]:
    """Deliver that attempt's event again, with a full retry schedule; new attempts appear in
    the delivery log. Works on a disabled endpoint too."""
    event_id, workflow_id = await service.redeliver(
        session=session,
        journeys=journeys,
        workspace_id=key.workspace_id,
        endpoint_id=webhook_id,
        delivery_id=delivery_id,
    )
    return Data(data=RedeliveryRead(event_id=event_id, workflow_id=workflow_id))


@router.post(
    "/{webhook_id}/test", response_model=Data[WebhookTestRead], responses=responses(404, 503)
)
async def test_webhook(
    webhook_id: str, session: SessionDep, journeys: JourneysDep, key: WebhooksWrite
) -> Data[WebhookTestRead]:
    """Send a signed ``webhook.test`` event once, through the same delivery path, and answer
    with the result (status code, latency, error). A failed test disables nothing."""
    event_id, result = await service.send_test(
        session=session, journeys=journeys, workspace_id=key.workspace_id, endpoint_id=webhook_id
    )
    return Data(data=_test_read(event_id, result))


def _test_read(event_id: str, result: DeliveryResult) -> WebhookTestRead:
    last = result.last or AttemptResult(result.outcome, error="nothing was sent")
    return WebhookTestRead(
        event_id=event_id,
        delivery_id=last.delivery_id,
        succeeded=result.outcome == AttemptOutcome.DELIVERED,
        status_code=last.status_code,
        latency_ms=last.latency_ms,
        error=last.error,
        response_snippet=last.response_snippet,
    )
