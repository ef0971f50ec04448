"""Sender-domain health checks against a real DNS server serving tests/fixtures/dns_server.ZONE.

Each zone domain is one scenario; the comments in the zone say what each is for. The pure
helpers (resolver parsing, the status rule, DKIM tags, SPF evaluation) also get plain tests.
"""

from __future__ import annotations

import base64
import time
from typing import Any

import pytest
from temporalio.converter import DataConverter

from coldflow import spf
from coldflow.domain_health import (
    DomainCheck,
    DomainReport,
    check_domain,
    classify_dkim,
    dkim_selector_order,
    overall_status,
    parse_resolver,
    parse_tag_list,
)
from tests.fixtures.ports import free_port

DKIM_KEY = base64.b64encode(bytes(range(64))).decode()


async def verify(resolver: str, domain: str, **kwargs: Any) -> DomainReport:
    return await check_domain(domain, resolver=resolver, timeout=2.0, **kwargs)


def by_name(report: DomainReport) -> dict[str, DomainCheck]:
    return {check.name: check for check in report.checks}


def statuses(report: DomainReport) -> dict[str, str]:
    return {check.name: check.status for check in report.checks}


# --- the four domains from the issue -------------------------------------------------------


async def test_good_domain_is_verified(dns_server: str) -> None:
    report = await verify(
        dns_server,
        "good.test",
        smtp_host="smtp.good.test",
        tracking_domain="track.good.test",
        tracking_target="track.coldflow.test",
    )
    assert report.status == "verified"
    assert statuses(report) == {
        "mx": "pass",
        "spf": "pass",
        "dkim": "pass",
        "dmarc": "pass",
        "tracking": "pass",
    }
    assert all(check.hint is None for check in report.checks)
    checks = by_name(report)
    assert checks["mx"].found == "10 mx.good.test"
    assert "authorizes smtp.good.test (192.0.2.25) via include:_spf.good.test" in str(
        checks["spf"].found
    )
    assert checks["dkim"].found == "selector google (google._domainkey.good.test): valid key"
    assert str(checks["dmarc"].found).startswith("p=reject at _dmarc.good.test")


async def test_domain_without_dkim_is_partially_verified(dns_server: str) -> None:
    report = await verify(dns_server, "nodkim.test")
    assert report.status == "partially_verified"
    assert statuses(report) == {
        "mx": "pass",
        "spf": "pass",
        "dkim": "fail",
        "dmarc": "pass",
        "tracking": "skipped",
    }
    dkim = by_name(report)["dkim"]
    assert dkim.found == "no DKIM record for selectors google, selector1, selector2, default, k1"
    assert dkim.hint == (
        "Publish your provider's DKIM key as a TXT record at <selector>._domainkey.nodkim.test: "
        '"v=DKIM1; p=..."'
    )


async def test_domain_with_eleven_spf_lookups_is_partially_verified(dns_server: str) -> None:
    report = await verify(dns_server, "badspf.test")
    assert report.status == "partially_verified"
    checks = by_name(report)
    assert checks["spf"].status == "fail"
    assert "(11 DNS lookups), over the limit of 10" in str(checks["spf"].found)
    assert checks["spf"].hint == (
        "Cut the SPF record at badspf.test to 10 DNS lookups or fewer: drop unused include/a/mx "
        "terms or replace them with ip4:/ip6: ranges"
    )
    # The two character-strings of the TXT record were joined without a space.
    assert "include:_b.badspf.test include:_d.badspf.test -all" in str(checks["spf"].found)
    assert checks["dmarc"].status == "warn"


async def test_domain_without_dmarc_is_partially_verified(dns_server: str) -> None:
    report = await verify(dns_server, "nodmarc.test")
    assert report.status == "partially_verified"
    dmarc = by_name(report)["dmarc"]
    assert (dmarc.status, dmarc.found) == ("fail", "A DMARC record does not exist.")
    assert dmarc.hint == (
        'Add a TXT record at _dmarc.nodmarc.test: "v=DMARC1; p=none; rua=mailto:dmarc@nodmarc.test"'
    )
    assert by_name(report)["dkim"].found is not None
    assert "selector1" in str(by_name(report)["dkim"].found)


# --- SPF ----------------------------------------------------------------------------------


async def test_exactly_ten_spf_lookups_pass(dns_server: str) -> None:
    report = await verify(dns_server, "tenspf.test")
    spf_check = by_name(report)["spf"]
    assert spf_check.status == "pass"
    assert "(10 DNS lookups)" in str(spf_check.found)
    assert report.status == "verified"


@pytest.mark.parametrize(
    ("domain", "smtp_host", "via"),
    [
        ("good.test", "smtp.good.test", "include:_spf.good.test"),
        ("good.test", "127.0.0.1", "ip4:127.0.0.1"),
        ("redirect.test", "smtp6.good.test", "ip6:2001:db8::/32"),
        ("mxauth.test", "mx.good.test", "mx:mxauth.test"),
    ],
)
async def test_spf_authorizes_the_smtp_host(
    dns_server: str, domain: str, smtp_host: str, via: str
) -> None:
    spf_check = by_name(await verify(dns_server, domain, smtp_host=smtp_host))["spf"]
    assert (spf_check.status, spf_check.hint) == ("pass", None)
    assert str(spf_check.found).endswith(f"via {via}")


async def test_spf_not_authorizing_the_smtp_host_is_a_warn_naming_the_ip(dns_server: str) -> None:
    report = await verify(dns_server, "good.test", smtp_host="smtp.outside.test")
    spf_check = by_name(report)["spf"]
    assert spf_check.status == "warn"
    assert "does not authorize smtp.outside.test (198.51.100.7): ~all" in str(spf_check.found)
    assert spf_check.hint == (
        'Add "ip4:198.51.100.7" before the all term of the SPF record at good.test'
    )
    assert report.status == "verified"  # a warn still counts, its hint stays


async def test_spf_authorization_that_cannot_be_known_says_so(dns_server: str) -> None:
    undecidable = by_name(await verify(dns_server, "exists.test", smtp_host="smtp.good.test"))
    assert undecidable["spf"].status == "pass"
    assert "depends on exists:%{i}._spf.exists.test, not checked" in str(undecidable["spf"].found)
    unresolved = by_name(await verify(dns_server, "good.test", smtp_host="nohost.good.test"))
    assert unresolved["spf"].status == "pass"
    assert "nohost.good.test did not resolve, so not checked" in str(unresolved["spf"].found)


@pytest.mark.parametrize(
    ("domain", "found", "hint"),
    [
        (
            "plusall.test",
            '"v=spf1 +all" (0 DNS lookups)',
            "Replace +all with ~all in the SPF record at plusall.test: "
            "+all lets any server on the internet send",
        ),
        (
            "twospf.test",
            "The domain has multiple SPF TXT records",
            "Merge the SPF records at twospf.test into one: receivers reject two as an error",
        ),
        (
            "syntax.test",
            '"v=spf1 ip4:999.1.1.1 ~all": 999.1.1.1 is not a valid IPv4 value.',
            "Fix the SPF record at syntax.test: 999.1.1.1 is not a valid IPv4 value.",
        ),
        (
            "empty.test",
            "An SPF record does not exist.",
            'Add a TXT record at empty.test: "v=spf1 include:<provider> ~all"',
        ),
    ],
)
async def test_broken_spf_fails(dns_server: str, domain: str, found: str, hint: str) -> None:
    spf_check = by_name(await verify(dns_server, domain))["spf"]
    assert (spf_check.status, spf_check.found, spf_check.hint) == ("fail", found, hint)


async def test_missing_spf_hint_names_the_smtp_host(dns_server: str) -> None:
    spf_check = by_name(await verify(dns_server, "empty.test", smtp_host="smtp.good.test"))["spf"]
    assert spf_check.hint == 'Add a TXT record at empty.test: "v=spf1 ip4:192.0.2.25 ~all"'


# --- DKIM ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("selectors", "status", "found"),
    [
        ((), "pass", "selector selector2 (selector2._domainkey.dkimorder.test): valid key"),
        (("cf2024",), "pass", "selector cf2024 (cf2024._domainkey.dkimorder.test): valid key"),
        (("K1", "cf2024"), "pass", "selector k1 (k1._domainkey.dkimorder.test): valid key"),
        (
            ("nope",),
            "warn",
            "selector selector2 (selector2._domainkey.dkimorder.test): valid key; "
            "none at nope._domainkey.dkimorder.test",
        ),
        (("oldkey",), "fail", "selector oldkey (oldkey._domainkey.dkimorder.test): revoked key"),
    ],
)
async def test_dkim_selector_fallback(
    dns_server: str, selectors: tuple[str, ...], status: str, found: str
) -> None:
    dkim = by_name(await verify(dns_server, "dkimorder.test", dkim_selectors=selectors))["dkim"]
    assert (dkim.status, dkim.found) == (status, found)


async def test_dkim_configured_selector_missing_hint(dns_server: str) -> None:
    dkim = by_name(await verify(dns_server, "dkimorder.test", dkim_selectors=["nope"]))["dkim"]
    assert dkim.hint == (
        "Publish the DKIM key at nope._domainkey.dkimorder.test, "
        "or set the inbox's selector to selector2"
    )


async def test_revoked_dkim_fails(dns_server: str) -> None:
    report = await verify(dns_server, "revoked.test")
    dkim = by_name(report)["dkim"]
    assert (dkim.status, dkim.found) == (
        "fail",
        "selector google (google._domainkey.revoked.test): revoked key",
    )
    assert dkim.hint == (
        "Publish the live DKIM key at google._domainkey.revoked.test: "
        "an empty p= means it was revoked"
    )
    assert report.status == "partially_verified"


async def test_revoked_common_selector_next_to_a_live_one_passes(dns_server: str) -> None:
    dkim = by_name(await verify(dns_server, "rotated.test"))["dkim"]
    assert (dkim.status, dkim.found) == (
        "pass",
        "selector selector1 (selector1._domainkey.rotated.test): valid key",
    )


async def test_dkim_through_a_cname(dns_server: str) -> None:
    assert by_name(await verify(dns_server, "cnamedkim.test"))["dkim"].status == "pass"


# --- DMARC --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("domain", "status", "found"),
    [
        ("good.test", "pass", 'p=reject at _dmarc.good.test: "v=DMARC1; p=reject; rua='),
        ("nodkim.test", "pass", 'p=quarantine at _dmarc.nodkim.test: "v=DMARC1; p=quarantine"'),
        ("badspf.test", "warn", 'p=none at _dmarc.badspf.test: "v=DMARC1; p=none"'),
        # No record at the subdomain: the organizational domain's (sp=, defaulting to p=) applies.
        ("sub.good.test", "pass", "p=reject at _dmarc.good.test: "),
    ],
)
async def test_dmarc_policy(dns_server: str, domain: str, status: str, found: str) -> None:
    dmarc = by_name(await verify(dns_server, domain))["dmarc"]
    assert dmarc.status == status
    assert str(dmarc.found).startswith(found)


async def test_dmarc_none_hint(dns_server: str) -> None:
    dmarc = by_name(await verify(dns_server, "badspf.test"))["dmarc"]
    assert dmarc.hint == (
        "Move _dmarc.badspf.test to p=quarantine, then p=reject, once reports look clean"
    )


# --- tracking -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tracking_domain", "target", "status", "found", "hint"),
    [
        (
            "track.good.test",
            "track.coldflow.test",
            "pass",
            "track.good.test CNAME track.coldflow.test",
            None,
        ),
        (
            "TRACK.good.test.",
            "Track.Coldflow.test.",
            "pass",
            "track.good.test CNAME track.coldflow.test",
            None,
        ),
        ("track.good.test", None, "pass", "track.good.test CNAME track.coldflow.test", None),
        (
            "wrongtrack.good.test",
            "track.coldflow.test",
            "fail",
            "wrongtrack.good.test CNAME elsewhere.test",
            "Point the CNAME at wrongtrack.good.test to track.coldflow.test instead of "
            "elsewhere.test",
        ),
        (
            "missing.good.test",
            "track.coldflow.test",
            "fail",
            "missing.good.test does not exist",
            "Add a CNAME record at missing.good.test pointing to track.coldflow.test",
        ),
        (
            "plain.good.test",
            "track.coldflow.test",
            "fail",
            "no CNAME record at plain.good.test",
            "Add a CNAME record at plain.good.test pointing to track.coldflow.test",
        ),
    ],
)
async def test_tracking_cname(
    dns_server: str,
    tracking_domain: str,
    target: str | None,
    status: str,
    found: str,
    hint: str | None,
) -> None:
    report = await verify(
        dns_server, "good.test", tracking_domain=tracking_domain, tracking_target=target
    )
    tracking = by_name(report)["tracking"]
    assert (tracking.status, tracking.found, tracking.hint) == (status, found, hint)
    assert report.status == ("verified" if status == "pass" else "partially_verified")


async def test_tracking_is_skipped_without_a_tracking_domain(dns_server: str) -> None:
    tracking = by_name(await verify(dns_server, "good.test"))["tracking"]
    assert tracking == DomainCheck("tracking", "skipped", None, None)


# --- whole-domain failures ----------------------------------------------------------------


@pytest.mark.parametrize("domain", ["empty.test", "nothere.test"])
async def test_domain_without_records_fails(dns_server: str, domain: str) -> None:
    report = await verify(dns_server, domain)
    assert report.status == "failed"
    assert [check.status for check in report.checks] == ["fail"] * 4 + ["skipped"]
    assert by_name(report)["mx"].hint == (
        f"Add an MX record for {domain} pointing at your mail provider's inbound servers"
    )


async def test_null_mx_fails(dns_server: str) -> None:
    mx = by_name(await verify(dns_server, "nullmx.test"))["mx"]
    assert (mx.status, mx.found) == ("fail", "null MX (0 .)")


async def test_unreachable_resolver_is_a_quick_dns_timeout() -> None:
    closed = f"127.0.0.1:{free_port()}"
    started = time.monotonic()
    report = await check_domain(
        "good.test", resolver=closed, timeout=0.3, tracking_domain="track.good.test"
    )
    assert time.monotonic() - started < 2.0
    assert report.status == "failed"
    assert [(check.status, check.found) for check in report.checks] == [("fail", "DNS timeout")] * 5
    assert report.checks[0].hint == (
        f"No answer from {closed} within 0.3s: check COLDFLOW_DNS_RESOLVER, retry"
    )


async def test_every_hint_is_one_line_and_the_report_crosses_temporal(dns_server: str) -> None:
    converter = DataConverter.default.payload_converter
    for domain in ["good.test", "nodkim.test", "badspf.test", "nodmarc.test", "syntax.test"]:
        report = await verify(dns_server, domain, smtp_host="smtp.outside.test")
        assert all("\n" not in (check.hint or "") for check in report.checks)
        (restored,) = converter.from_payloads(converter.to_payloads([report]), [DomainReport])
        assert restored == report


# --- pure helpers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1:5353", ("127.0.0.1", 5353)),
        ("10.0.0.53", ("10.0.0.53", 53)),
        ("[::1]:5353", ("::1", 5353)),
        ("[::1]", ("::1", 53)),
        ("2001:db8::53", ("2001:db8::53", 53)),
    ],
)
def test_parse_resolver(text: str, expected: tuple[str, int]) -> None:
    assert parse_resolver(text) == expected


@pytest.mark.parametrize("text", ["dns.example.com:53", "127.0.0.1:0", "127.0.0.1:dns", ""])
def test_parse_resolver_rejects(text: str) -> None:
    with pytest.raises(ValueError, match=r".+"):
        parse_resolver(text)


def _checks(mx: str, spf_: str, dkim: str, dmarc: str, tracking: str = "skipped") -> list[Any]:
    names = ["mx", "spf", "dkim", "dmarc", "tracking"]
    return [
        DomainCheck(n, s, None, None)
        for n, s in zip(names, [mx, spf_, dkim, dmarc, tracking], strict=True)
    ]


@pytest.mark.parametrize(
    ("checks", "expected"),
    [
        (_checks("pass", "pass", "pass", "pass"), "verified"),
        (_checks("pass", "warn", "pass", "warn"), "verified"),
        (_checks("pass", "pass", "pass", "pass", "pass"), "verified"),
        (_checks("pass", "pass", "pass", "pass", "fail"), "partially_verified"),
        (_checks("pass", "fail", "pass", "pass"), "partially_verified"),
        (_checks("pass", "fail", "fail", "warn"), "partially_verified"),
        (_checks("fail", "pass", "pass", "pass"), "failed"),
        (_checks("pass", "fail", "fail", "fail"), "failed"),
    ],
)
def test_overall_status(checks: list[DomainCheck], expected: str) -> None:
    assert overall_status(checks) == expected


def test_dkim_selector_order_dedupes_and_lowercases() -> None:
    assert dkim_selector_order(["S1", " google ", "", "s1"]) == (
        "s1",
        "google",
        "selector1",
        "selector2",
        "default",
        "k1",
    )


def test_parse_tag_list() -> None:
    assert parse_tag_list("v=DKIM1; K=rsa;\n p=MIGf MA0G;") == {
        "v": "DKIM1",
        "k": "rsa",
        "p": "MIGfMA0G",
    }
    with pytest.raises(ValueError, match="malformed"):
        parse_tag_list("v=DKIM1; p=a; p=b")
    with pytest.raises(ValueError, match="malformed"):
        parse_tag_list("v=DKIM1; junk")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"v=DKIM1; k=rsa; p={DKIM_KEY}", "valid"),
        (f"k=rsa; p={DKIM_KEY}", "valid"),  # v= is optional (RFC 6376 §3.6.1)
        ("v=DKIM1; k=rsa; p=", "revoked"),
        ("v=DKIM1; p=not base64!", "invalid"),
        ("v=DKIM1; p", "invalid"),
        ("v=spf1 -all", None),
        ("google-site-verification=abc", None),
        ("v=DKIM2; p=abcd", None),
    ],
)
def test_classify_dkim(text: str, expected: str | None) -> None:
    assert classify_dkim(text) == expected


def _tree(*mechanisms: dict[str, Any], all_: str | None = "fail", redirect: Any = None) -> Any:
    return {"mechanisms": list(mechanisms), "redirect": redirect, "all": all_}


def _ip4(value: str, action: str = "pass") -> dict[str, Any]:
    return {"mechanism": "ip4", "action": action, "value": value}


@pytest.mark.parametrize(
    ("tree", "ip", "verdict", "term"),
    [
        (_tree(_ip4("10.0.0.0/8")), "10.1.2.3", "pass", "ip4:10.0.0.0/8"),
        (_tree(_ip4("10.1.1.1", "fail"), _ip4("10.0.0.0/8")), "10.1.1.1", "fail", "-ip4:10.1.1.1"),
        (_tree(_ip4("10.0.0.0/8"), all_="softfail"), "192.0.2.1", "softfail", "~all"),
        (_tree(_ip4("10.0.0.0/8"), all_=None), "192.0.2.1", "neutral", None),
        (_tree(_ip4("10.0.0.0/8")), "2001:db8::1", "fail", "-all"),
        (
            _tree(
                {"mechanism": "a", "action": "pass", "value": "x", "addresses": ["192.0.2.9/24"]}
            ),
            "192.0.2.200",
            "pass",
            "a:x",
        ),
        (
            _tree(
                {
                    "mechanism": "include",
                    "action": "pass",
                    "value": "inc",
                    "parsed": _tree(_ip4("10.0.0.0/8", "fail"), all_="pass"),
                }
            ),
            "10.0.0.1",
            "fail",
            "-all",
        ),
        (
            _tree(redirect={"domain": "r", "parsed": _tree(_ip4("10.0.0.0/8"))}),
            "10.0.0.1",
            "pass",
            "ip4:10.0.0.0/8",
        ),
        (
            _tree({"mechanism": "ptr", "action": "pass", "value": "x"}),
            "10.0.0.1",
            "unknown",
            "ptr:x",
        ),
        (
            _tree(
                {"mechanism": "mx", "action": "pass", "value": "d", "hosts": [{"hostname": "m."}]}
            ),
            "192.0.2.7",
            "pass",
            "mx:d",
        ),
    ],
)
def test_spf_authorize(tree: Any, ip: str, verdict: str, term: str | None) -> None:
    result = spf.authorize(tree, ip, {"m": ["192.0.2.7"]})
    assert (result.verdict, result.term) == (verdict, term)


def test_spf_include_that_does_not_pass_does_not_match() -> None:
    include = {
        "mechanism": "include",
        "action": "pass",
        "value": "inc",
        "parsed": _tree(_ip4("10.0.0.0/8")),
    }
    result = spf.authorize(_tree(include, all_="softfail"), "192.0.2.1", {})
    assert (result.verdict, result.term) == ("softfail", "~all")


@pytest.mark.parametrize(
    ("host", "ips", "term"),
    [
        ("smtp.gmail.com", ["192.0.2.1"], "include:_spf.google.com"),
        ("smtp.office365.com", [], "include:spf.protection.outlook.com"),
        ("SMTP.SendGrid.net.", [], "include:sendgrid.net"),
        ("mail.example.com", ["192.0.2.1", "2001:db8::1"], "ip4:192.0.2.1 ip6:2001:db8::1"),
    ],
)
def test_spf_suggest_term(host: str, ips: list[str], term: str) -> None:
    assert spf.suggest_term(host, ips) == term


def test_spf_assess_without_network() -> None:
    lookup = spf.SpfLookup(
        "v=spf1 mx -all",
        1,
        _tree({"mechanism": "mx", "action": "pass", "value": "d", "hosts": [{"hostname": "m"}]}),
    )
    allowed = spf.assess("d.test", lookup, smtp_host="m", ips=["192.0.2.7"], mx_addresses={})
    assert allowed.status == "warn"  # m's address was not given, so the mx term cannot match
    mx = {"m": ["192.0.2.7"]}
    allowed = spf.assess("d.test", lookup, smtp_host="m", ips=["192.0.2.7"], mx_addresses=mx)
    assert allowed == spf.SpfFinding(
        "pass", '"v=spf1 mx -all" (1 DNS lookup); authorizes m (192.0.2.7) via mx:d', None
    )
