"""Sequence use cases: a campaign's steps and their A/B variants (seed 003).

Running journeys read their step at each step, so every edit here applies to them from their
next step without a signal. Every change bumps the campaign's ``updated_at``.
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Sequence
from string import ascii_uppercase

from sqlmodel.ext.asyncio.session import AsyncSession

from coldflow import templates
from coldflow.errors import Conflict, InvalidInput, NotFound
from coldflow.models import Campaign, Step, Variant
from coldflow.models.base import utcnow
from coldflow.schemas.sequences import (
    DEFAULT_DELAY_DAYS,
    SequenceCreate,
    SequenceRead,
    SequenceUpdate,
    VariantCreate,
    VariantRead,
    VariantUpdate,
)
from coldflow.store import campaigns as campaign_store
from coldflow.store import sequences as store

MAX_STEPS = 50
MAX_VARIANTS = len(ascii_uppercase)
# Appended when a body lacks an unsubscribe link while the campaign's unsubscribe_option is on;
# stored in its sanitized form so adding it twice is recognisable and removing it exact.
UNSUBSCRIBE_BLOCK = templates.sanitize_html('<p><a href="{{unsubscribe_url}}">Unsubscribe</a></p>')
_HREF_RE = re.compile(r"<a\s[^>]*?\bhref=\"([^\"]*)\"", re.IGNORECASE)


def has_unsubscribe_link(body_html: str) -> bool:
    """Whether a link's href uses ``{{unsubscribe_url}}`` (any spelling of the name)."""
    for match in _HREF_RE.finditer(body_html):
        try:
            if "unsubscribe_url" in templates.variables_used(html_lib.unescape(match[1])):
                return True
        except templates.TemplateSyntaxError:
            continue
    return False


def remove_unsubscribe_block(body_html: str) -> str:
    """The body without the block ``prepare_body`` appends (for turning the option off)."""
    return body_html.replace(UNSUBSCRIBE_BLOCK, "")


def prepare_body(body: str, *, unsubscribe: bool, field: str = "body_html") -> str:
    """The stored form of a variant body: validated, sanitized HTML, unsubscribe link kept.

    Merge tags are checked on the text as sent (offsets point into it) and again after the
    sanitizer. Text without tags becomes paragraphs. Applying ``to_body_html`` twice reaches
    its fixed point (a body whose tags were all stripped becomes paragraphs), so what is stored
    is exactly what the send path renders. With ``unsubscribe`` on, a body without an
    ``{{unsubscribe_url}}`` link gets UNSUBSCRIBE_BLOCK appended.
    """
    templates.validate(body, field=field)
    html = templates.to_body_html(templates.to_body_html(body))
    if unsubscribe and not has_unsubscribe_link(html):
        html += UNSUBSCRIBE_BLOCK
    templates.validate(html, field=field)
    return html


def _prepare_subject(subject: str, *, required: bool) -> str:
    subject = subject.strip()
    if required and not subject:
        raise InvalidInput.field("subject", "subject cannot be empty")
    if any(char in subject for char in "\r\n\x00"):
        raise InvalidInput.field(
            "subject", "subject cannot contain a line break", code="INVALID_SUBJECT"
        )
    templates.validate(subject, field="subject")
    return subject


def variant_read(variant: Variant) -> VariantRead:
    return VariantRead(
        id=variant.id,
        letter=variant.label,
        subject=variant.subject or None,
        body_html=variant.body or None,
        body_text=templates.html_to_text(variant.body) if variant.body else None,
        weight=variant.weight,
        enabled=variant.enabled,
    )


def _sequence_read(step: Step, variants: Sequence[Variant], *, is_last: bool) -> SequenceRead:
    return SequenceRead(
        id=step.id,
        step=step.position,
        # Stored even on the last step (it comes back into force when a step is appended).
        delay_days=None if is_last else step.delay_days,
        condition=step.condition,
        variants=[variant_read(v) for v in variants if v.step_id == step.id],
    )


def sequence_reads(steps: Sequence[Step], variants: Sequence[Variant]) -> list[SequenceRead]:
    """Every step of a campaign as the API shows it (the last step's delay is null)."""
    return [
        _sequence_read(step, variants, is_last=index == len(steps) - 1)
        for index, step in enumerate(steps)
    ]


async def _campaign(
    session: AsyncSession, workspace_id: str, campaign_id: str, *, lock: bool = True
) -> Campaign:
    # Writes lock the campaign row so two concurrent edits (two appends) take turns on
    # PostgreSQL instead of colliding on the step position.
    campaign = await campaign_store.get_campaign(
        session, workspace_id, campaign_id, for_update=lock
    )
    if campaign is None:
        raise NotFound("campaign", campaign_id)
    return campaign


async def _step(session: AsyncSession, workspace_id: str, campaign_id: str, step_id: str) -> Step:
    step = await store.get_step(session, workspace_id, campaign_id, step_id)
    if step is None:
        raise NotFound("sequence", step_id)
    return step


async def _variant(
    session: AsyncSession, workspace_id: str, campaign_id: str, variant_id: str
) -> Variant:
    variant = await store.get_variant(session, workspace_id, campaign_id, variant_id)
    if variant is None:
        raise NotFound("variant", variant_id)
    return variant


def _touch(session: AsyncSession, campaign: Campaign) -> None:
    campaign.updated_at = utcnow()
    session.add(campaign)


async def _read_step(session: AsyncSession, step: Step) -> SequenceRead:
    last = await store.last_step(session, step.campaign_id)
    variants = await store.list_step_variants(session, step.id)
    return _sequence_read(step, variants, is_last=last is not None and last.id == step.id)


async def list_sequences(
    *, session: AsyncSession, workspace_id: str, campaign_id: str
) -> list[SequenceRead]:
    """The campaign's steps in order, each with its variants in letter order."""
    await _campaign(session, workspace_id, campaign_id, lock=False)
    steps = await campaign_store.list_steps(session, campaign_id)
    variants = await campaign_store.list_variants(session, [s.id for s in steps])
    return [_sequence_read(s, variants, is_last=s is steps[-1]) for s in steps]


async def create_sequence(
    *, session: AsyncSession, workspace_id: str, campaign_id: str, data: SequenceCreate
) -> SequenceRead:
    """Append a step with an empty variant A (just the unsubscribe block when that is on).

    The previous last step's stored ``delay_days`` comes back into force; one that never had a
    value gets the default of 3 days.
    """
    campaign = await _campaign(session, workspace_id, campaign_id)
    if await store.count_steps(session, campaign_id) >= MAX_STEPS:
        raise Conflict(
            f"A campaign has at most {MAX_STEPS} steps",
            code="TOO_MANY_STEPS",
            details=[{"field": "sequences", "limit": MAX_STEPS}],
        )
    previous = await store.last_step(session, campaign_id)
    if previous is not None and previous.delay_days is None:
        previous.delay_days = DEFAULT_DELAY_DAYS
        session.add(previous)
    step = Step(
        campaign_id=campaign_id,
        position=previous.position + 1 if previous else 1,
        delay_days=data.delay_days,
        condition=data.condition,
    )
    session.add(step)
    await session.flush()
    variant = Variant(
        step_id=step.id,
        label="A",
        body=UNSUBSCRIBE_BLOCK if campaign.unsubscribe_option else "",
    )
    session.add(variant)
    _touch(session, campaign)
    await session.flush()
    return _sequence_read(step, [variant], is_last=True)


async def update_sequence(
    *,
    session: AsyncSession,
    workspace_id: str,
    campaign_id: str,
    sequence_id: str,
    data: SequenceUpdate,
) -> SequenceRead:
    """Change ``delay_days`` and/or ``condition``; on the last step the delay is kept for later."""
    campaign = await _campaign(session, workspace_id, campaign_id)
    step = await _step(session, workspace_id, campaign_id, sequence_id)
    changes = data.model_dump(exclude_unset=True)
    for name, value in changes.items():
        if value is None:
            raise InvalidInput.field(name, f"{name} cannot be null")
        setattr(step, name, value)
    if changes:
        session.add(step)
        _touch(session, campaign)
        await session.flush()
    return await _read_step(session, step)


async def delete_sequence(
    *, session: AsyncSession, workspace_id: str, campaign_id: str, sequence_id: str
) -> None:
    """Delete a step and its variants; later steps move up so numbers stay contiguous."""
    campaign = await _campaign(session, workspace_id, campaign_id)
    step = await _step(session, workspace_id, campaign_id, sequence_id)
    await store.delete_step(session, step)
    _touch(session, campaign)
    await session.flush()


def _next_letter(used: Sequence[str]) -> str:
    """The letter after the highest in use (a deleted B is not reused while C exists), else
    the first free one once Z is taken."""
    taken = {label for label in used if label in ascii_uppercase}
    highest = max((ascii_uppercase.index(label) for label in taken), default=-1)
    following = ascii_uppercase[highest + 1 :]
    return next(iter(following), None) or next(c for c in ascii_uppercase if c not in taken)


async def create_variant(
    *,
    session: AsyncSession,
    workspace_id: str,
    campaign_id: str,
    sequence_id: str,
    data: VariantCreate,
) -> VariantRead:
    """Add a variant with the step's next letter; content rules as in ``update_variant``."""
    campaign = await _campaign(session, workspace_id, campaign_id)
    step = await _step(session, workspace_id, campaign_id, sequence_id)
    subject = _prepare_subject(data.subject, required=True)
    body = prepare_body(data.body_html, unsubscribe=campaign.unsubscribe_option)
    existing = await store.list_step_variants(session, step.id)
    if len(existing) >= MAX_VARIANTS:
        raise Conflict(
            f"A step has at most {MAX_VARIANTS} variants",
            code="TOO_MANY_VARIANTS",
            details=[{"field": "variants", "limit": MAX_VARIANTS}],
        )
    variant = Variant(
        step_id=step.id,
        label=_next_letter([v.label for v in existing]),
        subject=subject,
        body=body,
        weight=data.weight,
        enabled=data.enabled,
    )
    session.add(variant)
    _touch(session, campaign)
    await session.flush()
    return variant_read(variant)


async def update_variant(
    *,
    session: AsyncSession,
    workspace_id: str,
    campaign_id: str,
    variant_id: str,
    data: VariantUpdate,
) -> VariantRead:
    """Change subject, body, weight or enabled; all fields are checked before any is applied.

    An empty subject is allowed here: on a follow-up it means "Re: <first subject>" (threaded).
    The last enabled variant of a step cannot be disabled (CANNOT_DISABLE_LAST_VARIANT).
    """
    campaign = await _campaign(session, workspace_id, campaign_id)
    variant = await _variant(session, workspace_id, campaign_id, variant_id)
    changes = data.model_dump(exclude_unset=True)
    for name, value in changes.items():
        if value is None:
            raise InvalidInput.field(name, f"{name} cannot be null")
    if "subject" in changes:
        changes["subject"] = _prepare_subject(changes["subject"], required=False)
    if "body_html" in changes:
        changes["body"] = prepare_body(
            changes.pop("body_html"), unsubscribe=campaign.unsubscribe_option
        )
    if changes.get("enabled") is False and variant.enabled:
        siblings = await store.list_step_variants(session, variant.step_id)
        if not any(v.enabled and v.id != variant.id for v in siblings):
            raise InvalidInput.field(
                "enabled",
                "The last enabled variant of a step cannot be disabled",
                code="CANNOT_DISABLE_LAST_VARIANT",
            )
    for name, value in changes.items():
        setattr(variant, name, value)
    if changes:
        session.add(variant)
        _touch(session, campaign)
        await session.flush()
    return variant_read(variant)


async def delete_variant(
    *, session: AsyncSession, workspace_id: str, campaign_id: str, variant_id: str
) -> None:
    """Delete a variant unless it would leave its step with no enabled variant (422)."""
    campaign = await _campaign(session, workspace_id, campaign_id)
    variant = await _variant(session, workspace_id, campaign_id, variant_id)
    siblings = await store.list_step_variants(session, variant.step_id)
    if not any(v.enabled and v.id != variant.id for v in siblings):
        raise InvalidInput(
            "Deleting this variant would leave the step with no enabled variant",
            code="CANNOT_DELETE_LAST_VARIANT",
            details=[{"field": "variant_id", "message": "last enabled variant of its step"}],
        )
    await store.delete_variant(session, variant)
    _touch(session, campaign)
    await session.flush()
