"""One inbound message: parsed, classified, matched to a lead, stored once, with the journey
signals it calls for (``store_message``); ``deliver`` sends them after the commit.

Matching, first hit wins: ``In-Reply-To``/``References`` (and a DSN's returned Message-ID)
against the Message-IDs coldflow sent (journey steps, then unibox messages); then the sender's
address (a DSN's failed recipient) against the leads of the campaigns using the inbox; else the
message is unmatched (``lead_id`` null, folder ``others``). A conversation is per lead when
matched, else per (inbox, sender address); human replies from a lead or in our threads go to
``primary``, everything else to ``others``. docs/mailbox.md has the whole picture.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlmodel.ext.asyncio.session import AsyncSession

from coldflow import esp
from coldflow.classify import Classification, Kind, ParsedMessage, classify, parse
from coldflow.contracts.journey import (
    Bounced,
    JourneySignal,
    ReplyReceived,
    StopJourney,
    Unsubscribed,
)
from coldflow.models import (
    Attachment,
    Campaign,
    Conversation,
    ConversationMessage,
    EmailSource,
    Folder,
    Inbox,
    Lead,
    MessageKind,
    SentMessage,
)
from coldflow.models.base import utcnow
from coldflow.services import inbound_events
from coldflow.services.inbound_events import clean
from coldflow.services.journeys import Journeys
from coldflow.store import inbound as store

HUMAN = (Kind.REPLY, Kind.UNSUBSCRIBE)
SYNTHETIC_DOMAIN = "coldflow.invalid"


class StoreStatus(StrEnum):
    STORED = "stored"
    # This very mailbox slot (inbox, UIDVALIDITY, UID) was stored by an earlier attempt that
    # died before it moved the cursor: its signals may never have gone out, so they are sent.
    RESIGNAL = "resignal"
    # The Message-ID is known (another folder, a re-sync after a UIDVALIDITY change, or one of
    # our own sent messages): processed before, nothing to do.
    DUPLICATE = "duplicate"


@dataclass(frozen=True)
class Notice:
    """One journey signal to send once the message is committed."""

    campaign_id: str
    lead_id: str
    signal: JourneySignal
    payload: ReplyReceived | Bounced | Unsubscribed | StopJourney


@dataclass(frozen=True)
class StoreResult:
    status: StoreStatus
    message_id: str
    kind: Kind
    notices: tuple[Notice, ...] = ()
    conversation_id: str | None = None


@dataclass(frozen=True)
class _Match:
    lead: Lead | None = None
    campaign: Campaign | None = None
    sent: SentMessage | None = None  # the message replied to (or bounced)
    conversation: Conversation | None = None  # a unibox thread the message answers


def message_key(parsed: ParsedMessage, raw: bytes) -> str:
    """The message's Message-ID, or a stable stand-in when it has none (or an absurd one).

    Derived from the bytes, so a re-sync recognises the same message under its new UID.
    """
    if parsed.message_id and len(parsed.message_id) <= 255:
        return parsed.message_id
    return f"<{hashlib.sha256(raw).hexdigest()[:40]}@{SYNTHETIC_DOMAIN}>"


async def store_message(
    session: AsyncSession,
    *,
    inbox: Inbox,
    uidvalidity: int,
    uid: int,
    raw: bytes,
    parsed: ParsedMessage | None = None,
) -> StoreResult:
    """Store one fetched message exactly once; the signals to send after the commit.

    Two guards make it exactly once: the lookups below, and the unique constraints on
    (workspace, Message-ID) and (inbox, UIDVALIDITY, UID) for a race between two sessions,
    whose ``IntegrityError`` the caller answers by running this again in a new transaction.
    ``parsed`` is ``parse(raw)`` when the caller has it already.
    """
    parsed = parsed if parsed is not None else parse(raw)
    verdict = classify(parsed)
    key = message_key(parsed, raw)
    if await store.find_message_at(session, inbox.id, uidvalidity, uid) is not None:
        match = await _match(session, inbox, parsed, verdict)
        notices = await _notices(session, inbox, parsed, verdict, match, key)
        return StoreResult(StoreStatus.RESIGNAL, key, verdict.kind, notices)
    if await store.known_message_ids(session, inbox.workspace_id, [key]):
        return StoreResult(StoreStatus.DUPLICATE, key, verdict.kind)
    match = await _match(session, inbox, parsed, verdict)
    now = utcnow()
    received = min(parsed.date, now) if parsed.date is not None else now
    conversation = await _conversation(session, inbox, parsed, verdict, match, received)
    message = ConversationMessage(
        workspace_id=inbox.workspace_id,
        conversation_id=conversation.id,
        inbox_id=inbox.id,
        direction="incoming",
        kind=MessageKind(verdict.kind.value),
        label=verdict.label,
        message_id=key,
        in_reply_to=_clip(parsed.in_reply_to, 255) or None,
        references=[clean(r) for r in parsed.references],
        from_email=_clip(parsed.from_email, 320),
        from_name=_clip(parsed.from_name, 200),
        to_recipients=[{"email": clean(e), "name": ""} for e in parsed.to],
        cc_recipients=[{"email": clean(e), "name": ""} for e in parsed.cc],
        subject=clean(parsed.subject),
        text=clean(parsed.text),
        html=clean(parsed.html) if parsed.html is not None else None,
        sent_message_id=match.sent.id if match.sent is not None else None,
        imap_uidvalidity=uidvalidity,
        imap_uid=uid,
        received_at=received,
    )
    attachments = [
        Attachment(
            workspace_id=inbox.workspace_id,
            message_id=message.id,
            filename=_clip(meta.filename, 255),
            content_type=_clip(meta.content_type, 255),
            size=meta.size,
            content=data,
        )
        for meta, data in zip(parsed.attachments, parsed.attachment_data, strict=False)
    ]
    await store.add_message(session, message, attachments)
    if match.lead is not None and match.campaign is not None:
        await inbound_events.record_lead_message(
            session, inbox, parsed, verdict, match.lead, match.sent, message, conversation
        )
    elif match.sent is not None:
        await inbound_events.record_api_email_message(
            session, parsed, verdict, match.sent, message, conversation
        )
    notices = await _notices(session, inbox, parsed, verdict, match, key)
    return StoreResult(StoreStatus.STORED, key, verdict.kind, notices, conversation.id)


async def deliver(journeys: Journeys, notices: Sequence[Notice]) -> int:
    """Send the signals; the journeys ignore repeats (a stopped journey stays stopped)."""
    sent = [await journeys.signal(n.campaign_id, n.lead_id, n.signal, n.payload) for n in notices]
    return sum(sent)


# --- matching ---------------------------------------------------------------------------------


def _thread_ids(parsed: ParsedMessage, verdict: Classification) -> list[str]:
    """Message-IDs this message points at, the most telling first."""
    ids = [verdict.bounce.original_message_id] if verdict.bounce is not None else []
    ids += [verdict.complaint_message_id] if verdict.complaint_message_id else []
    ids += [parsed.in_reply_to, *reversed(parsed.references)]
    return list(dict.fromkeys(i for i in ids if i))


async def _match(
    session: AsyncSession, inbox: Inbox, parsed: ParsedMessage, verdict: Classification
) -> _Match:
    ids = _thread_ids(parsed, verdict)
    by_id = {s.message_id: s for s in await store.find_sent(session, inbox.workspace_id, ids)}
    sent = next((by_id[i] for i in ids if i in by_id), None)
    if sent is not None and sent.lead_id is not None:
        lead = await session.get(Lead, sent.lead_id)
        if lead is not None:
            return await _with_campaign(session, lead, sent)
    if sent is not None and sent.source == EmailSource.api:
        return _Match(sent=sent)  # an API email (POST /emails): no lead, no journey
    unibox = await store.find_outgoing(session, inbox.workspace_id, ids)
    outgoing = {m.message_id: m for m in unibox}
    ours = next((outgoing[i] for i in ids if i in outgoing), None)
    if ours is not None:
        conversation = await session.get(Conversation, ours.conversation_id)
        lead_id = conversation.lead_id if conversation is not None else None
        lead = await session.get(Lead, lead_id) if lead_id else None
        if lead is not None:
            match = await _with_campaign(session, lead, await store.latest_sent(session, lead.id))
            return _Match(match.lead, match.campaign, match.sent, conversation)
        return _Match(conversation=conversation)
    address = verdict.bounce.original_recipient if verdict.bounce is not None else parsed.from_email
    if not address:
        return _Match()
    leads = await store.find_leads_by_address(session, inbox.workspace_id, inbox.id, address)
    if not leads:
        return _Match()
    return await _with_campaign(session, leads[0], await store.latest_sent(session, leads[0].id))


async def _with_campaign(session: AsyncSession, lead: Lead, sent: SentMessage | None) -> _Match:
    campaign = await session.get(Campaign, lead.campaign_id)
    return _Match(lead=lead, campaign=campaign, sent=sent)


# --- storing ----------------------------------------------------------------------------------


def _contact(parsed: ParsedMessage, verdict: Classification, match: _Match) -> str:
    if match.lead is not None:
        return match.lead.email
    if verdict.bounce is not None and verdict.bounce.original_recipient:
        return verdict.bounce.original_recipient
    return _clip(parsed.from_email, 320) or "unknown@" + SYNTHETIC_DOMAIN


async def _conversation(
    session: AsyncSession,
    inbox: Inbox,
    parsed: ParsedMessage,
    verdict: Classification,
    match: _Match,
    received: datetime,
) -> Conversation:
    conversation = match.conversation
    if conversation is None and match.lead is not None:
        conversation = await store.find_lead_conversation(
            session, inbox.workspace_id, match.lead.id
        )
    contact = _contact(parsed, verdict, match)
    if conversation is None and match.lead is None:
        conversation = await store.find_contact_conversation(
            session, inbox.workspace_id, inbox.id, contact
        )
    human = verdict.kind in HUMAN and (
        match.lead is not None or match.conversation is not None or match.sent is not None
    )
    if conversation is None:
        conversation = Conversation(
            workspace_id=inbox.workspace_id,
            campaign_id=match.lead.campaign_id if match.lead is not None else None,
            lead_id=match.lead.id if match.lead is not None else None,
            inbox_id=inbox.id,
            contact_email=contact,
            subject=clean(parsed.subject),
            folder=Folder.others,
            last_message_at=received,
        )
    if human:
        # One human reply puts the thread in primary for good; a later auto-reply does not
        # move it back, nor does it replace the reply's label.
        conversation.folder = Folder.primary
        conversation.label, conversation.is_positive = verdict.label, verdict.is_positive
    elif conversation.label is None and verdict.label is not None:
        conversation.label = verdict.label
    conversation.is_read = False
    conversation.last_message_at = max(conversation.last_message_at, received)
    conversation.updated_at = utcnow()
    session.add(conversation)
    await session.flush()
    return conversation


# --- signals ----------------------------------------------------------------------------------


async def _notices(
    session: AsyncSession,
    inbox: Inbox,
    parsed: ParsedMessage,
    verdict: Classification,
    match: _Match,
    key: str,
) -> tuple[Notice, ...]:
    """The signals a message calls for; a pure function of the message and stable settings,
    so sending them again after a crash asks the journeys for nothing new."""
    notices: list[Notice] = []
    lead, campaign = match.lead, match.campaign
    if lead is not None and campaign is not None:
        signal = _lead_signal(parsed, verdict, campaign, match, key)
        if signal is not None:
            notices.append(Notice(campaign.id, lead.id, signal[0], signal[1]))
    if verdict.kind in HUMAN:
        notices += await _company_stops(session, inbox, parsed, match)
    return tuple(notices)


def _lead_signal(
    parsed: ParsedMessage, verdict: Classification, campaign: Campaign, match: _Match, key: str
) -> tuple[JourneySignal, ReplyReceived | Bounced | Unsubscribed] | None:
    if verdict.kind == Kind.REPLY:
        reply = ReplyReceived(key, parsed.from_email, verdict.label, stop=campaign.stop_on_reply)
        return JourneySignal.REPLY_RECEIVED, reply
    if verdict.kind == Kind.UNSUBSCRIBE:
        source = "complaint" if verdict.complaint_message_id is not None else "reply"
        return JourneySignal.UNSUBSCRIBED, Unsubscribed(source=source)
    if verdict.kind == Kind.BOUNCE and verdict.bounce is not None and verdict.bounce.hard:
        bounced_id = match.sent.message_id if match.sent is not None else key
        return JourneySignal.BOUNCED, Bounced(bounced_id, hard=True, status=verdict.bounce.status)
    return None  # auto-replies and soft bounces are recorded, never acted on


async def _company_stops(
    session: AsyncSession, inbox: Inbox, parsed: ParsedMessage, match: _Match
) -> list[Notice]:
    """``stop_on_company_reply``: a reply from anyone at a company stops its other leads.

    The company is the replier's domain and the matched lead's; free-mail domains are never a
    company (two gmail.com leads are not colleagues).
    """
    domains = {esp.domain_of(parsed.from_email)}
    if match.lead is not None:
        domains.add(match.lead.company_domain or esp.domain_of(match.lead.email))
    companies = sorted(d for d in domains if d and not esp.is_free_mail(d))
    if not companies:
        return []
    if match.campaign is not None:
        campaigns: Sequence[Campaign] = (
            [match.campaign] if match.campaign.stop_on_company_reply else []
        )
    else:
        campaigns = await store.company_reply_campaigns(session, inbox.workspace_id, inbox.id)
    exclude = match.lead.id if match.lead is not None else None
    notices = []
    for campaign in campaigns:
        for colleague in await store.find_colleagues(session, campaign.id, companies, exclude):
            stop = StopJourney("company_replied")
            notices.append(Notice(campaign.id, colleague.id, JourneySignal.STOP, stop))
    return notices


def _clip(value: str, limit: int) -> str:
    return clean(value)[:limit]
