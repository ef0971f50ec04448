"""Workspace contacts (seed 004) with one subscription status, and the lists that group them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import JSON, Field, SQLModel

from coldflow.ids import new_id
from coldflow.models.base import UTCDateTime, enum_type, utcnow


class ContactStatus(StrEnum):
    subscribed = "subscribed"
    unsubscribed = "unsubscribed"
    bounced = "bounced"
    complained = "complained"


SUPPRESSION_RANK: dict[ContactStatus, int] = {
    ContactStatus.subscribed: 0,
    ContactStatus.bounced: 1,
    ContactStatus.unsubscribed: 2,
    ContactStatus.complained: 3,
}
"""A status only ever moves up this order. A bounce is a fact about a mailbox that can heal; an
unsubscribe is the person's own choice, which the law makes binding; a spam complaint is that
choice made loudly, and it is the one a provider counts against the sender. The stronger reason
is the one to keep on record."""


class Contact(SQLModel, table=True):
    """One address of the workspace; ``variables`` holds its merge fields under normalised
    names, ``status`` is shared by every campaign of the workspace."""

    __tablename__ = "contacts"
    __table_args__ = (
        UniqueConstraint("workspace_id", "email", name="uq_contacts_workspace_email"),
        Index("ix_contacts_workspace_status", "workspace_id", "status"),
        Index("ix_contacts_workspace_created", "workspace_id", "created_at"),
    )

    id: str = Field(default_factory=new_id, primary_key=True)
    workspace_id: str = Field(foreign_key="workspaces.id", ondelete="CASCADE")
    email: str = Field(max_length=320, description="lower-cased address")
    name: str = Field(default="", max_length=200)
    variables: dict[str, str] = Field(default_factory=dict, sa_type=JSON)
    status: ContactStatus = Field(
        default=ContactStatus.subscribed, sa_type=enum_type(ContactStatus)
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ContactList(SQLModel, table=True):
    """A named group of contacts, enrolled into campaigns as a whole."""

    __tablename__ = "contact_lists"
    __table_args__ = (
        UniqueConstraint("workspace_id", "name", name="uq_contact_lists_workspace_name"),
        Index("ix_contact_lists_workspace_created", "workspace_id", "created_at"),
    )

    id: str = Field(default_factory=new_id, primary_key=True)
    workspace_id: str = Field(foreign_key="workspaces.id", ondelete="CASCADE")
    name: str = Field(max_length=100)
    description: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ListMembership(SQLModel, table=True):
    """A contact in a list; deleting either side deletes the membership, never the other side."""

    __tablename__ = "list_memberships"
    __table_args__ = (Index("ix_list_memberships_contact", "contact_id"),)

    list_id: str = Field(foreign_key="contact_lists.id", primary_key=True, ondelete="CASCADE")
    contact_id: str = Field(foreign_key="contacts.id", primary_key=True, ondelete="CASCADE")
    workspace_id: str = Field(foreign_key="workspaces.id", ondelete="CASCADE")
    added_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
