"""Campaign analytics equal counts the test makes itself, from the wire and the mailbox.

A whole world: the API app, a worker, the session's Temporal dev server, the aiosmtpd server and
a real Dovecot. A campaign of ``LEADS`` leads (``COLDFLOW_ANALYTICS_LEADS`` to change) with two
steps, an A/B test on step 1 and a follow-up without delay, sends from ``INBOXES`` inboxes
connected through the API (SMTP and IMAP, so their mailbox watchers start). Some addresses are
refused at RCPT. Once every journey has ended, the test writes into the inboxes' mailboxes what
leads would send back: positive, negative and neutral replies threaded on the message the SMTP
server received, two replies from one lead, out-of-office auto-replies, hard and soft DSNs
(RFC 3464), a second DSN for a lead already bounced.

The expected numbers are computed from what the SMTP server received (recipient, Message-ID, step
from ``In-Reply-To``, variant from the subject each variant has) and from the messages the test
put into the mailboxes, never from the database, with these definitions (seed 003's where it
gives one):

* ``sent``: distinct Message-IDs the SMTP server received; ``contacted``: distinct recipients;
* ``replies``: distinct leads with at least one human reply (auto-replies and DSNs are none);
  ``positive_replies``: distinct leads with at least one positive reply; rates over contacted;
* ``bounced``: distinct leads refused at RCPT or reported by a hard DSN (a second DSN of the same
  lead is the same bounce); ``bounce_rate`` over the leads the campaign tried to email
  (contacted, plus those refused before anything was delivered), so it can never exceed 100 %;
* ``progress``: the share of leads whose sequence has ended; every journey has ended here;
* ``daily``: per local day of the campaign's time zone, messages sent and distinct leads that
  replied (the same unit as the headline, so a day's replies never exceed the leads replying);
* per variant: messages of that step and variant sent, distinct leads that replied to one of them
  (positive ones apart), rates over the variant's sends.

Nothing waits on a clock for speed: the bounds only keep a broken build from hanging.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime, parseaddr, parsedate_to_datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import httpx
import pytest
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from coldflow.ids import mailbox_workflow_id
from tests.e2e.helpers import always_open, wait_connection, zone_open_now
from tests.fixtures.api import Tenant
from tests.fixtures.imap import ImapCommandError, ImapServer, ImapUser
from tests.fixtures.smtp import ReceivedMessage, SmtpServer

LEADS = int(os.environ.get("COLDFLOW_ANALYTICS_LEADS", "250"))
# Two steps per lead; an inbox sends at most 500 a day (daily_campaign_limit) and step 1 goes
# from the least used one, so 400 planned sends per inbox leave room for an uneven split.
INBOXES = max(2, math.ceil(2 * LEADS / 400))
DAYS = 30

pytestmark = [pytest.mark.imap, pytest.mark.timeout(240 + LEADS // 2)]

T = TypeVar("T")
SUBJECT_A = "Quick question for {{company}}"
SUBJECT_B = "An idea for {{company}}"
POSITIVE = (
    "Interested, let's talk. Could you send a few times for a call next week?",
    "Yes, this sounds interesting. Happy to jump on a call on Tuesday.",
    "Sounds good, can you send pricing?",
)
NEGATIVE = ("Not interested, thanks.", "No thanks, we already have a solution for this.")
NEUTRAL = "How did you get my address?"
FOLLOW_UP = "Also, Thursday afternoon works best for me."
OUT_OF_OFFICE = (
    "I am out of the office until Monday with limited access to email. "
    "For urgent matters please contact my colleague."
)


# --- what each lead does --------------------------------------------------------------------------


def rejected(n: int) -> bool:
    """Refused at RCPT (550 5.1.1): bounced at send, never delivered."""
    return n % 20 == 7


def plan_of(n: int) -> str:
    """What lead ``n`` sends back once every journey has ended (``""``: nothing)."""
    if rejected(n):
        return ""
    return {
        1: "positive",  # a positive reply to step 1
        3: "negative",  # a negative reply to step 1
        5: "positive-step2",  # a positive reply in the step-2 thread
        9: "neutral" if n % 40 == 9 else "negative-step2",
        11: "twice" if n % 40 == 11 else "",  # two positive replies in one thread
        13: "ooo" if n % 40 == 13 else "ooo-then-reply",  # an auto-reply (then a reply)
        17: "dsn" if n % 40 == 17 else "dsn-both",  # a hard DSN (for both steps)
        19: "soft-dsn" if n % 40 == 19 else "",  # a delay notice: not a bounce
    }.get(n % 20, "")


def lead_email(n: int) -> str:
    # Several company domains, none free mail: nothing depends on stop_on_company_reply (off).
    return f"lead{n:04d}@co{n % 9}.example"


# --- waiting --------------------------------------------------------------------------------------


async def eventually(
    probe: Callable[[], Awaitable[T | None]], what: str, timeout: float = 90.0
) -> T:
    """Poll ``probe`` until it returns something truthy; fail (not hang) after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        await asyncio.sleep(0.25)


async def get_data(client: httpx.AsyncClient, tenant: Tenant, url: str) -> Any:
    response = await client.get(url, headers=tenant.headers)
    assert response.status_code == 200, f"GET {url}: {response.status_code} {response.text}"
    return response.json()["data"]


# --- the world through the API --------------------------------------------------------------------


@dataclass(frozen=True)
class Mailbox:
    inbox_id: str
    email: str
    user: ImapUser


async def connect_inbox(
    client: httpx.AsyncClient,
    tenant: Tenant,
    smtp: SmtpServer,
    imap: ImapServer,
    email: str,
) -> Mailbox:
    """An inbox sending through the aiosmtpd server and read from its own Dovecot user; the
    connection check (run by the worker) marks it connected and starts its mailbox watcher."""
    user = imap.add_user("analytics")
    response = await client.post(
        "/api/v1/inboxes",
        json={
            "email": email,
            "first_name": "Alex",
            "last_name": "Sender",
            "daily_campaign_limit": 500,
            "smtp": {"host": smtp.host, "port": smtp.port, "password": "x", "security": "none"},
            "imap": {
                "host": imap.host,
                "port": imap.port,
                "username": user.username,
                "password": user.password,
                "security": "none",
            },
        },
        headers=tenant.headers,
    )
    assert response.status_code == 201, response.text
    inbox = await wait_connection(client, tenant, response.json()["data"]["id"])
    return Mailbox(inbox_id=inbox["id"], email=email, user=user)


async def ab_campaign(
    client: httpx.AsyncClient, tenant: Tenant, inbox_ids: list[str], zone: str
) -> dict[str, Any]:
    """Two steps, the follow-up without delay, always open; variant B added to step 1."""
    response = await client.post(
        "/api/v1/campaigns",
        json={
            "name": "Analytics counts",
            "daily_limit": 10_000,
            "stop_on_reply": True,
            "stop_on_company_reply": False,
            "unsubscribe_option": False,
            "schedule": always_open(zone),
            "inbox_ids": inbox_ids,
            "sequences": [
                {
                    "step": 1,
                    "delay_days": 0,
                    "subject": SUBJECT_A,
                    "body": "Hi {{first_name}},\n\nWould a faster pipeline help {{company}}?",
                },
                {
                    "step": 2,
                    "delay_days": 0,
                    "subject": "",
                    "body": "Hi {{first_name}}, following up on my last note.",
                },
            ],
        },
        headers=tenant.headers,
    )
    assert response.status_code == 201, response.text
    campaign: dict[str, Any] = response.json()["data"]
    base = f"/api/v1/campaigns/{campaign['id']}"
    steps = await get_data(client, tenant, f"{base}/sequences")
    first = next(s for s in steps if s["step"] == 1)
    [variant_a] = first["variants"]
    response = await client.post(
        f"{base}/sequences/{first['id']}/variants",
        json={
            "subject": SUBJECT_B,
            "body_html": "<p>Hi {{first_name}},</p><p>One idea for outbound at {{company}}.</p>",
            "weight": variant_a["weight"],
        },
        headers=tenant.headers,
    )
    assert response.status_code == 201, response.text
    return campaign


async def add_leads(
    client: httpx.AsyncClient, tenant: Tenant, campaign_id: str, count: int
) -> None:
    for start in range(0, count, 100):
        batch = [
            {"email": lead_email(n), "first_name": f"Lead{n}", "company": f"Company{n}"}
            for n in range(start, min(count, start + 100))
        ]
        response = await client.post(
            f"/api/v1/campaigns/{campaign_id}/leads",
            json={"leads": batch},
            headers=tenant.headers,
        )
        assert response.status_code == 201, response.text
        statuses = Counter(r["status"] for r in response.json()["data"]["results"])
        assert statuses == {"created": len(batch)}, statuses


@pytest.fixture
async def mailboxes(
    client: httpx.AsyncClient,
    tenant: Tenant,
    worker: None,
    smtp_server: SmtpServer,
    imap_server: ImapServer,
    temporal_env: WorkflowEnvironment,
) -> AsyncIterator[list[Mailbox]]:
    """The connected inboxes; their watchers are ended before the worker goes away."""
    boxes = [
        await connect_inbox(
            client, tenant, smtp_server, imap_server, f"rep{i}@sender{i}.example.com"
        )
        for i in range(INBOXES)
    ]
    try:
        yield boxes
    finally:
        for box in boxes:
            handle = temporal_env.client.get_workflow_handle(mailbox_workflow_id(box.inbox_id))
            with contextlib.suppress(RPCError):
                await handle.terminate("test finished")


# --- what the SMTP server received ----------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    """One message as it crossed the wire, with its step and variant read from the bytes."""

    message_id: str
    lead: str
    sender: str
    step: int
    variant: str
    subject: str
    references: str
    day: date


def read_wire(
    messages: list[ReceivedMessage], senders: set[str], zone: ZoneInfo
) -> dict[str, Sent]:
    """Every distinct Message-ID the server accepted from ``senders`` (a resend of the same
    bytes is one send)."""
    found: dict[str, Sent] = {}
    for received in messages:
        message = received.message
        sender = parseaddr(str(message["From"]))[1].lower()
        if sender not in senders:
            continue
        message_id = str(message["Message-ID"]).strip()
        [recipient] = received.rcpt_tos
        subject = str(message["Subject"])
        in_reply_to = str(message.get("In-Reply-To", "")).strip()
        if in_reply_to:
            step, variant = 2, "A"
        elif subject.startswith("Quick question for "):
            step, variant = 1, "A"
        elif subject.startswith("An idea for "):
            step, variant = 1, "B"
        else:
            raise AssertionError(f"a message of no known step or variant: {subject!r}")
        found[message_id] = Sent(
            message_id=message_id,
            lead=recipient.lower(),
            sender=sender,
            step=step,
            variant=variant,
            subject=subject,
            references=" ".join(
                r for r in (str(message.get("References", "")).strip(), message_id) if r
            ),
            day=parsedate_to_datetime(str(message["Date"])).astimezone(zone).date(),
        )
    return found


# --- what the test puts into the mailboxes --------------------------------------------------------


@dataclass
class Inbound:
    """One message the test delivers, and what it means for the numbers."""

    lead: str
    kind: str  # reply | auto_reply | hard_bounce | soft_bounce
    raw: bytes
    sent: Sent  # the message of ours it answers or reports on
    message_id: str
    day: date  # the campaign's local day it arrives on
    positive: bool = False


def _headers(pairs: dict[str, str]) -> bytes:
    return "".join(f"{k}: {v}\r\n" for k, v in pairs.items()).encode()


def _new_id(domain: str) -> str:
    return f"<in.{time.monotonic_ns()}@{domain}>"


def reply(
    sent: Sent,
    body: str,
    *,
    positive: bool,
    zone: ZoneInfo,
    answering: Inbound | None = None,
    auto: bool = False,
) -> Inbound:
    """A reply as a mail client writes it, threaded on ``sent`` (or on the lead's own earlier
    reply in that thread), quoting our message below; ``auto`` makes it an out-of-office."""
    now = datetime.now(UTC)
    message_id = _new_id(sent.lead.split("@")[1])
    parent, references = sent.message_id, sent.references
    if answering is not None:
        parent, references = answering.message_id, f"{references} {answering.message_id}"
    headers = {
        "From": f"Lead <{sent.lead}>",
        "To": sent.sender,
        "Subject": f"{'Automatic reply' if auto else 'Re'}: {sent.subject.removeprefix('Re: ')}",
        "Date": format_datetime(now),
        "Message-ID": message_id,
        "In-Reply-To": parent,
        "References": references,
        "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=utf-8",
    }
    if auto:
        headers |= {"Auto-Submitted": "auto-replied", "X-Autoreply": "yes"}
    quoted = f"On Mon, Alex wrote:\r\n> Hi,\r\n> {sent.subject}?\r\n"
    raw = _headers(headers) + b"\r\n" + f"{body}\r\n\r\n{quoted}".encode()
    return Inbound(
        lead=sent.lead,
        kind="auto_reply" if auto else "reply",
        raw=raw,
        sent=sent,
        positive=positive,
        message_id=message_id,
        day=now.astimezone(zone).date(),
    )


def dsn(sent: Sent, *, zone: ZoneInfo, hard: bool = True) -> Inbound:
    """A DSN the way Gmail's MTA writes one (RFC 3464), returning our message's headers."""
    now = datetime.now(UTC)
    boundary = "000000000000dsn0b0undary"
    status, action = ("5.1.1", "failed") if hard else ("4.2.2", "delayed")
    diagnostic = (
        "smtp; 550-5.1.1 The email account that you tried to reach does not exist."
        if hard
        else "smtp; 452 4.2.2 The email account that you tried to reach is over quota."
    )
    message_id = _new_id("mx.google.com")
    headers = {
        "From": "Mail Delivery Subsystem <mailer-daemon@googlemail.com>",
        "To": sent.sender,
        "Subject": "Delivery Status Notification (" + ("Failure)" if hard else "Delay)"),
        "Date": format_datetime(now),
        "Message-ID": message_id,
        "Auto-Submitted": "auto-replied",
        "MIME-Version": "1.0",
        "Content-Type": f'multipart/report; boundary="{boundary}"; report-type=delivery-status',
    }
    human = (
        f"Address not found\r\n\r\nYour message wasn't delivered to {sent.lead} because the "
        "address couldn't be found."
        if hard
        else f"Delivery incomplete\r\n\r\nThere was a temporary problem delivering to {sent.lead}."
    )
    parts = [
        f"--{boundary}\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n{human}\r\n",
        f"--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; googlemail.com\r\n"
        f"Arrival-Date: {format_datetime(now)}\r\n\r\n"
        f"Final-Recipient: rfc822; {sent.lead}\r\n"
        f"Action: {action}\r\nStatus: {status}\r\n"
        "Remote-MTA: dns; mx.lead.example.com. (203.0.113.7, the server for the domain.)\r\n"
        f"Diagnostic-Code: {diagnostic}\r\n"
        f"Last-Attempt-Date: {format_datetime(now)}\r\n",
        f"--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: Alex Sender <{sent.sender}>\r\nTo: {sent.lead}\r\n"
        f"Subject: {sent.subject}\r\nMessage-ID: {sent.message_id}\r\n",
        f"--{boundary}--\r\n",
    ]
    return Inbound(
        lead=sent.lead,
        kind="hard_bounce" if hard else "soft_bounce",
        raw=_headers(headers) + b"\r\n" + "".join(parts).encode(),
        sent=sent,
        message_id=message_id,
        day=now.astimezone(zone).date(),
    )


def mail_back(steps: dict[str, dict[int, Sent]], zone: ZoneInfo) -> list[Inbound]:
    """What every lead sends back, in the order a mailbox receives it."""
    out: list[Inbound] = []
    for n in range(LEADS):
        plan = plan_of(n)
        if not plan:
            continue
        first, second = steps[lead_email(n)][1], steps[lead_email(n)][2]
        text = POSITIVE[n % len(POSITIVE)]
        if plan == "positive":
            out.append(reply(first, text, positive=True, zone=zone))
        elif plan == "negative":
            out.append(reply(first, NEGATIVE[n % len(NEGATIVE)], positive=False, zone=zone))
        elif plan == "neutral":
            out.append(reply(first, NEUTRAL, positive=False, zone=zone))
        elif plan == "positive-step2":
            out.append(reply(second, text, positive=True, zone=zone))
        elif plan == "negative-step2":
            out.append(reply(second, NEGATIVE[n % len(NEGATIVE)], positive=False, zone=zone))
        elif plan == "twice":
            earlier = reply(first, text, positive=True, zone=zone)
            out += [earlier, reply(first, FOLLOW_UP, positive=True, zone=zone, answering=earlier)]
        elif plan == "ooo":
            out.append(reply(first, OUT_OF_OFFICE, positive=False, zone=zone, auto=True))
        elif plan == "ooo-then-reply":
            out.append(reply(first, OUT_OF_OFFICE, positive=False, zone=zone, auto=True))
            out.append(reply(first, text, positive=True, zone=zone))
        elif plan == "dsn":
            out.append(dsn(first, zone=zone))
        elif plan == "dsn-both":
            out += [dsn(first, zone=zone), dsn(second, zone=zone)]
        elif plan == "soft-dsn":
            out.append(dsn(first, zone=zone, hard=False))
        else:
            raise AssertionError(plan)
    return out


async def deliver(imap: ImapServer, mailboxes: list[Mailbox], inbound: list[Inbound]) -> None:
    """APPEND each message to the mailbox of the inbox that sent the message it answers, one
    IMAP session per mailbox, in order."""
    by_sender = {box.email: box for box in mailboxes}
    queues: dict[str, list[Inbound]] = defaultdict(list)
    for item in inbound:
        queues[item.sent.sender].append(item)
    for sender, items in queues.items():
        async with imap.client(by_sender[sender].user) as session:
            for item in items:
                response = await session.append(item.raw, mailbox='"INBOX"')
                if response.result != "OK":
                    raise ImapCommandError(f"APPEND failed: {response.lines!r}")


# --- the expected numbers -------------------------------------------------------------------------


def rate(part: int, whole: int) -> float:
    return round(100 * part / whole, 2) if whole else 0.0


def expected_numbers(
    wire: dict[str, Sent],
    inbound: list[Inbound],
    refused: set[str],
    today: date,
) -> dict[str, Any]:
    """Seed 003's numbers, flattened to ``name → value``, from the wire and the mailbox alone."""
    contacted = {s.lead for s in wire.values()}
    replies = [m for m in inbound if m.kind == "reply"]
    replied = {m.lead for m in replies}
    positive = {m.lead for m in replies if m.positive}
    bounced = refused | {m.lead for m in inbound if m.kind == "hard_bounce"}
    tried = contacted | refused
    steps_done = Counter(s.lead for s in wire.values())
    ended = {lead for lead, count in steps_done.items() if count == 2} | refused
    headline: dict[str, Any] = {
        "leads_count": LEADS,
        "sequence_steps": 2,
        "sent": len(wire),
        "contacted": len(contacted),
        "replies": len(replied),
        "reply_rate": rate(len(replied), len(contacted)),
        "positive_replies": len(positive),
        "positive_reply_rate": rate(len(positive), len(contacted)),
        "bounced": len(bounced),
        "bounce_rate": rate(len(bounced), len(tried)),
        "progress": round(100 * len(ended) / LEADS),
    }
    numbers = dict(headline)
    sent_per_day = Counter(s.day for s in wire.values())
    repliers_per_day: dict[date, set[str]] = defaultdict(set)
    for m in replies:
        repliers_per_day[m.day].add(m.lead)
    for offset in range(DAYS):
        day = today - timedelta(days=DAYS - 1 - offset)
        numbers[f"daily[{day}].sent"] = sent_per_day[day]
        numbers[f"daily[{day}].replies"] = len(repliers_per_day[day])
    for step, variant in ((1, "A"), (1, "B"), (2, "A")):
        ids = {s.message_id for s in wire.values() if (s.step, s.variant) == (step, variant)}
        answered = {m.lead for m in replies if m.sent.message_id in ids}
        liked = {m.lead for m in replies if m.sent.message_id in ids and m.positive}
        key = f"step{step}.{variant}"
        numbers[f"{key}.enabled"] = True
        numbers[f"{key}.sent"] = len(ids)
        numbers[f"{key}.replies"] = len(answered)
        numbers[f"{key}.reply_rate"] = rate(len(answered), len(ids))
        numbers[f"{key}.positive_replies"] = len(liked)
        numbers[f"{key}.positive_reply_rate"] = rate(len(liked), len(ids))
    return numbers


def shown_numbers(stats: dict[str, Any], letters: dict[str, str]) -> dict[str, Any]:
    """The API's seed 003 stats flattened like ``expected_numbers``."""
    numbers = {
        name: stats[name]
        for name in (
            "leads_count",
            "sequence_steps",
            "sent",
            "contacted",
            "replies",
            "reply_rate",
            "positive_replies",
            "positive_reply_rate",
            "bounced",
            "bounce_rate",
            "progress",
        )
    }
    for day in stats["daily"] or []:
        numbers[f"daily[{day['date']}].sent"] = day["sent"]
        numbers[f"daily[{day['date']}].replies"] = day["replies"]
    for sequence in stats["sequences"] or []:
        for variant in sequence["variants"]:
            key = f"step{sequence['step']}.{letters[variant['id']]}"
            for name in (
                "enabled",
                "sent",
                "replies",
                "reply_rate",
                "positive_replies",
                "positive_reply_rate",
            ):
                numbers[f"{key}.{name}"] = variant[name]
    return numbers


def differences(shown: dict[str, Any], expected: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """``(name, shown, counted)`` for each number that differs; rates (two decimals) compare
    within rounding."""
    found = []
    for name in sorted(expected):
        got, want = shown.get(name, "<missing>"), expected[name]
        if isinstance(got, float) and isinstance(want, float):
            if abs(got - want) <= 0.011:
                continue
        elif got == want:
            continue
        found.append((name, got, want))
    return found


async def incoming_stored(client: httpx.AsyncClient, tenant: Tenant) -> int:
    """Incoming messages the unibox shows (each is stored with its event in one transaction)."""
    count, page = 0, 1
    while True:
        response = await client.get(
            "/api/v1/unibox/conversations",
            params={"page": page, "page_size": 100},
            headers=tenant.headers,
        )
        assert response.status_code == 200, response.text
        body = response.json()
        for conversation in body["data"]:
            count += sum(m["direction"] == "incoming" for m in conversation["messages"])
        if page >= body["metadata"]["total_pages"]:
            return count
        page += 1


# --- the test -------------------------------------------------------------------------------------


async def test_analytics_equal_independent_counts(
    client: httpx.AsyncClient,
    tenant: Tenant,
    smtp_server: SmtpServer,
    imap_server: ImapServer,
    mailboxes: list[Mailbox],
) -> None:
    zone_name = zone_open_now()
    zone = ZoneInfo(zone_name)
    refused = {lead_email(n) for n in range(LEADS) if rejected(n)}
    smtp_server.reject_rcpt = dict.fromkeys(refused, "550 5.1.1 User unknown")
    campaign = await ab_campaign(client, tenant, [box.inbox_id for box in mailboxes], zone_name)
    base = f"/api/v1/campaigns/{campaign['id']}"
    await add_leads(client, tenant, campaign["id"], LEADS)
    response = await client.post(f"{base}/activate", headers=tenant.headers)
    assert response.status_code == 200, response.text

    # Every journey ends: two steps delivered, or refused at step 1.
    async def completed() -> bool:
        return bool((await get_data(client, tenant, base))["status"] == "completed")

    await eventually(completed, f"the campaign of {LEADS} leads to complete", timeout=180)
    wire = read_wire(list(smtp_server.messages), {box.email for box in mailboxes}, zone)
    steps: dict[str, dict[int, Sent]] = defaultdict(dict)
    for sent in wire.values():
        assert sent.step not in steps[sent.lead], f"two step-{sent.step} messages to {sent.lead}"
        steps[sent.lead][sent.step] = sent
    assert not refused & steps.keys(), "a refused address received mail"
    assert set(steps) == {lead_email(n) for n in range(LEADS)} - refused
    for lead, by_step in steps.items():
        assert set(by_step) == {1, 2}, f"{lead} got steps {sorted(by_step)}"
        assert by_step[2].references == f"{by_step[1].message_id} {by_step[2].message_id}"
        assert by_step[2].sender == by_step[1].sender
    assert {s.variant for s in wire.values() if s.step == 1} == {"A", "B"}

    inbound = mail_back(steps, zone)
    await deliver(imap_server, mailboxes, inbound)

    async def all_stored() -> bool:
        return await incoming_stored(client, tenant) >= len(inbound)

    await eventually(all_stored, f"the watchers to store {len(inbound)} messages")

    today = datetime.now(UTC).astimezone(zone).date()
    expected = expected_numbers(wire, inbound, refused, today)
    sequences = await get_data(client, tenant, f"{base}/sequences")
    letters = {v["id"]: v["letter"] for s in sequences for v in s["variants"]}
    headline = {k: v for k, v in expected.items() if "." not in k}

    async def compared() -> list[str]:
        """Every number that differs, once, with the places that show it."""
        analytics = await get_data(client, tenant, f"{base}/analytics")
        shown = await get_data(client, tenant, base)
        listed = await get_data(client, tenant, "/api/v1/campaigns")
        [row] = [c for c in listed if c["id"] == campaign["id"]]
        list_stats = {**row["stats"], "daily": None, "sequences": None}
        checks = {
            "analytics": (shown_numbers(analytics, letters), expected),
            "GET campaign .stats": (shown_numbers(shown["stats"], letters), expected),
            "GET campaign": ({"progress": shown["progress"]}, {"progress": headline["progress"]}),
            "GET campaigns .stats": (shown_numbers(list_stats, letters), headline),
        }
        places: dict[tuple[str, str, str], list[str]] = defaultdict(list)
        for where, (numbers, wanted) in checks.items():
            for name, got, want in differences(numbers, wanted):
                places[(name, repr(got), repr(want))].append(where)
        return [
            f"{name}: API says {got}, counted {want} (in {', '.join(where)})"
            for (name, got, want), where in sorted(places.items())
        ]

    # A message and its event commit together, so stored means counted; the numbers still get
    # a few seconds to settle before a difference is reported.
    found = await compared()
    deadline = time.monotonic() + 5
    while found and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        found = await compared()
    summary = {k: expected[k] for k in headline}
    assert not found, f"{len(found)} number(s) differ (counted: {summary}):\n" + "\n".join(found)
