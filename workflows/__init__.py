"""Deterministic workflow code only: no I/O, no clock, no settings (see STYLE.md)."""

from workflows.campaign_enrollment import CampaignEnrollmentWorkflow
from workflows.conversation_send import ConversationSendWorkflow
from workflows.domains import DomainsRecheckWorkflow, DomainVerifyWorkflow
from workflows.email_send import EmailSendWorkflow
from workflows.event_relay import EventRelayWorkflow
from workflows.inbox_check import InboxConnectionCheckWorkflow
from workflows.journey import LeadJourneyWorkflow
from workflows.lead_import import LeadImportWorkflow
from workflows.mailbox import MailboxWatcherWorkflow
from workflows.warmup import InboxWarmupWorkflow
from workflows.webhook_delivery import WebhookDeliveryWorkflow

WORKFLOWS = [
    LeadJourneyWorkflow,
    LeadImportWorkflow,
    InboxConnectionCheckWorkflow,
    ConversationSendWorkflow,
    WebhookDeliveryWorkflow,
    EventRelayWorkflow,
    MailboxWatcherWorkflow,
    CampaignEnrollmentWorkflow,
    EmailSendWorkflow,
    DomainVerifyWorkflow,
    DomainsRecheckWorkflow,
    InboxWarmupWorkflow,
]
