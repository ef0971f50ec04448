"""CRM triggers: act on every journey of one address, and the unsubscribe the public link shares.

Rows and events are written in the caller's unit of work; journeys are signalled only after it
commits. A journey re-reads the lead before every send, so the row is what guarantees the
outcome (an unsubscribed or replied lead is never sent to again) and the signal is what makes
it immediate.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.service import RPCError

from coldflow.contracts.journey import JourneySignal, ReplyReceived, StopJourney, Unsubscribed
from coldflow.errors import Unavailable
from coldflow.ids import journey_workflow_id
from coldflow.models import (
    BlockKind,
    BlocklistEntry,
    Campaign,
    ContactStatus,
    JourneyState,
    Lead,
    LeadStatus,
)
from coldflow.models.base import utcnow
from coldflow.schemas.triggers import TriggerAction, TriggerCreate, TriggeredLead, TriggerResult
from coldflow.services.campaigns import get_campaign
from coldflow.services.journeys import Journeys
from coldflow.store import blocklist as blocklist_store
from coldflow.store import contacts as contact_store
from coldflow.store import events as event_store
from coldflow.store import leads as lead_store
from coldflow.store.db import after_commit

log = logging.getLogger(__name__)

# Journeys that exist in Temporal and have not ended: the ones a signal can still change.
LIVE_STATES = frozenset(
    {JourneyState.waiting, JourneyState.sending, JourneyState.paused, JourneyState.held}
)
ENDED_STATES = frozenset({JourneyState.completed, JourneyState.stopped})
UNSUBSCRIBE_SOURCE = "unsubscribe"


@dataclass(frozen=True)
class _Signal:
    campaign_id: str
    lead_id: str
    signal: JourneySignal
    arg: object = None


@dataclass
class _Outcome:
    leads: list[TriggeredLead]
    signals: list[_Signal]

    def add(self, lead: Lead, signal: _Signal | None) -> None:
        self.leads.append(
            TriggeredLead(
                id=lead.id,
                campaign_id=lead.campaign_id,
                journey_workflow_id=journey_workflow_id(lead.campaign_id, lead.id),
                signalled=signal is not None,
            )
        )
        if signal is not None:
            self.signals.append(signal)

    def result(self) -> TriggerResult:
        return TriggerResult(affected=len(self.leads), leads=self.leads)


async def _event(session: AsyncSession, lead: Lead, type: str, **data: Any) -> None:
    await event_store.record_event(
        session,
        workspace_id=lead.workspace_id,
        type=type,
        campaign_id=lead.campaign_id,
        lead_id=lead.id,
        data={"email": lead.email, **{k: v for k, v in data.items() if v is not None}},
    )


def _touch(session: AsyncSession, lead: Lead) -> None:
    lead.updated_at = utcnow()
    session.add(lead)


async def _stop(session: AsyncSession, lead: Lead, reason: str) -> _Signal | None:
    if lead.journey_state in LIVE_STATES:
        return _Signal(lead.campaign_id, lead.id, JourneySignal.STOP, StopJourney(reason))
    if lead.journey_state == JourneyState.not_started:
        # No workflow yet: the row says stopped, activation skips the lead, and a journey whose
        # enrollment was already in flight stops at its first plan (the row is re-read).
        lead.journey_state, lead.hold_reason = JourneyState.stopped, reason
        _touch(session, lead)
        await _event(session, lead, "lead.stopped", reason=reason)
    return None


async def _mark_replied(
    session: AsyncSession, lead: Lead, reason: str | None, campaign: Campaign | None
) -> _Signal | None:
    if lead.status != LeadStatus.replied:
        lead.status = LeadStatus.replied
        _touch(session, lead)
        await _event(session, lead, "email.replied", source="crm", reason=reason)
    if lead.journey_state not in LIVE_STATES:
        return None  # a journey not started yet reads the status at its first plan
    stop = campaign.stop_on_reply if campaign is not None else True
    reply = ReplyReceived(message_id="", from_email=lead.email, label=None, stop=stop)
    return _Signal(lead.campaign_id, lead.id, JourneySignal.REPLY_RECEIVED, reply)


async def apply_trigger(
    *, session: AsyncSession, journeys: Journeys, workspace_id: str, data: TriggerCreate
) -> TriggerResult:
    """Act on every lead of the workspace with ``data.email`` (one campaign, if given).

    * ``stop``: running journeys are stopped (reason ``crm`` or ``crm: <reason>``); leads not
      started yet are marked stopped. ``lead.stopped`` is written when the journey ends.
    * ``pause`` / ``resume``: running journeys only.
    * ``mark_replied``: status ``replied``, ``email.replied`` (source ``crm``); the journey
      stops when the campaign's ``stop_on_reply`` says so.
    * ``unsubscribe``: see ``unsubscribe_address`` (always the whole workspace).
    * ``meeting_booked``: ``lead.meeting_booked``, then a stop (reason ``meeting_booked``).

    An unknown address affects nothing (not an error); an unknown campaign is 404.
    """
    if data.campaign_id is not None:
        await get_campaign(session=session, workspace_id=workspace_id, campaign_id=data.campaign_id)
    if data.action == TriggerAction.unsubscribe:
        return await unsubscribe_address(
            session=session,
            journeys=journeys,
            workspace_id=workspace_id,
            email=data.email,
            source="crm",
            reason=data.reason,
        )
    outcome = _Outcome([], [])
    campaigns: dict[str, Campaign | None] = {}
    for lead in await lead_store.find_leads_by_email(
        session, workspace_id, data.email, data.campaign_id
    ):
        signal: _Signal | None = None
        if data.action == TriggerAction.stop:
            signal = await _stop(session, lead, f"crm: {data.reason}" if data.reason else "crm")
        elif data.action == TriggerAction.meeting_booked:
            await _event(session, lead, "lead.meeting_booked", source="crm", reason=data.reason)
            signal = await _stop(session, lead, "meeting_booked")
        elif data.action == TriggerAction.mark_replied:
            if lead.campaign_id not in campaigns:
                campaigns[lead.campaign_id] = await session.get(Campaign, lead.campaign_id)
            signal = await _mark_replied(session, lead, data.reason, campaigns[lead.campaign_id])
        elif lead.journey_state in LIVE_STATES:
            kind = (
                JourneySignal.PAUSE if data.action == TriggerAction.pause else JourneySignal.RESUME
            )
            signal = _Signal(lead.campaign_id, lead.id, kind)
        outcome.add(lead, signal)
    await session.flush()
    after_commit(session, _sender(journeys, outcome.signals, tolerant=False))
    return outcome.result()


async def unsubscribe_address(
    *,
    session: AsyncSession,
    journeys: Journeys,
    workspace_id: str,
    email: str,
    source: str,
    reason: str | None = None,
) -> TriggerResult:
    """Unsubscribe an address from the whole workspace, at once and for good. Idempotent.

    Every lead with the address is flagged ``is_unsubscribed`` (one ``lead.unsubscribed`` event
    each, the first time), its running journey is signalled ``unsubscribed`` after the commit,
    the address goes on the workspace blocklist (source ``unsubscribe``) so it can never be
    enrolled again, and its contact, if any, becomes ``unsubscribed``. An unsubscribe concerns
    the sender, not one campaign (RFC 8058 §1, and what CAN-SPAM and GDPR expect), hence the
    whole workspace.
    """
    address = email.strip().lower()
    if await blocklist_store.find_entry(session, workspace_id, address) is None:
        session.add(
            BlocklistEntry(
                workspace_id=workspace_id,
                value=address,
                kind=BlockKind.email,
                source=UNSUBSCRIBE_SOURCE,
            )
        )
    await contact_store.raise_status(session, workspace_id, address, ContactStatus.unsubscribed)
    outcome = _Outcome([], [])
    for lead in await lead_store.find_leads_by_email(session, workspace_id, address):
        if not lead.is_unsubscribed:
            lead.is_unsubscribed = True
            _touch(session, lead)
            await _event(session, lead, "lead.unsubscribed", source=source, reason=reason)
        signal = None
        if lead.journey_state in LIVE_STATES:
            arg = Unsubscribed(source=source)
            signal = _Signal(lead.campaign_id, lead.id, JourneySignal.UNSUBSCRIBED, arg)
        outcome.add(lead, signal)
    await session.flush()
    # The flag already stops every later send, so a Temporal outage must not fail an
    # unsubscribe: the journey then ends at its next plan instead of at once.
    after_commit(session, _sender(journeys, outcome.signals, tolerant=True))
    return outcome.result()


def _sender(
    journeys: Journeys, signals: Sequence[_Signal], *, tolerant: bool
) -> Callable[[], Awaitable[None]]:
    async def send() -> None:
        failed: list[str] = []
        for item in signals:
            try:
                await journeys.signal(item.campaign_id, item.lead_id, item.signal, item.arg)
            except (RPCError, Unavailable) as exc:
                log.warning("journey %s: %s not delivered: %s", item.lead_id, item.signal, exc)
                failed.append(journey_workflow_id(item.campaign_id, item.lead_id))
        if failed and not tolerant:
            raise Unavailable(
                f"{len(failed)} journey(s) could not be signalled; retry the request",
                code="TEMPORAL_UNAVAILABLE",
                details=[{"journey_workflow_id": workflow_id} for workflow_id in failed],
            )

    return send
