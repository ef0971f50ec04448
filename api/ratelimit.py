"""Rate limits per API key: a fixed one-minute window per (limit, key), counted in this process.

Counts live in memory, so each API process enforces the limits on its own: behind N processes a
key can make up to N times the configured rate. Unauthenticated requests are not counted (the
route answers 401 without doing any work).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from fastapi import FastAPI, Request
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import authenticate
from api.errors import error_response
from coldflow.config import Settings
from coldflow.errors import RateLimited, Unauthorized

WINDOW_SECONDS = 60.0


@dataclass(frozen=True)
class Limit:
    """A number of requests allowed per key per window; ``label`` names them in messages."""

    name: str
    label: str
    per_window: int


@dataclass
class _Window:
    started: float
    count: int = 0


@dataclass(frozen=True)
class Decision:
    """Whether a request may proceed, and what the ``X-RateLimit-*`` headers say about it."""

    allowed: bool
    limit: Limit
    remaining: int
    reset_after: int

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit.per_window),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_after),
        }


class RateLimiter:
    """Fixed windows that start at a key's first request; ``now`` is injectable for tests."""

    def __init__(self, now: Callable[[], float] = time.monotonic) -> None:
        self.now = now
        self._windows: dict[tuple[str, str], _Window] = {}

    def hit(self, api_key_id: str, limits: Sequence[Limit]) -> Decision:
        """Count one request against every limit, or against none if any of them is exhausted.

        A refused request costs nothing, so a client that honours ``Retry-After`` is never
        locked out longer than the window. The decision reports the tightest limit: the
        exhausted one with the longest wait, or else the one with the fewest requests left.
        """
        now = self.now()
        windows = [(limit, self._current(limit, api_key_id, now)) for limit in limits]
        exhausted = [(lim, w) for lim, w in windows if w.count >= lim.per_window]
        if exhausted:
            limit, window = max(exhausted, key=lambda lw: lw[1].started)
            return Decision(False, limit, 0, _seconds_left(window, now))
        for _, window in windows:
            window.count += 1
        limit, window = min(windows, key=lambda lw: lw[0].per_window - lw[1].count)
        return Decision(True, limit, limit.per_window - window.count, _seconds_left(window, now))

    def _current(self, limit: Limit, api_key_id: str, now: float) -> _Window:
        slot = (limit.name, api_key_id)
        window = self._windows.get(slot)
        if window is None or now - window.started >= WINDOW_SECONDS:
            window = self._windows[slot] = _Window(started=now)
        return window


def _seconds_left(window: _Window, now: float) -> int:
    # Rounded up and at least 1: a client that waits Retry-After seconds must find a new window.
    return max(1, math.ceil(window.started + WINDOW_SECONDS - now))


class RateLimitMiddleware:
    """Counts every request under the API prefix per key; 429 ``RATE_LIMITED`` past a limit.

    Authenticating here caches the key on the request state, so the route's own
    ``authenticate`` does not query the database a second time.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        limiter: RateLimiter,
        prefix: str,
        general: Limit,
        campaign_create: Limit,
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.prefix = prefix
        self.general = general
        self.campaign_create = campaign_create

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or not (path + "/").startswith(self.prefix + "/"):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        try:
            api_key = await authenticate(request)
        except Unauthorized:
            await self.app(scope, receive, send)
            return
        limits = [self.general]
        if request.method == "POST" and path.rstrip("/") == self.prefix + "/campaigns":
            limits.append(self.campaign_create)
        decision = self.limiter.hit(api_key.id, limits)
        if not decision.allowed:
            error = RateLimited(
                f"Rate limit of {decision.limit.per_window} {decision.limit.label} per minute"
                f" reached for this API key; retry in {decision.reset_after} s",
                retry_after=decision.reset_after,
            )
            error.details = [
                {"limit": decision.limit.name, "per_minute": decision.limit.per_window}
            ]
            headers = {"Retry-After": str(error.retry_after), **decision.headers()}
            response = error_response(
                request, error.status, error.code, error.message, error.details, headers
            )
            await response(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).update(decision.headers())
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install_rate_limits(app: FastAPI, settings: Settings, *, prefix: str) -> RateLimiter:
    """Add the middleware; the limiter is also kept on ``app.state`` so tests can move its clock."""
    limiter = RateLimiter()
    app.state.rate_limiter = limiter
    app.add_middleware(
        RateLimitMiddleware,
        limiter=limiter,
        prefix=prefix,
        general=Limit("general", "requests", settings.rate_limit_per_minute),
        campaign_create=Limit(
            "campaign_create", "campaign creations", settings.campaign_create_limit_per_minute
        ),
    )
    return limiter
