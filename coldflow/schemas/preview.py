"""Request and response shapes of the campaign preview: rendered steps and a send timeline."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from coldflow.models import StepCondition
from coldflow.schemas.common import Email
from coldflow.schemas.leads import CustomValue

MAX_TIMELINE_LEADS = 100_000


class PreviewLead(BaseModel):
    """An ad-hoc lead, not stored; its variant and spintax seed is derived from its email."""

    model_config = ConfigDict(extra="forbid")

    email: Email
    first_name: str = Field(default="", max_length=200)
    last_name: str = Field(default="", max_length=200)
    company: str = Field(default="", max_length=200)
    timezone: str | None = Field(default=None, max_length=64)
    variables: dict[str, CustomValue] = Field(default_factory=dict)


class TimelineRequest(BaseModel):
    """Simulate ``leads`` leads enrolled at ``start_at`` (default: now)."""

    model_config = ConfigDict(extra="forbid")

    start_at: AwareDatetime | None = None
    leads: int = Field(ge=1, le=MAX_TIMELINE_LEADS)


class PreviewRequest(BaseModel):
    """``lead`` or ``lead_id`` (not both) renders every step; ``timeline`` simulates sends."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "lead": {
                        "email": "sarah@acme.io",
                        "first_name": "Sarah",
                        "company": "Acme",
                        "variables": {"role": "VP Sales"},
                    },
                    "timeline": {"start_at": "2025-03-03T08:00:00Z", "leads": 1000},
                },
                {"lead_id": "0b6f1e0e-2d4c-4a57-9a55-8f0d2b7e7f10"},
            ]
        },
    )

    lead: PreviewLead | None = None
    lead_id: str | None = None
    timeline: TimelineRequest | None = None


class PreviewedLead(BaseModel):
    """Whom the steps were rendered for; ``id`` seeds the variant choice and spintax."""

    id: str
    email: str
    is_stored: bool


class PreviewSender(BaseModel):
    """The inbox the sender fields and signature come from (null when none is attached)."""

    inbox_id: str
    email: str
    name: str


class PreviewStep(BaseModel):
    """One step as this lead would get it; ``html`` is null for a text-only campaign.

    ``missing_variables`` are shown as ``{{name}}`` in place: a real send would hold the lead.
    ``send_at`` is the earliest send time in the lead's window if enrolled now (or at the
    timeline's ``start_at``), before daily limits.
    """

    step: int
    condition: StepCondition
    variant_id: str
    variant: str
    subject: str
    html: str | None
    text: str
    missing_variables: list[str]
    send_at: datetime


class TimelineDayRead(BaseModel):
    """Sends planned on one local day (campaign time zone); days without sends are left out."""

    date: date
    first_steps: int
    follow_ups: int
    total: int


class TimelineStepRead(BaseModel):
    step: int
    sent: int
    first_day: date | None
    last_day: date | None


class TimelineRead(BaseModel):
    """The simulated run; ``unsent`` sends fall after the one-year horizon."""

    start_at: datetime
    leads: int
    daily_limit: int
    inboxes: int
    daily_capacity: int
    days: list[TimelineDayRead]
    steps: list[TimelineStepRead]
    finishes_on: date | None
    unsent: int
    warnings: list[str]


class PreviewRead(BaseModel):
    lead: PreviewedLead | None = None
    sender: PreviewSender | None = None
    steps: list[PreviewStep] | None = None
    missing_variables: list[str] = []
    timeline: TimelineRead | None = None
