"""What crosses the Temporal boundary for sender-domain checks (one domain, or the daily run)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

DOMAIN_VERIFY_WORKFLOW = "DomainVerify"
DOMAINS_RECHECK_WORKFLOW = "DomainsRecheck"
VERIFY_DOMAIN_ACTIVITY = "verify_domain"
LIST_DOMAINS_ACTIVITY = "list_domains"
RECHECK_EVERY = timedelta(days=1)


def verify_workflow_id(domain_id: str) -> str:
    return f"domain-verify/{domain_id}"


def recheck_schedule_id(task_queue: str) -> str:
    """One schedule per deployment (the task queue names it), visible under Schedules in the UI."""
    return f"domains/recheck/{task_queue}"


@dataclass(frozen=True)
class VerifyDomainInput:
    workspace_id: str
    domain_id: str


@dataclass(frozen=True)
class VerifyDomainResult:
    """``status`` after the check (``deleted`` when the domain is gone); ``degraded`` when it is
    worse than before (a ``domain.degraded`` event was written)."""

    status: str
    degraded: bool = False


@dataclass(frozen=True)
class DomainsRecheckResult:
    checked: int
    degraded: int
