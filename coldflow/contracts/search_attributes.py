"""Custom search attributes: how the Temporal UI finds a lead's journey.

Every Temporal server coldflow talks to (the embedded one, docker-compose's, the test servers)
registers exactly these before a worker starts, or workflow tasks fail and retry forever.
"""

from __future__ import annotations

from datetime import datetime

from temporalio.common import SearchAttributeKey

CAMPAIGN_ID = SearchAttributeKey.for_keyword("CampaignId")
LEAD_ID = SearchAttributeKey.for_keyword("LeadId")
LEAD_EMAIL = SearchAttributeKey.for_keyword("LeadEmail")
WORKSPACE_ID = SearchAttributeKey.for_keyword("WorkspaceId")
JOURNEY_STATUS = SearchAttributeKey.for_keyword("JourneyStatus")
JOURNEY_STEP = SearchAttributeKey.for_int("JourneyStep")
INBOX_ID = SearchAttributeKey.for_keyword("InboxId")
NEXT_SEND_AT = SearchAttributeKey.for_datetime("NextSendAt")

SEARCH_ATTRIBUTES: tuple[
    SearchAttributeKey[str] | SearchAttributeKey[int] | SearchAttributeKey[datetime], ...
] = (
    CAMPAIGN_ID,
    LEAD_ID,
    LEAD_EMAIL,
    WORKSPACE_ID,
    JOURNEY_STATUS,
    JOURNEY_STEP,
    INBOX_ID,
    NEXT_SEND_AT,
)


def cli_flags() -> list[str]:
    """``--search-attribute Name=Type`` pairs for ``temporal server start-dev``."""
    flags: list[str] = []
    for key in SEARCH_ATTRIBUTES:
        flags += ["--search-attribute", f"{key.name}={key.indexed_value_type.name.title()}"]
    return flags
