"""IMAP access (aioimaplib): the connection check, and the session the mailbox watcher holds.

aioimaplib has no STARTTLS, so a mailbox is reached over implicit TLS (993) or, on a trusted
network such as the tests' loopback, in plain text (PITFALLS.md). aioimaplib also never fails a
pending command when the connection drops, so every wait here is bounded and a dropped
connection is noticed through the protocol's connection-lost callback or the server's ``BYE``.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import date
from types import TracebackType
from typing import Any

import aioimaplib

from coldflow.errors import CodedError
from coldflow.models import TransportSecurity

_UIDVALIDITY = re.compile(rb"\[UIDVALIDITY (\d+)\]")
_UIDNEXT = re.compile(rb"\[UIDNEXT (\d+)\]")
_FETCH_UID = re.compile(rb"\bUID (\d+)")
_FETCH_START = re.compile(rb"^\d+ FETCH \(")
# RFC 5530: a NO to LOGIN with [UNAVAILABLE] is the server's trouble, not wrong credentials.
_TEMPORARY_NO = re.compile(rb"\[(UNAVAILABLE|INUSE|LIMIT)\]", re.IGNORECASE)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class ImapSettings:
    host: str
    port: int
    username: str
    password: str
    security: TransportSecurity
    folder: str = "INBOX"
    timeout: float = 15.0


class ImapLoginFailed(CodedError):
    """The server refused the credentials: the inbox goes to ``error`` until they are fixed."""

    code = "IMAP_LOGIN_FAILED"
    status = 422


class ImapUnavailable(CodedError):
    """The server could not be reached or answered unexpectedly; worth retrying later."""

    code = "IMAP_UNAVAILABLE"
    status = 503


def client_for(settings: ImapSettings) -> aioimaplib.IMAP4:
    if settings.security == TransportSecurity.tls:
        return aioimaplib.IMAP4_SSL(settings.host, settings.port, timeout=settings.timeout)
    return aioimaplib.IMAP4(settings.host, settings.port, timeout=settings.timeout)


async def check_login(settings: ImapSettings) -> None:
    """Log in and select the folder; nothing is read or changed."""
    client = client_for(settings)
    try:
        await client.wait_hello_from_server()
        response = await client.login(settings.username, settings.password)
        if response.result != "OK":
            raise ImapLoginFailed(f"IMAP login refused: {_text(response.lines)}")
        selected = await client.select(settings.folder)
        if selected.result != "OK":
            raise ImapLoginFailed(
                f"IMAP folder {settings.folder!r} unusable: {_text(selected.lines)}"
            )
        await client.logout()
    except CodedError:
        raise
    except (OSError, TimeoutError, aioimaplib.AioImapException) as exc:
        raise ImapUnavailable(f"IMAP connection failed: {type(exc).__name__}: {exc}") from exc


@dataclass(frozen=True)
class FolderState:
    """What SELECT says about the folder: UIDs only mean something under one UIDVALIDITY."""

    uidvalidity: int
    uidnext: int


@dataclass(frozen=True)
class FetchedMessage:
    uid: int
    raw: bytes


class MailboxSession:
    """One logged-in connection with the folder selected; use ``async with MailboxSession(s)``.

    Every method raises ``ImapUnavailable`` when the connection is gone or a command does not
    answer in time, and ``ImapLoginFailed`` when the credentials are refused.
    """

    def __init__(self, settings: ImapSettings) -> None:
        self.settings = settings
        self.folder = FolderState(0, 0)
        self._client: Any = None
        self._lost = False
        # Set by any "* n EXISTS" from the server: mail arrived (see _open).
        self._announced = False

    async def __aenter__(self) -> MailboxSession:
        try:
            await self._guard(self._open())
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def has_idle(self) -> bool:
        return bool(self._client is not None and self._client.has_capability("IDLE"))

    async def _open(self) -> None:
        client = client_for(self.settings)
        self._client = client
        protocol = client.protocol
        # aioimaplib only reports a dropped connection through this callback (IMAP4_SSL's
        # constructor does not take it, so it is set on the protocol for both).
        protocol.conn_lost_cb = self._on_lost
        untagged = protocol._untagged_response

        def noticing(line: bytes) -> Any:
            # aioimaplib drops a "* n EXISTS" that arrives while SEARCH or FETCH runs, and the
            # server never repeats it: an IDLE entered after that would wait blind.
            if line.endswith(b"EXISTS"):
                self._announced = True
            return untagged(line)

        protocol._untagged_response = noticing
        await client.wait_hello_from_server()
        response = await client.login(self.settings.username, self.settings.password)
        if response.result != "OK":
            text = _text(response.lines)
            if _TEMPORARY_NO.search(text.encode()):
                raise ImapUnavailable(f"IMAP login temporarily refused: {text}")
            raise ImapLoginFailed(f"IMAP login refused: {text}")
        selected = await client.select(quote_mailbox(self.settings.folder))
        if selected.result != "OK":
            # A missing folder may be one being recreated (a UIDVALIDITY change): try again.
            raise ImapUnavailable(
                f"IMAP folder {self.settings.folder!r} unusable: {_text(selected.lines)}"
            )
        self.folder = FolderState(
            uidvalidity=_first_int(_UIDVALIDITY, selected.lines),
            uidnext=_first_int(_UIDNEXT, selected.lines),
        )

    def _on_lost(self, _exc: Exception | None) -> None:
        self._lost = True

    async def close(self) -> None:
        """LOGOUT when the connection still works; drop it in any case."""
        client, self._client = self._client, None
        if client is None:
            return
        if not self._lost and client.get_state() in ("AUTH", "SELECTED"):
            with suppress(Exception):
                await asyncio.wait_for(client.logout(), 2.0)
        for task in list(client.tasks) + list(client.protocol.tasks):
            task.cancel()
        transport = client.protocol.transport
        if transport is not None:
            transport.close()

    async def uids_after(self, last_uid: int) -> list[int]:
        """UIDs above ``last_uid``, ascending.

        ``UID SEARCH UID n:*`` always includes the newest message even when its UID is below
        ``n`` (RFC 3501: ``*`` is the largest UID in use), hence the filter (PITFALLS.md).
        """
        uids = await self._search(f"UID {last_uid + 1}:*")
        return [uid for uid in uids if uid > last_uid]

    async def uids_since(self, day: date) -> list[int]:
        """UIDs of messages that arrived on or after ``day`` (the server's INTERNALDATE)."""
        return await self._search(f"SINCE {day.day}-{_MONTHS[day.month - 1]}-{day.year}")

    async def _search(self, criteria: str) -> list[int]:
        self._alive()  # before touching the client: a closed session has none
        response = await self._command(self._client.uid_search(criteria, charset=None))
        self._expect_ok(response, "UID SEARCH")
        # aioimaplib strips the SEARCH keyword; an untagged "n EXISTS" may share the response.
        uids = {
            int(word)
            for line in response.lines[:-1]
            if line.split() and all(word.isdigit() for word in line.split())
            for word in line.split()
        }
        return sorted(uids)

    def take_announced(self) -> bool:
        """Whether a response announced new mail since the last call."""
        announced, self._announced = self._announced, False
        return announced

    async def fetch(
        self, uids: Sequence[int], *, headers_only: bool = False
    ) -> list[FetchedMessage]:
        """The raw messages (or only their Message-ID header) without setting ``\\Seen``."""
        if not uids:
            return []
        self._alive()
        part = "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]" if headers_only else "BODY.PEEK[]"
        uid_set = ",".join(str(uid) for uid in uids)
        response = await self._command(self._client.uid("fetch", uid_set, f"(UID {part})"))
        self._expect_ok(response, "UID FETCH")
        wanted = set(uids)
        return [m for m in _parse_fetch(response.lines) if m.uid in wanted]

    async def noop(self) -> None:
        self._alive()
        response = await self._command(self._client.noop())
        self._expect_ok(response, "NOOP")
        _raise_on_trouble(response.lines[:-1])

    async def wait_for_mail(
        self, *, max_wait: float, tick: float, on_tick: Callable[[], Awaitable[None]]
    ) -> bool:
        """IDLE until the server reports new mail (True) or ``max_wait`` passes (False).

        ``on_tick`` runs every ``tick`` seconds meanwhile (the activity heartbeats there). The
        caller re-issues IDLE by calling again: RFC 9051 asks for it within 29 minutes, and
        middleboxes drop quiet connections sooner, so ``max_wait`` is a few minutes.
        """
        client = self._client
        self._alive()
        idle = await self._command(client.idle_start(timeout=max_wait + 60.0))
        has_mail = False
        try:
            deadline = time.monotonic() + max_wait
            while not has_mail and (left := deadline - time.monotonic()) > 0:
                try:
                    lines = await client.wait_server_push(timeout=min(tick, left))
                except TimeoutError:
                    self._alive()
                    await on_tick()
                    continue
                if lines == aioimaplib.STOP_WAIT_SERVER_PUSH:
                    break
                try:
                    _raise_on_trouble(lines)
                except ImapUnavailable:
                    # Nothing more is worth asking on this connection, not even the end of
                    # IDLE: drop it and let the next session select the folder afresh.
                    self._lost = True
                    raise
                has_mail = any(line.endswith(b"EXISTS") for line in lines)
                self._alive()
        finally:
            if not self._lost:
                client.idle_done()
                with suppress(TimeoutError):
                    await asyncio.wait_for(idle, self.settings.timeout)
        if not idle.done():
            idle.cancel()
            raise ImapUnavailable("IMAP server did not end IDLE")
        return has_mail

    def has_capability(self, name: str) -> bool:
        """Whether the server advertised ``name`` on this connection (as aioimaplib recorded it).

        aioimaplib checks the same set before it sends ``UID MOVE`` or ``UID EXPUNGE``, so a
        decision taken here never disagrees with the library's own.
        """
        return bool(self._client is not None and self._client.has_capability(name))

    async def select(self, folder: str) -> FolderState:
        """SELECT another ``folder`` on this connection; ``self.folder`` keeps describing the
        session's own folder. ``coldflow.imap_folders.selected`` pairs this with the way back.
        """
        self._alive()
        response = await self._command(self._client.select(quote_mailbox(folder)))
        self._expect_ok(response, f"SELECT {folder!r}")
        return FolderState(
            uidvalidity=_first_int(_UIDVALIDITY, response.lines),
            uidnext=_first_int(_UIDNEXT, response.lines),
        )

    async def search(self, criteria: str) -> list[int]:
        """UIDs matching ``criteria`` (ASCII, IMAP syntax) in the selected folder, ascending."""
        self._alive()
        return await self._search(criteria)

    async def execute(self, command: Callable[[Any], Awaitable[Any]]) -> Any:
        """Run ``command(client)`` (an aioimaplib call) bounded and guarded like this session's
        own commands, for the operations the session has no method for; returns the Response
        whatever its result, so the caller decides what a NO means.
        """
        self._alive()
        return await self._command(command(self._client))

    async def _command(self, awaitable: Awaitable[Any]) -> Any:
        self._alive()
        return await self._guard(asyncio.wait_for(awaitable, self.settings.timeout * 4))

    async def _guard(self, awaitable: Awaitable[Any]) -> Any:
        try:
            return await awaitable
        except CodedError:
            raise
        except (OSError, TimeoutError, aioimaplib.AioImapException) as exc:
            raise ImapUnavailable(
                f"IMAP connection failed: {type(exc).__name__}: {exc}".rstrip(": ")
            ) from exc

    def _alive(self) -> None:
        if self._lost or self._client is None:
            raise ImapUnavailable("IMAP connection lost")

    def _expect_ok(self, response: Any, what: str) -> None:
        if response.result != "OK":
            raise ImapUnavailable(f"IMAP {what} failed: {_text(response.lines)}")


def _raise_on_trouble(lines: Sequence[bytes | bytearray]) -> None:
    """Untagged answers that mean this session's view of the folder is over.

    ``BYE``: the server is going away (shutdown, the folder deleted). ``NO`` or ``BAD`` without
    an ``[ALERT]``: Dovecot, for one, reports a folder recreated under the session (a new
    UIDVALIDITY) as "* NO Internal error" and keeps answering from its stale view.
    """
    for line in lines:
        if not isinstance(line, bytes):
            continue
        word = line.split(b" ", 1)[0]
        if word == b"BYE" or (
            word in (b"NO", b"BAD") and not line[3:].lstrip().startswith(b"[ALERT]")
        ):
            raise ImapUnavailable(f"IMAP session ended by the server: {_text([line])}")
        if b"[UIDVALIDITY " in line:
            raise ImapUnavailable(f"IMAP folder changed UIDVALIDITY: {_text([line])}")


def _parse_fetch(lines: Sequence[bytes | bytearray]) -> list[FetchedMessage]:
    """Pair each literal (aioimaplib yields them as bytearray) with its FETCH's UID.

    The UID may come before the literal (``* 1 FETCH (UID 7 BODY[] {n}``) or after it (``UID 7)``
    on the closing line), whichever order the server chose.
    """
    found: list[FetchedMessage] = []
    uid: int | None = None
    body: bytes | None = None
    for line in lines:
        if isinstance(line, bytearray):
            body = bytes(line)
        else:
            if _FETCH_START.match(line):
                uid, body = None, None
            match = _FETCH_UID.search(line)
            if match is not None:
                uid = int(match.group(1))
        if uid is not None and body is not None:
            found.append(FetchedMessage(uid, body))
            uid, body = None, None
    return found


def quote_mailbox(mailbox: str) -> str:
    """Quote a mailbox name for the wire; aioimaplib passes arguments through verbatim."""
    escaped = mailbox.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _first_int(pattern: re.Pattern[bytes], lines: Sequence[bytes | bytearray]) -> int:
    for line in lines:
        match = pattern.search(bytes(line))
        if match is not None:
            return int(match.group(1))
    return 0


def _text(lines: list[bytes | bytearray | str]) -> str:
    parts = [
        line.decode(errors="replace") if isinstance(line, bytes | bytearray) else line
        for line in lines
    ]
    return " ".join(p for p in parts if p).strip()[:300]
