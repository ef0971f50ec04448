"""All side effects of the workflows; every activity is idempotent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from activities.inboxes import InboxActivities
from activities.lead_import import ImportActivities
from activities.sending import SendingActivities


def build_activities(
    sending: SendingActivities, imports: ImportActivities, inboxes: InboxActivities
) -> list[Callable[..., Any]]:
    """The bound activity methods the worker registers."""
    return [
        sending.plan_step,
        sending.send_email,
        sending.record_journey,
        imports.import_leads,
        inboxes.check_inbox_connection,
    ]
