"""The only client-side door to Temporal: start, signal and describe lead journeys.

Workflows are addressed by name and contract dataclass, never by importing ``workflows/``, so the
API process carries no workflow code.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from urllib.parse import quote

from temporalio.api.batch.v1 import BatchOperationSignal
from temporalio.api.common.v1 import Payloads
from temporalio.api.workflowservice.v1 import StartBatchOperationRequest
from temporalio.client import Client, WorkflowHandle
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from coldflow.contracts import search_attributes as sa
from coldflow.contracts.journey import (
    JOURNEY_WORKFLOW,
    JourneyInput,
    JourneyQuery,
    JourneySignal,
    JourneyStatus,
    StopJourney,
)
from coldflow.errors import Unavailable
from coldflow.ids import journey_workflow_id

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Enrollment:
    workspace_id: str
    campaign_id: str
    lead_id: str
    lead_email: str
    campaign_name: str = ""


class Journeys:
    """Starts and steers journeys; one instance per process, sharing one Temporal client."""

    def __init__(
        self,
        client: Client | Callable[[], Awaitable[Client]],
        *,
        task_queue: str,
        namespace: str,
        ui_base_url: str | None = None,
    ) -> None:
        # A provider lets the API start while Temporal is down: only requests that need it fail.
        self._client = client
        self.task_queue = task_queue
        self.namespace = namespace
        self.ui_base_url = ui_base_url

    async def client(self) -> Client:
        if isinstance(self._client, Client):
            return self._client
        return await self._client()

    async def enroll(self, enrollment: Enrollment) -> bool:
        """Start the lead's journey; False if it had already run to its end.

        Idempotent twice over: a running journey is returned as is (USE_EXISTING), and a finished
        one is never restarted (REJECT_DUPLICATE), so enrolling or activating twice is harmless.
        """
        workflow_id = journey_workflow_id(enrollment.campaign_id, enrollment.lead_id)
        try:
            await (await self.client()).start_workflow(
                JOURNEY_WORKFLOW,
                JourneyInput(
                    workspace_id=enrollment.workspace_id,
                    campaign_id=enrollment.campaign_id,
                    lead_id=enrollment.lead_id,
                    lead_email=enrollment.lead_email,
                ),
                id=workflow_id,
                task_queue=self.task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                # What the Temporal UI lists for the run: who, and in which campaign.
                static_summary=f"{enrollment.lead_email} in {enrollment.campaign_name}",
                static_details=(
                    f"Lead {enrollment.lead_email} ({enrollment.lead_id}) in campaign "
                    f"{enrollment.campaign_name} ({enrollment.campaign_id}), "
                    f"workspace {enrollment.workspace_id}"
                ),
                search_attributes=TypedSearchAttributes(
                    [
                        SearchAttributePair(sa.WORKSPACE_ID, enrollment.workspace_id),
                        SearchAttributePair(sa.CAMPAIGN_ID, enrollment.campaign_id),
                        SearchAttributePair(sa.LEAD_ID, enrollment.lead_id),
                        SearchAttributePair(sa.LEAD_EMAIL, enrollment.lead_email),
                        SearchAttributePair(sa.JOURNEY_STATUS, "waiting"),
                        SearchAttributePair(sa.JOURNEY_STEP, 1),
                    ]
                ),
            )
        except WorkflowAlreadyStartedError:
            return False
        except RPCError as exc:
            raise Unavailable(
                f"Temporal refused to start {workflow_id}: {exc.message}",
                code="TEMPORAL_UNAVAILABLE",
            ) from exc
        return True

    async def start_task(
        self, workflow: str, arg: object, *, workflow_id: str, replace_running: bool = True
    ) -> None:
        """Start a background workflow (an import, a connection check, an enrollment).

        With ``replace_running`` a running one of the same id is replaced (the newest request
        counts); otherwise the running one is kept (it will do the same work).
        """
        client = await self.client()
        conflict = (
            WorkflowIDConflictPolicy.TERMINATE_EXISTING
            if replace_running
            else WorkflowIDConflictPolicy.USE_EXISTING
        )
        try:
            await client.start_workflow(
                workflow,
                arg,
                id=workflow_id,
                task_queue=self.task_queue,
                id_conflict_policy=conflict,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            )
        except RPCError as exc:
            raise Unavailable(
                f"Temporal refused to start {workflow_id}: {exc.message}",
                code="TEMPORAL_UNAVAILABLE",
            ) from exc

    async def enroll_many(self, enrollments: Sequence[Enrollment]) -> int:
        started = 0
        for enrollment in enrollments:
            started += await self.enroll(enrollment)
        return started

    async def handle(self, campaign_id: str, lead_id: str) -> WorkflowHandle[object, object]:
        client = await self.client()
        return client.get_workflow_handle(journey_workflow_id(campaign_id, lead_id))

    async def signal(
        self, campaign_id: str, lead_id: str, signal: JourneySignal, arg: object = None
    ) -> bool:
        """Signal a journey; False when it does not exist or has finished."""
        handle = await self.handle(campaign_id, lead_id)
        try:
            if arg is None:
                await handle.signal(signal)
            else:
                await handle.signal(signal, arg)
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                return False
            raise
        return True

    async def signal_workflow(self, workflow_id: str, signal: str) -> bool:
        """Signal any workflow by id (a warmup's stop); False when none runs. 503 when
        Temporal cannot be reached."""
        client = await self.client()
        try:
            await client.get_workflow_handle(workflow_id).signal(signal)
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                return False
            raise Unavailable(
                f"Temporal refused to signal {workflow_id}: {exc.message}",
                code="TEMPORAL_UNAVAILABLE",
            ) from exc
        return True

    async def signal_campaign(
        self,
        campaign_id: str,
        signal: JourneySignal,
        arg: object = None,
        *,
        journey_status: str | None = None,
        fallback_lead_ids: Sequence[str] = (),
    ) -> str | None:
        """Signal every running journey of a campaign through a Temporal batch operation.

        The batch runs inside Temporal, durably and rate-limited, so pausing or deleting a
        campaign of 100,000 leads is one RPC from the API. Servers without batch support (the
        time-skipping test server) get one signal per ``fallback_lead_ids`` instead.
        """
        client = await self.client()
        query = f'CampaignId = "{campaign_id}" AND ExecutionStatus = "Running"'
        if journey_status is not None:
            query += f' AND JourneyStatus = "{journey_status}"'
        job_id = f"{signal.value}-{campaign_id}-{uuid.uuid4().hex[:8]}"
        payloads = client.data_converter.payload_converter.to_payloads([arg]) if arg else []
        try:
            await client.workflow_service.start_batch_operation(
                StartBatchOperationRequest(
                    namespace=client.namespace,
                    visibility_query=query,
                    job_id=job_id,
                    reason=f"coldflow: {signal.value} campaign {campaign_id}",
                    signal_operation=BatchOperationSignal(
                        signal=signal.value, input=Payloads(payloads=payloads)
                    ),
                )
            )
        except RPCError as exc:
            if exc.status not in (RPCStatusCode.UNIMPLEMENTED, RPCStatusCode.INVALID_ARGUMENT):
                raise
            log.info("batch operations unavailable (%s); signalling one by one", exc.status)
            for lead_id in fallback_lead_ids:
                await self.signal(campaign_id, lead_id, signal, arg)
            return None
        return job_id

    async def stop(self, campaign_id: str, lead_id: str, reason: str) -> bool:
        return await self.signal(campaign_id, lead_id, JourneySignal.STOP, StopJourney(reason))

    async def status(self, campaign_id: str, lead_id: str) -> JourneyStatus | None:
        try:
            handle = await self.handle(campaign_id, lead_id)
            status: JourneyStatus = await handle.query(
                JourneyQuery.STATUS, result_type=JourneyStatus
            )
            return status
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                return None
            raise

    def workflow_id(self, campaign_id: str, lead_id: str) -> str:
        return journey_workflow_id(campaign_id, lead_id)

    def ui_url(self, campaign_id: str, lead_id: str) -> str | None:
        """A link to the journey in the Temporal Web UI."""
        if not self.ui_base_url:
            return None
        workflow_id = quote(journey_workflow_id(campaign_id, lead_id), safe="")
        return f"{self.ui_base_url}/namespaces/{self.namespace}/workflows/{workflow_id}"
