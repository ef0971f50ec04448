"""The send path's database side: plan a step, reserve a send, record its outcome.

A send is reserved (row with its Message-ID, daily counters taken) and committed *before* SMTP,
so a worker crash after the SMTP DATA is recognised on retry and never sends a second time.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from coldflow import mime, sequencing, templates
from coldflow.contracts.journey import (
    LoadStepInput,
    SendOutcome,
    SendStepInput,
    SendStepResult,
    StepPlan,
)
from coldflow.links import Links
from coldflow.models import (
    Campaign,
    CampaignStatus,
    ConnectionStatus,
    Inbox,
    Lead,
    LeadStatus,
    Provider,
    SendStatus,
    SentMessage,
    Variant,
)
from coldflow.models.base import utcnow
from coldflow.store import blocklist as blocklist_store
from coldflow.store import campaigns as campaign_store
from coldflow.store import events as event_store
from coldflow.store import leads as lead_store
from coldflow.store import sending as store

ESP_DOMAINS = {
    "gmail.com": Provider.google,
    "googlemail.com": Provider.google,
    "outlook.com": Provider.microsoft,
    "hotmail.com": Provider.microsoft,
    "live.com": Provider.microsoft,
}


async def _stop_reason(
    session: AsyncSession, campaign: Campaign | None, lead: Lead | None
) -> str | None:
    if campaign is None:
        return "campaign_deleted"
    if lead is None:
        return "lead_deleted"
    if campaign.status == CampaignStatus.completed:
        return "campaign_completed"
    if lead.is_unsubscribed:
        return "unsubscribed"
    if lead.is_bounced:
        return "bounced"
    if lead.status == LeadStatus.replied and campaign.stop_on_reply:
        return "replied"
    if await blocklist_store.is_blocked(session, campaign.workspace_id, lead.email):
        return "blocklisted"
    return None


def _usable(inbox: Inbox) -> bool:
    return inbox.is_active and inbox.connection_status == ConnectionStatus.connected


async def _assign_inbox(session: AsyncSession, campaign: Campaign, lead: Lead) -> Inbox | None:
    """Step 1's inbox: the usable one with the fewest leads of this campaign (ESP-matched first).

    Follow-ups keep it so the thread stays in one mailbox; it is persisted on the lead.
    """
    inboxes = [
        i for i in await campaign_store.list_campaign_inboxes(session, campaign.id) if _usable(i)
    ]
    current = next((i for i in inboxes if i.id == lead.inbox_id), None)
    if current is not None or not inboxes:
        return current
    if campaign.esp_matching:
        provider = ESP_DOMAINS.get(lead.company_domain, Provider.other)
        matching = [i for i in inboxes if i.provider == provider]
        inboxes = matching or inboxes
    load = await campaign_store.count_leads_per_inbox(session, campaign.id)
    offset = sequencing.seeded_index(f"inbox:{lead.id}", len(inboxes))
    rotated = inboxes[offset:] + inboxes[:offset]
    chosen = min(rotated, key=lambda i: load.get(i.id, 0))
    lead.inbox_id = chosen.id
    session.add(lead)
    await session.flush()
    return chosen


async def plan_step(session: AsyncSession, inp: LoadStepInput) -> StepPlan:
    """What the journey needs to time step ``inp.step``, read fresh at each step."""
    campaign = await campaign_store.get_campaign(session, inp.workspace_id, inp.campaign_id)
    lead = await lead_store.get_lead(session, inp.workspace_id, inp.lead_id)
    reason = await _stop_reason(session, campaign, lead)
    if reason is not None or campaign is None or lead is None:
        return StepPlan(exists=False, stop_reason=reason)
    step = await campaign_store.get_step_at(session, campaign.id, inp.step)
    if step is None:
        return StepPlan(exists=False)
    delay = 0
    if inp.step > 1:
        previous = await campaign_store.get_step_at(session, campaign.id, inp.step - 1)
        delay = (previous.delay_days or 0) if previous else 0
    inbox = await _assign_inbox(session, campaign, lead)
    return StepPlan(
        exists=True,
        schedule=campaign.schedule,
        lead_timezone=lead.timezone,
        delay_days_before=delay,
        campaign_paused=campaign.status == CampaignStatus.paused,
        sender_domain=inbox.email.rpartition("@")[2] if inbox else "coldflow.invalid",
    )


@dataclass(frozen=True)
class PreparedSend:
    """A reserved send, ready for SMTP: everything the transport needs, no table rows."""

    sent_message_id: str
    inbox_id: str
    provider: Provider
    sender: str
    recipient: str
    subject: str
    message: bytes


def _render(
    campaign: Campaign,
    lead: Lead,
    inbox: Inbox,
    variant: Variant,
    inp: SendStepInput,
    links: Links,
) -> tuple[str, str, str | None, str | None]:
    """Subject, text, HTML (None when text-only) and the unsubscribe URL of one send."""
    unsubscribe_url = links.unsubscribe_url(lead.id) if campaign.unsubscribe_option else None
    variables = templates.build_variables(
        templates.LeadFields(
            email=lead.email,
            first_name=lead.first_name,
            last_name=lead.last_name,
            company=lead.company,
            custom=lead.variables,
        ),
        templates.SenderFields(name=inbox.from_name, email=inbox.email),
        unsubscribe_url,
    )
    seed = f"{lead.id}:{inp.step}"
    subject = templates.render(variant.subject, variables, seed=seed)
    if inp.step > 1:
        subject = mime.reply_subject(inp.previous_subject, subject)
    if campaign.text_only:
        text = templates.render(variant.body, variables, seed=seed)
        return subject, text, None, unsubscribe_url
    html = templates.render(templates.to_body_html(variant.body), variables, seed=seed, html=True)
    if inbox.signature:
        html += templates.to_body_html(inbox.signature)
    return subject, templates.html_to_text(html), html, unsubscribe_url


async def reserve_send(
    session: AsyncSession, inp: SendStepInput, *, links: Links
) -> PreparedSend | SendStepResult:
    """Check, render and reserve one send, or say why it cannot happen now."""
    existing = await store.find_sent(session, inp.lead_id, inp.step)
    if existing is not None and existing.status == SendStatus.sent:
        return SendStepResult(SendOutcome.SENT, existing.message_id, existing.subject)
    if existing is not None and existing.status in (SendStatus.bounced, SendStatus.failed):
        return SendStepResult(SendOutcome.BOUNCED, existing.message_id, reason=existing.error)
    campaign = await campaign_store.get_campaign(session, inp.workspace_id, inp.campaign_id)
    lead = await lead_store.get_lead(session, inp.workspace_id, inp.lead_id)
    reason = await _stop_reason(session, campaign, lead)
    if reason is not None or campaign is None or lead is None:
        return SendStepResult(SendOutcome.STOPPED, reason=reason)
    if campaign.status == CampaignStatus.paused:
        return SendStepResult(SendOutcome.PAUSED, reason="campaign paused")
    step = await campaign_store.get_step_at(session, campaign.id, inp.step)
    inbox = await _assign_inbox(session, campaign, lead)
    if step is None:
        return SendStepResult(SendOutcome.SKIPPED, reason="step deleted")
    if inbox is None:
        return SendStepResult(SendOutcome.HELD, reason="no active, connected inbox")
    if not sequencing.should_send_step(
        step.condition, replied=lead.status == LeadStatus.replied, opened=False
    ):
        return SendStepResult(SendOutcome.SKIPPED, reason=f"condition {step.condition.value}")
    variants = await campaign_store.list_variants(session, [step.id])
    choice = sequencing.choose_variant(
        [sequencing.VariantChoice(v.id, v.label, v.weight, v.enabled) for v in variants],
        lead_id=lead.id,
        step=inp.step,
    )
    variant = next(v for v in variants if v.id == choice.id)
    try:
        subject, text, html, unsubscribe_url = _render(campaign, lead, inbox, variant, inp, links)
    except templates.MissingVariable as exc:
        return SendStepResult(SendOutcome.HELD, reason=exc.message)
    if existing is None:
        if not await store.try_increment(
            session, "campaign", campaign.id, inp.local_day, campaign.daily_limit
        ):
            return SendStepResult(SendOutcome.DAY_FULL, reason="campaign daily limit reached")
        if not await store.try_increment(
            session, "inbox", inbox.id, inp.local_day, inbox.daily_campaign_limit
        ):
            await store.decrement(session, "campaign", campaign.id, inp.local_day)
            return SendStepResult(SendOutcome.DAY_FULL, reason="inbox daily limit reached")
        existing = SentMessage(
            workspace_id=campaign.workspace_id,
            campaign_id=campaign.id,
            lead_id=lead.id,
            step=inp.step,
            variant_id=variant.id,
            inbox_id=inbox.id,
            message_id=inp.message_id,
            to_email=lead.email,
            subject=subject,
            local_day=inp.local_day,
        )
        session.add(existing)
        await session.flush()
    message = mime.build_message(
        mime.OutgoingEmail(
            from_name=inbox.from_name,
            from_email=inbox.email,
            to_email=lead.email,
            to_name=" ".join(p for p in (lead.first_name, lead.last_name) if p),
            subject=subject,
            text=text,
            html=html,
            message_id=existing.message_id,
            in_reply_to=inp.in_reply_to,
            references=inp.references,
            reply_to=inbox.reply_to,
            unsubscribe_url=unsubscribe_url,
        ),
        date=existing.reserved_at,
    )
    return PreparedSend(
        sent_message_id=existing.id,
        inbox_id=inbox.id,
        provider=inbox.provider,
        sender=inbox.email,
        recipient=lead.email,
        subject=subject,
        message=message,
    )


async def record_sent(session: AsyncSession, prepared: PreparedSend) -> SendStepResult:
    sent = await session.get(SentMessage, prepared.sent_message_id)
    if sent is None:  # the campaign or lead was deleted while SMTP ran
        return SendStepResult(SendOutcome.STOPPED, reason="deleted during send")
    sent.status, sent.sent_at = SendStatus.sent, utcnow()
    session.add(sent)
    lead = await session.get(Lead, sent.lead_id)
    if lead is not None and lead.status == LeadStatus.uncontacted:
        lead.status = LeadStatus.contacted
        session.add(lead)
    await event_store.record_event(
        session,
        workspace_id=sent.workspace_id,
        type="email.sent",
        campaign_id=sent.campaign_id,
        lead_id=sent.lead_id,
        inbox_id=sent.inbox_id,
        step=sent.step,
        variant_id=sent.variant_id,
        data={"message_id": sent.message_id, "email": sent.to_email},
    )
    return SendStepResult(SendOutcome.SENT, sent.message_id, sent.subject)


async def record_bounce(
    session: AsyncSession, prepared: PreparedSend, error: str
) -> SendStepResult:
    """A 5xx at RCPT: the address is bad, the lead is marked bounced and the journey ends."""
    sent = await session.get(SentMessage, prepared.sent_message_id)
    if sent is None:
        return SendStepResult(SendOutcome.STOPPED, reason="deleted during send")
    sent.status, sent.error = SendStatus.bounced, error
    session.add(sent)
    lead = await session.get(Lead, sent.lead_id)
    if lead is not None:
        lead.is_bounced = True
        session.add(lead)
    await event_store.record_event(
        session,
        workspace_id=sent.workspace_id,
        type="email.bounced",
        campaign_id=sent.campaign_id,
        lead_id=sent.lead_id,
        inbox_id=sent.inbox_id,
        step=sent.step,
        data={"message_id": sent.message_id, "email": sent.to_email, "hard": True, "error": error},
    )
    return SendStepResult(SendOutcome.BOUNCED, sent.message_id, reason=error)


async def mark_inbox_error(session: AsyncSession, inbox_id: str, error: str) -> None:
    """535 on AUTH: stop using the inbox until someone fixes its credentials."""
    inbox = await session.get(Inbox, inbox_id)
    if inbox is not None:
        inbox.connection_status, inbox.connection_error = ConnectionStatus.error, error
        session.add(inbox)
