"""What crosses the Temporal boundary for outgoing webhooks: the event relay and deliveries.

Also the event catalogue, because the relay, the API's validation and the docs must agree on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

WEBHOOK_DELIVERY_WORKFLOW = "WebhookDelivery"
EVENT_RELAY_WORKFLOW = "EventRelay"


class WebhookActivity(StrEnum):
    """Activity names as they read in the Temporal UI's event history."""

    DELIVER = "deliver_webhook"
    RECORD_TEST_EVENT = "record_test_event"
    RELAY_EVENTS = "relay_events"


# Every event type an endpoint can subscribe to; an empty subscription means all of them.
EVENT_TYPES: dict[str, str] = {
    "email.sent": "A step's email was accepted by the SMTP server.",
    "email.opened": "The tracking pixel of a sent email was loaded (campaigns with track_opens).",
    "email.clicked": "A tracked link in a sent email was followed (campaigns with track_clicks).",
    "email.replied": "A reply to a sent email arrived; data carries its label and a preview.",
    "email.bounced": "A send was refused for the address, or a bounce report arrived.",
    "email.failed": "A message was refused for good (5xx at DATA) or its send retries ran out.",
    "lead.unsubscribed": "The lead unsubscribed (link, one-click header, reply or trigger).",
    "lead.stopped": "The lead's journey ended early (reply, bounce, trigger, deletion…).",
    "lead.completed": "The lead's journey sent its last step and ended.",
    "lead.held": "The lead's journey is waiting on a fix (a missing variable, an inbox error).",
    "lead.interest_updated": "The lead's interest status was set (interested, not interested, "
    "meeting booked) through the API.",
    "lead.meeting_booked": "A CRM trigger reported a booked meeting; the journey stops.",
    "campaign.activated": "The campaign was activated (or resumed) and enrols its leads.",
    "campaign.paused": "The campaign was paused; its journeys wait.",
    "campaign.completed": "The campaign's last journey ended.",
    "inbox.error": "An inbox failed its connection check or was refused by its SMTP server.",
    "inbox.warmup_paused": "An inbox's warmup stopped growing: too much of it landed in spam "
    "over the last 3 days (data: reason, volume).",
    "domain.degraded": "A sender domain's DNS check got worse than before (daily re-check or a "
    "requested one); data lists the failing checks with their fix hints.",
}
# The synthetic event of ``POST /webhooks/{id}/test``; never relayed to other endpoints.
TEST_EVENT_TYPE = "webhook.test"

# Waits between attempts (Standard Webhooks' suggested schedule, ≈ 28 h in total): eight
# attempts, and a receiver down for a whole day still gets the event.
RETRY_DELAYS: tuple[timedelta, ...] = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)


def delivery_workflow_id(endpoint_id: str, event_id: str) -> str:
    """One delivery per (endpoint, event): the relay may offer an event twice, it runs once."""
    return f"webhook/{endpoint_id}/{event_id}"


def relay_workflow_id(task_queue: str) -> str:
    """One relay per deployment; the task queue names the deployment (and its database)."""
    return f"webhooks/relay/{task_queue}"


class AttemptOutcome(StrEnum):
    DELIVERED = "delivered"  # a 2xx answer
    FAILED = "failed"  # non-2xx, timeout, connection error, refused address: retried
    GONE = "gone"  # 410: the endpoint was disabled, no further attempts
    DISABLED = "disabled"  # this failure disabled the endpoint (failing for days)
    SKIPPED = "skipped"  # endpoint deleted or inactive, or the event is gone: nothing sent


@dataclass(frozen=True)
class DeliveryInput:
    """Deliver one event to one endpoint.

    ``attempt_offset`` continues the attempt numbers of earlier runs (a redelivery);
    ``max_attempts`` (0 = the full schedule) is 1 for a test; ``force`` delivers to an
    inactive endpoint too (explicit test or redelivery requests).
    """

    workspace_id: str
    endpoint_id: str
    event_id: str
    attempt_offset: int = 0
    max_attempts: int = 0
    force: bool = False
    is_test: bool = False


@dataclass(frozen=True)
class AttemptInput:
    workspace_id: str
    endpoint_id: str
    event_id: str
    attempt: int
    force: bool = False
    # Test deliveries neither disable an endpoint nor count towards its failing streak.
    track_health: bool = True


@dataclass(frozen=True)
class AttemptResult:
    outcome: AttemptOutcome
    delivery_id: str | None = None
    status_code: int | None = None
    latency_ms: int | None = None
    error: str | None = None
    response_snippet: str | None = None


@dataclass(frozen=True)
class DeliveryResult:
    outcome: AttemptOutcome
    attempts: int
    last: AttemptResult | None = None


@dataclass(frozen=True)
class SyntheticEventInput:
    workspace_id: str
    endpoint_id: str
    event_id: str


@dataclass(frozen=True)
class RelayInput:
    """Carried across continue-as-new, only for the Temporal UI's benefit."""

    relayed: int = 0


@dataclass(frozen=True)
class RelayCycleInput:
    """One activity run of the relay: poll until ``seconds`` have passed, then return."""

    seconds: float


@dataclass(frozen=True)
class RelayCycleResult:
    events: int
    deliveries: int
