"""IMAP folder operations for inbox warmup's receiving side: find the spam folder, find warmup
mail in it, move that mail to the inbox, mark it read and flagged.

They run on the mailbox watcher's own ``MailboxSession``, whose folder (normally INBOX) must be
selected between calls, as the watcher's UID cursor only means something there: each function
visits another folder through ``selected``, which SELECTs the session's folder again. Never call
them while the session IDLEs. A visit makes the next ``take_announced()`` true (SELECT reports
EXISTS): one extra look at the watcher's folder, which may well find the mail just moved there.
"""

from __future__ import annotations

import base64
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import Any, Protocol

import aioimaplib

from coldflow.imap import FolderState, ImapUnavailable, MailboxSession, quote_mailbox

DEFAULT_JUNK_NAMES = ("Junk", "Spam", "Junk E-mail", "[Gmail]/Spam")

_JUNK = "\\junk"
# RFC 5258: \NonExistent implies \Noselect; neither can be SELECTed, whatever it is flagged.
_UNSELECTABLE = frozenset({"\\noselect", "\\nonexistent"})
_LITERAL = re.compile(rb"\{(\d+)\+?\}$")
_QUOTED = re.compile(rb'"(?:\\.|[^"\\])*"')
_LIST_HEAD = re.compile(rb'\(([^)]*)\) +(NIL|"(?:\\.|[^"\\])*") +', re.IGNORECASE)
_COPYUID = re.compile(rb"\[COPYUID \d+ ([0-9:,]+) ([0-9:,]+)\]", re.IGNORECASE)
# RFC 5322 ftext: a header field name is printable ASCII without ':' or space.
_HEADER_NAME = re.compile(r"[!-9;-~]+")


@dataclass(frozen=True)
class ListedMailbox:
    """One LIST answer. ``name`` is as on the wire (modified UTF-7 stays encoded), so that
    ``quote_mailbox(name)`` SELECTs exactly this folder; attributes are lower-cased."""

    name: str
    delimiter: str | None
    attributes: frozenset[str]

    @property
    def selectable(self) -> bool:
        return not self.attributes & _UNSELECTABLE


class _Connection(Protocol):
    def has_capability(self, name: str) -> bool: ...

    async def execute(self, command: Callable[[Any], Awaitable[Any]]) -> Any: ...


class _BareClient:
    """A logged-in aioimaplib client seen as a session; its owner handles its errors."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def has_capability(self, name: str) -> bool:
        return bool(self._client.has_capability(name))

    async def execute(self, command: Callable[[Any], Awaitable[Any]]) -> Any:
        return await command(self._client)


async def find_junk_folder(
    session_or_client: MailboxSession | aioimaplib.IMAP4,
    configured: Sequence[str] = DEFAULT_JUNK_NAMES,
) -> str | None:
    """The spam folder's wire name: the mailbox LIST marks ``\\Junk`` (RFC 6154), else the first
    of ``configured`` that exists (see ``pick_junk``), else None. Leaves the selection as it was.
    """
    return pick_junk(await list_mailboxes(session_or_client), configured)


async def list_mailboxes(
    session_or_client: MailboxSession | aioimaplib.IMAP4,
) -> list[ListedMailbox]:
    """Every mailbox, with special-use attributes where the server knows them.

    ``RETURN (SPECIAL-USE)`` is LIST-EXTENDED syntax (RFC 5258), so it is asked only when both
    capabilities are advertised; a server that still refuses it gets the plain LIST, which many
    servers (Dovecot among them) annotate with ``\\Junk`` anyway.
    """
    if isinstance(session_or_client, MailboxSession):
        conn: _Connection = session_or_client
    else:
        conn = _BareClient(session_or_client)
    if conn.has_capability("SPECIAL-USE") and conn.has_capability("LIST-EXTENDED"):
        response = await conn.execute(lambda c: c.list('""', '"*" RETURN (SPECIAL-USE)'))
        if response.result == "OK":
            return parse_list_response(response.lines[:-1])
    response = await conn.execute(lambda c: c.list('""', '"*"'))
    _expect_ok(response, "LIST")
    return parse_list_response(response.lines[:-1])


def pick_junk(mailboxes: Sequence[ListedMailbox], configured: Sequence[str]) -> str | None:
    """The selectable mailbox flagged ``\\Junk``, else the first configured name that exists.

    A configured name matches as given or encoded in modified UTF-7 ("Courrier indésirable"),
    with ``/`` read as the server's delimiter, and also under ``INBOX<delimiter>`` (servers
    that keep every folder below INBOX, e.g. ``INBOX.Spam``). Exact matches win over ones that
    only agree case-insensitively; mailbox names other than INBOX are case-sensitive.
    """
    if isinstance(configured, str):  # a lone name is a Sequence[str] of its letters
        configured = (configured,)
    usable = [m for m in mailboxes if m.selectable]
    for mailbox in usable:
        if _JUNK in mailbox.attributes:
            return mailbox.name
    for exact in (True, False):
        for wanted in configured:
            for mailbox in usable:
                if _matches(mailbox, wanted, exact=exact):
                    return mailbox.name
    return None


def _matches(mailbox: ListedMailbox, wanted: str, *, exact: bool) -> bool:
    delimiter = mailbox.delimiter or "/"
    spellings = {wanted, encode_mailbox_name(wanted)}
    spellings |= {s.replace("/", delimiter) for s in spellings}
    spellings |= {f"INBOX{delimiter}{s}" for s in spellings}
    if exact:
        return mailbox.name in spellings
    return mailbox.name.casefold() in {s.casefold() for s in spellings}


@asynccontextmanager
async def selected(session: MailboxSession, folder: str) -> AsyncIterator[FolderState]:
    """SELECT ``folder`` for the block, then the session's own folder again.

    RFC 3501 6.3.1: a SELECT that fails leaves *no* folder selected, so a missing ``folder``
    also sends the session home before its ``ImapUnavailable`` goes up. If the way home fails,
    or home answers with another UIDVALIDITY, the session is closed: any later use raises
    instead of silently reading the wrong folder. After a cancellation nothing is sent; the
    owner closes the session. Not re-entrant: call no function of this module inside the block.
    """
    home = session.settings.folder
    if _same_mailbox(folder, home):
        yield session.folder
        return
    try:
        state = await session.select(folder)
    except ImapUnavailable:
        with suppress(ImapUnavailable):
            await _return_home(session)
        raise
    try:
        yield state
    except Exception:
        with suppress(ImapUnavailable):
            await _return_home(session)
        raise
    await _return_home(session)


async def _return_home(session: MailboxSession) -> None:
    try:
        state = await session.select(session.settings.folder)
    except ImapUnavailable:
        await session.close()
        raise
    if state.uidvalidity != session.folder.uidvalidity:
        # The watcher's cursor is for the old UIDVALIDITY: the next session re-syncs.
        await session.close()
        raise ImapUnavailable(
            f"IMAP folder changed UIDVALIDITY: {session.folder.uidvalidity} -> {state.uidvalidity}"
        )


async def uids_with_header(session: MailboxSession, folder: str, header: str) -> list[int]:
    """UIDs in ``folder`` of the messages that carry ``header`` at all, ascending.

    RFC 3501: ``HEADER name ""`` matches every message with that field, whatever its value.
    Leaves the session's own folder selected.
    """
    criteria = f'HEADER {_header(header)} ""'
    async with selected(session, folder):
        return await session.search(criteria)


async def move_to_inbox(
    session: MailboxSession,
    folder: str,
    uids: Sequence[int],
    *,
    destination: str = "INBOX",
    require_header: str | None = None,
) -> dict[int, int | None]:
    """Move these messages from ``folder`` to ``destination``; {old UID: new UID or None}.

    The keys are the messages this call moved: a UID that is gone (moved already, expunged) is
    skipped, so moving twice is harmless. A message already flagged ``\\Deleted`` is not moved
    either (see ``_copy_then_delete``). The new UID comes from COPYUID (RFC 4315) and is None
    when the server does not say. ``require_header`` moves only messages that still carry it,
    which protects other mail when the UIDs are stale. Leaves the session's own folder selected.

    ``UID MOVE`` (RFC 6851) is atomic. Without MOVE the copy fallback is at-least-once: a crash
    between its COPY and its STORE leaves a duplicate in ``destination`` on the retry.
    """
    if not uids:
        return {}
    criteria = f"UID {_uid_set(uids)} UNDELETED"
    if require_header is not None:
        criteria += f' HEADER {_header(require_header)} ""'
    async with selected(session, folder):
        present = await session.search(criteria)
        if session.has_capability("MOVE"):
            return await _move(session, present, destination)
        return await _copy_then_delete(session, uids, present, destination, require_header)


async def _move(
    session: MailboxSession, present: Sequence[int], destination: str
) -> dict[int, int | None]:
    if not present:
        return {}
    uid_set, target = _uid_set(present), quote_mailbox(destination)
    response = await session.execute(lambda c: c.uid("move", uid_set, target))
    _expect_ok(response, "UID MOVE")
    new = _copyuids(response.lines, len(present))
    return {uid: new.get(uid) for uid in present}


async def _copy_then_delete(
    session: MailboxSession,
    requested: Sequence[int],
    present: Sequence[int],
    destination: str,
    require_header: str | None,
) -> dict[int, int | None]:
    """COPY, then ``\\Deleted``, then ``UID EXPUNGE`` of exactly those UIDs (UIDPLUS).

    A plain EXPUNGE is never sent: it removes *every* ``\\Deleted`` message of the folder,
    including the user's own that their client merely marked (clients that delete by flagging
    and purge later, so the user can still undo). Without UIDPLUS the originals stay behind,
    flagged ``\\Deleted``, until the user's client purges them; they are in ``destination``
    already, and UNDELETED in the search keeps a retry from copying them again. With UIDPLUS,
    requested messages already ``\\Deleted`` are expunged too: that finishes an interrupted
    earlier call (or the user's own deletion of a warmup message); other UIDs are never touched.
    """
    moved: dict[int, int | None] = {}
    if present:
        uid_set, target = _uid_set(present), quote_mailbox(destination)
        copied = await session.execute(lambda c: c.uid("copy", uid_set, target))
        _expect_ok(copied, "UID COPY")
        new = _copyuids(copied.lines, len(present))
        stored = await session.execute(
            lambda c: c.uid("store", uid_set, "+FLAGS.SILENT (\\Deleted)")
        )
        _expect_ok(stored, "UID STORE")
        moved = {uid: new.get(uid) for uid in present}
    if not session.has_capability("UIDPLUS"):
        return moved
    criteria = f"UID {_uid_set(requested)} DELETED"
    if require_header is not None:
        criteria += f' HEADER {_header(require_header)} ""'
    leftover = await session.search(criteria)
    if leftover:
        expunge_set = _uid_set(leftover)
        response = await session.execute(lambda c: c.uid("expunge", expunge_set))
        _expect_ok(response, "UID EXPUNGE")
    return moved


async def mark_seen_and_flagged(session: MailboxSession, folder: str, uids: Sequence[int]) -> None:
    """Set ``\\Seen`` and ``\\Flagged`` on these messages of ``folder``: warmup mail should look
    read and starred. UIDs that are gone are ignored. Leaves the session's own folder selected.
    """
    if not uids:
        return
    uid_set = _uid_set(uids)
    async with selected(session, folder):
        response = await session.execute(
            lambda c: c.uid("store", uid_set, "+FLAGS.SILENT (\\Seen \\Flagged)")
        )
        _expect_ok(response, "UID STORE")


def parse_list_response(lines: Sequence[bytes | bytearray]) -> list[ListedMailbox]:
    """The mailboxes in LIST data as aioimaplib hands it over (``* LIST`` stripped).

    A name sent as a literal arrives as the line ``(...) "/" {n}``, then the name as a
    bytearray, then the rest of that response line (LIST-EXTENDED data) if there is any.
    Quoted names are unescaped; a name that is not UTF-8, or a line that does not parse, is
    skipped, since it could not be SELECTed through aioimaplib anyway.
    """
    records: list[list[bytes | bytearray]] = []
    wants_literal = after_literal = False
    for line in lines:
        if isinstance(line, bytearray):
            if wants_literal:
                records[-1].append(line)
            after_literal, wants_literal = wants_literal, False
            continue
        if after_literal and line.startswith(b" "):
            records[-1].append(line)
        elif line.startswith(b"("):
            records.append([line])
        wants_literal = line.startswith(b"(") and _LITERAL.search(line) is not None
        after_literal = False
    found = []
    for record in records:
        with suppress(ValueError, IndexError):
            found.append(_parse_list_record(record))
    return found


def _parse_list_record(record: list[bytes | bytearray]) -> ListedMailbox:
    line = bytes(record[0])
    head = _LIST_HEAD.match(line)
    if head is None:
        raise ValueError("not a LIST response")
    attributes = frozenset(head.group(1).decode().lower().split())
    delimiter = None if head.group(2).upper() == b"NIL" else _unquote(head.group(2)).decode()
    rest = line[head.end() :]
    if (literal := _LITERAL.fullmatch(rest)) is not None:
        name = bytes(record[1])
        if len(name) != int(literal.group(1)):
            raise ValueError("truncated literal")
    elif rest.startswith(b'"'):
        if (quoted := _QUOTED.match(rest)) is None:
            raise ValueError("unterminated quoted string")
        name = _unquote(quoted.group())
    else:
        name = re.split(rb"[ (]", rest, maxsplit=1)[0]
    if not name:
        raise ValueError("no mailbox name")
    return ListedMailbox(name.decode(), delimiter, attributes)


def _unquote(quoted: bytes) -> bytes:
    return re.sub(rb"\\(.)", rb"\1", quoted[1:-1])


def encode_mailbox_name(name: str) -> str:
    """``name`` in modified UTF-7 (RFC 3501 5.1.3), the form LIST shows and SELECT takes.

    Printable ASCII stays itself except ``&`` (``&-``); other runs become ``&`` + base64 of
    UTF-16BE with ``,`` for ``/`` and no padding + ``-``.
    """
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            raw = base64.b64encode("".join(pending).encode("utf-16-be")).decode()
            out.append("&" + raw.rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for char in name:
        if " " <= char <= "~":
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    return "".join(out)


def _copyuids(lines: Sequence[bytes | bytearray], limit: int) -> dict[int, int]:
    """Source → new UID from every COPYUID response code (a server may send several)."""
    mapping: dict[int, int] = {}
    for line in lines:
        if not isinstance(line, bytes):  # a literal is message data, never a response code
            continue
        for match in _COPYUID.finditer(line):
            source, target = _expand(match.group(1), limit), _expand(match.group(2), limit)
            if source is not None and target is not None and len(source) == len(target):
                mapping.update(zip(source, target, strict=True))
    return mapping


def _expand(uid_set: bytes, limit: int) -> list[int] | None:
    """``3:5,9`` → [3, 4, 5, 9], in the written order (RFC 4315 pairs the two sets by order);
    None past ``limit`` UIDs, so a malformed range cannot exhaust memory."""
    uids: list[int] = []
    for part in uid_set.split(b","):
        first, _, last = part.partition(b":")
        start, end = int(first), int(last or first)
        step = 1 if end >= start else -1
        if len(uids) + abs(end - start) + 1 > limit:
            return None
        uids.extend(range(start, end + step, step))
    return uids


def _uid_set(uids: Sequence[int]) -> str:
    return ",".join(str(uid) for uid in sorted(set(uids)))


def _header(name: str) -> str:
    if not _HEADER_NAME.fullmatch(name):
        raise ValueError(f"not a header field name: {name!r}")
    return quote_mailbox(name)


def _same_mailbox(a: str, b: str) -> bool:
    # RFC 3501 5.1: INBOX is case-insensitive; every other name is compared as it is.
    return a == b or a.upper() == b.upper() == "INBOX"


def _expect_ok(response: Any, what: str) -> None:
    if response.result != "OK":
        text = b" ".join(bytes(line) for line in response.lines).decode(errors="replace")
        raise ImapUnavailable(f"IMAP {what} failed: {text.strip()[:300]}")
