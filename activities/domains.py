"""Sender-domain activities: run the DNS checks of one domain, list every domain."""

from __future__ import annotations

from temporalio import activity

from coldflow.contracts.domains import (
    LIST_DOMAINS_ACTIVITY,
    VERIFY_DOMAIN_ACTIVITY,
    VerifyDomainInput,
    VerifyDomainResult,
)
from coldflow.domain_health import check_domain
from coldflow.services import domains as service
from coldflow.store import domains as store
from coldflow.store.db import SessionFactory, unit_of_work


class DomainActivities:
    """``resolver`` is COLDFLOW_DNS_RESOLVER (None: the system's); ``tracking_target`` the host
    a custom tracking domain must CNAME to (the public URL's)."""

    def __init__(
        self,
        sessions: SessionFactory,
        *,
        resolver: str | None,
        timeout: float,
        tracking_target: str | None,
    ) -> None:
        self.sessions = sessions
        self.resolver = resolver
        self.timeout = timeout
        self.tracking_target = tracking_target

    @activity.defn(name=VERIFY_DOMAIN_ACTIVITY)
    async def verify_domain(self, inp: VerifyDomainInput) -> VerifyDomainResult:
        """Read the domain's settings, query DNS outside any transaction, store the report."""
        async with unit_of_work(self.sessions) as session:
            domain = await store.get_domain(session, inp.workspace_id, inp.domain_id)
            if domain is None:
                return VerifyDomainResult("deleted")
            name, selector, tracking = domain.name, domain.dkim_selector, domain.tracking_domain
            smtp_host = await store.smtp_host_for(session, inp.workspace_id, name)
        report = await check_domain(
            name,
            resolver=self.resolver,
            dkim_selectors=[selector] if selector else [],
            smtp_host=smtp_host,
            tracking_domain=tracking,
            tracking_target=self.tracking_target,
            timeout=self.timeout,
        )
        async with unit_of_work(self.sessions) as session:
            return await service.record_report(session, inp, report)

    @activity.defn(name=LIST_DOMAINS_ACTIVITY)
    async def list_domains(self) -> list[VerifyDomainInput]:
        async with unit_of_work(self.sessions) as session:
            keys = await store.all_domain_keys(session)
        return [VerifyDomainInput(workspace_id=w, domain_id=d) for w, d in keys]
