"""Sender-domain health: the DNS checks a deliverability-minded user runs before sending.

:func:`check_domain` looks up MX, SPF, DKIM, DMARC and (optionally) the custom tracking CNAME
and returns a :class:`DomainReport` of frozen dataclasses of plain values, so that it crosses
Temporal's JSON converter unchanged. Every DNS outcome (NXDOMAIN, no answer, timeout, server
failure) becomes a finding with a one-line fix hint, never an exception: the report is the
product, and half an answer is more useful than a stack trace.

Status rule, and why:

* ``verified``: MX, SPF, DKIM and DMARC all pass. A ``warn`` (DMARC ``p=none``, an SPF that does
  not list the inbox's SMTP host) counts as passing, because mail is delivered and authenticated
  today; its hint stays in the report. A configured tracking domain must not ``fail`` either:
  a broken tracking CNAME breaks every link in every message.
* ``failed``: MX fails (replies and bounces have nowhere to go, and receivers distrust a domain
  that cannot receive mail), or none of SPF, DKIM and DMARC passes (nothing authenticates the
  mail, so it lands in spam or is rejected).
* ``partially_verified``: anything in between; some authentication works, and the hints say
  what is missing.

When the resolver does not answer the first query (MX) within ``timeout``, every check fails
with ``found="DNS timeout"`` at once instead of each waiting out its own timeout.

SPF and DMARC are parsed by checkdmarc (see :mod:`coldflow.spf` for why); DKIM's tag list
(RFC 6376 §3.2) is parsed here, since checkdmarc does not cover DKIM and the grammar is one
split on ``;`` and ``=``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import dns.asyncresolver
import dns.exception
import dns.resolver
from checkdmarc.dmarc import DMARCError, DMARCRecordNotFound, parse_dmarc_record
from checkdmarc.dmarc import query_dmarc_record as _query_dmarc

from coldflow import spf

DEFAULT_DKIM_SELECTORS = ("google", "selector1", "selector2", "default", "k1")
"""Google Workspace, Microsoft 365 (two), cPanel/generic hosts, Mailchimp/Mandrill."""

DNS_TIMEOUT = spf.DNS_TIMEOUT


class CheckName(StrEnum):
    MX = "mx"
    SPF = "spf"
    DKIM = "dkim"
    DMARC = "dmarc"
    TRACKING = "tracking"


class CheckStatus(StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    SKIPPED = "skipped"


class DomainStatus(StrEnum):
    VERIFIED = "verified"
    PARTIALLY_VERIFIED = "partially_verified"
    FAILED = "failed"


@dataclass(frozen=True)
class DomainCheck:
    """One check: its status, what DNS held (``None``: nothing to show), a one-line fix."""

    name: str
    status: str
    found: str | None
    hint: str | None


@dataclass(frozen=True)
class DomainReport:
    domain: str
    status: str
    checks: tuple[DomainCheck, ...]


def parse_resolver(resolver: str) -> tuple[str, int]:
    """Split ``host:port``, ``host``, ``[v6]:port`` or a bare IPv6 address (port 53).

    The host must be an IP address: a resolver cannot be found by name without a resolver.
    """
    host, port = resolver.strip(), "53"
    if host.startswith("["):
        host, _, rest = host[1:].partition("]")
        port = rest.removeprefix(":") or port
    elif host.count(":") == 1:
        host, _, port = host.partition(":")
    ipaddress.ip_address(host)
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"invalid DNS resolver port in {resolver!r}")
    return host, int(port)


def overall_status(checks: Sequence[DomainCheck]) -> DomainStatus:
    """Apply the status rule in the module docstring."""
    by_name = {check.name: check.status for check in checks}
    ok = {name: by_name.get(name) in (CheckStatus.PASS, CheckStatus.WARN) for name in by_name}
    auth = (CheckName.SPF, CheckName.DKIM, CheckName.DMARC)
    if not ok.get(CheckName.MX) or not any(ok.get(name) for name in auth):
        return DomainStatus.FAILED
    core = (CheckName.MX, *auth)
    if all(ok.get(name) for name in core) and by_name.get(CheckName.TRACKING) != CheckStatus.FAIL:
        return DomainStatus.VERIFIED
    return DomainStatus.PARTIALLY_VERIFIED


def dkim_selector_order(configured: Sequence[str]) -> tuple[str, ...]:
    """Configured selectors first, then the common ones, each once (DNS names ignore case)."""
    order: dict[str, None] = {}
    for selector in (*configured, *DEFAULT_DKIM_SELECTORS):
        if selector.strip():
            order.setdefault(selector.strip().lower(), None)
    return tuple(order)


def parse_tag_list(text: str) -> dict[str, str]:
    """RFC 6376 §3.2 ``tag=value; ...``; whitespace inside values (folded keys) is dropped.

    Raises ValueError for a piece without ``=`` or a repeated tag, which the RFC forbids.
    """
    tags: dict[str, str] = {}
    for piece in text.split(";"):
        if not piece.strip():
            continue
        name, sep, value = piece.partition("=")
        name = name.strip().lower()
        if not sep or not name or name in tags:
            raise ValueError(f"malformed tag {piece.strip()!r}")
        tags[name] = "".join(value.split())
    return tags


def classify_dkim(text: str) -> str | None:
    """``"valid"``, ``"revoked"`` (empty ``p=``), ``"invalid"``, or ``None``: not a DKIM key."""
    try:
        tags = parse_tag_list(text)
    except ValueError:
        return "invalid" if text.lstrip().lower().startswith("v=dkim1") else None
    if tags.get("v", "DKIM1").upper() != "DKIM1" or "p" not in tags:
        return None
    if not tags["p"]:
        return "revoked"
    try:
        base64.b64decode(tags["p"], validate=True)
    except binascii.Error:
        return "invalid"
    return "valid"


async def check_domain(
    domain: str,
    *,
    resolver: str | None = None,
    dkim_selectors: Sequence[str] = (),
    smtp_host: str | None = None,
    tracking_domain: str | None = None,
    tracking_target: str | None = None,
    timeout: float = 5.0,
) -> DomainReport:
    """Run every check for ``domain`` through ``resolver`` (``host:port``; ``None``: system's).

    ``timeout`` bounds each DNS query. ``smtp_host`` is the inbox's SMTP server, checked
    against SPF; ``tracking_target`` is the host the tracking CNAME must point at (``None``:
    any CNAME will do). A malformed ``resolver`` raises ValueError: that is a settings error,
    not a finding about the domain.
    """
    domain = domain.strip().rstrip(".").lower()
    dns_ = _Dns.build(resolver, timeout)
    spf.forget_cached_answers()
    mx = await _check_mx(dns_, domain)
    if mx.found == DNS_TIMEOUT:
        where = resolver or "the system resolver"
        hint = f"No answer from {where} within {timeout:g}s: check COLDFLOW_DNS_RESOLVER, retry"
        core = (CheckName.MX, CheckName.SPF, CheckName.DKIM, CheckName.DMARC)
        tracking = _check(CheckName.TRACKING, CheckStatus.FAIL, DNS_TIMEOUT, hint)
        checks: tuple[DomainCheck, ...] = (
            *(_check(name, CheckStatus.FAIL, DNS_TIMEOUT, hint) for name in core),
            tracking if tracking_domain else _skipped_tracking(),
        )
    else:
        checks = (
            mx,
            *await asyncio.gather(
                _check_spf(dns_, domain, smtp_host),
                _check_dkim(dns_, domain, dkim_selectors),
                _check_dmarc(dns_, domain),
                _check_tracking(dns_, tracking_domain, tracking_target),
            ),
        )
    return DomainReport(domain, overall_status(checks).value, checks)


@dataclass(frozen=True)
class _Dns:
    """The async resolver for our own queries and a twin blocking one for checkdmarc."""

    aio: dns.asyncresolver.Resolver
    sync: dns.resolver.Resolver

    @classmethod
    def build(cls, resolver: str | None, timeout: float) -> _Dns:
        server = parse_resolver(resolver) if resolver is not None else None
        aio = dns.asyncresolver.Resolver(configure=server is None)
        sync = dns.resolver.Resolver(configure=server is None)
        for r in (aio, sync):
            if server is not None:
                r.nameservers, r.port = [server[0]], server[1]
            # A short per-try timeout lets dnspython resend a lost UDP packet within the lifetime.
            r.timeout, r.lifetime = min(1.0, timeout), timeout
        return cls(aio, sync)

    async def query(self, name: str, rdtype: str) -> list[Any] | str:
        """The answer's records, or a short description of why there are none."""
        try:
            return list(await self.aio.resolve(name, rdtype))
        except dns.resolver.NXDOMAIN:
            return f"{name} does not exist"
        except dns.resolver.NoAnswer:
            return f"no {rdtype} record at {name}"
        except dns.exception.Timeout:
            return DNS_TIMEOUT
        except (dns.exception.DNSException, OSError) as exc:
            return f"DNS server failure for {name} {rdtype}: {exc}"

    async def txt(self, name: str) -> list[str] | str:
        answer = await self.query(name, "TXT")
        if isinstance(answer, str):
            return answer
        return [b"".join(rdata.strings).decode("utf-8", "replace") for rdata in answer]

    async def addresses(self, host: str) -> list[str]:
        """A and AAAA of ``host`` (or ``host`` itself when it is an IP), empty when none."""
        try:
            return [str(ipaddress.ip_address(host))]
        except ValueError:
            pass
        found: list[str] = []
        for answer in await asyncio.gather(self.query(host, "A"), self.query(host, "AAAA")):
            found += [] if isinstance(answer, str) else [rdata.address for rdata in answer]
        return found


def _check(
    name: CheckName, status: CheckStatus, found: str | None, hint: str | None
) -> DomainCheck:
    return DomainCheck(name.value, status.value, found, hint)


def _skipped_tracking() -> DomainCheck:
    return _check(CheckName.TRACKING, CheckStatus.SKIPPED, None, None)


async def _check_mx(dns_: _Dns, domain: str) -> DomainCheck:
    answer = await dns_.query(domain, "MX")
    add_mx = f"Add an MX record for {domain} pointing at your mail provider's inbound servers"
    if isinstance(answer, str):
        return _check(CheckName.MX, CheckStatus.FAIL, answer, add_mx)
    hosts = sorted((rdata.preference, rdata.exchange.to_text()) for rdata in answer)
    found = ", ".join(f"{preference} {host.rstrip('.') or '.'}" for preference, host in hosts)
    if all(host == "." for _, host in hosts):  # RFC 7505 null MX: "this domain takes no mail"
        hint = f"Replace the null MX of {domain} with your provider's MX so replies can arrive"
        return _check(CheckName.MX, CheckStatus.FAIL, f"null MX ({found})", hint)
    return _check(CheckName.MX, CheckStatus.PASS, found, None)


async def _check_spf(dns_: _Dns, domain: str, smtp_host: str | None) -> DomainCheck:
    """Fetch and parse in a thread (checkdmarc blocks), resolve what SPF names, then assess."""
    lookup = await asyncio.to_thread(spf.fetch_spf, domain, dns_.sync)
    ips = await dns_.addresses(smtp_host) if smtp_host else []
    mx_hosts = sorted(spf.mx_hostnames(lookup.tree)) if lookup.tree and ips else []
    resolved = await asyncio.gather(*(dns_.addresses(host) for host in mx_hosts))
    mx_addresses = dict(zip(mx_hosts, resolved, strict=True))
    finding = spf.assess(domain, lookup, smtp_host=smtp_host, ips=ips, mx_addresses=mx_addresses)
    return _check(CheckName.SPF, CheckStatus(finding.status), finding.found, finding.hint)


async def _check_dkim(dns_: _Dns, domain: str, configured: Sequence[str]) -> DomainCheck:
    """A configured selector with a record decides; otherwise the first live common key does.

    Revoked or broken keys under common selectors only matter when no live one exists: after a
    rotation the old selector often stays published with an empty ``p=``. A live key found only
    under a common selector while others are configured is a warn: the inbox signs with the
    configured one, which receivers cannot verify.
    """
    selectors = dkim_selector_order(configured)
    answers = await asyncio.gather(*(dns_.txt(f"{s}._domainkey.{domain}") for s in selectors))
    wanted = {selector.strip().lower() for selector in configured} - {""}
    first = f"{selectors[0]}._domainkey.{domain}"
    found_keys = [
        (selector, state)
        for selector, answer in zip(selectors, answers, strict=True)
        if isinstance(answer, list)
        for state in ("valid", "revoked", "invalid")
        if state in {classify_dkim(text) for text in answer}
    ]
    decisive = next((key for key in found_keys if key[0] in wanted), None) or next(
        (key for key in found_keys if key[1] == "valid"), found_keys[0] if found_keys else None
    )
    if decisive is None:
        if DNS_TIMEOUT in answers:
            return _check(CheckName.DKIM, CheckStatus.FAIL, DNS_TIMEOUT, "Retry the DKIM lookups")
        found = f"no DKIM record for selectors {', '.join(selectors)}"
        target = first if wanted else f"<selector>._domainkey.{domain}"
        hint = f'Publish your provider\'s DKIM key as a TXT record at {target}: "v=DKIM1; p=..."'
        return _check(CheckName.DKIM, CheckStatus.FAIL, found, hint)
    selector, state = decisive
    name = f"{selector}._domainkey.{domain}"
    found = f"selector {selector} ({name}): {state} key"
    if state == "revoked":
        hint = f"Publish the live DKIM key at {name}: an empty p= means it was revoked"
        return _check(CheckName.DKIM, CheckStatus.FAIL, found, hint)
    if state == "invalid":
        hint = f"Re-copy the DKIM public key from your provider into the TXT record at {name}"
        return _check(CheckName.DKIM, CheckStatus.FAIL, found, hint)
    if wanted and selector not in wanted:
        hint = f"Publish the DKIM key at {first}, or set the inbox's selector to {selector}"
        return _check(CheckName.DKIM, CheckStatus.WARN, f"{found}; none at {first}", hint)
    return _check(CheckName.DKIM, CheckStatus.PASS, found, None)


def _fetch_dmarc(domain: str, resolver: dns.resolver.Resolver) -> tuple[str, str, str] | str:
    """``(record, location, policy)`` through checkdmarc (blocking), or why there is none.

    Raises DMARCError when a record exists but is unusable. ``location`` differs from
    ``domain`` when the record is inherited from the organizational domain, whose ``sp=``
    policy then applies.
    """
    try:
        query = _query_dmarc(domain, resolver=resolver)
    except DMARCRecordNotFound as exc:
        return str(exc)
    tags = parse_dmarc_record(query["record"], query["location"], resolver=resolver)["tags"]
    location = str(query["location"])
    policy = tags["p" if location == domain else "sp"]["value"]
    return str(query["record"]), location, str(policy)


async def _check_dmarc(dns_: _Dns, domain: str) -> DomainCheck:
    try:
        result = await asyncio.to_thread(_fetch_dmarc, domain, dns_.sync)
    except DMARCError as exc:
        message = str(exc).splitlines()[0]
        hint = f"Fix the DMARC record at _dmarc.{domain}: {message}"
        return _check(CheckName.DMARC, CheckStatus.FAIL, message, hint)
    if isinstance(result, str) and "timed out" in result:
        return _check(CheckName.DMARC, CheckStatus.FAIL, DNS_TIMEOUT, "Retry the DMARC lookup")
    if isinstance(result, str):
        starter = f"v=DMARC1; p=none; rua=mailto:dmarc@{domain}"
        hint = f'Add a TXT record at _dmarc.{domain}: "{starter}"'
        return _check(CheckName.DMARC, CheckStatus.FAIL, result, hint)
    record, location, policy = result
    found = f'p={policy} at _dmarc.{location}: "{record}"'
    if policy == "none":
        hint = f"Move _dmarc.{location} to p=quarantine, then p=reject, once reports look clean"
        return _check(CheckName.DMARC, CheckStatus.WARN, found, hint)
    return _check(CheckName.DMARC, CheckStatus.PASS, found, None)


async def _check_tracking(dns_: _Dns, host: str | None, target: str | None) -> DomainCheck:
    if not host:
        return _skipped_tracking()
    host = host.strip().rstrip(".").lower()
    want = target.strip().rstrip(".").lower() if target else None
    answer = await dns_.query(host, "CNAME")
    add = f"Add a CNAME record at {host} pointing to {want or 'the coldflow tracking host'}"
    if isinstance(answer, str):
        return _check(CheckName.TRACKING, CheckStatus.FAIL, answer, add)
    points_to = answer[0].target.to_text(omit_final_dot=True).lower()
    found = f"{host} CNAME {points_to}"
    if want and points_to != want:
        hint = f"Point the CNAME at {host} to {want} instead of {points_to}"
        return _check(CheckName.TRACKING, CheckStatus.FAIL, found, hint)
    return _check(CheckName.TRACKING, CheckStatus.PASS, found, None)
