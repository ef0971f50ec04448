"""Inbox activities: the connection check (SMTP and IMAP logins)."""

from __future__ import annotations

from temporalio import activity

from coldflow.contracts.inboxes import CHECK_INBOX_ACTIVITY, InboxCheckInput, InboxCheckResult
from coldflow.crypto import SecretBox
from coldflow.services import inboxes as service
from coldflow.store.db import SessionFactory, unit_of_work


class InboxActivities:
    def __init__(self, sessions: SessionFactory, box: SecretBox) -> None:
        self.sessions = sessions
        self.box = box

    @activity.defn(name=CHECK_INBOX_ACTIVITY)
    async def check_inbox_connection(self, inp: InboxCheckInput) -> InboxCheckResult:
        """Mark ``validating`` (committed, so the API shows it), log in, record the outcome."""
        async with unit_of_work(self.sessions) as session:
            inbox = await service.start_validation(
                session=session, workspace_id=inp.workspace_id, inbox_id=inp.inbox_id
            )
            if inbox is None:
                return InboxCheckResult(status="deleted")
        error = await service.probe(inbox, self.box)
        async with unit_of_work(self.sessions) as session:
            recorded = await service.record_validation(
                session=session, workspace_id=inp.workspace_id, inbox_id=inp.inbox_id, error=error
            )
        return InboxCheckResult(status=recorded, error=error)
