"""Liveness of the API and of what it depends on."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text

from coldflow.services.journeys import Journeys
from coldflow.store.db import SessionFactory

router = APIRouter(tags=["health"])


class HealthRead(BaseModel):
    status: str
    checks: dict[str, str]


async def _check_database(sessions: SessionFactory) -> str:
    async with sessions() as session:
        await session.execute(text("SELECT 1"))
    return "ok"


async def _check_temporal(journeys: Journeys) -> str:
    client = await journeys.client()
    await client.service_client.check_health()
    return "ok"


@router.get("/healthz", response_model=HealthRead, responses={503: {"model": HealthRead}})
async def healthz(request: Request) -> JSONResponse:
    """200 when the database and Temporal answer; 503 naming the part that does not."""
    checks: dict[str, str] = {}
    for name, probe in (
        ("database", _check_database(request.app.state.sessions)),
        ("temporal", _check_temporal(request.app.state.journeys)),
    ):
        try:
            checks[name] = await asyncio.wait_for(probe, timeout=5)
        except Exception as exc:  # any failure of a probe is the answer, not an error
            checks[name] = f"error: {type(exc).__name__}: {exc}"[:300]
    healthy = all(v == "ok" for v in checks.values())
    body = HealthRead(status="ok" if healthy else "unavailable", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if healthy else 503)
