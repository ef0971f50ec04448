"""ASGI middleware: a request id on every response, and the body size limit."""

from __future__ import annotations

import secrets

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class RequestIdMiddleware:
    """Gives every request an id (``req_…``, or the caller's ``X-Request-ID``) and echoes it.

    The id lives in ``scope["state"]`` so that even the outermost 500 handler can quote it.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode()
        request_id = incoming if 0 < len(incoming) <= 100 else "req_" + secrets.token_hex(12)
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if "x-request-id" not in headers:
                    headers["X-Request-ID"] = request_id
            await send(message)

        await self.app(scope, receive, send_with_id)


class BodyLimitMiddleware:
    """Refuses bodies over the limit with 413 before reading them all into memory.

    Paths ending in one of ``large_suffixes`` (CSV uploads) get ``large_bytes`` instead.
    """

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        large_bytes: int = 0,
        large_suffixes: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.large_bytes = large_bytes
        self.large_suffixes = large_suffixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        limit = self.large_bytes if path.endswith(self.large_suffixes) else self.max_bytes
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._too_large(scope, send, limit)
            return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge
            return message

        try:
            await self.app(scope, limited_receive, send)
        except BodyTooLarge:
            await self._too_large(scope, send, limit)

    async def _too_large(self, scope: Scope, send: Send, limit: int) -> None:
        request_id = scope.get("state", {}).get("request_id", "req_unknown")
        body = (
            '{"error":{"code":"PAYLOAD_TOO_LARGE","message":"The body is over the limit of '
            f'{limit} bytes","status":413,"details":[],"request_id":"{request_id}"}}}}'
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class BodyTooLarge(Exception):
    """Raised inside the app's receive() once the body passes the limit."""
