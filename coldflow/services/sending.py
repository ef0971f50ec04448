"""The send path's database side: plan a step, reserve a send, record its outcome.

A send is reserved (row with its Message-ID, daily counters taken) and committed *before* SMTP,
so a worker crash after the SMTP DATA is recognised on retry and never sends a second, different
email: the retry finds the reservation and sends the same message with the same Message-ID.
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
from coldflow.ids import new_id
from coldflow.links import Links
from coldflow.models import (
    Campaign,
    CampaignStatus,
    ConnectionStatus,
    Inbox,
    JourneyState,
    Lead,
    LeadStatus,
    Provider,
    SendStatus,
    SentMessage,
    Variant,
)
from coldflow.rendering import Tracking, apply_tracking, render_email
from coldflow.services.rendering import email_variables
from coldflow.store import blocklist as blocklist_store
from coldflow.store import campaigns as campaign_store
from coldflow.store import contacts as contact_store
from coldflow.store import leads as lead_store
from coldflow.store import sending as store

ESP_DOMAINS = {
    "gmail.com": Provider.google,
    "googlemail.com": Provider.google,
    "outlook.com": Provider.microsoft,
    "hotmail.com": Provider.microsoft,
    "live.com": Provider.microsoft,
}
NO_DOMAIN = "coldflow.invalid"


async def _stop_reason(
    session: AsyncSession, campaign: Campaign | None, lead: Lead | None
) -> str | None:
    """Why this lead may never be sent to again in this campaign, or None."""
    if campaign is None:
        return "campaign_deleted"
    if lead is None:
        return "lead_deleted"
    if campaign.status == CampaignStatus.completed:
        return "campaign_completed"
    if lead.is_unsubscribed:
        return "unsubscribed"
    if lead.journey_state == JourneyState.stopped:  # stopped before its journey had started
        return lead.hold_reason or "stopped"
    if lead.is_bounced:
        return "bounced"
    if lead.status == LeadStatus.replied and campaign.stop_on_reply:
        return "replied"
    if await blocklist_store.is_blocked(session, campaign.workspace_id, lead.email):
        return "blocklisted"
    if await contact_store.suppressed_emails(session, campaign.workspace_id, [lead.email]):
        return "contact_suppressed"  # the workspace's contact bounced or complained elsewhere
    return None


def _usable(inbox: Inbox) -> bool:
    return inbox.is_active and inbox.connection_status == ConnectionStatus.connected


def _domain(email: str) -> str:
    return email.rpartition("@")[2] or NO_DOMAIN


async def _rotation(session: AsyncSession, campaign: Campaign, lead: Lead) -> list[Inbox]:
    """The usable inboxes step 1 may go from, rotated per lead (ESP-matched only, if asked)."""
    inboxes = [
        i for i in await campaign_store.list_campaign_inboxes(session, campaign.id) if _usable(i)
    ]
    if campaign.esp_matching:
        provider = ESP_DOMAINS.get(lead.company_domain, Provider.other)
        inboxes = [i for i in inboxes if i.provider == provider] or inboxes
    if not inboxes:
        return []
    # Seeded per lead, so leads that tie on usage spread over the inboxes instead of all
    # landing on the first one.
    offset = sequencing.seeded_index(f"inbox:{lead.id}", len(inboxes))
    return inboxes[offset:] + inboxes[:offset]


async def plan_step(session: AsyncSession, inp: LoadStepInput) -> StepPlan:
    """What the journey needs to time step ``inp.step``, read fresh at each step."""
    campaign = await campaign_store.get_campaign(session, inp.workspace_id, inp.campaign_id)
    lead = await lead_store.get_lead(session, inp.workspace_id, inp.lead_id)
    reason = await _stop_reason(session, campaign, lead)
    if reason is not None or campaign is None or lead is None:
        return StepPlan(exists=False, stop_reason=reason)
    steps = await campaign_store.list_steps(session, campaign.id)
    step = next((s for s in steps if s.position == inp.step), None)
    if step is None:
        return StepPlan(exists=False, total_steps=len(steps))
    previous = next((s for s in steps if s.position == inp.step - 1), None)
    inbox = await session.get(Inbox, lead.inbox_id) if lead.inbox_id else None
    if inbox is None:
        rotation = await _rotation(session, campaign, lead)
        inbox = rotation[0] if rotation else None
    return StepPlan(
        exists=True,
        schedule=campaign.schedule,
        lead_timezone=lead.timezone,
        delay_days_before=(previous.delay_days or 0) if previous else 0,
        campaign_paused=campaign.status == CampaignStatus.paused,
        sender_domain=_domain(inbox.email) if inbox else NO_DOMAIN,
        total_steps=len(steps),
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
    variant_label: str


@dataclass(frozen=True)
class _Rendered:
    subject: str
    text: str
    html: str | None
    tracked_html: str | None
    unsubscribe_url: str | None
    tracking: Tracking | None


def _render(
    campaign: Campaign,
    lead: Lead,
    inbox: Inbox,
    variant: Variant,
    inp: SendStepInput,
    links: Links,
    sent_message_id: str,
) -> _Rendered:
    """Subject and bodies of one send (HTML None when text-only); raises MissingVariable.

    Tracking tokens name the sent message's row, so its id is minted before the row exists.
    """
    unsubscribe_url = links.unsubscribe_url(lead.id) if campaign.unsubscribe_option else None
    tracking = links.tracking(
        sent_message_id,
        opens=campaign.track_opens,
        clicks=campaign.track_clicks,
        keep=(unsubscribe_url,) if unsubscribe_url else (),
    )
    email = render_email(
        subject=variant.subject,
        body=variant.body,
        variables=email_variables(lead, inbox, unsubscribe_url),
        lead_id=lead.id,
        step=inp.step,
        previous_subject=inp.previous_subject,
        text_only=campaign.text_only,
        signature=inbox.signature,
        tracking=tracking,
    )
    return _Rendered(
        email.subject, email.text, email.html, email.tracked_html, unsubscribe_url, tracking
    )


def _reserved_bodies(existing: SentMessage, rendered: _Rendered) -> tuple[str, str | None]:
    """A retried reservation sends the stored message (re-tracked), not a fresh render: the
    variant may have changed since, and click tokens index the stored HTML's links."""
    html = existing.body_html
    if html is not None and rendered.tracking is not None:
        html = apply_tracking(html, rendered.tracking)
    return existing.body_text, html


async def _take_slot(
    session: AsyncSession, campaign: Campaign, candidates: list[Inbox], day: str
) -> Inbox | str:
    """Take one send from the campaign's and an inbox's budget for ``day``; or say which is full.

    Candidates are tried least used today first, so step 1 spreads over the inboxes and only
    waits for tomorrow when every inbox (or the campaign) is full.
    """
    if not await store.try_increment(session, "campaign", campaign.id, day, campaign.daily_limit):
        return "campaign daily limit reached"
    used = await store.counts_for(session, "inbox", [i.id for i in candidates], day)
    for inbox in sorted(candidates, key=lambda i: used[i.id]):  # stable: keeps the rotation
        if await store.try_increment(session, "inbox", inbox.id, day, inbox.daily_campaign_limit):
            return inbox
    await store.decrement(session, "campaign", campaign.id, day)
    return "inbox daily limit reached"


async def _release_slot(session: AsyncSession, campaign_id: str, inbox_id: str, day: str) -> None:
    await store.decrement(session, "campaign", campaign_id, day)
    await store.decrement(session, "inbox", inbox_id, day)


def _existing_result(existing: SentMessage, variant: Variant | None) -> SendStepResult | None:
    """The outcome of a send already decided for (lead, step), if it was."""
    label = variant.label if variant else ""
    if existing.status == SendStatus.sent:
        return SendStepResult(
            SendOutcome.SENT,
            existing.message_id,
            existing.subject,
            None,
            label,
            existing.inbox_id or "",
        )
    if existing.status == SendStatus.bounced:
        return SendStepResult(SendOutcome.BOUNCED, existing.message_id, reason=existing.error)
    if existing.status == SendStatus.failed:
        return SendStepResult(SendOutcome.FAILED, existing.message_id, reason=existing.error)
    return None


async def reserve_send(
    session: AsyncSession, inp: SendStepInput, *, links: Links
) -> PreparedSend | SendStepResult:
    """Re-check, render and reserve one send, or say why it cannot happen now.

    Everything that could forbid the send is checked here, right before it: the lead deleted,
    replied, bounced, unsubscribed or blocklisted, the campaign paused, completed or deleted.
    """
    existing = await store.find_sent(session, inp.lead_id, inp.step)
    if existing is not None:
        variant = await session.get(Variant, existing.variant_id) if existing.variant_id else None
        decided = _existing_result(existing, variant)
        if decided is not None:
            return decided
    campaign = await campaign_store.get_campaign(session, inp.workspace_id, inp.campaign_id)
    lead = await lead_store.get_lead(session, inp.workspace_id, inp.lead_id)
    reason = await _stop_reason(session, campaign, lead)
    if reason is not None or campaign is None or lead is None:
        return SendStepResult(SendOutcome.STOPPED, reason=reason)
    if campaign.status == CampaignStatus.paused:
        return SendStepResult(SendOutcome.PAUSED, reason="campaign paused")
    step = await campaign_store.get_step_at(session, campaign.id, inp.step)
    if step is None:
        return SendStepResult(SendOutcome.SKIPPED, reason="step deleted")
    # Conditions gate follow-ups only: step 1 always goes (even one promoted by a deletion).
    if (
        existing is None
        and inp.step > 1
        and not sequencing.should_send_step(
            step.condition,
            replied=lead.status == LeadStatus.replied,
            opened=lead.opened_at is not None,
        )
    ):
        return SendStepResult(SendOutcome.SKIPPED, reason=f"condition {step.condition.value}")
    variants = await campaign_store.list_variants(session, [step.id])
    choice = sequencing.choose_variant(
        [sequencing.VariantChoice(v.id, v.label, v.weight, v.enabled) for v in variants],
        lead_id=lead.id,
        step=inp.step,
    )
    variant = next(v for v in variants if v.id == choice.id)
    candidates = await _candidates(session, campaign, lead, inp, existing)
    if isinstance(candidates, str):
        return SendStepResult(SendOutcome.HELD, reason=candidates)
    sent_message_id = existing.id if existing is not None else new_id()
    try:
        # Rendered before any budget is taken: a lead missing a variable is held, not counted.
        rendered = _render(campaign, lead, candidates[0], variant, inp, links, sent_message_id)
    except templates.MissingVariable as exc:
        return SendStepResult(SendOutcome.HELD, reason=exc.message)
    if existing is None:
        slot = await _take_slot(session, campaign, candidates, inp.local_day)
        if isinstance(slot, str):
            return SendStepResult(SendOutcome.DAY_FULL, reason=slot)
        inbox = slot
        if inbox is not candidates[0]:
            try:
                rendered = _render(campaign, lead, inbox, variant, inp, links, sent_message_id)
            except templates.MissingVariable as exc:  # a sender field only this inbox lacks
                await _release_slot(session, campaign.id, inbox.id, inp.local_day)
                return SendStepResult(SendOutcome.HELD, reason=exc.message)
        existing = await _reserve(
            session, campaign, lead, inbox, variant, inp, rendered, sent_message_id
        )
        text, html = rendered.text, rendered.tracked_html
    else:
        inbox = candidates[0]
        text, html = _reserved_bodies(existing, rendered)
    message = mime.build_message(
        mime.OutgoingEmail(
            from_name=inbox.from_name,
            from_email=inbox.email,
            to_email=lead.email,
            to_name=" ".join(p for p in (lead.first_name, lead.last_name) if p),
            subject=existing.subject,
            text=text,
            html=html,
            message_id=existing.message_id,
            in_reply_to=inp.in_reply_to,
            references=inp.references,
            reply_to=inbox.reply_to,
            unsubscribe_url=rendered.unsubscribe_url,
            # RFC 2369 / RFC 8058: a mailto alternative for clients that do not POST.
            unsubscribe_mailto=(
                f"mailto:{inbox.reply_to or inbox.email}?subject=unsubscribe"
                if rendered.unsubscribe_url
                else None
            ),
        ),
        date=existing.reserved_at,
    )
    return PreparedSend(
        sent_message_id=existing.id,
        inbox_id=inbox.id,
        provider=inbox.provider,
        sender=inbox.email,
        recipient=lead.email,
        subject=existing.subject,
        message=message,
        variant_label=variant.label,
    )


async def _candidates(
    session: AsyncSession,
    campaign: Campaign,
    lead: Lead,
    inp: SendStepInput,
    existing: SentMessage | None,
) -> list[Inbox] | str:
    """The inboxes this send may go from, best first; or why there is none (the lead is held).

    A reservation keeps its inbox; a follow-up goes from the inbox of the thread, so the lead
    sees one conversation; step 1 (or a thread never started) rotates.
    """
    pinned_id = existing.inbox_id if existing is not None else None
    if pinned_id is None and inp.in_reply_to is not None:
        pinned_id = lead.inbox_id
    if pinned_id is not None:
        inbox = await session.get(Inbox, pinned_id)
        if inbox is None:
            return "the inbox of this thread was deleted"
        if existing is None and not _usable(inbox):
            return f"inbox {inbox.email} is {_inbox_state(inbox)}"
        return [inbox]
    rotation = await _rotation(session, campaign, lead)
    return rotation or "no active, connected inbox"


def _inbox_state(inbox: Inbox) -> str:
    if not inbox.is_active:
        return "inactive"
    return f"in {inbox.connection_status.value}: {inbox.connection_error or 'not connected'}"


async def _reserve(
    session: AsyncSession,
    campaign: Campaign,
    lead: Lead,
    inbox: Inbox,
    variant: Variant,
    inp: SendStepInput,
    rendered: _Rendered,
    sent_message_id: str,
) -> SentMessage:
    # The workflow minted the id from the inbox it expected; when the rotation picked an inbox
    # of another domain, the same derivation with that domain keeps the id deterministic.
    message_id = inp.message_id
    if not message_id.endswith(f"@{_domain(inbox.email).lower()}>"):
        message_id = mime.make_message_id(
            lead_id=lead.id, step=inp.step, domain=_domain(inbox.email)
        )
    sent = SentMessage(
        id=sent_message_id,
        workspace_id=campaign.workspace_id,
        campaign_id=campaign.id,
        lead_id=lead.id,
        step=inp.step,
        variant_id=variant.id,
        inbox_id=inbox.id,
        message_id=message_id,
        to_email=lead.email,
        subject=rendered.subject,
        body_text=rendered.text,
        body_html=rendered.html,
        local_day=inp.local_day,
    )
    session.add(sent)
    lead.inbox_id = inbox.id
    session.add(lead)
    await session.flush()
    return sent
