"""Request and response shapes of the sequence (step) and variant endpoints (seed 003)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from coldflow.models import StepCondition

DEFAULT_DELAY_DAYS = 3
MAX_DELAY_DAYS = 365
MAX_SUBJECT = 998  # RFC 5322 §2.1.1: no header line beyond 998 characters
MAX_BODY = 100_000

WEIGHT_DOC = (
    "Share of the step's sends, in percent (0-100). Enabled variants' weights need not sum to "
    "100: each gets weight / sum at choice time; all zero means an equal split."
)
DELAY_DOC = "Days to wait after this step before the next one"


class SequenceCreate(BaseModel):
    """A new last step; ``delay_days`` is kept for when a step is added after it."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"delay_days": 3, "condition": "always"}]}
    )

    delay_days: int = Field(
        default=DEFAULT_DELAY_DAYS, ge=0, le=MAX_DELAY_DAYS, description=DELAY_DOC
    )
    condition: StepCondition = StepCondition.not_replied


class SequenceUpdate(BaseModel):
    """Any of ``delay_days`` and ``condition``; omitted fields keep their value."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"delay_days": 4}]})

    delay_days: int | None = Field(default=None, ge=0, le=MAX_DELAY_DAYS, description=DELAY_DOC)
    condition: StepCondition | None = None


class VariantCreate(BaseModel):
    """A new variant; it gets the next letter of its step."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "subject": "{{company}} and pipeline visibility",
                    "body_html": "<p>Hi {{first_name|there}},</p><p>Worth a quick look?</p>",
                    "weight": 50,
                }
            ]
        },
    )

    subject: str = Field(min_length=1, max_length=MAX_SUBJECT)
    body_html: str = Field(default="", max_length=MAX_BODY)
    weight: int = Field(default=100, ge=0, le=100, description=WEIGHT_DOC)
    enabled: bool = True


class VariantUpdate(BaseModel):
    """Any of the fields; omitted ones keep their value, null is refused."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"enabled": False}, {"weight": 30}]}
    )

    subject: str | None = Field(default=None, max_length=MAX_SUBJECT)
    body_html: str | None = Field(default=None, max_length=MAX_BODY)
    weight: int | None = Field(default=None, ge=0, le=100, description=WEIGHT_DOC)
    enabled: bool | None = None


class VariantRead(BaseModel):
    """A variant; ``subject``/``body_html``/``body_text`` are null until written.

    ``body_html`` is the sanitized, normalized HTML that is stored and sent; ``body_text`` is
    derived from it (merge tags intact).
    """

    id: str
    letter: str
    subject: str | None
    body_html: str | None
    body_text: str | None
    weight: int
    enabled: bool


class SequenceRead(BaseModel):
    """A step; ``delay_days`` (days to wait after it) is null on the last step."""

    id: str
    step: int
    delay_days: int | None
    condition: StepCondition
    variants: list[VariantRead]
