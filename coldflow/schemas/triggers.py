"""Request and response shapes of CRM triggers (``POST /api/v1/triggers``)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from coldflow.schemas.common import Email


class TriggerAction(StrEnum):
    stop = "stop"
    pause = "pause"
    resume = "resume"
    mark_replied = "mark_replied"
    unsubscribe = "unsubscribe"
    meeting_booked = "meeting_booked"


class TriggerCreate(BaseModel):
    """A signal from a CRM about one address: it acts on every lead with that email.

    ``campaign_id`` narrows it to one campaign, except for ``unsubscribe``, which always covers
    the whole workspace (the address is blocklisted there).
    """

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"email": "sarah@example.com", "action": "stop", "reason": "deal won"},
                {"email": "sarah@example.com", "action": "unsubscribe"},
            ]
        },
    )

    email: Email
    action: TriggerAction
    campaign_id: str | None = Field(default=None, max_length=36)
    reason: str | None = Field(default=None, max_length=200)


class TriggeredLead(BaseModel):
    """A lead the trigger matched; ``signalled`` is true when its journey was still running and
    was sent the signal (after the commit)."""

    id: str
    campaign_id: str
    journey_workflow_id: str
    signalled: bool


class TriggerResult(BaseModel):
    affected: int
    leads: list[TriggeredLead]
