"""One SMTP attempt of a stored message, sorted into what the activity must record or retry.

Shared by the unibox and the API-email activities (journeys have their own path, which also
reschedules): a 4xx gives the reservation back and raises for Temporal's retry policy; 535,
a 5xx at RCPT and any other 5xx are final and come back as an ``Attempt`` to record.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar, cast

from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.exceptions import ApplicationError

from coldflow import mailer
from coldflow.crypto import SecretBox
from coldflow.models import Inbox, Provider
from coldflow.services import inboxes as inbox_service
from coldflow.store.db import SessionFactory, unit_of_work


@dataclass(frozen=True)
class Attempt:
    """``error`` None: delivered (or captured by a sandbox inbox)."""

    error: str | None = None
    bounced: bool = False
    auth_failed: bool = False


async def attempt_delivery(
    settings: mailer.SmtpSettings | None,
    *,
    sender: str,
    recipient: str,
    message: bytes,
    release: Callable[[], Awaitable[None]],
) -> Attempt:
    """Send ``message`` (``settings`` None: a sandbox inbox, nothing leaves the machine).

    ``release`` runs before a transient failure is raised: the server did not take the message,
    so the reservation goes back and the retry sends it again.
    """
    try:
        if settings is not None:
            await mailer.send_message(settings, sender=sender, recipient=recipient, message=message)
    except mailer.SmtpTransient as exc:
        await release()
        raise ApplicationError(exc.message, type="SmtpTransient") from exc
    except mailer.SmtpAuthFailed as exc:
        # 535: the same password fails on every retry; the inbox shows the reason instead.
        return Attempt(exc.message, auth_failed=True)
    except mailer.SmtpRecipientRejected as exc:
        # 5xx at RCPT: the address is bad (a hard bounce); never retried.
        return Attempt(exc.message, bounced=True)
    except mailer.SmtpRejected as exc:
        # Any other 5xx: the server refused this message for good.
        return Attempt(exc.message)
    return Attempt()


class Prepared(Protocol):
    """A reserved message ready for SMTP (no rows, no secrets), as the services return it."""

    @property
    def inbox_id(self) -> str: ...
    @property
    def provider(self) -> Provider: ...
    @property
    def sender(self) -> str: ...
    @property
    def recipient(self) -> str: ...
    @property
    def message(self) -> bytes: ...


P = TypeVar("P", bound=Prepared)
R = TypeVar("R")


async def deliver_stored(
    sessions: SessionFactory,
    box: SecretBox,
    *,
    timeout: float,
    workspace_id: str,
    prepared_type: type[P],
    prepare: Callable[[AsyncSession], Awaitable[P | R]],
    release: Callable[[AsyncSession], Awaitable[None]],
    record: Callable[[AsyncSession, P, Attempt], Awaitable[R]],
) -> R:
    """Reserve (committed), deliver over SMTP, record: the never-twice send of a stored message.

    The reservation is its own transaction, committed before SMTP starts, so a retry can tell
    "decided" (``prepare`` returns the outcome) from "died during SMTP" (``prepare`` records it
    failed, unconfirmed). A 535 also marks the inbox, so its owner sees why sending stopped.
    """
    async with unit_of_work(sessions) as session:
        prepared = await prepare(session)
        settings = None
        if isinstance(prepared, prepared_type) and prepared.provider != Provider.sandbox:
            inbox = await session.get(Inbox, prepared.inbox_id)
            if inbox is not None:
                settings = inbox_service.smtp_settings(inbox, box, timeout=timeout)
    if not isinstance(prepared, prepared_type):
        return cast(R, prepared)
    ready: P = prepared

    async def give_back() -> None:
        async with unit_of_work(sessions) as session:
            await release(session)

    attempt = await attempt_delivery(
        settings,
        sender=ready.sender,
        recipient=ready.recipient,
        message=ready.message,
        release=give_back,
    )
    async with unit_of_work(sessions) as session:
        if attempt.auth_failed:
            await inbox_service.record_validation(
                session=session,
                workspace_id=workspace_id,
                inbox_id=ready.inbox_id,
                error=attempt.error,
            )
        return await record(session, ready, attempt)
