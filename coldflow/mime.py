"""The bytes of one outgoing email: Message-IDs, threading, one-click unsubscribe, MIME parts.

Pure: the date comes in as an argument and the Message-ID is derived from (lead, step), so every
retry of a send produces the same message and a resend can be recognised by its id.
"""

from __future__ import annotations

import base64
import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from email.errors import HeaderParseError
from email.headerregistry import Address, BaseHeader, HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.policy import SMTP, Policy
from email.utils import format_datetime

from coldflow.errors import InvalidInput

# RFC 5322 §2.1.1: a line "SHOULD" stay within 78 characters and "MUST" stay within 998.
_SOFT_LIMIT = 78
_HARD_LIMIT = 998
# RFC 5322 §3.6.4 msg-id: "<" id ">", printable ASCII without "<", ">" or spaces. Ids of inbound
# mail are taken leniently (no "@" required) so one odd client cannot break a reply thread.
_MSG_ID_RE = re.compile(r"<[\x21-\x3b\x3d\x3f-\x7e]+>")
_DOMAIN_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*")
# RFC 5322 §2.2: a field name is printable ASCII except ":".
_FIELD_NAME_RE = re.compile(r"[\x21-\x39\x3b-\x7e]+")
_URI_RE = re.compile(r"[\x21-\x3b\x3d\x3f-\x7e]+")
_RE_PREFIX_RE = re.compile(r"^\s*(?:re\s*:\s*)+", re.IGNORECASE)
_TOKEN_LENGTH = 26  # 130 bits of sha256 in base32: collision-free in practice, short to fold.
_RESERVED = frozenset(
    {
        *("from", "to", "cc", "bcc", "reply-to", "sender", "subject", "date", "message-id"),
        *("in-reply-to", "references", "list-unsubscribe", "list-unsubscribe-post"),
        *("mime-version", "content-type", "content-transfer-encoding", "return-path"),
    }
)


class _UnfoldedWordsHeader(UnstructuredHeader, BaseHeader):
    """A header whose whitespace-separated words (msg-ids, bracketed URIs) are never split.

    CPython's folder turns a msg-id or URI longer than the line into an RFC 2047 encoded-word
    (``=?utf-8?q?=3C...?=``), which breaks threading and unsubscribe in real clients
    (PITFALLS.md). Here the only folds are at the whitespace between words (RFC 5322 §2.2.3).
    """

    max_count = 1

    def fold(self, *, policy: Policy) -> str:
        lines = [f"{self.name}:"]
        has_word = False
        for word in str(self).split():
            if has_word and len(lines[-1]) + 1 + len(word) > _SOFT_LIMIT:
                lines.append("")
            lines[-1] += " " + word
            has_word = True
        return policy.linesep.join(lines) + policy.linesep


def _header_registry() -> HeaderRegistry:
    registry = HeaderRegistry()
    for name in ("message-id", "in-reply-to", "references", "list-unsubscribe"):
        registry.map_to_type(name, _UnfoldedWordsHeader)
    return registry


# email.policy.SMTP (CRLF line endings) cloned with two changes: the id and URI headers above
# never fold inside a word, and bodies are 7-bit (quoted-printable/base64 when needed) so a
# server without 8BITMIME (RFC 6152) receives the same bytes intact.
POLICY = SMTP.clone(header_factory=_header_registry(), cte_type="7bit")


@dataclass(frozen=True, slots=True)
class OutgoingEmail:
    """Everything one send puts on the wire; threading ids come with their angle brackets."""

    from_name: str
    from_email: str
    to_email: str
    to_name: str
    subject: str
    text: str
    html: str | None
    message_id: str
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    reply_to: str | None = None
    unsubscribe_url: str | None = None
    unsubscribe_mailto: str | None = None
    extra_headers: tuple[tuple[str, str], ...] = ()


def make_message_id(*, lead_id: str, step: int, domain: str, salt: str = "") -> str:
    """The Message-ID of (lead, step): ``<26 base32 chars@domain>``, the same on every retry.

    It stays short (29 characters plus the domain) so it fits a header line whole. ``salt``
    separates id spaces (e.g. a workspace, or a manual reply in the same thread). The domain is
    lower-cased and IDNA-encoded; anything that is not a host name raises INVALID_DOMAIN.
    """
    check_line("domain", domain)
    try:
        host = domain.strip().rstrip(".").lower().encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise InvalidInput.field(
            "domain", f"Invalid domain {domain!r}", code="INVALID_DOMAIN"
        ) from exc
    if not _DOMAIN_RE.fullmatch(host):
        raise InvalidInput.field("domain", f"Invalid domain {domain!r}", code="INVALID_DOMAIN")
    digest = hashlib.sha256("\x1f".join((salt, lead_id, str(step))).encode()).digest()
    token = base64.b32encode(digest).decode("ascii")[:_TOKEN_LENGTH].lower()
    return f"<{token}@{host}>"


def build_message(email: OutgoingEmail, *, date: datetime) -> bytes:
    """Serialize ``email`` to the CRLF bytes handed to SMTP.

    * text/plain only when ``html`` is None, else multipart/alternative with the HTML last, the
      part clients prefer (RFC 2046 §5.1.4).
    * Non-ASCII display names and subjects become RFC 2047 encoded-words; addresses must be
      ASCII (no SMTPUTF8), IDN domains are IDNA-encoded.
    * ``date`` must be timezone-aware (RFC 5322 §3.3 needs a zone).
    * With an unsubscribe URL or mailto: ``List-Unsubscribe`` (RFC 2369); with an https URL also
      ``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` (RFC 8058 §3.1 allows one-click only
      over HTTPS; the DKIM signature added later must cover both headers).
    * CR, LF or NUL in any header value raises HEADER_INJECTION; extra headers may not replace the
      ones built here (INVALID_HEADER).
    """
    _check_headers(email)
    if date.tzinfo is None or date.utcoffset() is None:
        raise InvalidInput.field("date", "The date must be timezone-aware", code="NAIVE_DATETIME")
    message = EmailMessage(policy=POLICY)
    message["From"] = _address("from_email", email.from_email, email.from_name)
    message["To"] = _address("to_email", email.to_email, email.to_name)
    if email.reply_to:
        message["Reply-To"] = _address("reply_to", email.reply_to, "")
    message["Subject"] = email.subject
    message["Date"] = format_datetime(date)
    message["Message-ID"] = _msg_id("message_id", email.message_id)
    # RFC 5322 §3.6.4: In-Reply-To names the parent, References the whole chain, oldest first.
    if email.in_reply_to:
        message["In-Reply-To"] = _msg_id("in_reply_to", email.in_reply_to)
    if email.references:
        ids = [_msg_id(f"references[{i}]", ref) for i, ref in enumerate(email.references)]
        message["References"] = " ".join(ids)
    _add_unsubscribe(message, email.unsubscribe_url, email.unsubscribe_mailto)
    for index, (name, value) in enumerate(email.extra_headers):
        if not _FIELD_NAME_RE.fullmatch(name) or name.lower() in _RESERVED:
            raise InvalidInput.field(
                f"extra_headers[{index}]", f"Header {name!r} cannot be set", code="INVALID_HEADER"
            )
        message[name] = value
    message.set_content(email.text)
    if email.html is not None:
        message.add_alternative(email.html, subtype="html")
        for part in message.iter_parts():
            del part["MIME-Version"]  # RFC 2045 §4: only the top-level header needs it.
        message.set_boundary(_boundary(email))
    return message.as_bytes()


def _boundary(email: OutgoingEmail) -> str:
    # The stdlib draws boundaries from `random`; this one is derived from the content instead, so
    # the bytes of a send are reproducible. RFC 2046 §5.1.1: it must not occur in the parts, and
    # "=_" cannot occur in quoted-printable output while a body holding its own hash is absurd.
    content = "\x1f".join((email.message_id, email.text, email.html or ""))
    return "=_cf_" + hashlib.sha256(content.encode()).hexdigest()[:40]


def reply_subject(previous_subject: str, step_subject: str | None) -> str:
    """The subject of a follow-up: the step's own subject, or ``Re: <previous>`` when the step's
    is empty or itself starts with ``Re:`` (any case, any spacing). Never ``Re: Re:``: existing
    prefixes of the previous subject are folded into one; an empty previous subject gives ``Re:``.
    """
    if step_subject and step_subject.strip() and not _RE_PREFIX_RE.match(step_subject):
        return step_subject.strip()
    base = _RE_PREFIX_RE.sub("", previous_subject).strip()
    return f"Re: {base}" if base else "Re:"


def check_line(field: str, value: str) -> None:
    # RFC 5322 §2.2: a header value cannot contain CR or LF; one would start a new header.
    # Python's email package also splits on every other str.splitlines() boundary (\x1c-\x1e,
    # \x85, \u2028, \u2029) and refuses them, so every control character is refused here.
    if any(
        char in "\u2028\u2029" or (unicodedata.category(char) == "Cc" and char != "\t")
        for char in value
    ):
        raise InvalidInput.field(
            field, f"{field} contains a line break or control character", code="HEADER_INJECTION"
        )


def _check_headers(email: OutgoingEmail) -> None:
    values: list[tuple[str, str | None]] = [
        ("from_name", email.from_name),
        ("from_email", email.from_email),
        ("to_email", email.to_email),
        ("to_name", email.to_name),
        ("subject", email.subject),
        ("message_id", email.message_id),
        ("in_reply_to", email.in_reply_to),
        ("reply_to", email.reply_to),
        ("unsubscribe_url", email.unsubscribe_url),
        ("unsubscribe_mailto", email.unsubscribe_mailto),
    ]
    values += [(f"references[{i}]", ref) for i, ref in enumerate(email.references)]
    for i, (name, header_value) in enumerate(email.extra_headers):
        values += [(f"extra_headers[{i}]", name), (f"extra_headers[{i}]", header_value)]
    for field, value in values:
        if value is not None:
            check_line(field, value)


def _address(field: str, addr: str, display_name: str) -> Address:
    local, at, domain = addr.strip().rpartition("@")
    try:
        domain = domain.lower().encode("idna").decode("ascii")
        if not (at and local and local.isascii()):
            raise ValueError("not an ASCII address")
        return Address(display_name=display_name.strip(), addr_spec=f"{local}@{domain}")
    except (HeaderParseError, ValueError, UnicodeError, IndexError) as exc:
        # The email package's parser raises any of these on a malformed addr-spec.
        raise InvalidInput.field(
            field, f"Invalid email address {addr!r}", code="INVALID_EMAIL"
        ) from exc


def _msg_id(field: str, value: str) -> str:
    msg_id = value.strip()
    if not _MSG_ID_RE.fullmatch(msg_id) or len(msg_id) > _HARD_LIMIT - 20:
        raise InvalidInput.field(field, f"Invalid Message-ID {value!r}", code="INVALID_MESSAGE_ID")
    return msg_id


def _add_unsubscribe(message: EmailMessage, url: str | None, mailto: str | None) -> None:
    uris: list[str] = []
    if url:
        if not url.lower().startswith(("https://", "http://")) or not _URI_RE.fullmatch(url):
            raise InvalidInput.field(
                "unsubscribe_url", "The unsubscribe URL must be http(s)", code="INVALID_UNSUBSCRIBE"
            )
        uris.append(f"<{url}>")
    if mailto:
        if not mailto.lower().startswith("mailto:") or not _URI_RE.fullmatch(mailto):
            raise InvalidInput.field(
                "unsubscribe_mailto", "Expected a mailto: URI", code="INVALID_UNSUBSCRIBE"
            )
        uris.append(f"<{mailto}>")
    if any(len(uri) > _HARD_LIMIT - 20 for uri in uris):
        raise InvalidInput.field("unsubscribe_url", "URI too long", code="INVALID_UNSUBSCRIBE")
    if uris:
        # RFC 2369 §2: bracketed URIs, comma-separated, in order of preference.
        message["List-Unsubscribe"] = ", ".join(uris)
    if url and url.lower().startswith("https://"):
        # RFC 8058 §3.1: one-click unsubscribe by POST to the HTTPS URI.
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
