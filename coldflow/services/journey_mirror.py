"""Mirror a journey's state into its lead row, so the API can list and filter without Temporal."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from coldflow.contracts.journey import RecordJourneyInput
from coldflow.models import JourneyState, Lead
from coldflow.models.base import utcnow
from coldflow.store import events as event_store

# States that are facts worth an event (and later a webhook), named as PRODUCT §5 names them.
STATE_EVENTS = {
    JourneyState.completed: "lead.completed",
    JourneyState.stopped: "lead.stopped",
    JourneyState.held: "lead.held",
}


async def record_journey(session: AsyncSession, inp: RecordJourneyInput) -> None:
    lead = await session.get(Lead, inp.lead_id)
    if lead is None or lead.workspace_id != inp.workspace_id:
        return  # deleted meanwhile: nothing to mirror
    state = JourneyState(inp.state)
    changed = lead.journey_state != state
    lead.journey_state = state
    lead.current_step = inp.step
    lead.next_send_at = inp.next_send_at
    lead.hold_reason = inp.reason if state in (JourneyState.held, JourneyState.stopped) else None
    lead.updated_at = utcnow()
    session.add(lead)
    if changed and state in STATE_EVENTS:
        await event_store.record_event(
            session,
            workspace_id=lead.workspace_id,
            type=STATE_EVENTS[state],
            campaign_id=lead.campaign_id,
            lead_id=lead.id,
            step=inp.step,
            data={"email": lead.email, "reason": inp.reason},
        )
