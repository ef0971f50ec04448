"""The FastAPI application factory; one engine and one Temporal client per process."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from pydantic import BaseModel
from temporalio.client import Client

from api.errors import install_error_handlers
from api.idempotency import install_idempotency
from api.middleware import BodyLimitMiddleware, RequestIdMiddleware
from api.ratelimit import install_rate_limits
from api.routes import (
    blocklist,
    campaigns,
    contacts,
    conversations,
    domains,
    emails,
    health,
    imports,
    inboxes,
    leads,
    lists,
    preview,
    public,
    sequences,
    stats,
    triggers,
    webhooks,
)
from coldflow.config import Settings, get_settings, resolve_secret_key
from coldflow.crypto import SecretBox
from coldflow.errors import Unavailable
from coldflow.links import Links
from coldflow.services.journeys import Journeys
from coldflow.store.db import create_engine, session_factory
from coldflow.temporal import connect

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"


class TemporalConnector:
    """Connects on first use and keeps the client; the API starts even while Temporal is down."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._client: Client | None = None
        self._lock = asyncio.Lock()

    async def __call__(self) -> Client:
        if self._client is not None:
            return self._client
        async with self._lock:
            if self._client is None:
                try:
                    self._client = await connect(self._settings)
                except Exception as exc:  # any connect failure means "unavailable" to the caller
                    raise Unavailable(
                        f"Temporal at {self._settings.resolved_temporal_address} is unreachable",
                        code="TEMPORAL_UNAVAILABLE",
                    ) from exc
        return self._client


def temporal_ui_url(settings: Settings) -> str | None:
    """Where journey links point: the configured UI, else the embedded dev server's."""
    if settings.temporal_ui_url:
        return settings.temporal_ui_url.rstrip("/")
    if settings.temporal_address:
        return None
    return f"http://127.0.0.1:{settings.temporal_ui_port}"


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; tests pass their own settings, processes use the environment's."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings.resolved_database_url)
        app.state.settings = settings
        app.state.sessions = session_factory(engine)
        secret = resolve_secret_key(settings)
        app.state.box = SecretBox(secret)
        app.state.links = Links(public_url=settings.resolved_public_url, secret=secret)
        app.state.journeys = Journeys(
            TemporalConnector(settings),
            task_queue=settings.task_queue,
            namespace=settings.temporal_namespace,
            ui_base_url=temporal_ui_url(settings),
        )
        try:
            yield
        finally:
            await engine.dispose()

    app = FastAPI(
        title="coldflow",
        version="0.1.0",
        summary="Self-hosted cold-email sequencing on Temporal",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    # Added first so they run innermost: after the request id and the body limit, before routes.
    install_idempotency(app, prefix=API_PREFIX)
    install_rate_limits(app, settings, prefix=API_PREFIX)
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        large_bytes=settings.max_import_bytes,
        large_suffixes=("/leads/import", "/contacts/import"),
    )
    app.add_middleware(RequestIdMiddleware)
    app.include_router(health.router)
    v1 = APIRouter(prefix=API_PREFIX)
    for module in (
        campaigns,
        imports,
        leads,
        inboxes,
        sequences,
        preview,
        blocklist,
        conversations,
        webhooks,
        triggers,
        emails,
        stats,
        domains,
        contacts,
        lists,
    ):
        v1.include_router(module.router)
    app.include_router(v1)
    # Reached from sent mail, without a key: /u/{token}, /t/o/{token}, /t/c/{token}.
    app.include_router(public.router)
    _publish_models(app, leads.OPENAPI_MODELS)
    return app


def _publish_models(app: FastAPI, models: Sequence[type[BaseModel]]) -> None:
    """Add models that routes reference by hand (``openapi_extra``) to the OpenAPI components."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            for model in models:
                schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
                for name, definition in schema.pop("$defs", {}).items():
                    schemas.setdefault(name, definition)
                schemas.setdefault(model.__name__, schema)
        return app.openapi_schema or build()

    app.openapi = openapi  # type: ignore[method-assign]
