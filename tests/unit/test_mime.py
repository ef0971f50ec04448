"""Message-IDs, threading, unsubscribe headers and header safety of coldflow.mime."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta, timezone
from email import message_from_bytes, policy

import pytest

from coldflow.errors import InvalidInput
from coldflow.mime import (
    OutgoingEmail,
    build_message,
    check_line,
    make_message_id,
    reply_subject,
)

DATE = datetime(2026, 3, 2, 9, 30, tzinfo=timezone(timedelta(hours=1)))
# A Gmail/Outlook-style id far longer than a header line, as found in In-Reply-To of real replies.
FOREIGN_ID = "<CAKx" + "q" * 80 + "@mail.gmail.com>"


def make_email(**changes: object) -> OutgoingEmail:
    base = OutgoingEmail(
        from_name="Ann Sender",
        from_email="ann@sender.test",
        to_email="sam@acme.test",
        to_name="Sam Lead",
        subject="Quick question",
        text="Hi Sam,\n\nA question.\n",
        html="<p>Hi Sam,</p><p>A question.</p>",
        message_id=make_message_id(lead_id="lead_1", step=1, domain="sender.test"),
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def header_block(raw: bytes) -> str:
    return raw.split(b"\r\n\r\n", 1)[0].decode("ascii")


def unfolded(raw: bytes, name: str) -> str:
    match = re.search(
        rf"^{name}: ([^\r\n]*(?:\r\n[ \t][^\r\n]*)*)", header_block(raw), re.MULTILINE
    )
    assert match is not None, name
    return re.sub(r"\r\n[ \t]", " ", match.group(1))


@pytest.mark.parametrize(
    "domain",
    [
        pytest.param("sender.test", id="short"),
        pytest.param("mail.outbound.some-company-name.example.com", id="long-domain"),
    ],
)
def test_message_id_is_deterministic_and_short(domain: str) -> None:
    first = make_message_id(lead_id="lead_abc", step=2, domain=domain)
    assert first == make_message_id(lead_id="lead_abc", step=2, domain=domain)
    assert re.fullmatch(rf"<[a-z2-7]{{26}}@{re.escape(domain)}>", first)
    assert len(first) == 29 + len(domain)
    assert len(make_message_id(lead_id="l", step=1, domain="example.com")) < 60


@pytest.mark.parametrize(
    ("other", "same"),
    [
        pytest.param({"step": 3}, False, id="other-step"),
        pytest.param({"lead_id": "lead_xyz"}, False, id="other-lead"),
        pytest.param({"salt": "ws_2"}, False, id="salt"),
        pytest.param({"domain": "SENDER.test."}, True, id="domain-case-and-dot"),
    ],
)
def test_message_id_inputs(other: dict[str, object], same: bool) -> None:
    args: dict[str, object] = {"lead_id": "lead_abc", "step": 2, "domain": "sender.test"}
    assert (make_message_id(**args) == make_message_id(**{**args, **other})) is same  # type: ignore[arg-type]


def test_message_id_idn_domain() -> None:
    assert make_message_id(lead_id="l", step=1, domain="bücher.example").endswith(
        "@xn--bcher-kva.example>"
    )


@pytest.mark.parametrize(
    ("domain", "code"),
    [
        pytest.param("exa mple.com", "INVALID_DOMAIN", id="space"),
        pytest.param("", "INVALID_DOMAIN", id="empty"),
        pytest.param("a@b.com", "INVALID_DOMAIN", id="at-sign"),
        pytest.param("example.com\r\nBcc: x@y.z", "HEADER_INJECTION", id="crlf"),
    ],
)
def test_message_id_bad_domain(domain: str, code: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        make_message_id(lead_id="l", step=1, domain=domain)
    assert caught.value.code == code


def test_threading_headers_are_never_encoded_words() -> None:
    chain = tuple(
        make_message_id(lead_id="lead_1", step=s, domain="sender.test") for s in (1, 2, 3)
    )
    references = (FOREIGN_ID, *chain, "<short@x.test>")
    raw = build_message(
        make_email(in_reply_to=chain[-1], references=references, message_id=chain[-1]),
        date=DATE,
    )
    headers = header_block(raw)
    assert "=?" not in headers
    assert f"\r\nMessage-ID: {chain[-1]}\r\n" in headers
    assert f"\r\nIn-Reply-To: {chain[-1]}\r\n" in headers
    assert unfolded(raw, "References") == " ".join(references)
    # Folds happen only between ids, and every id sits whole on one line.
    for line in headers.split("\r\n"):
        assert len(line) <= 998
    for msg_id in references:
        assert msg_id in headers


def test_long_foreign_in_reply_to_stays_whole() -> None:
    raw = build_message(make_email(in_reply_to=FOREIGN_ID, references=(FOREIGN_ID,)), date=DATE)
    assert f"\r\nIn-Reply-To: {FOREIGN_ID}\r\n".encode() in raw
    assert f"\r\nReferences: {FOREIGN_ID}\r\n".encode() in raw
    parsed = message_from_bytes(raw, policy=policy.default)
    assert parsed["In-Reply-To"] == FOREIGN_ID


def test_first_step_has_no_threading_headers() -> None:
    headers = header_block(build_message(make_email(), date=DATE))
    assert "In-Reply-To" not in headers
    assert "References" not in headers


@pytest.mark.parametrize(
    ("url", "mailto", "expected_list", "one_click"),
    [
        pytest.param(
            "https://t.sender.test/u/" + "t" * 120,
            "mailto:unsub+tok@sender.test",
            "<https://t.sender.test/u/" + "t" * 120 + ">, <mailto:unsub+tok@sender.test>",
            True,
            id="https-and-mailto",
        ),
        pytest.param("https://t.test/u/a", None, "<https://t.test/u/a>", True, id="https-only"),
        pytest.param(
            "http://127.0.0.1:8000/u/a", None, "<http://127.0.0.1:8000/u/a>", False, id="http-dev"
        ),
        pytest.param(None, "mailto:u@t.test", "<mailto:u@t.test>", False, id="mailto-only"),
    ],
)
def test_list_unsubscribe(
    url: str | None, mailto: str | None, expected_list: str, one_click: bool
) -> None:
    raw = build_message(make_email(unsubscribe_url=url, unsubscribe_mailto=mailto), date=DATE)
    assert "=?" not in header_block(raw)
    assert unfolded(raw, "List-Unsubscribe") == expected_list
    assert (b"\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in raw) is one_click


def test_no_unsubscribe_headers_without_url() -> None:
    assert b"List-Unsubscribe" not in build_message(make_email(), date=DATE)


def test_utf8_subject_and_names_round_trip() -> None:
    email = make_email(
        subject="Größe — ünïcode and a subject long enough to need folding somewhere 🙂",
        from_name="José Müller",
        to_name="Ægir O'Neil, CEO",
    )
    raw = build_message(email, date=DATE)
    raw.decode("ascii")  # 7-bit clean: no 8BITMIME needed on the server
    parsed = message_from_bytes(raw, policy=policy.default)
    assert parsed["Subject"] == email.subject
    assert parsed["From"].addresses[0].display_name == "José Müller"
    assert parsed["From"].addresses[0].addr_spec == "ann@sender.test"
    assert parsed["To"].addresses[0].display_name == "Ægir O'Neil, CEO"


def test_multipart_alternative() -> None:
    email = make_email(text="Café ☕\n", html="<p>Café ☕</p>")
    raw = build_message(email, date=DATE)
    assert raw == build_message(email, date=DATE)  # deterministic boundary
    parsed = message_from_bytes(raw, policy=policy.default)
    assert parsed.get_content_type() == "multipart/alternative"
    parts = list(parsed.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert parts[0].get_content().replace("\r\n", "\n") == "Café ☕\n"
    assert parts[1].get_content().replace("\r\n", "\n") == "<p>Café ☕</p>\n"
    assert parsed["Date"].datetime == DATE
    assert parsed["MIME-Version"] == "1.0"


def test_text_only_when_html_is_none() -> None:
    parsed = message_from_bytes(
        build_message(make_email(html=None), date=DATE), policy=policy.default
    )
    assert parsed.get_content_type() == "text/plain"
    assert not parsed.is_multipart()


def test_date_comes_from_argument() -> None:
    raw = build_message(make_email(), date=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    assert b"\r\nDate: Fri, 02 Jan 2026 03:04:05 +0000\r\n" in raw


def test_extra_headers_and_reply_to() -> None:
    raw = build_message(
        make_email(
            extra_headers=(("X-Coldflow-Campaign", "cmp_1"),), reply_to="replies@sender.test"
        ),
        date=DATE,
    )
    assert b"\r\nX-Coldflow-Campaign: cmp_1\r\n" in raw
    assert b"\r\nReply-To: replies@sender.test\r\n" in raw


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"subject": "Hi\r\nBcc: victim@x.test"}, id="subject-crlf"),
        pytest.param({"subject": "Hi\nBcc: victim@x.test"}, id="subject-lf"),
        pytest.param({"from_name": "Ann\rX: y"}, id="from-name-cr"),
        pytest.param({"to_name": "Sam\n"}, id="to-name"),
        pytest.param({"to_email": "sam@acme.test\r\nBcc: v@x.test"}, id="to-email"),
        pytest.param({"in_reply_to": "<a@b>\r\nX: y"}, id="in-reply-to"),
        pytest.param({"references": ("<a@b>", "<c@d>\nX: y")}, id="references"),
        pytest.param({"unsubscribe_url": "https://u.test/\r\nX: y"}, id="unsubscribe-url"),
        pytest.param({"extra_headers": (("X-A", "v\r\nBcc: v@x.test"),)}, id="extra-value"),
        pytest.param({"extra_headers": (("X-A\r\nBcc", "v"),)}, id="extra-name"),
    ],
)
def test_header_injection_refused(changes: dict[str, object]) -> None:
    with pytest.raises(InvalidInput) as caught:
        build_message(make_email(**changes), date=DATE)
    assert caught.value.code == "HEADER_INJECTION"


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        pytest.param({"to_email": "not-an-address"}, "INVALID_EMAIL", id="no-at"),
        pytest.param({"to_email": "a b@acme.test"}, "INVALID_EMAIL", id="space"),
        pytest.param({"to_email": "jörg@acme.test"}, "INVALID_EMAIL", id="non-ascii-local"),
        pytest.param({"message_id": "no-brackets@x"}, "INVALID_MESSAGE_ID", id="bare-id"),
        pytest.param({"references": ("<a b@c>",)}, "INVALID_MESSAGE_ID", id="space-in-id"),
        pytest.param(
            {"unsubscribe_url": "javascript:alert(1)"}, "INVALID_UNSUBSCRIBE", id="js-url"
        ),
        pytest.param({"unsubscribe_mailto": "u@t.test"}, "INVALID_UNSUBSCRIBE", id="mailto-scheme"),
        pytest.param({"extra_headers": (("Subject", "x"),)}, "INVALID_HEADER", id="reserved"),
        pytest.param({"extra_headers": (("X:Y", "x"),)}, "INVALID_HEADER", id="colon-in-name"),
    ],
)
def test_invalid_values_refused(changes: dict[str, object], code: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        build_message(make_email(**changes), date=DATE)
    assert caught.value.code == code


def test_naive_date_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        build_message(make_email(), date=datetime(2026, 1, 1, 9, 0))
    assert caught.value.code == "NAIVE_DATETIME"


def test_idn_recipient_domain_is_encoded() -> None:
    raw = build_message(make_email(to_email="sam@bücher.example"), date=DATE)
    assert b"\r\nTo: Sam Lead <sam@xn--bcher-kva.example>\r\n" in raw


@pytest.mark.parametrize(
    ("previous", "step", "expected"),
    [
        pytest.param("Quick question", None, "Re: Quick question", id="none"),
        pytest.param("Quick question", "", "Re: Quick question", id="empty"),
        pytest.param("Quick question", "   ", "Re: Quick question", id="blank"),
        pytest.param("Quick question", "Re: anything", "Re: Quick question", id="step-re"),
        pytest.param("Quick question", "RE:anything", "Re: Quick question", id="step-re-upper"),
        pytest.param("Re: Quick question", None, "Re: Quick question", id="no-re-re"),
        pytest.param(
            "RE: re:  Quick question", "re: x", "Re: Quick question", id="collapse-prefixes"
        ),
        pytest.param(
            "Quick question", "New angle for Acme", "New angle for Acme", id="own-subject"
        ),
        pytest.param("Quick question", "Regarding Acme", "Regarding Acme", id="re-word-not-prefix"),
        pytest.param("", None, "Re:", id="empty-previous"),
    ],
)
def test_reply_subject(previous: str, step: str | None, expected: str) -> None:
    assert reply_subject(previous, step) == expected


@pytest.mark.parametrize(
    "subject",
    ["Hi\x1dthere", "Hi\x85there", "Hi\u2028there", "Hi\x12there"],
    ids=["group-separator", "next-line", "line-separator", "control"],
)
def test_control_characters_in_a_header_are_refused(subject: str) -> None:
    """The email package splits headers on every str.splitlines() boundary (found by fuzzing)."""
    with pytest.raises(InvalidInput) as caught:
        check_line("subject", subject)
    assert caught.value.code == "HEADER_INJECTION"
