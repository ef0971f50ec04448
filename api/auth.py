"""API keys: where they are read from, and how a scope is checked."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request

from coldflow.errors import Forbidden, Unauthorized
from coldflow.models import ApiKey
from coldflow.services import workspaces as workspace_service
from coldflow.store.db import SessionFactory

KEY_HEADERS = ("x-api-key", "x-user-context")


def extract_key(request: Request) -> str | None:
    """``Authorization: Bearer``, ``X-API-Key``, ``x-user-context`` (seed 000) or ``?api_key=``."""
    authorization = request.headers.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    for header in KEY_HEADERS:
        value = request.headers.get(header, "").strip()
        if value:
            return value
    return request.query_params.get("api_key") or None


async def authenticate(request: Request) -> ApiKey:
    """The caller's key, loaded once per request and cached on ``request.state``."""
    cached: ApiKey | None = getattr(request.state, "api_key", None)
    if cached is not None:
        return cached
    secret = extract_key(request)
    if secret is None:
        raise Unauthorized("An API key is required", code="API_KEY_MISSING")
    sessions: SessionFactory = request.app.state.sessions
    async with sessions() as session:
        api_key = await workspace_service.authenticate(session=session, secret=secret)
    if api_key is None:
        raise Unauthorized("The API key is invalid or revoked", code="API_KEY_INVALID")
    request.state.api_key = api_key
    return api_key


def require_scope(scope: str) -> Callable[[Request], Awaitable[ApiKey]]:
    """A dependency that authenticates and then insists on ``scope``."""

    async def dependency(request: Request) -> ApiKey:
        api_key = await authenticate(request)
        if not api_key.allows(scope):
            raise Forbidden(
                f"This API key lacks the {scope!r} scope",
                code="INSUFFICIENT_SCOPE",
                details=[{"required_scope": scope}],
            )
        return api_key

    dependency.required_scope = scope  # type: ignore[attr-defined]  # found by UnitOfWorkRoute
    return dependency
