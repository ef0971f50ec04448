"""Parsing and classification of inbound mail (coldflow.classify), plus the labelled corpus."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime

import pytest

from coldflow.classify import (
    LABELS,
    POSITIVE_LABELS,
    BounceInfo,
    Kind,
    ParsedMessage,
    classify,
    latest_reply_text,
    parse,
)
from coldflow.classify_rules import PRIORITY, RULES, find_return_date
from tests.unit import mail_samples as mail
from tests.unit.classify_corpus import HELD_OUT, TRAIN, Sample

SENT_ID = mail.SENT_ID
AUTO = (("Auto-Submitted", "auto-replied"),)


def classify_raw(raw: bytes) -> tuple[str, str | None]:
    result = classify(parse(raw))
    return result.kind, result.label


# --- bounces ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param(
            mail.postfix_dsn(),
            BounceInfo(
                hard=True,
                status="5.1.1",
                diagnostic="550 5.1.1 <jane@acme.test>: Recipient address rejected: User "
                "unknown in virtual mailbox table",
                original_recipient="jane@acme.test",
                original_message_id=SENT_ID,
            ),
            id="postfix-5.1.1-hard",
        ),
        pytest.param(
            mail.postfix_dsn(
                status="4.4.1",
                action="delayed",
                diagnostic="smtp; 451 4.4.1 connect to mx.acme.test: Connection timed out",
            ),
            BounceInfo(
                hard=False,
                status="4.4.1",
                diagnostic="451 4.4.1 connect to mx.acme.test: Connection timed out",
                original_recipient="jane@acme.test",
                original_message_id=SENT_ID,
            ),
            id="postfix-4.4.1-delayed-soft",
        ),
        pytest.param(
            mail.exchange_dsn(),
            BounceInfo(
                hard=True,
                status="5.1.10",
                diagnostic="550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by "
                "SMTP address lookup",
                original_recipient="jane@acme.test",
                original_message_id=SENT_ID,
            ),
            id="exchange-ndr-rfc822-headers",
        ),
        pytest.param(
            mail.gmail_dsn(),
            BounceInfo(
                hard=True,
                status="5.2.1",
                diagnostic="550 5.2.1 The email account that you tried to reach is disabled",
                original_recipient="jane@acme.test",
                original_message_id=SENT_ID,
            ),
            id="gmail-failure",
        ),
        pytest.param(
            mail.gmail_dsn(failure=False),
            BounceInfo(
                hard=False,
                status="4.2.2",
                diagnostic="452 4.2.2 The email account that you tried to reach is over quota",
                original_recipient="jane@acme.test",
                original_message_id=SENT_ID,
            ),
            id="gmail-delay-soft",
        ),
        pytest.param(
            mail.exim_plain_bounce(),
            BounceInfo(
                hard=True,
                status="5.1.1",
                diagnostic="550 5.1.1 No such user here",
                original_recipient="bob@globex.test",
                original_message_id=SENT_ID,
            ),
            id="exim-plain-text-hard",
        ),
        pytest.param(
            mail.exim_plain_bounce(code="451 4.3.0", temporary=True),
            BounceInfo(
                hard=False,
                status="4.3.0",
                diagnostic="451 4.3.0 No such user here",
                original_recipient="bob@globex.test",
                original_message_id=SENT_ID,
            ),
            id="exim-plain-text-delayed-soft",
        ),
        pytest.param(
            mail.qmail_bounce(),
            BounceInfo(
                hard=True,
                status="",
                diagnostic="Remote host said: 550 mailbox unavailable",
                original_recipient="peter@initech.test",
                original_message_id=SENT_ID,
            ),
            id="qmail-failure-notice-no-status",
        ),
    ],
)
def test_bounce_is_read_from_the_dsn_or_daemon_text(raw: bytes, expected: BounceInfo) -> None:
    result = classify(parse(raw))
    assert result.kind == Kind.BOUNCE
    assert result.label is None
    assert result.bounce == expected
    assert result.is_positive is False


def test_dsn_without_returned_message_falls_back_to_in_reply_to() -> None:
    raw = mail.postfix_dsn().replace(f"Message-ID: {SENT_ID}".encode(), b"X-Gone: 1")
    raw = raw.replace(b"Auto-Submitted", f"In-Reply-To: {SENT_ID}\nAuto-Submitted".encode())
    bounce = classify(parse(raw)).bounce
    assert bounce is not None
    assert bounce.original_message_id == SENT_ID


def test_success_dsn_and_read_receipt_are_not_bounces() -> None:
    delivered = mail.postfix_dsn(status="2.0.0", action="delivered", diagnostic="smtp; 250 ok")
    assert classify_raw(delivered) == (Kind.AUTO_REPLY, None)
    assert classify_raw(mail.read_receipt()) == (Kind.AUTO_REPLY, None)


def test_human_reply_mentioning_delivery_failure_is_not_a_bounce() -> None:
    raw = mail.reply("My colleague said your last email could not be delivered, odd. Resend?")
    assert classify_raw(raw)[0] == Kind.REPLY


# --- auto-replies -----------------------------------------------------------------------------

OOO_BODY = "Thanks for your email. I am out of the office until March 18 with limited access."


@pytest.mark.parametrize(
    ("raw", "return_date"),
    [
        pytest.param(mail.auto_reply("Away."), None, id="auto-submitted-auto-replied"),
        pytest.param(
            mail.auto_reply("Away.", headers=(("Auto-Submitted", "auto-generated"),)),
            None,
            id="auto-submitted-auto-generated",
        ),
        pytest.param(
            mail.auto_reply("Away.", subject="Re: hi", headers=(("X-Autoreply", "yes"),)),
            None,
            id="x-autoreply",
        ),
        pytest.param(
            mail.auto_reply("Away.", subject="Re: hi", headers=(("X-Autorespond", "1"),)),
            None,
            id="x-autorespond",
        ),
        pytest.param(
            mail.auto_reply("Received.", subject="Re: hi", headers=(("Precedence", "bulk"),)),
            None,
            id="precedence-bulk",
        ),
        pytest.param(
            mail.auto_reply("x", subject="Re: hi", headers=(("Precedence", "auto_reply"),)),
            None,
            id="precedence-auto-reply",
        ),
        pytest.param(
            mail.auto_reply("I will reply soon.", subject="Out of Office: hi", headers=()),
            None,
            id="ooo-subject-only",
        ),
        pytest.param(
            mail.auto_reply(OOO_BODY, subject="Re: hi", headers=()),
            date(2024, 3, 18),
            id="ooo-body-only-with-date",
        ),
        pytest.param(
            mail.auto_reply(
                "I am travelling this week.",
                subject="Re: hi",
                headers=(("X-Auto-Response-Suppress", "All"),),
            ),
            None,
            id="x-auto-response-suppress-plus-phrase",
        ),
        pytest.param(
            mail.auto_reply(
                "Ich bin bis zum 15.03.2024 nicht im Büro und habe keinen Zugriff auf E-Mails.",
                subject="Abwesenheitsnotiz: Quick question",
                headers=(),
                charset="iso-8859-1",
            ),
            date(2024, 3, 15),
            id="german-latin1",
        ),
        pytest.param(
            mail.auto_reply(
                "Je suis absente jusqu'au 20 mars. Je traiterai votre message à mon retour.",
                subject="Réponse automatique : Quick question",
                headers=(),
            ),
            date(2024, 3, 20),
            id="french",
        ),
    ],
)
def test_auto_reply_is_out_of_office(raw: bytes, return_date: date | None) -> None:
    result = classify(parse(raw))
    assert (result.kind, result.label) == (Kind.AUTO_REPLY, "out_of_office")
    assert result.return_date == return_date
    assert result.is_positive is False


@pytest.mark.parametrize(
    ("headers", "subject", "body"),
    [
        pytest.param((("Auto-Submitted", "no"),), "Re: hi", "Sounds good.", id="auto-submitted-no"),
        pytest.param(
            (("X-Auto-Response-Suppress", "All"),), "Re: hi", "Sounds good.", id="ars-alone"
        ),
        pytest.param(
            (), "Re: hi", "I'm on vacation until the 5th, let's talk after that.", id="one-phrase"
        ),
    ],
)
def test_ordinary_reply_is_not_an_auto_reply(
    headers: tuple[tuple[str, str], ...], subject: str, body: str
) -> None:
    assert classify_raw(mail.reply(body, subject=subject, headers=headers))[0] == Kind.REPLY


def test_departed_employee_auto_response_is_left_company() -> None:
    raw = mail.auto_reply("Jane no longer works at Acme. Please write to sales@acme.test.")
    assert classify_raw(raw) == (Kind.AUTO_REPLY, "left_company")


@pytest.mark.parametrize(
    ("text", "sent", "expected"),
    [
        pytest.param("back on 2 April 2024", None, date(2024, 4, 2), id="dm-with-year"),
        pytest.param("until March 18th", date(2024, 3, 6), date(2024, 3, 18), id="md-no-year"),
        pytest.param("until January 3", date(2024, 12, 20), date(2025, 1, 3), id="next-year"),
        pytest.param("until Monday", date(2024, 3, 6), date(2024, 3, 11), id="weekday"),
        pytest.param(
            "until Friday, 15 March", date(2024, 3, 6), date(2024, 3, 15), id="weekday-and-date"
        ),
        pytest.param("bis einschließlich 15.03.2024", None, date(2024, 3, 15), id="german"),
        pytest.param("returning on 2024-04-02", None, date(2024, 4, 2), id="iso"),
        pytest.param("until 03/04", date(2024, 3, 1), None, id="ambiguous-slash"),
        pytest.param("until March 18", None, None, id="no-year-no-sent"),
        pytest.param("until February 30, 2024", None, None, id="invalid"),
    ],
)
def test_find_return_date(text: str, sent: date | None, expected: date | None) -> None:
    assert find_return_date(text, sent) == expected


# --- unsubscribe requests ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("Unsubscribe", id="bare"),
        pytest.param("STOP", id="stop-as-our-footer-asks"),
        pytest.param("please remove me from your list", id="remove-me"),
        pytest.param("Take me off your list, thanks.", id="take-me-off"),
        pytest.param("Stop emailing me.", id="stop-emailing"),
        pytest.param("Do not contact me again.", id="do-not-contact"),
        pytest.param("Kindly opt me out of these emails.", id="opt-out"),
        pytest.param("Please delete my details under GDPR.", id="delete-my-details"),
    ],
)
def test_unsubscribe_request(body: str) -> None:
    assert classify_raw(mail.reply(body, quote="gmail")) == (Kind.UNSUBSCRIBE, "unsubscribe")


def test_unsubscribe_subject_from_list_unsubscribe_mailto() -> None:
    assert classify_raw(mail.reply("", subject="unsubscribe"))[0] == Kind.UNSUBSCRIBE


@pytest.mark.parametrize("style", mail.QUOTE_STYLES)
def test_unsubscribe_in_quoted_footer_is_ignored(style: str) -> None:
    raw = mail.reply("Thanks, I'll take a look next week.", quote=style)
    assert classify_raw(raw) == (Kind.REPLY, "neutral")


def test_unsubscribe_in_html_quote_is_ignored() -> None:
    raw = mail.reply("Thanks, I'll take a look next week.", quote="gmail", html=True)
    assert classify_raw(raw) == (Kind.REPLY, "neutral")


def test_unsubscribe_word_in_a_link_line_is_a_footer() -> None:
    raw = mail.reply("Sounds good.\n\nUnsubscribe from Acme news: https://acme.test/u/1")
    assert classify_raw(raw)[0] == Kind.REPLY


# --- quoted history ---------------------------------------------------------------------------


@pytest.mark.parametrize("style", mail.QUOTE_STYLES)
def test_latest_reply_text_strips_each_client_style(style: str) -> None:
    text = f"Sounds good, Thursday works.\n\n{mail.quoted(style)}"
    assert latest_reply_text(text) == "Sounds good, Thursday works."


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("Yes.\n-- \nJane Doe\nVP Sales", "Yes.", id="rfc3676-signature"),
        pytest.param("Yes.\n\nSent from my iPhone", "Yes.", id="mobile-tag"),
        pytest.param(
            "Yes.\n\n-----Original Message-----\nFrom: Sam\nSent: Tuesday\n\nold",
            "Yes.",
            id="outlook-original-message",
        ),
        pytest.param(
            "Yes.\n\nFrom: Sam Rivera <sam@northwind.test>\nDate: Tue, 5 Mar\nSubject: x\n\nold",
            "Yes.",
            id="outlook-from-date-block",
        ),
        pytest.param(
            "Le mar. 5 mars 2024 à 09:14, Sam <sam@n.test> a écrit :\n> old\n\nD'accord.",
            "D'accord.",
            id="bottom-posted-french",
        ),
        pytest.param("> old\n> older\nnew line\n> old", "new line", id="interleaved"),
        pytest.param(
            "From: the desk of Jane\nYes.", "From: the desk of Jane\nYes.", id="from-alone"
        ),
        pytest.param("", "", id="empty"),
    ],
)
def test_latest_reply_text(text: str, expected: str) -> None:
    assert latest_reply_text(text) == expected


# --- parsing ----------------------------------------------------------------------------------


def test_parse_reply_fields() -> None:
    msg = parse(mail.multipart_reply_with_attachment("Here are our requirements."))
    assert msg.message_id == "<att.1@mail.acme.test>"
    assert msg.in_reply_to == SENT_ID
    assert msg.references == ("<older@northwind.test>", SENT_ID)
    assert (msg.from_email, msg.from_name) == ("jane@acme.test", "Jane Doe")
    assert msg.to == ("sam@northwind.test",)
    assert msg.cc == ("mark@acme.test", "ops@acme.test")
    assert msg.date == datetime(2024, 3, 6, 7, 2, 11, tzinfo=UTC)
    assert msg.text.strip() == "Here are our requirements."
    assert msg.html is not None
    assert "<p>" in msg.html
    assert [tuple(a) for a in msg.attachments] == [("requirements.pdf", "application/pdf", 13)]
    assert msg.attachment_data == (b"%PDF-1.4 fake",)
    assert msg.header("IN-REPLY-TO") == SENT_ID


def test_parse_html_only_reply_converts_to_text() -> None:
    msg = parse(mail.reply("Let's talk <b>Thursday</b>.", html=True))
    assert msg.html is not None
    assert "Let's talk Thursday." in msg.text


def test_parse_uppercases_sender_and_decodes_encoded_words() -> None:
    raw = (
        b"From: =?utf-8?q?J=C3=BCrgen_M=C3=BCller?= <Juergen.Mueller@Example.DE>\r\n"
        b"Subject: =?iso-8859-1?q?Gr=FC=DFe?=\r\nDate: 5 Mar 2024 08:00:00 -0000\r\n\r\nHallo"
    )
    msg = parse(raw)
    assert (msg.from_email, msg.from_name) == ("juergen.mueller@example.de", "Jürgen Müller")
    assert msg.subject == "Grüße"
    assert msg.date == datetime(2024, 3, 5, 8, tzinfo=UTC)


@pytest.mark.parametrize(
    ("charset", "body"),
    [
        pytest.param("iso-8859-1", "Grüße aus Köln".encode("iso-8859-1"), id="latin-1"),
        pytest.param("windows-1252", "“quoted” – dash".encode("cp1252"), id="cp1252"),
        pytest.param("shift_jis", "ありがとう".encode("shift_jis"), id="shift-jis"),
        pytest.param("x-unknown-charset", b"caf\xe9", id="unknown-charset"),
        pytest.param("utf-8", b"bad \xff\xfe bytes", id="invalid-utf8"),
    ],
)
def test_parse_decodes_non_utf8_bodies(charset: str, body: bytes) -> None:
    raw = b"From: a@b.test\r\nContent-Type: text/plain; charset=" + charset.encode()
    msg = parse(raw + b"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + body)
    assert msg.text
    if charset in {"iso-8859-1", "windows-1252", "shift_jis"}:
        assert msg.text.strip() == body.decode(charset)


def test_parse_missing_headers_gives_empty_values() -> None:
    msg = parse(b"\r\njust a body")
    assert msg == ParsedMessage(text="just a body", headers=())
    assert classify(msg).kind == Kind.REPLY


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"\x00\xff\xfe garbage \x80", id="binary"),
        pytest.param(b"From: <<<@@@>>>\r\nDate: yesterday\r\nMessage-ID: nope\r\n\r\nx", id="bad"),
        pytest.param(b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n", id="truncated"),
        pytest.param(b'To: a@b.test,,, ;;; "unterminated\r\nSubject: =?x?q?\r\n\r\n', id="addr"),
        pytest.param(
            b"Content-Type: multipart/report; report-type=delivery-status\r\n\r\n", id="r"
        ),
    ],
)
def test_parse_never_raises_on_garbage(raw: bytes) -> None:
    classify(parse(raw))


def test_parse_survives_random_corruption_of_real_messages() -> None:
    rng = random.Random(20240305)
    seeds = [mail.postfix_dsn(), mail.exchange_dsn(), mail.multipart_reply_with_attachment("x")]
    for _ in range(300):
        data = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 30)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        cut = rng.randrange(len(data))
        classify(parse(bytes(data[:cut])))


# --- labels and the corpus --------------------------------------------------------------------


def test_labels_match_seed_003_and_positive_choice() -> None:
    assert set(LABELS) == {
        *("interested", "not_interested", "needs_more_info", "meeting_requested"),
        *("wrong_person", "out_of_office", "referral", "question", "neutral"),
        *("unsubscribe", "left_company"),
    }
    assert set(PRIORITY) == set(LABELS) - {"out_of_office", "unsubscribe"}
    assert POSITIVE_LABELS == {"interested", "meeting_requested", "needs_more_info"}
    assert {rule.label for rule in RULES} == set(PRIORITY)


@pytest.mark.parametrize(
    ("body", "label", "is_positive"),
    [
        pytest.param("Sounds great, we're keen.", "interested", True, id="interested"),
        pytest.param(
            "No thanks, we already use a tool for this.", "not_interested", False, id="no"
        ),
        pytest.param(
            "Can we set up a call next Tuesday at 2pm?", "meeting_requested", True, id="mtg"
        ),
        pytest.param(
            "Could you send pricing and a case study?", "needs_more_info", True, id="info"
        ),
        pytest.param("I'm not the right person for this.", "wrong_person", False, id="wrong"),
        pytest.param(
            "Please reach out to ben@acme.test, he runs sales.", "referral", False, id="ref"
        ),
        pytest.param("How did you get my email address?", "question", False, id="question"),
        pytest.param("Thanks, noted.", "neutral", False, id="neutral"),
        pytest.param("", "neutral", False, id="empty-body"),
        pytest.param("I no longer work at Acme.", "left_company", False, id="left"),
    ],
)
def test_reply_label_and_positivity(body: str, label: str, is_positive: bool) -> None:
    result = classify(parse(mail.reply(body, quote="gmail")))
    assert (result.kind, result.label, result.is_positive) == (Kind.REPLY, label, is_positive)


def run_corpus(samples: tuple[Sample, ...]) -> list[tuple[Sample, str, str | None]]:
    out = []
    for sample in samples:
        raw = mail.reply(
            sample.body,
            subject=sample.subject,
            headers=sample.headers,
            quote=sample.quote,
            html=sample.html,
        )
        result = classify(parse(raw))
        out.append((sample, str(result.kind), result.label))
    return out


def report(name: str, results: list[tuple[Sample, str, str | None]]) -> tuple[float, float]:
    total = len(results)
    kinds = sum(kind == s.expected_kind for s, kind, _ in results) / total
    labels = sum(label == s.label for s, _, label in results) / total
    support = Counter(s.label for s, _, _ in results)
    hits = Counter(s.label for s, _, label in results if label == s.label)
    lines = [f"\n{name}: {total} samples, kind {kinds:.1%}, label {labels:.1%}"]
    lines += [f"  {lab:<18} recall {hits[lab]}/{support[lab]}" for lab in LABELS if support[lab]]
    lines += [
        f"  MISS {s.label} -> {label} ({kind}): {s.body[:60]!r}"
        for s, kind, label in results
        if label != s.label
    ]
    print("\n".join(lines))  # noqa: T201 - the report is the point of this test (-s)
    return kinds, labels


def test_corpus_accuracy() -> None:
    assert len(TRAIN) >= 90
    counts = Counter(s.label for s in TRAIN)
    assert set(counts) == set(LABELS)
    assert min(counts.values()) >= 6
    results = run_corpus(TRAIN)
    kind_accuracy, label_accuracy = report("train", results)
    assert kind_accuracy >= 0.95
    assert label_accuracy >= 0.80
    reached = {s.label for s, _, label in results if label == s.label}
    assert reached == set(LABELS)


def test_held_out_accuracy() -> None:
    assert len(HELD_OUT) >= 30
    _, label_accuracy = report("held-out (never tuned on)", run_corpus(HELD_OUT))
    assert label_accuracy >= 0.60
