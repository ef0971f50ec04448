"""The delivery side of webhooks: the SSRF guard, the payload, one signed POST, its record, and
the relay's hand-over of new events to their deliveries.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import socket
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import Any

import httpx
from sqlmodel.ext.asyncio.session import AsyncSession

from coldflow.contracts.webhooks import (
    EVENT_TYPES,
    TEST_EVENT_TYPE,
    AttemptInput,
    AttemptOutcome,
    AttemptResult,
    DeliveryInput,
)
from coldflow.crypto import SecretBox
from coldflow.errors import InvalidInput
from coldflow.models import Event, Variant, WebhookDelivery, WebhookEndpoint
from coldflow.models.base import utcnow
from coldflow.store import webhooks as store
from coldflow.webhook_signing import webhook_headers

log = logging.getLogger(__name__)

# An endpoint whose attempts have all failed for this long is disabled (with a reason).
DISABLE_AFTER = timedelta(days=3)
SNIPPET_CHARS = 500
RESOLVE_TIMEOUT = 5.0  # seconds; a TimeoutError is an OSError, handled like a failed lookup
_READ_LIMIT = 4096  # bytes of a response body read at most: enough for the snippet
USER_AGENT = "coldflow-webhooks/1"
# Cloud metadata services; most are link-local anyway, named here so the intent is explicit.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class WebhookUrlNotAllowed(InvalidInput):
    """The URL points (or resolves) into a private network: refused against SSRF."""

    code = "WEBHOOK_URL_NOT_ALLOWED"


def is_forbidden_address(ip: IPAddress) -> bool:
    """Loopback, private, link-local, multicast, unspecified, reserved or metadata addresses.

    IPv4-mapped IPv6 (``::ffff:127.0.0.1``) is judged by its IPv4 address.
    """
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip in METADATA_ADDRESSES or ip.is_multicast or not ip.is_global


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to; literal IPs (also ``2130706433``) included."""
    loop = asyncio.get_running_loop()
    infos = await asyncio.wait_for(
        loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), timeout=RESOLVE_TIMEOUT
    )
    return list(
        dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos)
    )


def _refuse(url: str, address: object) -> WebhookUrlNotAllowed:
    message = (
        f"{url} resolves to {address}, a private, loopback, link-local or metadata address; "
        "set COLDFLOW_WEBHOOK_ALLOW_PRIVATE=true to allow it"
    )
    return WebhookUrlNotAllowed(message, details=[{"field": "url", "message": message}])


def _default_port(url: httpx.URL) -> int:
    return url.port or (443 if url.scheme == "https" else 80)


async def _checked(url: str) -> tuple[httpx.URL, list[IPAddress]]:
    parsed = httpx.URL(url)
    addresses = await resolve(parsed.raw_host.decode("ascii"), _default_port(parsed))
    for address in addresses:
        if is_forbidden_address(address):
            raise _refuse(url, address)
    return parsed, addresses


async def check_url(url: str, *, allow_private: bool) -> None:
    """Refuse URLs whose host is or resolves to a forbidden address (422).

    A host that does not resolve yet is accepted: every delivery resolves and checks again.
    """
    if allow_private:
        return
    try:
        await _checked(url)
    except (OSError, UnicodeError):
        return


@dataclass(frozen=True)
class Target:
    """Where one attempt connects: the checked address, with the name for Host and TLS SNI."""

    url: str
    host_header: str | None = None
    sni_hostname: str | None = None


async def pin_target(url: str, *, allow_private: bool) -> Target:
    """Resolve once, check, and connect to exactly the checked address.

    Connecting by name after the check would let DNS answer differently the second time (DNS
    rebinding); TLS still verifies the certificate against the name through SNI.
    """
    if allow_private:
        return Target(url=url)
    parsed, addresses = await _checked(url)
    pinned = parsed.copy_with(host=str(addresses[0]))
    return Target(str(pinned), parsed.netloc.decode("ascii"), parsed.raw_host.decode("ascii"))


def build_payload(event: Event, *, variant: str | None = None) -> bytes:
    """The JSON body: ``{"type", "timestamp", "data"}`` as Standard Webhooks suggests.

    ``data`` holds the event's ids (campaign, lead, inbox, step, variant, the emails log's
    ``email_id``) and whatever its
    writer recorded (lead email, variant label, reply label and preview, reason…);
    ``variant`` is the label of ``variant_id`` for events whose writer did not record it.
    """
    data: dict[str, Any] = {
        key: value
        for key, value in (
            ("campaign_id", event.campaign_id),
            ("lead_id", event.lead_id),
            ("inbox_id", event.inbox_id),
            ("step", event.step),
            ("variant_id", event.variant_id),
            ("variant", variant),
            ("email_id", event.email_id),
        )
        if value is not None
    }
    data.update(event.data)
    occurred = event.occurred_at.astimezone(UTC).isoformat(timespec="milliseconds")
    body = {"type": event.type, "timestamp": occurred.replace("+00:00", "Z"), "data": data}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str).encode()


@dataclass(frozen=True)
class Request:
    url: str
    secrets: list[str]
    event_id: str
    body: bytes


@dataclass(frozen=True)
class Response:
    status_code: int | None = None
    latency_ms: int | None = None
    error: str | None = None
    snippet: str | None = None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


async def load_request(session: AsyncSession, box: SecretBox, inp: AttemptInput) -> Request | None:
    """What to send, or None when there is nothing to send to (deleted, inactive, no event)."""
    endpoint = await store.get_endpoint(session, inp.workspace_id, inp.endpoint_id)
    if endpoint is None or not (endpoint.is_active or inp.force):
        return None
    event = await store.get_event(session, inp.workspace_id, inp.event_id)
    if event is None:
        return None
    label = None
    if event.variant_id and "variant" not in event.data:
        found = await session.get(Variant, event.variant_id)
        label = found.label if found is not None else None
    body = build_payload(event, variant=label)
    return Request(endpoint.url, signing_secrets(endpoint, box), event.id, body)


def signing_secrets(endpoint: WebhookEndpoint, box: SecretBox) -> list[str]:
    """The current secret, plus the previous one during the 24 h after a rotation."""
    current = [box.decrypt(endpoint.secret)]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires is not None and expires > utcnow():
        return current + [box.decrypt(endpoint.previous_secret)]
    return current


def tls_context() -> ssl.SSLContext:
    """httpx's default verification (certifi, or SSL_CERT_FILE / SSL_CERT_DIR), built once and
    shared: building one costs tens of milliseconds of CPU, which would block the event loop."""
    return httpx.create_ssl_context()


async def post(
    request: Request, *, timeout: float, allow_private: bool, tls: ssl.SSLContext | None = None
) -> Response:
    """One signed POST; every failure (refused address, timeout, connection) is an answer."""
    started = time.perf_counter()

    def elapsed() -> int:
        return round((time.perf_counter() - started) * 1000)

    try:
        target = await pin_target(request.url, allow_private=allow_private)
        headers = webhook_headers(request.secrets, request.event_id, int(time.time()), request.body)
        headers["user-agent"] = USER_AGENT
        if target.host_header:
            headers["host"] = target.host_header
        extensions = {"sni_hostname": target.sni_hostname} if target.sni_hostname else {}
        # A fresh client per attempt: pooled connections are keyed by address, and a TLS
        # session opened for one name must not carry another endpoint's requests.
        async with (
            asyncio.timeout(timeout),
            httpx.AsyncClient(
                timeout=timeout,
                verify=tls or tls_context(),
                follow_redirects=False,
                trust_env=False,
            ) as http,
            http.stream(
                "POST", target.url, content=request.body, headers=headers, extensions=extensions
            ) as answer,
        ):
            latency = elapsed()
            raw = b""
            async for chunk in answer.aiter_raw():
                raw += chunk
                if len(raw) >= _READ_LIMIT:
                    break
        snippet = raw.decode("utf-8", errors="replace")[:SNIPPET_CHARS] or None
        error = None if 200 <= answer.status_code < 300 else f"HTTP {answer.status_code}"
        return Response(answer.status_code, latency, error, snippet)
    except WebhookUrlNotAllowed as exc:
        return Response(latency_ms=elapsed(), error=exc.message)
    except (TimeoutError, httpx.TimeoutException):
        return Response(latency_ms=elapsed(), error=f"timed out after {timeout:g} s")
    except (httpx.HTTPError, httpx.InvalidURL, OSError, UnicodeError) as exc:
        return Response(latency_ms=elapsed(), error=f"{type(exc).__name__}: {exc}"[:500])


async def record_attempt(
    session: AsyncSession, inp: AttemptInput, response: Response
) -> AttemptResult:
    """Write the attempt and the endpoint's health: 410 or three failing days disable it."""
    endpoint = await store.get_endpoint(session, inp.workspace_id, inp.endpoint_id)
    if endpoint is None:
        return AttemptResult(AttemptOutcome.SKIPPED, error="endpoint deleted")
    delivery = WebhookDelivery(
        endpoint_id=endpoint.id,
        event_id=inp.event_id,
        attempt=inp.attempt,
        status_code=response.status_code,
        latency_ms=response.latency_ms,
        error=response.error,
        succeeded=response.ok,
        response_snippet=response.snippet,
    )
    session.add(delivery)
    outcome = AttemptOutcome.DELIVERED if response.ok else AttemptOutcome.FAILED
    if inp.track_health:
        outcome = _update_health(endpoint, response, outcome)
        session.add(endpoint)
    await session.flush()
    return AttemptResult(
        outcome,
        delivery.id,
        response.status_code,
        response.latency_ms,
        response.error,
        response.snippet,
    )


def _update_health(
    endpoint: WebhookEndpoint, response: Response, outcome: AttemptOutcome
) -> AttemptOutcome:
    now = utcnow()
    if response.ok:
        endpoint.failing_since = None
        return outcome
    if response.status_code == 410:
        _disable(endpoint, f"disabled at {now:%Y-%m-%d %H:%M} UTC: the endpoint answered 410 Gone")
        return AttemptOutcome.GONE
    endpoint.failing_since = endpoint.failing_since or now
    if endpoint.is_active and now - endpoint.failing_since >= DISABLE_AFTER:
        _disable(
            endpoint,
            f"disabled at {now:%Y-%m-%d %H:%M} UTC: every attempt failed since "
            f"{endpoint.failing_since:%Y-%m-%d %H:%M} UTC (last: {response.error})",
        )
        return AttemptOutcome.DISABLED
    return outcome


def _disable(endpoint: WebhookEndpoint, reason: str) -> None:
    log.warning("webhook endpoint %s disabled: %s", endpoint.id, reason)
    endpoint.is_active = False
    endpoint.disabled_reason = reason[:1000]
    endpoint.updated_at = utcnow()


async def record_test_event(
    session: AsyncSession, *, workspace_id: str, endpoint_id: str, event_id: str
) -> None:
    """The synthetic ``webhook.test`` event, born dispatched so the relay never offers it."""
    if await store.get_event(session, workspace_id, event_id) is not None:
        return  # a retried activity: already written
    now = utcnow()
    session.add(
        Event(
            id=event_id,
            workspace_id=workspace_id,
            type=TEST_EVENT_TYPE,
            data={
                "endpoint_id": endpoint_id,
                "message": "A test event from coldflow: your endpoint is reachable.",
            },
            occurred_at=now,
            dispatched_at=now,
        )
    )
    await session.flush()


def matches(endpoint: WebhookEndpoint, event: Event) -> bool:
    """Same workspace, subscribed type (empty = all catalogue types), same campaign if set."""
    return (
        endpoint.workspace_id == event.workspace_id
        and event.type in EVENT_TYPES
        and (not endpoint.events or event.type in endpoint.events)
        and (endpoint.campaign_id is None or endpoint.campaign_id == event.campaign_id)
    )


StartDelivery = Callable[[DeliveryInput], Awaitable[None]]


async def dispatch_pending(
    session: AsyncSession, start: StartDelivery, *, limit: int, concurrency: int = 20
) -> tuple[int, int]:
    """Start the deliveries of the oldest undispatched events, then mark them dispatched.

    Starts happen before the mark commits: a crash in between offers the events again, and
    the deliveries' fixed workflow ids make the second start a no-op. Returns (events, starts).
    """
    events = await store.pending_events(session, limit)
    if not events:
        return 0, 0
    endpoints = await store.active_endpoints(session, {e.workspace_id for e in events})
    inputs = [
        DeliveryInput(workspace_id=e.workspace_id, endpoint_id=endpoint.id, event_id=e.id)
        for e in events
        for endpoint in endpoints
        if matches(endpoint, e)
    ]
    gate = asyncio.Semaphore(concurrency)

    async def bounded(inp: DeliveryInput) -> None:
        async with gate:
            await start(inp)

    await asyncio.gather(*(bounded(inp) for inp in inputs))
    await store.mark_dispatched(session, [e.id for e in events], utcnow())
    return len(events), len(inputs)
