"""Request and response shapes of the contacts and lists API (seed 004, in coldflow's envelope)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, StringConstraints

from coldflow.models import ContactStatus
from coldflow.schemas.common import Email

MAX_BATCH = 100

VariableValue = Annotated[str, Field(max_length=2000)]
ListName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class ContactIn(BaseModel):
    """One contact of a batch. ``variables`` keys are normalised (``First Name`` →
    ``first_name``) like lead variables."""

    model_config = ConfigDict(extra="forbid")

    email: Email
    name: str = Field(default="", max_length=200)
    variables: dict[str, VariableValue] = Field(default_factory=dict)


class ContactCreate(ContactIn):
    """Seed 004's body; ``listId`` is accepted as seed 004 spells it, for ``list_id``."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"email": "new@example.com", "name": "John Doe", "variables": {}}]
        },
    )

    list_id: str | None = Field(
        default=None,
        max_length=36,
        validation_alias=AliasChoices("list_id", "listId"),
        description="Add the new contact to this list (``listId`` is accepted too).",
    )


class ContactUpdate(BaseModel):
    """Fields left out (or ``null``) stay as they are; ``variables`` replaces the whole map."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"status": "unsubscribed"}]}
    )

    name: str | None = Field(default=None, max_length=200)
    variables: dict[str, VariableValue] | None = None
    status: ContactStatus | None = Field(
        default=None,
        description="``unsubscribed`` or ``complained`` unsubscribe the address from the whole "
        "workspace; ``bounced`` is set by coldflow only; a suppressed contact never returns to "
        "``subscribed``.",
    )


class ContactRead(BaseModel):
    id: str
    email: str
    name: str
    variables: dict[str, str]
    status: ContactStatus
    list_ids: list[str]
    created_at: datetime
    updated_at: datetime


class ListCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"name": "Q2 prospects", "description": "From the fair"}]},
    )

    name: ListName
    description: str = Field(default="", max_length=500)


class ListUpdate(BaseModel):
    """Fields left out (or ``null``) stay as they are."""

    model_config = ConfigDict(extra="forbid")

    name: ListName | None = None
    description: str | None = Field(default=None, max_length=500)


class ListRead(BaseModel):
    id: str
    name: str
    description: str
    contact_count: int
    created_at: datetime
    updated_at: datetime


class ContactIfExists(StrEnum):
    """What a batch does with an address the workspace already has: it joins the list either
    way; ``update`` also overwrites the name and variables sent."""

    skip = "skip"
    update = "update"


class ListContactsAdd(BaseModel):
    """Up to 100 contacts to add to the list (413 ``BATCH_TOO_LARGE`` above)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"contacts": [{"email": "ann@example.com", "name": "Ann"}]}]
        },
    )

    contacts: list[ContactIn] = Field(min_length=1)
    if_exists: ContactIfExists = ContactIfExists.skip


class ContactResultStatus(StrEnum):
    created = "created"
    updated = "updated"
    skipped = "skipped"
    failed = "failed"


class ItemError(BaseModel):
    code: str
    message: str
    field: str


class ContactResult(BaseModel):
    index: int
    email: str
    status: ContactResultStatus
    contact_id: str | None = None
    error: ItemError | None = None


class ListContactsAdded(BaseModel):
    total: int
    created: int
    updated: int
    skipped: int
    failed: int
    results: list[ContactResult]

    @classmethod
    def of(cls, results: Sequence[ContactResult]) -> ListContactsAdded:
        """Totals of ``upsert_items``' results."""
        counts = {s: sum(r.status == s for r in results) for s in ContactResultStatus}
        return cls(
            total=len(results),
            created=counts[ContactResultStatus.created],
            updated=counts[ContactResultStatus.updated],
            skipped=counts[ContactResultStatus.skipped],
            failed=counts[ContactResultStatus.failed],
            results=list(results),
        )
