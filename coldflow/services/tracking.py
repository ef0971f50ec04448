"""Opens, clicks and unsubscribes arriving at the public endpoints through signed tokens.

The token names the row (``coldflow.links``); a token that does not verify, or whose row is
gone, is "not found", indistinguishable from any other unknown link. A click's target is read
from the stored message (``rendering.link_targets``), never from the request.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from coldflow.errors import NotFound
from coldflow.links import Links
from coldflow.models import Lead, SentMessage
from coldflow.models.base import utcnow
from coldflow.rendering import is_trackable, link_targets
from coldflow.services import triggers
from coldflow.services.journeys import Journeys
from coldflow.store import events as event_store


def _link_not_found() -> NotFound:
    return NotFound("link")


async def _message_event(
    session: AsyncSession, sent: SentMessage, type: str, **data: object
) -> None:
    await event_store.record_event(
        session,
        workspace_id=sent.workspace_id,
        type=type,
        campaign_id=sent.campaign_id,
        lead_id=sent.lead_id,
        inbox_id=sent.inbox_id,
        step=sent.step,
        variant_id=sent.variant_id,
        email_id=sent.id,
        data={"message_id": sent.message_id, "email": sent.to_email, **data},
    )


async def _sent_message(session: AsyncSession, sent_message_id: str | None) -> SentMessage:
    if sent_message_id is None:
        raise _link_not_found()
    # Locked (PostgreSQL) so two fetches of one pixel at once cannot both count the first open.
    sent = await session.get(SentMessage, sent_message_id, with_for_update=True)
    if sent is None:
        raise _link_not_found()
    return sent


async def _lead_of(session: AsyncSession, sent: SentMessage) -> Lead | None:
    """The lead of a campaign email; an API email (``POST /emails``) has none."""
    return await session.get(Lead, sent.lead_id) if sent.lead_id is not None else None


async def _mark_opened(session: AsyncSession, sent: SentMessage, lead: Lead | None) -> None:
    """One ``email.opened`` per message; the lead's first open sets ``opened_at``."""
    if await event_store.has_email_event(session, sent.id, "email.opened"):
        return
    await _message_event(session, sent, "email.opened")
    if lead is not None and lead.opened_at is None:
        lead.opened_at = utcnow()
        session.add(lead)


async def record_open(*, session: AsyncSession, links: Links, token: str) -> None:
    """The pixel of a sent message was loaded. Raises LINK_NOT_FOUND for a bad token."""
    sent = await _sent_message(session, links.opened_message(token))
    await _mark_opened(session, sent, await _lead_of(session, sent))
    await session.flush()


async def record_click(*, session: AsyncSession, links: Links, token: str) -> str:
    """A tracked link was followed: record it (a click also proves an open) and return the
    original URL, the one at the token's index in the stored message. LINK_NOT_FOUND for a bad
    token, or an index that names no http(s) link of that message."""
    target = links.clicked_link(token)
    if target is None:
        raise _link_not_found()
    sent = await _sent_message(session, target.sent_message_id)
    urls = link_targets(sent.body_html or "")
    if target.link_index >= len(urls) or not is_trackable(urls[target.link_index]):
        raise _link_not_found()
    url = urls[target.link_index]
    lead = await _lead_of(session, sent)
    await _mark_opened(session, sent, lead)
    await _message_event(session, sent, "email.clicked", url=url, link_index=target.link_index)
    if lead is not None and lead.clicked_at is None:
        lead.clicked_at = utcnow()
        session.add(lead)
    await session.flush()
    return url


@dataclass(frozen=True)
class UnsubscribeTarget:
    """Who an unsubscribe link belongs to, for the confirmation page."""

    lead_id: str
    email: str
    is_unsubscribed: bool


async def unsubscribe_target(
    *, session: AsyncSession, links: Links, token: str
) -> UnsubscribeTarget:
    """The lead of an unsubscribe link (LINK_NOT_FOUND for a bad token or a deleted lead)."""
    lead = await _unsubscribe_lead(session, links, token)
    return UnsubscribeTarget(lead.id, lead.email, lead.is_unsubscribed)


async def unsubscribe(
    *, session: AsyncSession, journeys: Journeys, links: Links, token: str, source: str
) -> UnsubscribeTarget:
    """Unsubscribe the link's address from the workspace (see ``triggers.unsubscribe_address``).

    Idempotent: a second request changes nothing and succeeds again.
    """
    lead = await _unsubscribe_lead(session, links, token)
    await triggers.unsubscribe_address(
        session=session,
        journeys=journeys,
        workspace_id=lead.workspace_id,
        email=lead.email,
        source=source,
    )
    return UnsubscribeTarget(lead.id, lead.email, True)


async def _unsubscribe_lead(session: AsyncSession, links: Links, token: str) -> Lead:
    lead_id = links.unsubscribe_lead(token)
    lead = await session.get(Lead, lead_id) if lead_id is not None else None
    if lead is None:
        raise _link_not_found()
    return lead
