"""Warmup between two inboxes on the real servers: A sends over SMTP (aiosmtpd), the message is
filed in B's Junk on Dovecot, B's watcher rescues it, B answers in-thread, A's watcher sees the
reply; the stats of both sides count it, and nothing of it reaches the unibox or any campaign."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import func, select
from temporalio.testing import WorkflowEnvironment

from activities.warmup import WarmupActivities
from coldflow.contracts.warmup import SendWarmupInput, WarmupInput
from coldflow.models import Conversation, Inbox, SentMessage, WarmupMessage
from coldflow.services import warmup_stats
from coldflow.store.db import unit_of_work
from tests.activities.test_mailbox import environment
from tests.activities.test_warmup_receiving import (
    JUNK,
    SECRET,
    SEEN_FLAGGED,
    flags,
    run_session,
    warming_pair,
)
from tests.fixtures.imap import ImapServer
from tests.fixtures.smtp import SmtpServer
from tests.workflows.world import World, open_world

pytestmark = pytest.mark.imap

NOW = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)  # a Monday, inside working hours in UTC


@pytest.fixture
async def world(database_url: str, smtp_server: SmtpServer, tmp_path: Path) -> AsyncIterator[World]:
    async with open_world(None, database_url, smtp_server, tmp_path / "data") as world:
        yield world


def warmup_activities(world: World) -> WarmupActivities:
    return WarmupActivities(world.sessions, world.box, secret=SECRET, smtp_timeout=10.0)


async def count(world: World, model: type) -> int:
    [n] = await world.rows(select(func.count()).select_from(model))
    return int(n)


async def test_rescued_from_junk_answered_in_thread_and_counted(
    world: World,
    imap_server: ImapServer,
    temporal_env: WorkflowEnvironment,
    smtp_server: SmtpServer,
) -> None:
    a, b, b_user = await warming_pair(world, imap_server)
    async with unit_of_work(world.sessions) as session:
        row = await session.get(Inbox, b.id)
        assert row is not None
        row.warmup_reply_rate = 100  # B answers everything
        session.add(row)
    env = environment(temporal_env.client)
    env.info = dataclasses.replace(env.info, current_attempt_scheduled_time=NOW)
    sending = warmup_activities(world)

    result = await env.run(
        sending.send_warmup_email,
        SendWarmupInput(world.workspace_id, a.id, b.id, NOW.date().isoformat(), 0),
    )
    assert result.status == "sent"
    [first] = await smtp_server.wait_for(1)
    assert (first.mail_from, first.rcpt_tos) == (a.email, [b.email])
    # The provider files it as spam: the exact bytes land in B's Junk.
    await imap_server.append(b_user, first.data, folder=JUNK)

    await run_session(world, temporal_env, b)
    assert await imap_server.list_messages(b_user, JUNK) == []
    assert await flags(imap_server, b_user, "INBOX") == [SEEN_FLAGGED]

    answered = await env.run(sending.send_warmup_replies, WarmupInput(world.workspace_id, b.id))
    assert answered.sent == 1
    [_, reply] = await smtp_server.wait_for(2)
    assert (reply.mail_from, reply.rcpt_tos) == (b.email, [a.email])
    original_id = first.message["Message-ID"]
    assert reply.message["In-Reply-To"] == original_id
    assert original_id in reply.message["References"]
    assert reply.message["Subject"] == f"Re: {first.message['Subject']}"
    again = await env.run(sending.send_warmup_replies, WarmupInput(world.workspace_id, b.id))
    assert again.sent == 0  # owed once, answered once

    async with unit_of_work(world.sessions) as session:
        b_stats = await warmup_stats.warmup_stats(session, await session.get(Inbox, b.id), NOW)  # type: ignore[arg-type]
        a_stats = await warmup_stats.warmup_stats(session, await session.get(Inbox, a.id), NOW)  # type: ignore[arg-type]
    assert (b_stats.received, b_stats.saved_from_spam, b_stats.sent) == (1, 1, 1)
    assert (a_stats.sent, a_stats.received) == (1, 0)
    assert a_stats.daily[-1].model_dump() == {
        "date": NOW.date().isoformat(),
        "sent": 1,
        "spam_count": 1,
    }
    assert a_stats.health_score == 0  # its only send of the last 3 days went to spam
    # Nothing of it in the unibox, the emails log or any campaign.
    assert await count(world, Conversation) == 0
    assert await count(world, SentMessage) == 0
    assert await count(world, WarmupMessage) == 2
