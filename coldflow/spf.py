"""SPF for the domain health check: fetch and validate with checkdmarc, then evaluate an IP.

Why checkdmarc: it is the maintained SPF/DMARC parser (RFC 7208 syntax, macros, modifiers, the
10-lookup and 2-void-lookup limits, include/redirect loops), it accepts a caller-built dnspython
resolver, so ``COLDFLOW_DNS_RESOLVER`` (any host:port) is honoured, and it needs no network beyond
that resolver. Its API is synchronous, so callers run :func:`fetch_spf` in a thread.

Why the IP evaluation is ours: checkdmarc parses and counts but has no RFC 7208 ``check_host()``,
and pyspf (which has one) was last released in 2020 and does its DNS through module-level hooks
that cannot be pointed at a host:port. checkdmarc's parsed tree already carries what
``check_host()`` needs for ``ip4``/``ip6``/``a``/``include``/``redirect``; only ``mx`` hosts need
their addresses, which the caller resolves through the same resolver. ``exists``, ``ptr`` and
macros depend on the connecting client and the sender, so they make the answer "unknown" rather
than a guess.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

import checkdmarc.utils
import dns.exception
import dns.resolver
from checkdmarc.spf import (
    MultipleSPFRTXTRecords,
    SPFError,
    SPFRecordNotFound,
    parse_spf_record,
    query_spf_record,
)

LOOKUP_LIMIT = 10
"""RFC 7208 §4.6.4: more DNS-querying terms than this is a permerror at every receiver."""

DNS_TIMEOUT = "DNS timeout"

SpfTree = Mapping[str, Any]
"""checkdmarc's parsed record: ``mechanisms``, ``redirect`` and ``all``, includes nested."""


class SpfProblem(StrEnum):
    """Why no usable SPF record came back."""

    MISSING = "missing"
    MULTIPLE = "multiple"
    INVALID = "invalid"
    TIMEOUT = "timeout"


class Verdict(StrEnum):
    """RFC 7208 results for one IP, plus ``unknown`` when it depends on more than the IP."""

    PASS = "pass"
    FAIL = "fail"
    SOFTFAIL = "softfail"
    NEUTRAL = "neutral"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class SpfLookup:
    """The record at a domain, its DNS lookup count and parsed tree, or what went wrong."""

    record: str | None
    lookups: int = 0
    tree: SpfTree | None = None
    problem: SpfProblem | None = None
    message: str | None = None


@dataclass(frozen=True)
class Authorization:
    """The verdict for one IP and the SPF term that decided it (``None``: nothing matched)."""

    verdict: Verdict
    term: str | None


@dataclass(frozen=True)
class SpfFinding:
    """The SPF check's outcome in the domain report's terms (``status``: pass, warn or fail)."""

    status: Literal["pass", "warn", "fail"]
    found: str | None
    hint: str | None


_QUALIFIERS = {"pass": "", "fail": "-", "softfail": "~", "neutral": "?"}

# Hosted SMTP services publish an include for all their senders; naming it beats an ip4: that
# breaks the day the provider moves the server. Keys are suffixes of the SMTP host name.
_PROVIDER_INCLUDES = {
    "gmail.com": "_spf.google.com",
    "google.com": "_spf.google.com",
    "googlemail.com": "_spf.google.com",
    "office365.com": "spf.protection.outlook.com",
    "outlook.com": "spf.protection.outlook.com",
    "zoho.com": "zoho.com",
    "zoho.eu": "zoho.eu",
    "sendgrid.net": "sendgrid.net",
    "mailgun.org": "mailgun.org",
}


def forget_cached_answers() -> None:
    """Drop checkdmarc's process-wide DNS cache.

    It keeps answers for 30 minutes keyed by name and type only, so a re-verify right after the
    user fixed a record would report the old record, and two resolvers would share answers.
    """
    checkdmarc.utils.DNS_CACHE.clear()


def fetch_spf(domain: str, resolver: dns.resolver.Resolver) -> SpfLookup:
    """Query, parse and count the SPF record at ``domain`` (blocking; run it in a thread).

    A record over the lookup limit is still returned with its count and tree, so the caller
    can say by how much it is over.
    """
    try:
        record: str = query_spf_record(domain, resolver=resolver)["record"]
    except MultipleSPFRTXTRecords as exc:
        return SpfLookup(None, problem=SpfProblem.MULTIPLE, message=_message(exc))
    except SPFRecordNotFound as exc:
        timed_out = isinstance(exc.error, dns.exception.Timeout)
        problem = SpfProblem.TIMEOUT if timed_out else SpfProblem.MISSING
        return SpfLookup(None, problem=problem, message=_message(exc))
    except SPFError as exc:
        return SpfLookup(None, problem=SpfProblem.INVALID, message=_message(exc))
    try:
        parsed = parse_spf_record(record, domain, ignore_too_many_lookups=True, resolver=resolver)
    except SPFError as exc:
        return SpfLookup(record, problem=SpfProblem.INVALID, message=_message(exc))
    lookups = int(parsed["dns_lookups"])
    if "error" in parsed and lookups <= LOOKUP_LIMIT:
        return SpfLookup(record, lookups, problem=SpfProblem.INVALID, message=str(parsed["error"]))
    return SpfLookup(record, lookups, parsed["parsed"])


def assess(
    domain: str,
    lookup: SpfLookup,
    *,
    smtp_host: str | None = None,
    ips: Sequence[str] = (),
    mx_addresses: Mapping[str, Sequence[str]] | None = None,
) -> SpfFinding:
    """Judge a fetched record: fail when receivers would ignore it, warn when it leaves out the
    inbox's SMTP host (``ips``: its addresses), pass otherwise.

    Missing, duplicated, unparsable, over the lookup limit or ``+all`` (which lets any server on
    the internet send) all fail. A host SPF does not list only warns: mail still flows today,
    DKIM can still align, and the hint names the term to add.
    """
    where = f"the SPF record at {domain}"
    if lookup.problem is SpfProblem.TIMEOUT:
        return SpfFinding("fail", DNS_TIMEOUT, f"Retry; the lookup of {where} timed out")
    if lookup.problem is SpfProblem.MISSING:
        term = suggest_term(smtp_host, ips) if smtp_host and ips else "include:<provider>"
        return SpfFinding(
            "fail", lookup.message, f'Add a TXT record at {domain}: "v=spf1 {term} ~all"'
        )
    if lookup.problem is SpfProblem.MULTIPLE:
        hint = f"Merge the SPF records at {domain} into one: receivers reject two as an error"
        return SpfFinding("fail", lookup.message, hint)
    found = f'"{lookup.record}" ({lookup.lookups} DNS lookup{"" if lookup.lookups == 1 else "s"})'
    if lookup.lookups > LOOKUP_LIMIT:
        hint = (
            f"Cut {where} to {LOOKUP_LIMIT} DNS lookups or fewer: drop unused include/a/mx "
            "terms or replace them with ip4:/ip6: ranges"
        )
        return SpfFinding("fail", f"{found}, over the limit of {LOOKUP_LIMIT}", hint)
    if lookup.problem is SpfProblem.INVALID or lookup.tree is None:
        found = f'"{lookup.record}": {lookup.message}' if lookup.record else str(lookup.message)
        return SpfFinding("fail", found, f"Fix {where}: {lookup.message}")
    if lookup.tree.get("all") == "pass":
        hint = f"Replace +all with ~all in {where}: +all lets any server on the internet send"
        return SpfFinding("fail", found, hint)
    if not smtp_host:
        return SpfFinding("pass", found, None)
    if not ips:
        return SpfFinding("pass", f"{found}; {smtp_host} did not resolve, so not checked", None)
    results = {ip: authorize(lookup.tree, ip, mx_addresses or {}) for ip in ips}
    denied = [ip for ip, result in results.items() if result.verdict not in ("pass", "unknown")]
    if denied:
        decided_by = results[denied[0]].term or "no matching term"
        found += f"; does not authorize {smtp_host} ({', '.join(denied)}): {decided_by}"
        hint = f'Add "{suggest_term(smtp_host, denied)}" before the all term of {where}'
        return SpfFinding("warn", found, hint)
    unknown = [result.term for result in results.values() if result.verdict == "unknown"]
    if unknown:
        found += f"; whether it authorizes {smtp_host} depends on {unknown[0]}, not checked"
        return SpfFinding("pass", found, None)
    terms = ", ".join(sorted({str(result.term) for result in results.values()}))
    return SpfFinding(
        "pass", f"{found}; authorizes {smtp_host} ({', '.join(ips)}) via {terms}", None
    )


def mx_hostnames(tree: SpfTree) -> set[str]:
    """Every host named by an ``mx`` term, includes and redirects too, for the caller to resolve."""
    hosts: set[str] = set()
    for mechanism in tree.get("mechanisms", ()):
        if mechanism.get("mechanism") == "mx":
            hosts.update(_normalise(host["hostname"]) for host in mechanism.get("hosts", ()))
        elif mechanism.get("mechanism") == "include" and mechanism.get("parsed"):
            hosts |= mx_hostnames(mechanism["parsed"])
    redirect = tree.get("redirect")
    if redirect and redirect.get("parsed"):
        hosts |= mx_hostnames(redirect["parsed"])
    return hosts


def authorize(tree: SpfTree, ip: str, mx_addresses: Mapping[str, Sequence[str]]) -> Authorization:
    """Evaluate the parsed record for ``ip`` the way RFC 7208 ``check_host()`` would.

    The first matching term decides with its qualifier; an ``include`` matches only when the
    included record passes; ``redirect`` applies when no term matched. ``mx_addresses`` maps the
    names from :func:`mx_hostnames` to their addresses (a missing name has none). checkdmarc
    drops an ``mx`` term's CIDR length, so ``mx`` hosts match on their exact address.
    """
    address = ipaddress.ip_address(ip)
    for mechanism in tree.get("mechanisms", ()):
        kind, action = mechanism["mechanism"], mechanism["action"]
        value = str(mechanism.get("value") or "")
        term = f"{_QUALIFIERS.get(action, '')}{kind}:{value}"
        if "%{" in value or kind not in ("ip4", "ip6", "a", "mx", "include"):
            return Authorization(Verdict.UNKNOWN, term)
        if kind == "include":
            inner = authorize(mechanism.get("parsed") or {}, ip, mx_addresses)
            if inner.verdict is Verdict.UNKNOWN:
                return Authorization(Verdict.UNKNOWN, inner.term)
            matched = inner.verdict is Verdict.PASS
        elif kind == "mx":
            hosts = (_normalise(host["hostname"]) for host in mechanism.get("hosts", ()))
            matched = _in_networks(address, (a for h in hosts for a in mx_addresses.get(h, ())))
        elif kind == "a":
            matched = _in_networks(address, mechanism.get("addresses", ()))
        else:
            matched = _in_networks(address, (value,))
        if matched:
            return Authorization(Verdict(action), term)
    redirect = tree.get("redirect")
    if redirect:
        return authorize(redirect.get("parsed") or {}, ip, mx_addresses)
    if tree.get("all"):
        qualifier = str(tree["all"])
        return Authorization(Verdict(qualifier), f"{_QUALIFIERS[qualifier]}all")
    return Authorization(Verdict.NEUTRAL, None)


def suggest_term(smtp_host: str, ips: Sequence[str]) -> str:
    """The SPF term that would authorize ``smtp_host``: its provider's include, else its IPs."""
    host = _normalise(smtp_host)
    for suffix, include in _PROVIDER_INCLUDES.items():
        if host == suffix or host.endswith(f".{suffix}"):
            return f"include:{include}"
    terms = (f"ip{ipaddress.ip_address(ip).version}:{ip}" for ip in ips)
    return " ".join(terms)


def _in_networks(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, nets: Iterable[str]
) -> bool:
    """Whether ``address`` is inside any of the ``addr`` or ``addr/len`` strings."""
    return any(address in ipaddress.ip_network(net, strict=False) for net in nets)


def _normalise(name: str) -> str:
    return name.rstrip(".").lower()


def _message(exc: Exception) -> str:
    """checkdmarc's own one-line explanation of an error."""
    return str(exc.args[0] if exc.args else exc).splitlines()[0]
