"""All side effects of the workflows; every activity is idempotent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from activities.sending import SendingActivities


def build_activities(sending: SendingActivities) -> list[Callable[..., Any]]:
    """The bound activity methods the worker registers."""
    return [sending.load_step, sending.send_step, sending.record_journey]
