"""Every table, imported here so ``SQLModel.metadata`` (and Alembic) sees them all."""

from coldflow.models.blocklist import BlockKind, BlocklistEntry
from coldflow.models.campaign import (
    Campaign,
    CampaignInbox,
    CampaignStatus,
    Step,
    StepCondition,
    Variant,
)
from coldflow.models.contact import (
    SUPPRESSION_RANK,
    Contact,
    ContactList,
    ContactStatus,
    ListMembership,
)
from coldflow.models.conversation import (
    Attachment,
    Conversation,
    ConversationMessage,
    Folder,
    MessageKind,
)
from coldflow.models.domain import DomainState, SenderDomain
from coldflow.models.event import Event, IdempotencyRecord
from coldflow.models.inbox import (
    ConnectionStatus,
    ConnectionType,
    Inbox,
    MailboxCursor,
    Provider,
    TransportSecurity,
)
from coldflow.models.lead import JourneyState, Lead, LeadStatus
from coldflow.models.lead_import import ImportKind, ImportStatus, LeadImport
from coldflow.models.message import EmailSource, EmailTag, SendCounter, SendStatus, SentMessage
from coldflow.models.warmup import WarmupMessage
from coldflow.models.webhook import WebhookDelivery, WebhookEndpoint
from coldflow.models.workspace import ALL_SCOPES, WILDCARD_SCOPE, ApiKey, Workspace

__all__ = [
    "ALL_SCOPES",
    "SUPPRESSION_RANK",
    "WILDCARD_SCOPE",
    "ApiKey",
    "Attachment",
    "BlockKind",
    "BlocklistEntry",
    "Campaign",
    "CampaignInbox",
    "CampaignStatus",
    "ConnectionStatus",
    "ConnectionType",
    "Contact",
    "ContactList",
    "ContactStatus",
    "Conversation",
    "ConversationMessage",
    "DomainState",
    "EmailSource",
    "EmailTag",
    "Event",
    "Folder",
    "IdempotencyRecord",
    "ImportKind",
    "ImportStatus",
    "Inbox",
    "JourneyState",
    "Lead",
    "LeadImport",
    "LeadStatus",
    "ListMembership",
    "MailboxCursor",
    "MessageKind",
    "Provider",
    "SendCounter",
    "SenderDomain",
    "SendStatus",
    "SentMessage",
    "Step",
    "StepCondition",
    "TransportSecurity",
    "Variant",
    "WarmupMessage",
    "WebhookDelivery",
    "WebhookEndpoint",
    "Workspace",
]
