"""Request and response shapes of the blocklist API (seed 003)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from coldflow.models import BlockKind


class BlocklistCreate(BaseModel):
    """An address (``ann@example.com``) or a whole domain (``@example.com`` or ``example.com``)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"email": "ann@example.com"}, {"email": "@example.com"}]},
    )

    email: str = Field(min_length=1, max_length=320)


class BlocklistRead(BaseModel):
    id: str
    email: str
    kind: BlockKind
    created_at: datetime


class BlocklistCheck(BaseModel):
    blocked: bool
