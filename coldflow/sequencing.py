"""Sequence rules: step delays, A/B variant choice and follow-up conditions.

Pure and deterministic (stdlib only, no clock, no ``random``, no ``hash()``), because the journey
workflow replays these decisions inside the Temporal sandbox and the campaign preview must agree
with the journey: every "random" choice is derived from a caller-given seed with SHA-256.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from coldflow.errors import InvalidInput

# Values of coldflow.models.StepCondition (seed 001), repeated here as plain strings because this
# module must not import the ORM.
STEP_CONDITIONS: tuple[str, ...] = ("always", "not_replied", "not_opened", "opened_not_replied")
DEFAULT_CONDITION = "not_replied"


@dataclass(frozen=True, slots=True)
class VariantChoice:
    """What variant choice needs to know of a variant: ``weight`` is its share (seed 001)."""

    id: str
    label: str
    weight: int
    enabled: bool


def delays_from_seed000(delays_after_previous: Sequence[int]) -> list[int | None]:
    """Seed 000's ``delay_days`` (days after the previous step) → coldflow's (days after this step).

    ``[0, 3, 5]`` → ``[3, 5, None]``: step i keeps step i+1's value and the last step gets None.
    Step 1's value has no previous step and is ignored, whatever it is. An empty list stays
    empty. A negative or non-integer delay raises INVALID_DELAY naming
    ``sequences[i].delay_days`` (seed 000's field, 0-based like its JSON array).
    """
    for index, delay in enumerate(delays_after_previous):
        if index > 0:
            _check_delay(delay, f"sequences[{index}].delay_days")
    return [*delays_after_previous[1:], None] if delays_after_previous else []


def delays_to_seed000(delays_after_step: Sequence[int | None]) -> list[int]:
    """The inverse of ``delays_from_seed000``: ``[3, 5, None]`` → ``[0, 3, 5]``.

    The last step's value is ignored (seed 003 reports it as null; a stored leftover from a
    deleted later step must not leak out), step 1 gets 0. A None or negative delay before the
    last step raises INVALID_DELAY naming ``steps[i].delay_days``.
    """
    result = [0] if delays_after_step else []
    for index, delay in enumerate(delays_after_step[:-1]):
        result.append(_check_delay(delay, f"steps[{index}].delay_days"))
    return result


def seeded_index(seed: str, n: int) -> int:
    """A deterministic, uniformly spread index in ``range(n)`` for ``seed``.

    SHA-256 rather than ``hash()`` (salted per process) or ``random`` (not replay-safe): every
    worker, every replay and the preview get the same answer. The 256-bit digest makes modulo
    bias negligible. Callers prefix seeds by purpose ("variant:", "spintax:") so two choices
    made for the same lead and step are independent. ``n`` < 1 is a programming error
    (ValueError).
    """
    if n < 1:
        raise ValueError(f"cannot choose among {n} options")
    digest = hashlib.sha256(seed.encode("utf-8")).digest()
    return int.from_bytes(digest, "big") % n


def choose_variant(variants: Sequence[VariantChoice], *, lead_id: str, step: int) -> VariantChoice:
    """The variant ``lead_id`` gets at ``step``: weighted among enabled ones, same on every replay.

    Weights are percentages by convention but any non-negative integers work (shares of their
    sum); a zero-weight variant is never chosen unless all enabled weights are zero, which means
    an equal split. Variants are ordered by (label, id) first, so the caller's order does not
    matter. Disabled variants are ignored. Errors: NO_ENABLED_VARIANT (none enabled),
    INVALID_WEIGHT (a negative weight). Adding or re-weighting a variant may move leads that
    have not been sent that step yet; a sent step is recorded, so it never changes afterwards.
    """
    for variant in variants:
        if variant.weight < 0:
            raise InvalidInput.field(
                f"variants.{variant.label}.weight",
                "weight must not be negative",
                code="INVALID_WEIGHT",
            )
    enabled = sorted((v for v in variants if v.enabled), key=lambda v: (v.label, v.id))
    if not enabled:
        raise InvalidInput.field(
            "variants", "the step has no enabled variant", code="NO_ENABLED_VARIANT"
        )
    seed = f"variant:{lead_id}:{step}"
    total = sum(v.weight for v in enabled)
    if total == 0:
        return enabled[seeded_index(seed, len(enabled))]
    point = seeded_index(seed, total)
    for variant in enabled:
        if point < variant.weight:
            return variant
        point -= variant.weight
    raise AssertionError("unreachable: point < total")


def should_send_step(condition: str, *, replied: bool, opened: bool) -> bool:
    """Whether a follow-up with ``condition`` goes out, given what the lead did so far.

    ``always``; ``not_replied`` (the default); ``not_opened``; ``opened_not_replied``. A reply
    counts as an open: it proves the email was read even when the tracking pixel was blocked,
    so "did you see my email?" never goes to someone who answered. Whether a reply ends the
    journey at all is ``stop_on_reply``'s business, not this function's. An unknown condition
    raises INVALID_CONDITION.
    """
    if condition == "always":
        return True
    if condition == "not_replied":
        return not replied
    if condition == "not_opened":
        return not (opened or replied)
    if condition == "opened_not_replied":
        return opened and not replied
    raise InvalidInput.field(
        "condition",
        f"{condition!r} is not one of {', '.join(STEP_CONDITIONS)}",
        code="INVALID_CONDITION",
    )


def _check_delay(delay: object, field: str) -> int:
    if not isinstance(delay, int) or isinstance(delay, bool) or delay < 0:
        raise InvalidInput.field(
            field, "delay_days must be a whole number of days, 0 or more", code="INVALID_DELAY"
        )
    return delay
