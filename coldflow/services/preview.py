"""Campaign preview: every step rendered for one lead, and a simulated send timeline.

Rendering goes through ``coldflow.rendering.render_email``, the function the send path calls,
so what the preview shows is what goes out.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Protocol

from sqlmodel.ext.asyncio.session import AsyncSession

from coldflow import schedule as schedule_math
from coldflow import sequencing, templates
from coldflow.errors import Forbidden, InvalidInput, NotFound
from coldflow.links import Links
from coldflow.models import Campaign, ConnectionStatus, Inbox, Lead, Step, Variant
from coldflow.models.base import utcnow
from coldflow.rendering import RenderedEmail, render_email
from coldflow.schemas.preview import (
    PreviewedLead,
    PreviewLead,
    PreviewRead,
    PreviewRequest,
    PreviewSender,
    PreviewStep,
    TimelineDayRead,
    TimelineRead,
    TimelineRequest,
    TimelineStepRead,
)
from coldflow.services.rendering import email_variables
from coldflow.store import campaigns as campaign_store
from coldflow.store import leads as lead_store

# Ad-hoc leads have no row; a name-based UUID of their address gives them a stable seed id.
_ADHOC_NAMESPACE = uuid.UUID("6f1d6b39-3a0c-4b55-9c0e-2f4f64f1b7a1")
# A LOOM column only counts when it holds a URL, so its stand-in in a preview must be one.
_MISSING_URL = "https://missing.invalid/"


class _Render(Protocol):
    def __call__(self, *, variables: Mapping[str, str]) -> RenderedEmail: ...


def _render_listing_missing(
    render: _Render, variables: Mapping[str, str]
) -> tuple[RenderedEmail, set[str]]:
    """``render(variables)``, with each missing variable shown as ``{{name}}`` and collected."""
    values, missing = dict(variables), set[str]()
    while True:
        try:
            return render(variables=values), missing
        except templates.MissingVariable as exc:
            for name in exc.names:
                values[name] = _MISSING_URL + name if name in missing else "{{" + name + "}}"
            missing.update(exc.names)


def adhoc_lead_id(email: str) -> str:
    """The stable id an unsaved lead is previewed under (same email → same variants)."""
    return str(uuid.uuid5(_ADHOC_NAMESPACE, email.strip().lower()))


def _adhoc_lead(data: PreviewLead, campaign: Campaign) -> Lead:
    if data.timezone and not schedule_math.is_valid_timezone(data.timezone):
        raise InvalidInput.field("lead.timezone", "unknown time zone", code="INVALID_TIMEZONE")
    # Never added to the session: a transient row only carries the fields to render.
    return Lead(
        id=adhoc_lead_id(data.email),
        workspace_id=campaign.workspace_id,
        campaign_id=campaign.id,
        email=data.email,
        first_name=data.first_name,
        last_name=data.last_name,
        company=data.company,
        timezone=data.timezone,
        variables={
            templates.normalize_name(k): "" if v is None else str(v)
            for k, v in data.variables.items()
        },
    )


async def _lead(
    session: AsyncSession, campaign: Campaign, data: PreviewRequest, *, can_read_leads: bool
) -> tuple[Lead, bool] | None:
    if data.lead is not None and data.lead_id is not None:
        raise InvalidInput.field("lead_id", "give either lead or lead_id, not both")
    if data.lead is not None:
        return _adhoc_lead(data.lead, campaign), False
    if data.lead_id is None:
        return None
    # A stored lead's data is only shown to a key that may read leads.
    if not can_read_leads:
        raise Forbidden(
            "Previewing a stored lead needs the 'leads:read' scope",
            code="INSUFFICIENT_SCOPE",
            details=[{"required_scope": "leads:read"}],
        )
    lead = await lead_store.get_lead(session, campaign.workspace_id, data.lead_id)
    if lead is None or lead.campaign_id != campaign.id:
        raise NotFound("lead", data.lead_id)
    return lead, True


def _usable(inbox: Inbox) -> bool:
    return inbox.is_active and inbox.connection_status == ConnectionStatus.connected


def _sender(inboxes: Sequence[Inbox], lead: Lead) -> Inbox | None:
    """The lead's own inbox once assigned, else the first usable one (the rotation's pick is
    only known at the first send)."""
    own = next((i for i in inboxes if i.id == lead.inbox_id), None)
    return own or next((i for i in inboxes if _usable(i)), None) or next(iter(inboxes), None)


def _render_steps(
    campaign: Campaign,
    lead: Lead,
    inbox: Inbox | None,
    steps: Sequence[Step],
    variants: Sequence[Variant],
    links: Links,
    start_at: datetime,
) -> list[PreviewStep]:
    unsubscribe_url = links.unsubscribe_url(lead.id) if campaign.unsubscribe_option else None
    variables = email_variables(lead, inbox, unsubscribe_url)
    sched = schedule_math.Schedule.from_dict(campaign.schedule)
    due, first_subject = start_at, ""
    rendered: list[PreviewStep] = []
    for step in steps:
        options = [v for v in variants if v.step_id == step.id]
        choice = sequencing.choose_variant(
            [sequencing.VariantChoice(v.id, v.label, v.weight, v.enabled) for v in options],
            lead_id=lead.id,
            step=step.position,
        )
        variant = next(v for v in options if v.id == choice.id)
        render = partial(
            render_email,
            subject=variant.subject,
            body=variant.body,
            lead_id=lead.id,
            step=step.position,
            previous_subject=first_subject,
            text_only=campaign.text_only,
            signature=inbox.signature if inbox else "",
        )
        email, missing = _render_listing_missing(render, variables)
        first_subject = first_subject or email.subject
        send_at = schedule_math.next_send_at(sched, due, lead.timezone)
        rendered.append(
            PreviewStep(
                step=step.position,
                condition=step.condition,
                variant_id=variant.id,
                variant=variant.label,
                subject=email.subject,
                html=email.html,
                text=email.text,
                missing_variables=sorted(missing),
                send_at=send_at,
            )
        )
        due = send_at + timedelta(days=step.delay_days or 0)
    return rendered


def _timeline(
    campaign: Campaign,
    inboxes: Sequence[Inbox],
    steps: Sequence[Step],
    request: TimelineRequest,
    start_at: datetime,
) -> TimelineRead:
    warnings: list[str] = []
    limits = [i.daily_campaign_limit for i in inboxes if _usable(i)]
    if not limits:
        warnings.append(
            "No active, connected inbox is attached: simulated as if one inbox could send up "
            "to the campaign's daily_limit. Nothing is sent until an inbox is connected."
        )
        limits = [campaign.daily_limit]
    if not steps:
        warnings.append("The campaign has no steps.")
    result = sequencing.simulate_timeline(
        schedule_math.Schedule.from_dict(campaign.schedule),
        start_at=start_at,
        leads=request.leads,
        delays=[s.delay_days for s in steps],
        daily_limit=campaign.daily_limit,
        inbox_limits=limits,
    )
    return TimelineRead(
        start_at=start_at,
        leads=request.leads,
        daily_limit=campaign.daily_limit,
        inboxes=len(limits),
        daily_capacity=min(campaign.daily_limit, sum(limits)),
        days=[
            TimelineDayRead(
                date=d.day,
                first_steps=d.first_steps,
                follow_ups=d.follow_ups,
                total=d.first_steps + d.follow_ups,
            )
            for d in result.days
        ],
        steps=[
            TimelineStepRead(step=s.step, sent=s.sent, first_day=s.first_day, last_day=s.last_day)
            for s in result.steps
        ],
        finishes_on=result.days[-1].day if result.days and not result.unsent else None,
        unsent=result.unsent,
        warnings=warnings,
    )


async def preview_campaign(
    *,
    session: AsyncSession,
    links: Links,
    workspace_id: str,
    campaign_id: str,
    data: PreviewRequest,
    can_read_leads: bool,
) -> PreviewRead:
    """Render every step for ``data.lead``/``data.lead_id`` and/or simulate ``data.timeline``.

    Nothing is written. Missing variables are listed instead of failing. A stored lead must be
    in this campaign and the key must also hold ``leads:read``.
    """
    campaign = await campaign_store.get_campaign(session, workspace_id, campaign_id)
    if campaign is None:
        raise NotFound("campaign", campaign_id)
    found = await _lead(session, campaign, data, can_read_leads=can_read_leads)
    if found is None and data.timeline is None:
        raise InvalidInput.field("lead", "give a lead, a lead_id or a timeline")
    start_at = (data.timeline.start_at if data.timeline else None) or utcnow()
    steps = await campaign_store.list_steps(session, campaign.id)
    inboxes = await campaign_store.list_campaign_inboxes(session, campaign.id)
    preview = PreviewRead()
    if found is not None:
        lead, is_stored = found
        inbox = _sender(inboxes, lead)
        variants = await campaign_store.list_variants(session, [s.id for s in steps])
        preview.lead = PreviewedLead(id=lead.id, email=lead.email, is_stored=is_stored)
        if inbox is not None:
            preview.sender = PreviewSender(
                inbox_id=inbox.id, email=inbox.email, name=inbox.from_name
            )
        preview.steps = _render_steps(campaign, lead, inbox, steps, variants, links, start_at)
        preview.missing_variables = sorted({n for s in preview.steps for n in s.missing_variables})
    if data.timeline is not None:
        preview.timeline = _timeline(campaign, inboxes, steps, data.timeline, start_at)
    return preview
