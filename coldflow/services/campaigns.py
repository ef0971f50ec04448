"""Campaign use cases: create, read, update, and the status machine."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel.ext.asyncio.session import AsyncSession

from coldflow import schedule as schedule_math
from coldflow import sequencing, templates
from coldflow.contracts.campaigns import (
    ENROLLMENT_WORKFLOW,
    EnrollmentInput,
    enrollment_workflow_id,
)
from coldflow.contracts.journey import JourneySignal, StopJourney
from coldflow.errors import Conflict, InvalidInput, NotFound
from coldflow.models import (
    Campaign,
    CampaignStatus,
    ConnectionStatus,
    JourneyState,
    Step,
    Variant,
)
from coldflow.models.base import utcnow
from coldflow.schemas.campaigns import (
    CampaignCreate,
    CampaignUpdate,
    InlineStep,
    Seed000Schedule,
)
from coldflow.services import sequences as sequence_service
from coldflow.services.journeys import Enrollment, Journeys
from coldflow.store import campaigns as store
from coldflow.store import events as event_store
from coldflow.store import inboxes as inbox_store
from coldflow.store import leads as lead_store
from coldflow.store.db import after_commit

STATUS_EVENTS = {
    CampaignStatus.active: "campaign.activated",
    CampaignStatus.paused: "campaign.paused",
    CampaignStatus.completed: "campaign.completed",
    CampaignStatus.draft: "campaign.draft",
}

# draft → active ⇄ paused → completed (PRODUCT §5); a transition not listed is a 409.
TRANSITIONS: dict[CampaignStatus, frozenset[CampaignStatus]] = {
    CampaignStatus.draft: frozenset({CampaignStatus.active}),
    CampaignStatus.active: frozenset({CampaignStatus.paused, CampaignStatus.completed}),
    CampaignStatus.paused: frozenset({CampaignStatus.active, CampaignStatus.completed}),
    CampaignStatus.completed: frozenset(),
}


async def get_campaign(*, session: AsyncSession, workspace_id: str, campaign_id: str) -> Campaign:
    campaign = await store.get_campaign(session, workspace_id, campaign_id)
    if campaign is None:
        raise NotFound("campaign", campaign_id)
    return campaign


async def require_status(
    *, session: AsyncSession, workspace_id: str, campaign_id: str, expected: CampaignStatus
) -> Campaign:
    """409 unless the campaign is in ``expected`` (e.g. only a paused campaign resumes)."""
    campaign = await get_campaign(
        session=session, workspace_id=workspace_id, campaign_id=campaign_id
    )
    if campaign.status != expected:
        raise Conflict(
            f"The campaign is {campaign.status.value}, not {expected.value}",
            code=f"CAMPAIGN_NOT_{expected.value.upper()}",
            details=[{"field": "status", "current": campaign.status.value}],
        )
    return campaign


def _initial_schedule(data: CampaignCreate) -> schedule_math.Schedule:
    """The create body's schedule; errors name fields the way the body spells them."""
    try:
        return _schedule_of(data)
    except InvalidInput as exc:
        for detail in exc.details:
            field = str(detail.get("field", ""))
            if field != "timezone" and not field.startswith("schedule."):
                detail["field"] = f"schedule.{field}"
        raise


def _schedule_of(data: CampaignCreate) -> schedule_math.Schedule:
    timezone = data.timezone or "UTC"
    if isinstance(data.schedule, Seed000Schedule):
        return schedule_math.from_seed000(
            timezone, data.schedule.days, data.schedule.start_hour, data.schedule.end_hour
        )
    base = schedule_math.default_schedule(timezone) if data.timezone else None
    if data.schedule is None:
        return base or schedule_math.default_schedule()
    patch = dict(data.schedule)
    if data.timezone and "timezone" not in patch:
        patch["timezone"] = data.timezone
    return schedule_math.apply_schedule_patch(base or schedule_math.default_schedule(), patch)


async def create_campaign(
    *, session: AsyncSession, workspace_id: str, data: CampaignCreate
) -> Campaign:
    """A draft campaign; with seed 000's inline ``sequences`` converted to coldflow's steps.

    Everything is validated before the first row is written, so a bad body saves nothing.
    """
    sched = _initial_schedule(data)
    unsubscribe = data.unsubscribe_option if data.unsubscribe_option is not None else True
    numbered = list(enumerate(data.sequences or [InlineStep()]))
    seen_steps: set[int] = set()
    bodies: dict[int, str] = {}
    for index, inline_step in numbered:
        if inline_step.step is not None:
            if inline_step.step in seen_steps:
                raise InvalidInput.field(
                    f"sequences[{index}].step", "two steps have this number", code="DUPLICATE_STEP"
                )
            seen_steps.add(inline_step.step)
        templates.validate(inline_step.subject, field=f"sequences[{index}].subject")
        bodies[index] = sequence_service.prepare_body(
            inline_step.body, unsubscribe=unsubscribe, field=f"sequences[{index}].body"
        )
    # Steps without a number keep their place after the numbered ones (a stable sort).
    ordered = sorted(numbered, key=lambda p: (p[1].step is None, p[1].step or 0))
    inline = [s for _, s in ordered]
    delays = sequencing.delays_from_seed000([s.delay_days for s in inline])
    inbox_ids = list(dict.fromkeys(data.inbox_ids or []))
    if inbox_ids:
        found = await inbox_store.get_inboxes(session, workspace_id, inbox_ids)
        if len(found) != len(inbox_ids):
            raise NotFound("inbox")

    options = data.model_dump(
        exclude_unset=True,
        exclude={"name", "timezone", "schedule", "sequences", "inbox_ids", "list_id"},
    )
    campaign = Campaign(
        workspace_id=workspace_id, name=data.name, schedule=dict(sched.to_dict()), **options
    )
    session.add(campaign)
    await session.flush()
    for position, ((index, step_in), delay) in enumerate(zip(ordered, delays, strict=True), 1):
        step = Step(campaign_id=campaign.id, position=position, delay_days=delay)
        session.add(step)
        await session.flush()
        session.add(
            Variant(
                step_id=step.id,
                label="A",
                subject=step_in.subject,
                body=bodies[index],
            )
        )
    if inbox_ids:
        await store.attach_inboxes(session, campaign.id, inbox_ids)
    await session.flush()
    return campaign


async def update_campaign(
    *,
    session: AsyncSession,
    journeys: Journeys,
    workspace_id: str,
    campaign_id: str,
    data: CampaignUpdate,
) -> Campaign:
    """All-or-nothing: every field is checked before any is applied."""
    campaign = await get_campaign(
        session=session, workspace_id=workspace_id, campaign_id=campaign_id
    )
    changes = data.model_dump(exclude_unset=True)
    status = changes.pop("status", None)
    for field_name in changes:
        if changes[field_name] is None:
            raise InvalidInput.field(field_name, f"{field_name} cannot be null")
    if status is not None and status != campaign.status:
        await set_status(
            session=session, journeys=journeys, campaign=campaign, target=CampaignStatus(status)
        )
    if (
        "unsubscribe_option" in changes
        and changes["unsubscribe_option"] != campaign.unsubscribe_option
    ):
        await _apply_unsubscribe_option(session, campaign.id, on=changes["unsubscribe_option"])
    for field_name, value in changes.items():
        setattr(campaign, field_name, value)
    campaign.updated_at = utcnow()
    session.add(campaign)
    await session.flush()
    return campaign


async def _apply_unsubscribe_option(session: AsyncSession, campaign_id: str, *, on: bool) -> None:
    """Turning the option on puts the link in every body; off takes the added block out again
    (a body would otherwise hold its leads for a missing ``unsubscribe_url``)."""
    steps = await store.list_steps(session, campaign_id)
    for variant in await store.list_variants(session, [s.id for s in steps]):
        variant.body = (
            sequence_service.prepare_body(variant.body, unsubscribe=True)
            if on
            else sequence_service.remove_unsubscribe_block(variant.body)
        )
        session.add(variant)


async def set_status(
    *, session: AsyncSession, journeys: Journeys, campaign: Campaign, target: CampaignStatus
) -> Campaign:
    """Move along the status machine; activation also enrols every lead not yet started.

    Activating an active campaign is allowed and enrols again: journeys start idempotently, so
    a client whose first activation lost its Temporal call (503) simply retries.
    """
    if target == campaign.status == CampaignStatus.active:
        await _schedule_enrolment(session, journeys, campaign, resumed=False)
        return campaign
    if target == campaign.status:
        return campaign
    if target not in TRANSITIONS[campaign.status]:
        raise Conflict(
            f"A {campaign.status.value} campaign cannot become {target.value}",
            code=f"CAMPAIGN_{campaign.status.value.upper()}_TO_{target.value.upper()}_NOT_ALLOWED",
            details=[{"field": "status", "from": campaign.status.value, "to": target.value}],
        )
    if target == CampaignStatus.active:
        await _check_ready(session, campaign)
        campaign.activated_at = campaign.activated_at or utcnow()
    previous = campaign.status
    campaign.status = target
    campaign.updated_at = utcnow()
    session.add(campaign)
    await session.flush()
    await event_store.record_event(
        session,
        workspace_id=campaign.workspace_id,
        type=STATUS_EVENTS[target],
        campaign_id=campaign.id,
        data={"name": campaign.name, "previous_status": previous.value},
    )
    if target == CampaignStatus.active:
        await _schedule_enrolment(
            session, journeys, campaign, resumed=previous == CampaignStatus.paused
        )
    return campaign


async def _check_ready(session: AsyncSession, campaign: Campaign) -> None:
    """422 naming what is missing: a step with an enabled variant that has a subject, an inbox."""
    missing: list[dict[str, str]] = []
    steps = await store.list_steps(session, campaign.id)
    variants = await store.list_variants(session, [s.id for s in steps])
    if not any(v.enabled and v.subject.strip() for v in variants):
        missing.append({"field": "sequences", "message": "no enabled variant with a subject"})
    inboxes = await store.list_campaign_inboxes(session, campaign.id)
    if not any(i.is_active and i.connection_status == ConnectionStatus.connected for i in inboxes):
        missing.append({"field": "inboxes", "message": "no active, connected inbox attached"})
    if missing:
        raise InvalidInput(
            "The campaign cannot be activated: " + "; ".join(m["message"] for m in missing),
            details=missing,
            code="CAMPAIGN_NOT_READY",
        )


async def _schedule_enrolment(
    session: AsyncSession, journeys: Journeys, campaign: Campaign, *, resumed: bool
) -> None:
    """After the commit, one workflow enrols the leads in the background (any number of them),
    and a resumed campaign's paused journeys are told to continue (one batch operation)."""
    paused_ids = (
        await lead_store.list_lead_ids_in_state(session, campaign.id, JourneyState.paused)
        if resumed
        else []
    )
    enrollment = EnrollmentInput(workspace_id=campaign.workspace_id, campaign_id=campaign.id)

    async def start() -> None:
        await journeys.start_task(
            ENROLLMENT_WORKFLOW,
            enrollment,
            workflow_id=enrollment_workflow_id(campaign.id),
            replace_running=False,
        )
        if resumed:
            await journeys.signal_campaign(
                campaign.id,
                JourneySignal.REFRESH,
                journey_status=JourneyState.paused.value,
                fallback_lead_ids=paused_ids,
            )

    after_commit(session, start)


async def unstarted_enrollments(
    *,
    session: AsyncSession,
    workspace_id: str,
    campaign_id: str,
    after_lead_id: str,
    limit: int,
) -> list[Enrollment] | None:
    """The next page of leads without a journey (by id), or None once the campaign is no longer
    active (paused, completed or deleted: the rest waits for the next activation)."""
    campaign = await store.get_campaign(session, workspace_id, campaign_id)
    if campaign is None or campaign.status != CampaignStatus.active:
        return None
    leads = await lead_store.list_unstarted_leads(
        session, campaign_id, after_lead_id=after_lead_id, limit=limit
    )
    return [
        Enrollment(
            workspace_id=campaign.workspace_id,
            campaign_id=campaign.id,
            lead_id=lead.id,
            lead_email=lead.email,
            campaign_name=campaign.name,
        )
        for lead in leads
    ]


async def attach_inboxes(
    *, session: AsyncSession, workspace_id: str, campaign_id: str, inbox_ids: Sequence[str]
) -> None:
    """All-or-nothing on authorization: one unknown id and nothing is attached (seed 003)."""
    await get_campaign(session=session, workspace_id=workspace_id, campaign_id=campaign_id)
    ids = list(dict.fromkeys(inbox_ids))
    found = await inbox_store.get_inboxes(session, workspace_id, ids)
    if len(found) != len(ids):
        raise NotFound("inbox")
    await store.attach_inboxes(session, campaign_id, ids)


async def _refresh_running(session: AsyncSession, journeys: Journeys, campaign: Campaign) -> None:
    """After an edit, journeys of a live campaign re-plan their current wait."""
    if campaign.status not in (CampaignStatus.active, CampaignStatus.paused):
        return
    waiting = await lead_store.list_lead_ids_in_state(session, campaign.id, JourneyState.waiting)

    async def refresh() -> None:
        await journeys.signal_campaign(
            campaign.id, JourneySignal.REFRESH, journey_status="waiting", fallback_lead_ids=waiting
        )

    after_commit(session, refresh)


async def update_schedule(
    *,
    session: AsyncSession,
    journeys: Journeys,
    workspace_id: str,
    campaign_id: str,
    patch: dict[str, object],
) -> schedule_math.Schedule:
    """Seed 003's schedule PATCH; waiting journeys re-plan against the new windows."""
    campaign = await get_campaign(
        session=session, workspace_id=workspace_id, campaign_id=campaign_id
    )
    current = schedule_math.Schedule.from_dict(campaign.schedule)
    updated = schedule_math.apply_schedule_patch(current, patch)
    campaign.schedule = dict(updated.to_dict())
    campaign.updated_at = utcnow()
    session.add(campaign)
    await session.flush()
    await _refresh_running(session, journeys, campaign)
    return updated


async def detach_inboxes(
    *, session: AsyncSession, workspace_id: str, campaign_id: str, inbox_ids: Sequence[str]
) -> None:
    """Idempotent; all-or-nothing on authorization like attach."""
    await get_campaign(session=session, workspace_id=workspace_id, campaign_id=campaign_id)
    ids = list(dict.fromkeys(inbox_ids))
    found = await inbox_store.get_inboxes(session, workspace_id, ids)
    if len(found) != len(ids):
        raise NotFound("inbox")
    await store.detach_inboxes(session, campaign_id, ids)


async def delete_campaign(
    *, session: AsyncSession, journeys: Journeys, workspace_id: str, campaign_id: str
) -> None:
    """Delete with everything it owns; its running journeys are stopped after the commit."""
    campaign = await get_campaign(
        session=session, workspace_id=workspace_id, campaign_id=campaign_id
    )
    running = await lead_store.list_running_lead_ids(session, campaign.id)
    await session.delete(campaign)
    await session.flush()

    async def stop() -> None:
        await journeys.signal_campaign(
            campaign_id,
            JourneySignal.STOP,
            StopJourney("campaign_deleted"),
            fallback_lead_ids=running,
        )

    after_commit(session, stop)
