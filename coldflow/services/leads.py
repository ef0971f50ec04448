"""Lead use cases: batch add with per-item results, read with the journey block."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from coldflow import schedule as schedule_math
from coldflow.errors import NotFound, PayloadTooLarge
from coldflow.ids import journey_workflow_id
from coldflow.models import Campaign, CampaignStatus, Lead
from coldflow.models.base import utcnow
from coldflow.schemas.leads import (
    MAX_BATCH,
    IfExists,
    JourneyView,
    LeadIn,
    LeadRead,
    LeadResult,
    LeadResultStatus,
    LeadsCreate,
    LeadsCreated,
)
from coldflow.services.campaigns import get_campaign
from coldflow.services.journeys import Enrollment, Journeys
from coldflow.store import leads as store
from coldflow.store.db import after_commit
from coldflow.templates import normalize_name


def _variables(item: LeadIn) -> dict[str, str]:
    """Custom fields and unknown top-level fields, under normalised names, as text."""
    raw = {**(item.model_extra or {}), **item.custom_fields}
    return {normalize_name(k): "" if v is None else str(v) for k, v in raw.items()}


def _apply(lead: Lead, item: LeadIn) -> None:
    lead.first_name, lead.last_name, lead.company = item.first_name, item.last_name, item.company
    lead.company_domain = item.email.rpartition("@")[2]
    lead.timezone = item.timezone
    lead.variables = _variables(item)
    lead.updated_at = utcnow()


def _check_item(item: LeadIn) -> dict[str, str] | None:
    if item.timezone and not schedule_math.is_valid_timezone(item.timezone):
        return {"code": "INVALID_TIMEZONE", "field": "timezone", "message": "unknown time zone"}
    return None


async def add_leads(
    *,
    session: AsyncSession,
    journeys: Journeys,
    workspace_id: str,
    campaign_id: str,
    data: LeadsCreate,
) -> LeadsCreated:
    """Add up to 100 leads; each gets its own result and one bad item sinks nothing else."""
    if len(data.leads) > MAX_BATCH:
        raise PayloadTooLarge(
            f"At most {MAX_BATCH} leads per request",
            code="BATCH_TOO_LARGE",
            details=[{"field": "leads", "limit": MAX_BATCH, "received": len(data.leads)}],
        )
    campaign = await get_campaign(
        session=session, workspace_id=workspace_id, campaign_id=campaign_id
    )
    results: list[LeadResult] = []
    to_enroll: list[Lead] = []
    seen: set[str] = set()
    for index, item in enumerate(data.leads):
        error = _check_item(item)
        if error is None and item.email in seen:
            error = {"code": "DUPLICATE_IN_BATCH", "field": "email", "message": "listed twice"}
        if error is not None:
            results.append(
                LeadResult(
                    index=index, email=item.email, status=LeadResultStatus.failed, error=error
                )
            )
            continue
        seen.add(item.email)
        existing = await store.find_lead_by_email(session, campaign.id, item.email)
        if existing is not None:
            if data.if_exists == IfExists.fail:
                results.append(
                    LeadResult(
                        index=index,
                        email=item.email,
                        status=LeadResultStatus.failed,
                        id=existing.id,
                        error={
                            "code": "LEAD_EXISTS",
                            "field": "email",
                            "message": "already in campaign",
                        },
                    )
                )
            elif data.if_exists == IfExists.update:
                _apply(existing, item)
                session.add(existing)
                results.append(
                    LeadResult(
                        index=index,
                        email=item.email,
                        status=LeadResultStatus.updated,
                        id=existing.id,
                    )
                )
            else:
                results.append(
                    LeadResult(
                        index=index,
                        email=item.email,
                        status=LeadResultStatus.skipped,
                        id=existing.id,
                    )
                )
            continue
        lead = Lead(workspace_id=workspace_id, campaign_id=campaign.id, email=item.email)
        _apply(lead, item)
        session.add(lead)
        to_enroll.append(lead)
        results.append(
            LeadResult(index=index, email=item.email, status=LeadResultStatus.created, id=lead.id)
        )
    await session.flush()
    if campaign.status == CampaignStatus.active and to_enroll:
        _enroll_after_commit(session, journeys, campaign, to_enroll)
    counts = {s: sum(r.status == s for r in results) for s in LeadResultStatus}
    return LeadsCreated(
        total=len(results),
        created=counts[LeadResultStatus.created],
        updated=counts[LeadResultStatus.updated],
        skipped=counts[LeadResultStatus.skipped],
        failed=counts[LeadResultStatus.failed],
        results=results,
    )


def _enroll_after_commit(
    session: AsyncSession, journeys: Journeys, campaign: Campaign, leads: list[Lead]
) -> None:
    enrollments = [
        Enrollment(campaign.workspace_id, campaign.id, lead.id, lead.email) for lead in leads
    ]

    async def start() -> None:
        await journeys.enroll_many(enrollments)

    after_commit(session, start)


async def get_lead(*, session: AsyncSession, workspace_id: str, lead_id: str) -> Lead:
    lead = await store.get_lead(session, workspace_id, lead_id)
    if lead is None:
        raise NotFound("lead", lead_id)
    return lead


def lead_view(lead: Lead, journeys: Journeys) -> LeadRead:
    return LeadRead(
        id=lead.id,
        campaign_id=lead.campaign_id,
        email=lead.email,
        first_name=lead.first_name,
        last_name=lead.last_name,
        company=lead.company,
        timezone=lead.timezone,
        variables=lead.variables,
        status=lead.status,
        is_bounced=lead.is_bounced,
        is_unsubscribed=lead.is_unsubscribed,
        journey=JourneyView(
            state=lead.journey_state,
            current_step=lead.current_step,
            next_send_at=lead.next_send_at,
            hold_reason=lead.hold_reason,
            workflow_id=journey_workflow_id(lead.campaign_id, lead.id),
            temporal_ui_url=journeys.ui_url(lead.campaign_id, lead.id),
        ),
        created_at=lead.created_at,
        updated_at=lead.updated_at,
    )
