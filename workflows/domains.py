"""Sender-domain checks: one domain on request, and every domain once a day (a Schedule)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from coldflow.contracts.domains import (
        DOMAIN_VERIFY_WORKFLOW,
        DOMAINS_RECHECK_WORKFLOW,
        LIST_DOMAINS_ACTIVITY,
        VERIFY_DOMAIN_ACTIVITY,
        DomainsRecheckResult,
        VerifyDomainInput,
        VerifyDomainResult,
    )

# DNS answers are findings, not failures: only a crash of the activity is retried.
VERIFY_RETRY = RetryPolicy(maximum_attempts=3, maximum_interval=timedelta(minutes=1))
# Domains checked at once by the daily run: enough to finish quickly, few enough to be polite.
PARALLEL = 5


async def _verify(input: VerifyDomainInput) -> VerifyDomainResult:
    result: VerifyDomainResult = await workflow.execute_activity(
        VERIFY_DOMAIN_ACTIVITY,
        input,
        result_type=VerifyDomainResult,
        start_to_close_timeout=timedelta(minutes=2),
        retry_policy=VERIFY_RETRY,
    )
    return result


@workflow.defn(name=DOMAIN_VERIFY_WORKFLOW)
class DomainVerifyWorkflow:
    """``POST /domains/{id}/verify``: MX, SPF, DKIM, DMARC and tracking, written by the activity."""

    @workflow.run
    async def run(self, input: VerifyDomainInput) -> VerifyDomainResult:
        return await _verify(input)


@workflow.defn(name=DOMAINS_RECHECK_WORKFLOW)
class DomainsRecheckWorkflow:
    """The daily re-check of every domain; a worse status raises ``domain.degraded``."""

    @workflow.run
    async def run(self) -> DomainsRecheckResult:
        domains: list[VerifyDomainInput] = await workflow.execute_activity(
            LIST_DOMAINS_ACTIVITY,
            result_type=list[VerifyDomainInput],
            start_to_close_timeout=timedelta(minutes=1),
            retry_policy=VERIFY_RETRY,
        )
        checked = degraded = 0
        for start in range(0, len(domains), PARALLEL):
            workflow.set_current_details(f"checked {checked} of {len(domains)} domains")
            batch = domains[start : start + PARALLEL]
            results = await asyncio.gather(*(_verify(d) for d in batch))
            checked += len(results)
            degraded += sum(1 for r in results if r.degraded)
        return DomainsRecheckResult(checked=checked, degraded=degraded)
