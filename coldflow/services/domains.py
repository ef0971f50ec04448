"""Sender domains: the list (every inbox's domain, plus any added ahead), and their checks.

A check runs as a Temporal activity (``DomainVerify``, and the daily ``DomainsRecheck``
schedule), because DNS is I/O and the worker's network is the one that matters. A domain whose
status gets worse than it was raises ``domain.degraded`` for webhooks: a key rotated away, a
DMARC record deleted or an SPF include added past the lookup limit is caught within a day.
"""

from __future__ import annotations

import re

from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
)

from coldflow.contracts.domains import (
    DOMAIN_VERIFY_WORKFLOW,
    DOMAINS_RECHECK_WORKFLOW,
    RECHECK_EVERY,
    VerifyDomainInput,
    VerifyDomainResult,
    recheck_schedule_id,
    verify_workflow_id,
)
from coldflow.domain_health import DomainReport
from coldflow.errors import Conflict, InvalidInput, NotFound
from coldflow.models import Inbox
from coldflow.models.base import utcnow
from coldflow.models.domain import DomainState, SenderDomain
from coldflow.schemas.domains import HOST, DomainCheckRead, DomainCreate, DomainRead, DomainUpdate
from coldflow.services.journeys import Journeys
from coldflow.store import domains as store
from coldflow.store import events as event_store
from coldflow.store.db import after_commit
from coldflow.store.paging import PageRequest, PageResult

_HOST = re.compile(HOST)
# How good a status is; a drop from a checked status is a degradation.
RANK = {
    DomainState.pending: 0,
    DomainState.failed: 1,
    DomainState.partially_verified: 2,
    DomainState.verified: 3,
}
DEGRADED_EVENT = "domain.degraded"


def normalize_domain(raw: str, field: str) -> str:
    """Lower-case, IDNA-encoded host name without a trailing dot; else 422 INVALID_DOMAIN."""
    try:
        host = raw.strip().rstrip(".").lower().encode("idna").decode("ascii")
    except UnicodeError:
        host = ""
    if not _HOST.fullmatch(host):
        raise InvalidInput.field(field, f"{raw!r} is not a domain name", code="INVALID_DOMAIN")
    return host


async def ensure_inbox_domain(session: AsyncSession, inbox: Inbox) -> None:
    """A new inbox's domain is listed at once (migration 0004 listed the earlier inboxes')."""
    if await store.find_domain(session, inbox.workspace_id, inbox.domain.lower()) is None:
        session.add(SenderDomain(workspace_id=inbox.workspace_id, name=inbox.domain.lower()))
        await session.flush()


async def add_domain(
    *, session: AsyncSession, workspace_id: str, data: DomainCreate
) -> SenderDomain:
    name = normalize_domain(data.domain, "domain")
    tracking = (
        normalize_domain(data.tracking_domain, "tracking_domain") if data.tracking_domain else None
    )
    if await store.find_domain(session, workspace_id, name) is not None:
        raise Conflict(f"Domain {name} is already listed", code="DOMAIN_EXISTS")
    domain = SenderDomain(
        workspace_id=workspace_id,
        name=name,
        dkim_selector=data.dkim_selector,
        tracking_domain=tracking,
    )
    session.add(domain)
    await session.flush()
    return domain


async def get_domain(*, session: AsyncSession, workspace_id: str, domain_id: str) -> SenderDomain:
    domain = await store.get_domain(session, workspace_id, domain_id)
    if domain is None:
        raise NotFound("domain", domain_id)
    return domain


async def list_domains(
    *, session: AsyncSession, workspace_id: str, request: PageRequest, status: DomainState | None
) -> tuple[PageResult[SenderDomain], list[DomainRead]]:
    result = await store.list_domains(session, workspace_id, request, status)
    return result, await views(session, workspace_id, list(result.items))


async def update_domain(
    *, session: AsyncSession, workspace_id: str, domain_id: str, data: DomainUpdate
) -> SenderDomain:
    domain = await get_domain(session=session, workspace_id=workspace_id, domain_id=domain_id)
    fields = data.model_fields_set
    tracking = data.tracking_domain
    if "tracking_domain" in fields:
        domain.tracking_domain = normalize_domain(tracking, "tracking_domain") if tracking else None
    if "dkim_selector" in fields:
        domain.dkim_selector = data.dkim_selector
    domain.updated_at = utcnow()
    session.add(domain)
    await session.flush()
    return domain


async def delete_domain(*, session: AsyncSession, workspace_id: str, domain_id: str) -> None:
    """Refused (409 DOMAIN_IN_USE) while an inbox sends from it: it would reappear at once."""
    domain = await get_domain(session=session, workspace_id=workspace_id, domain_id=domain_id)
    counts = await store.inbox_counts(session, workspace_id, [domain.name])
    if counts[domain.name]:
        raise Conflict(
            f"{counts[domain.name]} inbox(es) send from {domain.name}", code="DOMAIN_IN_USE"
        )
    await session.delete(domain)
    await session.flush()


async def request_verification(
    *, session: AsyncSession, journeys: Journeys, workspace_id: str, domain_id: str
) -> SenderDomain:
    """Start the check once this request commits; the result shows in GET /domains/{id}."""
    domain = await get_domain(session=session, workspace_id=workspace_id, domain_id=domain_id)
    inp = VerifyDomainInput(workspace_id=workspace_id, domain_id=domain.id)

    async def start() -> None:
        await journeys.start_task(
            DOMAIN_VERIFY_WORKFLOW, inp, workflow_id=verify_workflow_id(domain.id)
        )

    after_commit(session, start)
    return domain


async def record_report(
    session: AsyncSession, inp: VerifyDomainInput, report: DomainReport
) -> VerifyDomainResult:
    """Store a check's report; a worse status than before writes ``domain.degraded``."""
    domain = await store.get_domain(session, inp.workspace_id, inp.domain_id)
    if domain is None:
        return VerifyDomainResult("deleted")
    previous, status = domain.status, DomainState(report.status)
    domain.status = status
    domain.checks = [
        {"name": c.name, "status": c.status, "found": c.found, "hint": c.hint}
        for c in report.checks
    ]
    domain.checked_at = domain.updated_at = utcnow()
    session.add(domain)
    degraded = previous != DomainState.pending and RANK[status] < RANK[previous]
    if degraded:
        await event_store.record_event(
            session,
            workspace_id=domain.workspace_id,
            type=DEGRADED_EVENT,
            data={
                "domain_id": domain.id,
                "domain": domain.name,
                "previous_status": previous.value,
                "status": status.value,
                "failing": [c for c in domain.checks if c["status"] in ("fail", "warn")],
            },
        )
    await session.flush()
    return VerifyDomainResult(status.value, degraded)


async def views(
    session: AsyncSession, workspace_id: str, domains: list[SenderDomain]
) -> list[DomainRead]:
    counts = await store.inbox_counts(session, workspace_id, [d.name for d in domains])
    return [
        DomainRead(
            id=d.id,
            domain=d.name,
            status=d.status,
            dkim_selector=d.dkim_selector,
            tracking_domain=d.tracking_domain,
            inbox_count=counts[d.name],
            checks=[DomainCheckRead(**c) for c in d.checks],
            checked_at=d.checked_at,
            created_at=d.created_at,
            updated_at=d.updated_at,
        )
        for d in domains
    ]


async def ensure_recheck_schedule(client: Client, task_queue: str) -> str:
    """Create the daily re-check schedule unless it exists (every worker calls this)."""
    schedule_id = recheck_schedule_id(task_queue)
    try:
        await client.create_schedule(
            schedule_id,
            Schedule(
                action=ScheduleActionStartWorkflow(
                    DOMAINS_RECHECK_WORKFLOW,
                    id=f"domains-recheck/{task_queue}",
                    task_queue=task_queue,
                    static_summary="sender domains: the daily DNS re-check",
                ),
                spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=RECHECK_EVERY)]),
                policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
            ),
        )
    except ScheduleAlreadyRunningError:
        pass
    return schedule_id
