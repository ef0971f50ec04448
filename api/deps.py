"""What handlers declare they need: a session, the journeys client, a key with a scope."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlmodel.ext.asyncio.session import AsyncSession

from api.auth import require_scope
from coldflow.config import Settings
from coldflow.crypto import SecretBox
from coldflow.links import Links
from coldflow.models import ApiKey
from coldflow.services.journeys import Journeys


def _session(request: Request) -> AsyncSession:
    """The request's unit of work, opened and committed by ``UnitOfWorkRoute``."""
    session: AsyncSession = request.state.session
    return session


def _journeys(request: Request) -> Journeys:
    journeys: Journeys = request.app.state.journeys
    return journeys


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _links(request: Request) -> Links:
    links: Links = request.app.state.links
    return links


def _box(request: Request) -> SecretBox:
    box: SecretBox = request.app.state.box
    return box


SessionDep = Annotated[AsyncSession, Depends(_session)]
JourneysDep = Annotated[Journeys, Depends(_journeys)]
SettingsDep = Annotated[Settings, Depends(_settings)]
SecretBoxDep = Annotated[SecretBox, Depends(_box)]
LinksDep = Annotated[Links, Depends(_links)]

CampaignsRead = Annotated[ApiKey, Depends(require_scope("campaigns:read"))]
CampaignsWrite = Annotated[ApiKey, Depends(require_scope("campaigns:write"))]
LeadsRead = Annotated[ApiKey, Depends(require_scope("leads:read"))]
LeadsWrite = Annotated[ApiKey, Depends(require_scope("leads:write"))]
InboxesRead = Annotated[ApiKey, Depends(require_scope("inboxes:read"))]
InboxesWrite = Annotated[ApiKey, Depends(require_scope("inboxes:write"))]
BlocklistRead = Annotated[ApiKey, Depends(require_scope("blocklist:read"))]
BlocklistWrite = Annotated[ApiKey, Depends(require_scope("blocklist:write"))]
ConversationsRead = Annotated[ApiKey, Depends(require_scope("conversations:read"))]
ConversationsWrite = Annotated[ApiKey, Depends(require_scope("conversations:write"))]
WebhooksRead = Annotated[ApiKey, Depends(require_scope("webhooks:read"))]
WebhooksWrite = Annotated[ApiKey, Depends(require_scope("webhooks:write"))]
TriggersWrite = Annotated[ApiKey, Depends(require_scope("triggers:write"))]
EmailsRead = Annotated[ApiKey, Depends(require_scope("emails:read"))]
EmailsWrite = Annotated[ApiKey, Depends(require_scope("emails:write"))]
ContactsRead = Annotated[ApiKey, Depends(require_scope("contacts:read"))]
ContactsWrite = Annotated[ApiKey, Depends(require_scope("contacts:write"))]
DomainsRead = Annotated[ApiKey, Depends(require_scope("domains:read"))]
DomainsWrite = Annotated[ApiKey, Depends(require_scope("domains:write"))]
StatsRead = Annotated[ApiKey, Depends(require_scope("stats:read"))]
