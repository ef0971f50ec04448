"""One unit of work per request: commit before the response, then run after-commit hooks."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from sqlalchemy.exc import IntegrityError

from coldflow.store.db import SessionFactory, run_after_commit


class UnitOfWorkRoute(APIRoute):
    """Wraps each handler so the commit happens before the response is sent.

    Dependencies with ``yield`` may run their exit code after the response; a 201 must never
    reach a client before its row is visible, and a failed commit must become an error response.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        # FastAPI parses the body before it runs dependencies; checking the key first means a
        # caller without the right key learns nothing about how bodies are parsed (401/403,
        # never a 400 or 422 first). The key is cached on the request, so this costs nothing.
        auth_checks = [
            dependency.call
            for dependency in self.dependant.dependencies
            if dependency.call is not None and hasattr(dependency.call, "required_scope")
        ]

        async def with_unit_of_work(request: Request) -> Response:
            for check in auth_checks:
                await check(request)
            try:
                return await run_once(request)
            except IntegrityError:
                # A concurrent request won a unique-constraint race (two batches adding the
                # same lead). Running the unit of work again sees the winner's rows and takes
                # the "exists" path; a second loss becomes a 409 CONCURRENT_CONFLICT.
                return await run_once(request)

        async def run_once(request: Request) -> Response:
            sessions: SessionFactory = request.app.state.sessions
            async with sessions() as session:
                request.state.session = session
                try:
                    response = await handler(request)
                    if response.status_code >= 400:
                        await session.rollback()
                        return response
                    await session.commit()
                except BaseException:
                    await session.rollback()
                    raise
            await run_after_commit(session)
            return response

        return with_unit_of_work
