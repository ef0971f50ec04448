"""The journey view of one lead: past events, sent messages and planned sends."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from coldflow.models import JourneyState, SendStatus, StepCondition


class JourneyEventRead(BaseModel):
    id: str
    type: str
    step: int | None
    occurred_at: datetime
    data: dict[str, Any]


class SentRead(BaseModel):
    step: int
    message_id: str
    subject: str
    status: SendStatus
    inbox_id: str | None
    sent_at: datetime | None


class PlannedSend(BaseModel):
    """When a step will go if nothing intervenes (no reply, no full day, no pause)."""

    step: int
    send_at: datetime
    condition: StepCondition


class JourneyRead(BaseModel):
    lead_id: str
    campaign_id: str
    workflow_id: str
    temporal_ui_url: str | None
    state: JourneyState
    current_step: int
    hold_reason: str | None
    events: list[JourneyEventRead]
    sent: list[SentRead]
    planned: list[PlannedSend]
