"""What the lead receives: one thread from one inbox, unsubscribe headers, text-only, signature."""

from __future__ import annotations

from email.message import EmailMessage

from tests.fixtures.smtp import ReceivedMessage
from tests.workflows.world import WEEKDAYS, StepSpec, World, schedule

ALWAYS_OPEN = schedule("UTC", days=WEEKDAYS, start="00:00", end="23:30")
STEPS = [
    StepSpec("{{company}} and pipelines", "Hi {{first_name}},\n\nWorth a look?", delay_days=2),
    StepSpec("", "Hi {{first_name}}, following up."),
    StepSpec("re: anything", "Last note, {{first_name}}."),
]


def plain(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")  # type: ignore[attr-defined]


async def run_three_steps(
    world: World, *, two_inboxes: bool = False, **options: object
) -> list[ReceivedMessage]:
    inboxes = [
        await world.inbox(
            "alex@sender.example.com",
            signature="Alex Sender\nHead of Growth",
            reply_to="replies@sender.example.com",
        )
    ]
    if two_inboxes:
        inboxes.append(await world.inbox("bea@sender.example.com"))
    campaign = await world.campaign(STEPS, inboxes=inboxes, sched=ALWAYS_OPEN, **options)
    lead = await world.lead(campaign)
    handle = await world.enroll(campaign, lead)
    assert await world.result(handle) == "completed"
    return await world.smtp.wait_for(3)


async def test_follow_ups_thread_under_step_one_from_its_inbox(world: World) -> None:
    first, second, third = await run_three_steps(world, two_inboxes=True)
    one, two, three = first.message, second.message, third.message
    # Follow-ups leave from the inbox that sent step 1, whichever it was.
    assert first.mail_from == second.mail_from == third.mail_from
    assert one["From"] == two["From"] == three["From"]
    assert two["In-Reply-To"] == one["Message-ID"]
    assert two["References"] == one["Message-ID"]
    assert three["In-Reply-To"] == two["Message-ID"]
    assert three["References"] == f"{one['Message-ID']} {two['Message-ID']}"
    # An empty subject, or one starting with "Re:", threads as "Re: <step 1's subject>".
    assert one["Subject"] == "Acme Corp and pipelines"
    assert two["Subject"] == three["Subject"] == "Re: Acme Corp and pipelines"
    # The raw bytes: ids stay whole on their header line, never folded into encoded-words.
    assert f"In-Reply-To: {one['Message-ID']}\r\n".encode() in second.data
    # Two ids pass 78 characters: the line folds between them (RFC 5322 §2.2.3), never inside.
    headers = third.data.split(b"\r\n\r\n")[0]
    chain = f"References: {one['Message-ID']}\r\n {two['Message-ID']}\r\n"
    assert chain.encode() in headers
    assert b"=?" not in headers


async def test_unsubscribe_headers_signature_and_reply_to(world: World) -> None:
    first, _second, _third = await run_three_steps(world)
    message = first.message
    # RFC 2369 + RFC 8058: an https one-click link (POST) and a mailto alternative.
    unsubscribe = message["List-Unsubscribe"]
    assert unsubscribe.startswith("<https://coldflow.example.com/u/")
    assert "<mailto:replies@sender.example.com?subject=unsubscribe>" in unsubscribe
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Reply-To"] == "replies@sender.example.com"
    assert message.get_content_type() == "multipart/alternative"
    html = message.get_body(("html",))
    assert html is not None
    assert "Head of Growth" in html.get_content()  # type: ignore[attr-defined]
    assert "Head of Growth" in plain(message)


async def test_text_only_sends_plain_text_only(world: World) -> None:
    first, _second, _third = await run_three_steps(world, text_only=True, unsubscribe_option=False)
    message = first.message
    assert message.get_content_type() == "text/plain"
    assert not message.is_multipart()
    body = plain(message)
    assert body.startswith("Hi Sarah,\n\nWorth a look?")
    assert "<" not in body
    assert body.rstrip().endswith("Alex Sender\nHead of Growth")
    assert message["List-Unsubscribe"] is None
    assert message["List-Unsubscribe-Post"] is None
