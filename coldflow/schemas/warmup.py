"""Seed 003's warmup stats, plus where the ramp stands and why it is idle or held."""

from __future__ import annotations

from pydantic import BaseModel, Field


class WarmupDay(BaseModel):
    date: str = Field(description="YYYY-MM-DD, the inbox's warmup time zone")
    sent: int
    spam_count: int = Field(description="Of that day's sends, how many landed in spam")


class WarmupRamp(BaseModel):
    day: int = Field(description="Days of warmup planned so far")
    volume: int = Field(description="Today's planned warmup emails")
    limit: int = Field(description="daily_warmup_limit")
    start: int
    step: int


class WarmupStats(BaseModel):
    sent: int = Field(description="Warmup emails sent in the last 7 days (replies included)")
    received: int
    saved_from_spam: int = Field(description="Received warmup emails moved out of spam")
    health_score: int = Field(description="0–100: share of the last 3 days' sends not in spam")
    ramp_up_progress: int = Field(description="0–100: today's volume against the limit")
    daily: list[WarmupDay] = Field(description="The last 7 days, oldest first")
    is_warming: bool
    ramp: WarmupRamp
    status: str | None = Field(
        description="Why warmup sends nothing or holds its volume (a pool of one, the spam "
        "guardrail, warmup off), or null"
    )
