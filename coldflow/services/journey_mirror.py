"""What a journey writes down: send outcomes, its state in the lead row, the event log, and the
campaign's completion when its last journey ends.

Every transition becomes one event (``email.sent``, ``email.bounced``, ``email.failed``,
``lead.held``, ``lead.stopped``, ``lead.completed``, ``campaign.completed``), the source of
analytics and webhooks.
"""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from coldflow.contracts.journey import RecordJourneyInput, SendOutcome, SendStepResult
from coldflow.models import (
    Campaign,
    CampaignStatus,
    ConnectionStatus,
    ContactStatus,
    Inbox,
    JourneyState,
    Lead,
    LeadStatus,
    SendStatus,
    SentMessage,
)
from coldflow.models.base import utcnow
from coldflow.store import campaigns as campaign_store
from coldflow.store import contacts as contact_store
from coldflow.store import events as event_store
from coldflow.store import leads as lead_store
from coldflow.store import sending as send_store

# States that are facts worth an event (and later a webhook), named as PRODUCT §5 names them.
STATE_EVENTS = {
    JourneyState.completed: "lead.completed",
    JourneyState.stopped: "lead.stopped",
    JourneyState.held: "lead.held",
}
FINAL_STATES = (JourneyState.completed, JourneyState.stopped)
# States whose reason the API shows ("campaign paused", "Missing value for …", "replied").
REASONED_STATES = (JourneyState.held, JourneyState.paused, JourneyState.stopped)


async def record_journey(session: AsyncSession, inp: RecordJourneyInput) -> None:
    """Mirror the workflow's state into the lead row; complete the campaign after its last lead."""
    lead = await session.get(Lead, inp.lead_id)
    if lead is None or lead.workspace_id != inp.workspace_id:
        return  # deleted meanwhile: nothing to mirror
    state = JourneyState(inp.state)
    campaign = None
    if state in FINAL_STATES:
        # Locked before the count below, so two leads finishing at once cannot both see the
        # other as unfinished and leave the campaign active forever (PostgreSQL; SQLite
        # serialises writers anyway).
        campaign = await campaign_store.get_campaign(
            session, lead.workspace_id, lead.campaign_id, for_update=True
        )
    changed = lead.journey_state != state
    lead.journey_state = state
    lead.current_step = inp.step
    lead.next_send_at = inp.next_send_at
    lead.hold_reason = inp.reason if state in REASONED_STATES else None
    lead.updated_at = utcnow()
    session.add(lead)
    await session.flush()
    if changed and state in STATE_EVENTS:
        await _event(session, lead, STATE_EVENTS[state], step=inp.step, reason=inp.reason)
    if campaign is not None:
        await complete_campaign_if_done(session, campaign)


async def complete_campaign_if_done(session: AsyncSession, campaign: Campaign) -> bool:
    """Mark an active campaign ``completed`` once none of its leads has an unfinished journey.

    Called when a journey ends; the API should call it too after deleting leads (deleting the
    last unfinished one ends the campaign as well). Lock the campaign row first (``for_update``).
    """
    if campaign.status != CampaignStatus.active:
        return False
    if await lead_store.has_unfinished_leads(session, campaign.id):
        return False
    await _complete_campaign(session, campaign)
    return True


async def _complete_campaign(session: AsyncSession, campaign: Campaign) -> None:
    campaign.status = CampaignStatus.completed
    campaign.updated_at = utcnow()
    session.add(campaign)
    await event_store.record_event(
        session,
        workspace_id=campaign.workspace_id,
        type="campaign.completed",
        campaign_id=campaign.id,
        data={"name": campaign.name},
    )


async def _event(session: AsyncSession, lead: Lead, type: str, **data: Any) -> None:
    await event_store.record_event(
        session,
        workspace_id=lead.workspace_id,
        type=type,
        campaign_id=lead.campaign_id,
        lead_id=lead.id,
        step=data.pop("step", None),
        data={"email": lead.email, **data},
    )


async def record_sent(
    session: AsyncSession, sent_message_id: str, variant_label: str
) -> SendStepResult:
    """SMTP accepted the message: mark the reservation sent, the lead contacted."""
    sent = await session.get(SentMessage, sent_message_id)
    if sent is None:  # the campaign or lead was deleted while SMTP ran
        return SendStepResult(SendOutcome.STOPPED, reason="deleted during send")
    sent.status, sent.sent_at = SendStatus.sent, utcnow()
    session.add(sent)
    lead = await session.get(Lead, sent.lead_id)
    if lead is not None and lead.status == LeadStatus.uncontacted:
        lead.status = LeadStatus.contacted
        session.add(lead)
    await _message_event(session, sent, "email.sent", variant=variant_label)
    return SendStepResult(
        SendOutcome.SENT,
        sent.message_id,
        sent.subject,
        variant_label=variant_label,
        inbox_id=sent.inbox_id or "",
    )


async def record_bounce(session: AsyncSession, sent_message_id: str, error: str) -> SendStepResult:
    """A 5xx at RCPT: the address is bad, the lead is marked bounced and the journey ends."""
    sent = await session.get(SentMessage, sent_message_id)
    if sent is None:
        return SendStepResult(SendOutcome.STOPPED, reason="deleted during send")
    sent.status, sent.error = SendStatus.bounced, error
    session.add(sent)
    lead = await session.get(Lead, sent.lead_id)
    if lead is not None:
        lead.is_bounced = True
        session.add(lead)
    await contact_store.raise_status(
        session, sent.workspace_id, sent.to_email, ContactStatus.bounced
    )
    await _message_event(session, sent, "email.bounced", hard=True, error=error)
    return SendStepResult(SendOutcome.BOUNCED, sent.message_id, reason=error)


async def record_failure(session: AsyncSession, sent_message_id: str, error: str) -> SendStepResult:
    """A permanent refusal of the message itself (5xx at DATA): never retried, journey ends."""
    sent = await session.get(SentMessage, sent_message_id)
    if sent is None:
        return SendStepResult(SendOutcome.STOPPED, reason="deleted during send")
    sent.status, sent.error = SendStatus.failed, error
    session.add(sent)
    await _message_event(session, sent, "email.failed", error=error)
    return SendStepResult(SendOutcome.FAILED, sent.message_id, reason=error)


async def record_auth_failure(
    session: AsyncSession, sent_message_id: str, inbox_id: str, error: str
) -> SendStepResult:
    """535 on AUTH: stop using the inbox until its credentials are fixed, and hold the lead.

    Nothing left the building, so the reservation is given back (row and daily budget); the
    next attempt may rotate step 1 to a healthy inbox. Follow-ups stay held on their thread's.
    """
    inbox = await session.get(Inbox, inbox_id)
    if inbox is not None:
        if inbox.connection_status != ConnectionStatus.error:
            await event_store.record_event(
                session,
                workspace_id=inbox.workspace_id,
                type="inbox.error",
                inbox_id=inbox.id,
                data={"email": inbox.email, "error": error, "source": "smtp_auth"},
            )
        inbox.connection_status, inbox.connection_error = ConnectionStatus.error, error
        inbox.updated_at = utcnow()
        session.add(inbox)
    sent = await session.get(SentMessage, sent_message_id)
    if sent is not None:
        if sent.campaign_id:
            await send_store.decrement(session, "campaign", sent.campaign_id, sent.local_day)
        await send_store.decrement(session, "inbox", inbox_id, sent.local_day)
        lead = await session.get(Lead, sent.lead_id)
        if lead is not None and sent.step == 1:
            lead.inbox_id = None
            session.add(lead)
        await session.delete(sent)
    email = inbox.email if inbox is not None else inbox_id
    return SendStepResult(SendOutcome.HELD, reason=f"inbox {email} cannot send: {error}")


async def _message_event(session: AsyncSession, sent: SentMessage, type: str, **data: Any) -> None:
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
