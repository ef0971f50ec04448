"""``Idempotency-Key`` on POST: the first successful response is stored and replayed on retries.

A record is kept per (API key, Idempotency-Key) with a SHA-256 of the method, path, query and
body. A retry with the same key and the same request gets the stored status and body back with
``Idempotent-Replayed: true``; the same key with another request is 422. Only 2xx responses are
stored, so a request that failed can be retried with the same key.

The record is written after the route's unit of work has committed (``UnitOfWorkRoute`` commits
before it returns the response) and before the response leaves, so a client that has the
response can rely on its retry being replayed. Two limits follow from storing it separately:
if the process dies between the two commits, a retry runs the request again; and the guard
against concurrent duplicates (409 ``IDEMPOTENCY_KEY_IN_PROGRESS``) is in memory, so it covers
one API process. Across processes the record's primary key keeps the first response, but both
requests will have run.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlencode

from fastapi import FastAPI, Request
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from starlette.datastructures import MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import authenticate
from api.errors import error_response
from coldflow.errors import CodedError, Conflict, InvalidInput, Unauthorized
from coldflow.models import IdempotencyRecord
from coldflow.models.base import utcnow
from coldflow.store import idempotency as store
from coldflow.store.db import SessionFactory, unit_of_work

log = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
RETENTION = timedelta(hours=24)
PURGE_INTERVAL = timedelta(hours=1)


def request_fingerprint(method: str, path: str, query: str, body: bytes) -> str:
    """SHA-256 of what makes two requests "the same": method, path, query and the body bytes.

    ``api_key`` is dropped from the query: moving the key from the query to a header is the
    same request.
    """
    params = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != "api_key"]
    digest = hashlib.sha256()
    for part in (method.upper(), path, urlencode(params)):
        digest.update(part.encode() + b"\n")
    digest.update(body)
    return digest.hexdigest()


class InFlight:
    """The (API key, Idempotency-Key) pairs whose first request is running in this process."""

    def __init__(self) -> None:
        self._pairs: set[tuple[str, str]] = set()

    def claim(self, api_key_id: str, key: str) -> bool:
        """True if the pair was free and is now held; claim and check cannot interleave."""
        pair = (api_key_id, key)
        if pair in self._pairs:
            return False
        self._pairs.add(pair)
        return True

    def release(self, api_key_id: str, key: str) -> None:
        self._pairs.discard((api_key_id, key))


class IdempotencyMiddleware:
    """Applies ``Idempotency-Key`` to every POST under the API prefix.

    It sits outside the routes because it must see the final response, after the route's
    commit, and must answer a replay without running the route at all.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        prefix: str,
        in_flight: InFlight,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.app = app
        self.prefix = prefix
        self.in_flight = in_flight
        self.now = now
        self._next_purge: datetime | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._applies(scope):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        key = request.headers.get(HEADER)
        if key is None:
            await self.app(scope, receive, send)
            return
        try:
            api_key = await authenticate(request)
        except Unauthorized:
            await self.app(scope, receive, send)  # the route answers 401
            return
        if not 0 < len(key) <= MAX_KEY_LENGTH:
            message = f"{HEADER} must be 1 to {MAX_KEY_LENGTH} characters long"
            error: CodedError = InvalidInput(
                message,
                details=[{"field": HEADER, "message": message}],
                code="INVALID_IDEMPOTENCY_KEY",
            )
            await self._error(request, error, receive, send)
            return
        if not self.in_flight.claim(api_key.id, key):
            error = Conflict(
                f"A request with this {HEADER} is still being processed; retry once it is done",
                code="IDEMPOTENCY_KEY_IN_PROGRESS",
            )
            await self._error(request, error, receive, send)
            return
        try:
            await self._handle(request, api_key.id, key, receive, send)
        finally:
            self.in_flight.release(api_key.id, key)

    def _applies(self, scope: Scope) -> bool:
        path: str = scope.get("path", "")
        return (
            scope["type"] == "http"
            and scope.get("method") == "POST"
            and (path + "/").startswith(self.prefix + "/")
        )

    async def _handle(
        self, request: Request, api_key_id: str, key: str, receive: Receive, send: Send
    ) -> None:
        scope = request.scope
        body = await _read_body(receive)
        fingerprint = request_fingerprint(
            request.method, scope["path"], scope.get("query_string", b"").decode("latin-1"), body
        )
        sessions: SessionFactory = request.app.state.sessions
        async with sessions() as session:
            record = await store.find_record(
                session, api_key_id=api_key_id, key=key, since=self.now() - RETENTION
            )
        if record is not None:
            if record.request_hash != fingerprint:
                message = f"This {HEADER} was already used with a different request"
                error = InvalidInput(
                    message,
                    details=[{"field": HEADER, "message": message}],
                    code="IDEMPOTENCY_KEY_REUSED",
                )
                await self._error(request, error, receive, send)
                return
            replay = Response(
                content=record.response_body,
                status_code=record.status_code,
                media_type="application/json" if record.response_body else None,
                headers={REPLAYED_HEADER: "true"},
            )
            await replay(scope, receive, send)
            return

        start: Message = {}
        chunks: list[bytes] = []

        async def hold_until_stored(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            content = b"".join(chunks)
            if 200 <= start["status"] < 300 and _is_replayable(start, content):
                await self._store(sessions, api_key_id, key, fingerprint, start["status"], content)
            await send(start)
            await send({"type": "http.response.body", "body": content})

        await self.app(scope, _replay_body(body, receive), hold_until_stored)

    async def _store(
        self,
        sessions: SessionFactory,
        api_key_id: str,
        key: str,
        fingerprint: str,
        status: int,
        content: bytes,
    ) -> None:
        now = self.now()
        record = IdempotencyRecord(
            api_key_id=api_key_id,
            key=key,
            request_hash=fingerprint,
            status_code=status,
            response_body=content.decode(),
            created_at=now,
        )
        try:
            async with unit_of_work(sessions) as session:
                await store.save_record(session, record, expired_before=now - RETENTION)
                if self._next_purge is None or now >= self._next_purge:
                    self._next_purge = now + PURGE_INTERVAL
                    await store.purge_records(session, before=now - RETENTION)
        except IntegrityError:
            log.info("idempotency record for api key %s was stored by another process", api_key_id)
        except SQLAlchemyError:
            # The request itself has committed: failing it now would invite a retry that runs
            # it twice. Answer with the real response; only a later retry loses the replay.
            log.exception("could not store the idempotency record for api key %s", api_key_id)

    async def _error(
        self, request: Request, error: CodedError, receive: Receive, send: Send
    ) -> None:
        response = error_response(request, error.status, error.code, error.message, error.details)
        await response(request.scope, receive, send)


def _is_replayable(start: Message, content: bytes) -> bool:
    """Replays are sent as JSON: an empty body or a JSON one can be stored faithfully."""
    if not content:
        return True
    content_type = MutableHeaders(scope=start).get("content-type", "")
    if content_type.split(";")[0].strip() != "application/json":
        log.warning("not storing a %s response for replay", content_type or "untyped")
        return False
    return True


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay_body(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the app the body already read, then the client's own events."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


def install_idempotency(app: FastAPI, *, prefix: str) -> InFlight:
    """Add the middleware; the in-flight guard is also kept on ``app.state`` for inspection."""
    in_flight = InFlight()
    app.state.idempotency_in_flight = in_flight
    app.add_middleware(IdempotencyMiddleware, prefix=prefix, in_flight=in_flight)
    return in_flight
