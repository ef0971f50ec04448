"""The send-once-with-retries shape shared by unibox messages and API emails."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

# Transient SMTP trouble (4xx, greylisting, a server restart) is retried for about two hours:
# 5 s, 10 s, 20 s … then every 10 minutes, 16 attempts in all.
SEND_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
    maximum_attempts=16,
)

R = TypeVar("R")


async def send_or_fail(
    send_activity: str,
    arg: object,
    *,
    fail_activity: str,
    failed_arg: Callable[[str], object],
    result_type: type[R],
) -> R:
    """Run ``send_activity``; when its retries run out, ``fail_activity`` records the last
    error, so the message never stays queued forever."""
    try:
        result: R = await workflow.execute_activity(
            send_activity,
            arg,
            result_type=result_type,
            # Above the SMTP client's own timeout, so a slow server fails as a retryable SMTP
            # error in the activity rather than as a Temporal timeout.
            start_to_close_timeout=timedelta(minutes=5),
            retry_policy=SEND_RETRY,
        )
    except ActivityError as err:
        reason = str(err.cause) if err.cause is not None else str(err)
        failed: R = await workflow.execute_activity(
            fail_activity,
            failed_arg(reason),
            result_type=result_type,
            start_to_close_timeout=timedelta(minutes=1),
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=1)),
        )
        return failed
    return result
