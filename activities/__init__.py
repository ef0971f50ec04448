"""All side effects of the workflows; every activity is idempotent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from activities.conversations import ConversationActivities
from activities.domains import DomainActivities
from activities.emails import EmailActivities
from activities.enrollment import EnrollmentActivities
from activities.inboxes import InboxActivities
from activities.lead_import import ImportActivities
from activities.mailbox import MailboxActivities
from activities.sending import SendingActivities
from activities.warmup import WarmupActivities
from activities.webhooks import WebhookActivities


def build_activities(
    sending: SendingActivities,
    imports: ImportActivities,
    inboxes: InboxActivities,
    *,
    conversations: ConversationActivities,
    webhooks: WebhookActivities,
    mailbox: MailboxActivities,
    enrollment: EnrollmentActivities,
    emails: EmailActivities,
    domains: DomainActivities,
    warmup: WarmupActivities,
) -> list[Callable[..., Any]]:
    """The bound activity methods the worker registers."""
    return [
        sending.plan_step,
        sending.send_email,
        sending.record_journey,
        imports.import_leads,
        inboxes.check_inbox_connection,
        conversations.send_conversation_message,
        conversations.fail_conversation_message,
        webhooks.deliver_webhook,
        webhooks.record_test_event,
        webhooks.relay_events,
        mailbox.watch_mailbox,
        enrollment.enroll_leads,
        emails.send_api_email,
        emails.fail_api_email,
        domains.verify_domain,
        domains.list_domains,
        warmup.plan_warmup_day,
        warmup.send_warmup_email,
        warmup.send_warmup_replies,
    ]
