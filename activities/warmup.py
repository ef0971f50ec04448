"""Warmup activities: plan an inbox's day, send one warmup message, send the replies it owes."""

from __future__ import annotations

import logging

from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio import activity

from activities.smtp_delivery import attempt_delivery
from coldflow.contracts.warmup import (
    PLAN_WARMUP_DAY_ACTIVITY,
    SEND_WARMUP_ACTIVITY,
    SEND_WARMUP_REPLIES_ACTIVITY,
    PlanWarmupInput,
    SendWarmupInput,
    WarmupDayPlan,
    WarmupInput,
    WarmupRepliesResult,
    WarmupSendResult,
)
from coldflow.crypto import SecretBox
from coldflow.mailer import SmtpSettings
from coldflow.models import Inbox, Provider
from coldflow.services import inboxes as inbox_service
from coldflow.services import warmup as service
from coldflow.store.db import SessionFactory, unit_of_work

log = logging.getLogger(__name__)


class WarmupActivities:
    """``secret`` signs warmup tokens (the installation's secret key)."""

    def __init__(
        self,
        sessions: SessionFactory,
        box: SecretBox,
        *,
        secret: str,
        shared_pool: bool = False,
        spam_threshold: float = 0.20,
        smtp_timeout: float = 60.0,
    ) -> None:
        self.sessions = sessions
        self.box = box
        self.secret = secret
        self.shared_pool = shared_pool
        self.spam_threshold = spam_threshold
        self.smtp_timeout = smtp_timeout

    @activity.defn(name=PLAN_WARMUP_DAY_ACTIVITY)
    async def plan_warmup_day(self, inp: PlanWarmupInput) -> WarmupDayPlan:
        async with unit_of_work(self.sessions) as session:
            return await service.plan_day(
                session, inp, shared_pool=self.shared_pool, spam_threshold=self.spam_threshold
            )

    @activity.defn(name=SEND_WARMUP_ACTIVITY)
    async def send_warmup_email(self, inp: SendWarmupInput) -> WarmupSendResult:
        """The row is committed before SMTP, so the recipient always knows the message. At
        least once: a crash after SMTP and before ``delivered`` is set sends the same message
        again (same Message-ID and token), which the receiving side counts once."""
        async with unit_of_work(self.sessions) as session:
            # The activity's scheduled time is the workflow's clock (also on a time-skipping
            # test server): the Date header and the stats agree with the plan.
            now = activity.info().current_attempt_scheduled_time
            prepared = await service.prepare_send(session, inp, self.secret, now)
            if isinstance(prepared, str):
                return WarmupSendResult("skipped", prepared)
            settings = await self._smtp(session, prepared.inbox_id, prepared.provider)
        return await self._deliver(prepared, settings)

    @activity.defn(name=SEND_WARMUP_REPLIES_ACTIVITY)
    async def send_warmup_replies(self, inp: WarmupInput) -> WarmupRepliesResult:
        async with unit_of_work(self.sessions) as session:
            now = activity.info().current_attempt_scheduled_time
            replies = await service.prepare_replies(session, inp.inbox_id, self.secret, now)
            settings = (
                await self._smtp(session, inp.inbox_id, replies[0].provider) if replies else None
            )
        sent = 0
        for prepared in replies:
            result = await self._deliver(prepared, settings)
            sent += result.status == "sent"
            activity.heartbeat(sent)
        return WarmupRepliesResult(sent=sent)

    async def _smtp(
        self, session: AsyncSession, inbox_id: str, provider: Provider
    ) -> SmtpSettings | None:
        if provider == Provider.sandbox:
            return None  # a sandbox inbox captures instead of sending
        inbox = await session.get(Inbox, inbox_id)
        if inbox is None:
            return None
        return inbox_service.smtp_settings(inbox, self.box, timeout=self.smtp_timeout)

    async def _deliver(
        self, prepared: service.PreparedWarmup, settings: SmtpSettings | None
    ) -> WarmupSendResult:
        async def nothing_to_release() -> None:
            return None

        attempt = await attempt_delivery(
            settings,
            sender=prepared.sender,
            recipient=prepared.recipient,
            message=prepared.message,
            release=nothing_to_release,
        )
        async with unit_of_work(self.sessions) as session:
            if attempt.error is not None:
                log.warning("warmup from %s refused: %s", prepared.sender, attempt.error)
                await service.record_refused(session, prepared.row_id)
                return WarmupSendResult("failed", attempt.error)
            await service.record_sent(session, prepared.row_id)
        return WarmupSendResult("sent")
