"""Incoming mail → bounce | auto_reply | unsubscribe | reply, with a label for the unibox.

Pure: ``parse`` turns the bytes of one fetched message into a ``ParsedMessage`` (stdlib ``email``,
policy ``default``) and never raises, whatever the bytes; ``classify`` decides what the message
is from that value alone. The pattern tables live in ``coldflow.classify_rules``.

Rules, in order (the first that applies wins):

1. **bounce**: a delivery status notification (RFC 3464 ``multipart/report;
   report-type=delivery-status``; per recipient ``Status: 5.x.x`` is hard, ``4.x.x`` soft), or a
   mailer-daemon message without one (sender ``mailer-daemon``/``postmaster``, an
   ``X-Failed-Recipients`` header or a bounce subject, with the SMTP code read from its text).
2. **auto_reply**: ``Auto-Submitted`` other than ``no`` (RFC 3834), ``X-Autoreply``,
   ``X-Autorespond``, ``Precedence: auto_reply/bulk/junk``, an out-of-office subject,
   ``X-Auto-Response-Suppress`` with one out-of-office phrase, or two kinds of out-of-office phrase
   in the text. Labelled ``out_of_office``, or ``left_company`` when it says the person left.
3. **unsubscribe**: an opt-out request in the text the person wrote now (never in the quoted
   history or a signature, where our own footer sits), or a bare "unsubscribe"/"stop" subject.
4. **reply**: labelled by the weighted rules of ``classify_rules.RULES``.

``is_positive`` is true for interested, meeting_requested and needs_more_info: asking for the
deck or the price is engagement a rep should follow up. A question ("how did you get my
address?") or a referral (the lead themselves is not engaged) is not positive.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email import message_from_bytes
from email.errors import HeaderParseError, MessageError
from email.message import EmailMessage, Message
from email.policy import default
from email.utils import getaddresses, parsedate_to_datetime
from enum import StrEnum
from typing import NamedTuple, TypeVar

from coldflow import classify_rules as rules
from coldflow.classify_rules import latest_reply_text as latest_reply_text
from coldflow.templates import html_to_text


class Kind(StrEnum):
    BOUNCE = "bounce"
    AUTO_REPLY = "auto_reply"
    UNSUBSCRIBE = "unsubscribe"
    REPLY = "reply"


# Seed 003's conversation labels, in its order (label_override accepts exactly these).
LABELS: tuple[str, ...] = (
    *("interested", "not_interested", "needs_more_info", "meeting_requested", "wrong_person"),
    *("out_of_office", "referral", "question", "neutral", "unsubscribe", "left_company"),
)
POSITIVE_LABELS = frozenset({"interested", "meeting_requested", "needs_more_info"})

# The stdlib's header parser has raised each of these on malformed input in some 3.x release;
# parse() promises never to raise, so any of them degrades the one value to empty.
_PARSE_ERRORS = (
    *(HeaderParseError, MessageError, LookupError, ValueError, TypeError),
    *(AttributeError, IndexError, AssertionError, UnicodeError),
)
_MSG_ID = re.compile(r"<[^<>\s]+>")
DsnFields = tuple[tuple[str, str], ...]
_T = TypeVar("_T")


class Attachment(NamedTuple):
    filename: str
    content_type: str
    size: int


@dataclass(frozen=True, slots=True)
class ParsedMessage:
    """What coldflow keeps of one inbound message; missing headers are empty, never an error."""

    message_id: str = ""
    in_reply_to: str = ""
    references: tuple[str, ...] = ()
    from_email: str = ""
    from_name: str = ""
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    subject: str = ""
    date: datetime | None = None
    text: str = ""
    html: str | None = None
    # Every header as (lower-cased name, unfolded value), in message order.
    headers: tuple[tuple[str, str], ...] = ()
    content_type: str = "text/plain"
    report_type: str = ""
    # RFC 3464 field blocks of a message/delivery-status part: per-message first, then one per
    # recipient; names lower-cased.
    delivery_status: tuple[DsnFields, ...] = ()
    # Message-ID of the message a DSN returns (message/rfc822 or text/rfc822-headers part).
    returned_message_id: str = ""
    attachments: tuple[Attachment, ...] = ()
    # The decoded bytes of each attachment, index for index.
    attachment_data: tuple[bytes, ...] = field(default=(), repr=False, compare=False)

    def header(self, name: str) -> str:
        """The first value of header ``name`` (any case), or ``""``."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key == wanted), "")


@dataclass(frozen=True, slots=True)
class BounceInfo:
    hard: bool
    status: str  # RFC 3463 enhanced code, e.g. "5.1.1"; "" when the bounce gives none
    diagnostic: str
    original_recipient: str
    original_message_id: str


@dataclass(frozen=True, slots=True)
class Classification:
    kind: Kind
    label: str | None
    is_positive: bool = False
    bounce: BounceInfo | None = None
    return_date: date | None = None
    # An RFC 5965 abuse report (a spam complaint through a feedback loop): an unsubscribe of
    # the recipient who complained, naming the message complained about.
    complaint_message_id: str | None = None


def parse(raw: bytes) -> ParsedMessage:
    """Parse one raw RFC 5322 message; garbage gives a ParsedMessage of empty values.

    ``text`` is the first text/plain body part, else the HTML converted to text. Parts inside an
    attached message (message/rfc822) are not bodies: a DSN's returned message only supplies
    ``returned_message_id``. Non-UTF-8 and unknown charsets decode with replacement characters.
    """
    try:
        message = message_from_bytes(raw, policy=default)
    except _PARSE_ERRORS:
        return ParsedMessage()
    headers = tuple(_headers(message))
    get = dict(reversed(headers)).get  # the first occurrence of a repeated header wins
    text, html, attachments, data = _bodies(message)
    sender = _addresses(get("from", ""))
    return ParsedMessage(
        message_id=next(iter(_ids(get("message-id", ""))), ""),
        in_reply_to=next(iter(_ids(get("in-reply-to", ""))), ""),
        references=_ids(get("references", "")),
        from_email=sender[0][1] if sender else "",
        from_name=sender[0][0] if sender else "",
        to=tuple(email for _, email in _addresses(get("to", ""))),
        cc=tuple(email for _, email in _addresses(get("cc", ""))),
        subject=get("subject", ""),
        date=_date(get("date", "")),
        text=text,
        html=html,
        headers=headers,
        content_type=_safe(message.get_content_type, "text/plain"),
        report_type=_safe(lambda: str(message.get_param("report-type", "")), "").lower(),
        delivery_status=tuple(_delivery_status(message)),
        returned_message_id=_returned_message_id(message),
        attachments=attachments,
        attachment_data=data,
    )


def classify(msg: ParsedMessage) -> Classification:
    """Bounce, auto-reply, unsubscribe request or labelled reply; see the module docstring."""
    if msg.report_type == "feedback-report":
        # RFC 5965 (ARF): the recipient marked our message as spam; never write to them again.
        original = msg.returned_message_id or msg.in_reply_to
        return Classification(Kind.UNSUBSCRIBE, "unsubscribe", complaint_message_id=original)
    bounce = _bounce(msg)
    if bounce is not None:
        return Classification(Kind.BOUNCE, None, bounce=bounce)
    if msg.report_type == "disposition-notification" or _only_successes(msg):
        # RFC 8098 read receipts and success DSNs are machine mail, but nothing went wrong.
        return Classification(Kind.AUTO_REPLY, None)
    latest = rules.latest_reply_text(msg.text)
    if _is_auto_reply(msg, latest):
        if rules.best_label(latest) == "left_company":
            return Classification(Kind.AUTO_REPLY, "left_company")
        sent = msg.date.date() if msg.date is not None else None
        return Classification(
            Kind.AUTO_REPLY, "out_of_office", return_date=rules.find_return_date(latest, sent)
        )
    if rules.is_unsubscribe_request(msg.subject, latest):
        return Classification(Kind.UNSUBSCRIBE, "unsubscribe")
    label = rules.best_label(latest)
    return Classification(Kind.REPLY, label, is_positive=label in POSITIVE_LABELS)


# --- parsing helpers --------------------------------------------------------------------------


def _safe(call: Callable[[], _T], fallback: _T) -> _T:
    try:
        return call()
    except _PARSE_ERRORS:
        return fallback


def _headers(message: Message) -> Iterator[tuple[str, str]]:
    for name, raw in message.raw_items():
        try:
            value = str(message.policy.header_fetch_parse(name, raw))
        except _PARSE_ERRORS:
            value = str(raw)
        yield name.lower(), " ".join(value.split())


def _ids(value: str) -> tuple[str, ...]:
    return tuple(_MSG_ID.findall(value))


def _addresses(value: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = _safe(lambda: getaddresses([value]), [])
    return [(name, email.lower()) for name, email in found if "@" in email]


def _date(value: str) -> datetime | None:
    try:
        parsed = parsedate_to_datetime(value)
    except (*_PARSE_ERRORS, OverflowError):
        return None
    # RFC 5322 §3.3: "-0000" means the local zone is unknown; the instant is still UTC.
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _leaves(part: Message) -> Iterator[Message]:
    """Body parts, depth first, without descending into attached messages."""
    if part.is_multipart() and part.get_content_maintype() == "multipart":
        for child in part.get_payload():
            if isinstance(child, Message):
                yield from _leaves(child)
    else:
        yield part


def _bodies(
    message: Message,
) -> tuple[str, str | None, tuple[Attachment, ...], tuple[bytes, ...]]:
    text: str | None = None
    html: str | None = None
    attachments: list[Attachment] = []
    data: list[bytes] = []
    for part in _leaves(message):
        content_type = _safe(part.get_content_type, "application/octet-stream")
        disposition = str(_safe(part.get_content_disposition, None) or "")
        filename = _safe(part.get_filename, None)
        if disposition == "attachment" or filename:
            payload = _payload_bytes(part)
            attachments.append(Attachment(str(filename or ""), content_type, len(payload)))
            data.append(payload)
        elif content_type == "text/plain" and text is None:
            text = _decoded(part)
        elif content_type == "text/html" and html is None:
            html = _decoded(part)
    if text is None:
        text = html_to_text(html) if html else ""
    return text, html, tuple(attachments), tuple(data)


def _payload_bytes(part: Message) -> bytes:
    if part.get_content_maintype() == "message":
        return bytes(part.as_bytes()) if isinstance(part, EmailMessage) else b""
    payload = _safe(lambda: part.get_payload(decode=True), None)
    return payload if isinstance(payload, bytes) else b""


def _decoded(part: Message) -> str:
    try:
        content = part.get_content()  # type: ignore[attr-defined]
        if isinstance(content, str):
            return content
    except _PARSE_ERRORS:
        pass
    payload = _payload_bytes(part)
    charset = str(_safe(part.get_content_charset, None) or "utf-8")
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:
        return payload.decode("utf-8", errors="replace")


def _delivery_status(message: Message) -> Iterator[DsnFields]:
    for part in message.walk():
        if part.get_content_type() not in {
            "message/delivery-status",
            "message/global-delivery-status",  # RFC 6533
        }:
            continue
        payload = part.get_payload()
        if isinstance(payload, list):
            for block in (b for b in payload if isinstance(b, Message)):
                yield tuple((k.lower(), " ".join(str(v).split())) for k, v in block.raw_items())
        elif isinstance(payload, str):  # a generator the stdlib did not split into blocks
            for chunk in re.split(r"\n\s*\n", _decoded(part).replace("\r\n", "\n")):
                fields = re.findall(r"^([\w-]+):[ \t]*(.*(?:\n[ \t].*)*)", chunk, re.MULTILINE)
                yield tuple((k.lower(), " ".join(v.split())) for k, v in fields)


def _returned_message_id(message: Message) -> str:
    for part in message.walk():
        content_type = part.get_content_type()
        if content_type in {"message/rfc822", "message/global"}:
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                found = dict(_headers(inner[0])).get("message-id", "")
                if _ids(found):
                    return _ids(found)[0]
        elif content_type == "text/rfc822-headers":
            match = rules.MESSAGE_ID_HEADER.search(_decoded(part))
            if match is not None:
                return match.group(1)
    return ""


# --- classification helpers -------------------------------------------------------------------


def _recipient_blocks(msg: ParsedMessage) -> list[dict[str, str]]:
    blocks = [dict(block) for block in msg.delivery_status]
    return [b for b in blocks if "final-recipient" in b or "action" in b or "status" in b]


def _only_successes(msg: ParsedMessage) -> bool:
    blocks = _recipient_blocks(msg)
    return bool(blocks) and all(
        b.get("action", "").lower() in {"delivered", "relayed", "expanded"} for b in blocks
    )


def _bounce(msg: ParsedMessage) -> BounceInfo | None:
    report_text, _, returned_text = _split_returned(msg.text)
    message_id = (
        msg.returned_message_id
        or _first_group(rules.MESSAGE_ID_HEADER, returned_text)
        or _per_message_field(msg, "x-original-message-id")
        or msg.in_reply_to
        or (msg.references[-1] if msg.references else "")
    )
    for block in _recipient_blocks(msg):
        action = block.get("action", "").lower()
        status = _first_group(rules.ENHANCED_STATUS, block.get("status", ""), whole=True)
        diagnostic = re.sub(r"^\w+\s*;\s*", "", block.get("diagnostic-code", ""))
        failed = action == "failed" or status.startswith("5")
        if not (failed or action == "delayed" or status.startswith("4")):
            continue
        recipient = block.get("original-recipient") or block.get("final-recipient", "")
        hard = status.startswith("5") if status else action == "failed"
        return BounceInfo(hard, status, diagnostic, _address_of(recipient), message_id)
    if msg.delivery_status or not _looks_like_daemon_bounce(msg, report_text):
        return None
    status = _first_group(rules.ENHANCED_STATUS, report_text, whole=True)
    code = _first_group(rules.SMTP_REPLY_CODE, report_text)
    if status or code:
        hard = (status or code).startswith("5")
    else:
        hard = not rules.SOFT_PHRASES.search(f"{msg.subject}\n{report_text}")
    address = msg.header("x-failed-recipients").split(",")[0]  # Exim names it outright
    if not address:
        found = rules.FAILED_ADDRESS.search(report_text)
        address = next((g for g in found.groups() if g), "") if found else ""
    if not address:
        own = {msg.from_email, *msg.to}
        address = next((a for a in rules.EMAIL_ADDRESS.findall(report_text) if a not in own), "")
    return BounceInfo(hard, status, _diagnostic_line(report_text), _address_of(address), message_id)


def _split_returned(text: str) -> tuple[str, str, str]:
    match = rules.RETURNED_COPY.search(text)
    if match is None:
        return text, "", ""
    return text[: match.start()], match.group(0), text[match.end() :]


def _looks_like_daemon_bounce(msg: ParsedMessage, report_text: str) -> bool:
    from_daemon = msg.from_email.partition("@")[0] in rules.DAEMON_LOCALPARTS
    evidence = bool(
        rules.ENHANCED_STATUS.search(report_text)
        or rules.SMTP_REPLY_CODE.search(report_text)
        or rules.BOUNCE_PHRASES.search(report_text)
    )
    bounce_subject = bool(rules.BOUNCE_SUBJECT.search(msg.subject))
    if msg.header("x-failed-recipients"):
        return True
    return (from_daemon and (bounce_subject or evidence)) or (bounce_subject and evidence)


def _per_message_field(msg: ParsedMessage, name: str) -> str:
    for block in msg.delivery_status:
        for key, value in block:
            if key == name:
                return next(iter(_ids(value)), "")
    return ""


def _first_group(pattern: re.Pattern[str], text: str, *, whole: bool = False) -> str:
    match = pattern.search(text)
    if match is None:
        return ""
    return match.group(0) if whole else match.group(1)


def _address_of(value: str) -> str:
    found = rules.EMAIL_ADDRESS.search(value.partition(";")[2] or value)
    return found.group(0).lower() if found else ""


def _diagnostic_line(report_text: str) -> str:
    for line in report_text.splitlines():
        if rules.ENHANCED_STATUS.search(line) or rules.SMTP_REPLY_CODE.search(line):
            return " ".join(line.split())
    return ""


def _is_auto_reply(msg: ParsedMessage, latest: str) -> bool:
    auto_submitted = msg.header("auto-submitted").split(";")[0].strip().lower()
    if auto_submitted and auto_submitted != "no":  # RFC 3834 §5.1
        return True
    if msg.header("x-autoreply") or msg.header("x-autorespond"):
        return True
    if msg.header("precedence").strip().lower() in rules.AUTO_PRECEDENCE:
        return True
    if rules.OOO_SUBJECT.search(msg.subject):
        return True
    hits = rules.out_of_office_evidence(latest)
    # Exchange puts X-Auto-Response-Suppress on its own auto-replies, but also on much ordinary
    # mail: alone it proves nothing, next to one out-of-office phrase it settles the question.
    if any(name == "x-auto-response-suppress" for name, _ in msg.headers):
        return hits >= 1
    return hits >= 2
