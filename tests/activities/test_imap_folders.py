"""coldflow.imap_folders: LIST parsing and the junk-folder choice as pure functions, then the warmup
operations (find Junk, find warmup mail, move it to INBOX, mark it) against the real Dovecot, on
a watcher session whose INBOX must still be selected afterwards."""

from __future__ import annotations

import email
import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import aioimaplib
import pytest

from coldflow.imap import (
    FolderState,
    ImapSettings,
    ImapUnavailable,
    MailboxSession,
    quote_mailbox,
)
from coldflow.imap_folders import (
    ListedMailbox,
    encode_mailbox_name,
    find_junk_folder,
    list_mailboxes,
    mark_seen_and_flagged,
    move_to_inbox,
    parse_list_response,
    pick_junk,
    uids_with_header,
)
from coldflow.models import TransportSecurity
from tests.fixtures.imap import ImapServer, ImapUser

WARMUP = "X-Coldflow-Warmup"
_FLAGS = re.compile(rb"FLAGS \(([^)]*)\)")
_UID = re.compile(rb"\bUID (\d+)")


def mailbox(name: str, *attributes: str, delimiter: str | None = "/") -> ListedMailbox:
    return ListedMailbox(name, delimiter, frozenset(a.lower() for a in attributes))


# --- LIST parsing and the junk-folder choice (pure) -------------------------------------------


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        pytest.param(
            [b'(\\HasNoChildren \\Junk) "/" Junk'],
            mailbox("Junk", "\\HasNoChildren", "\\Junk"),
            id="atom-name",
        ),
        pytest.param(
            [b'() "/" "Sp\\"am \\\\x"'], mailbox('Sp"am \\x'), id="quoted-name-with-escapes"
        ),
        pytest.param([b"() NIL INBOX"], mailbox("INBOX", delimiter=None), id="nil-delimiter"),
        pytest.param([b'() "\\\\" Junk'], mailbox("Junk", delimiter="\\"), id="escaped-delimiter"),
        pytest.param(
            [b'(\\Junk) "/" {11}', bytearray(b'Spam "old"\\')],
            mailbox('Spam "old"\\', "\\Junk"),
            id="literal-name",
        ),
        pytest.param(
            [b'() "." {4}', bytearray(b"Junk"), b' ("CHILDINFO" ("SUBSCRIBED"))'],
            mailbox("Junk", delimiter="."),
            id="literal-then-extended-data",
        ),
        pytest.param(
            [b'(\\Subscribed \\JUNK) "/" "Junk" ("OLDNAME" ("Spam"))'],
            mailbox("Junk", "\\Subscribed", "\\Junk"),
            id="extended-data-and-attribute-case",
        ),
        pytest.param(
            [b'() "/" "Courrier ind&AOk-sirable"'],
            mailbox("Courrier ind&AOk-sirable"),
            id="modified-utf7-stays-encoded",
        ),
    ],
)
def test_parse_list_response(lines: list[bytes | bytearray], expected: ListedMailbox) -> None:
    assert parse_list_response(lines) == [expected]


def test_parse_list_response_keeps_records_apart_and_skips_what_it_cannot_use() -> None:
    lines: list[bytes | bytearray] = [
        b'(\\HasNoChildren) "/" {4}',
        bytearray(b"Spam"),
        b'(\\HasNoChildren \\Junk) "/" Junk',
        b'() "/" "unterminated',
        b'() "/" "\xff\xfe"',  # not UTF-8: aioimaplib could not send it back
        b'(\\Noselect) "/" ""',  # LIST "" "" answers the delimiter with an empty name
        b'() "/" Sent',
    ]
    assert [m.name for m in parse_list_response(lines)] == ["Spam", "Junk", "Sent"]


@pytest.mark.parametrize(
    ("name", "encoded"),
    [
        pytest.param("Junk", "Junk", id="ascii"),
        pytest.param("R&D", "R&-D", id="ampersand"),
        pytest.param("Courrier indésirable", "Courrier ind&AOk-sirable", id="accent"),
        pytest.param("~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-", id="rfc3501"),
    ],
)
def test_encode_mailbox_name(name: str, encoded: str) -> None:
    assert encode_mailbox_name(name) == encoded


@pytest.mark.parametrize(
    ("listed", "configured", "expected"),
    [
        pytest.param(
            [mailbox("Spam"), mailbox("Bulk", "\\Junk")], ["Spam"], "Bulk", id="special-use-wins"
        ),
        pytest.param(
            [mailbox("Old", "\\Junk", "\\Noselect"), mailbox("Spam")],
            ["Spam"],
            "Spam",
            id="unselectable-junk-skipped",
        ),
        pytest.param(
            [mailbox("Spam"), mailbox("Junk")], ["Junk", "Spam"], "Junk", id="configured-order"
        ),
        pytest.param(
            [mailbox("INBOX.Spam", delimiter=".")], ["Junk", "Spam"], "INBOX.Spam", id="below-inbox"
        ),
        pytest.param(
            [mailbox("[Gmail].Spam", delimiter=".")],
            ["[Gmail]/Spam"],
            "[Gmail].Spam",
            id="slash-is-the-delimiter",
        ),
        pytest.param(
            [mailbox("JUNK"), mailbox("Spam")], ["Junk", "Spam"], "Spam", id="exact-beats-case"
        ),
        pytest.param([mailbox("JUNK")], ["Junk"], "JUNK", id="case-insensitive-fallback"),
        pytest.param(
            [mailbox("Courrier ind&AOk-sirable")],
            ["Courrier indésirable"],
            "Courrier ind&AOk-sirable",
            id="configured-name-encoded",
        ),
        pytest.param([mailbox("Spam")], "Spam", "Spam", id="lone-string"),
        pytest.param([mailbox("INBOX"), mailbox("Sent")], ["Junk"], None, id="none"),
    ],
)
def test_pick_junk(
    listed: list[ListedMailbox], configured: Sequence[str], expected: str | None
) -> None:
    assert pick_junk(listed, configured) == expected


class FakeClient:
    """Answers LIST like a server without a special-use attribute on its spam folder."""

    def __init__(self, capabilities: set[str], refuse_return: bool = False) -> None:
        self.capabilities = capabilities
        self.refuse_return = refuse_return
        self.patterns: list[str] = []

    def has_capability(self, name: str) -> bool:
        return name in self.capabilities

    async def list(self, reference: str, pattern: str) -> aioimaplib.Response:
        self.patterns.append(pattern)
        if "RETURN" in pattern and self.refuse_return:
            return aioimaplib.Response("BAD", [b"Unknown LIST option"])
        return aioimaplib.Response(
            "OK",
            [b'() "." INBOX', b'() "." {10}', bytearray(b"INBOX.Spam"), b"List completed."],
        )


async def test_find_junk_folder_falls_back_to_a_configured_name() -> None:
    client = FakeClient(set())
    assert await find_junk_folder(client, ["Junk", "Spam"]) == "INBOX.Spam"
    assert client.patterns == ['"*"']


async def test_find_junk_folder_survives_a_refused_return_option() -> None:
    client = FakeClient({"SPECIAL-USE", "LIST-EXTENDED"}, refuse_return=True)
    assert await find_junk_folder(client, ["Spam"]) == "INBOX.Spam"
    assert client.patterns == ['"*" RETURN (SPECIAL-USE)', '"*"']


# --- against the real Dovecot ------------------------------------------------------------------


def message(subject: str, *, warmup: bool) -> bytes:
    header = f"{WARMUP}: w-{subject}\r\n" if warmup else ""
    return (
        f"From: someone@elsewhere.example\r\nTo: me@mail.test\r\nSubject: {subject}\r\n"
        f"Message-ID: <{subject}.{id(object())}@elsewhere.example>\r\n{header}\r\nHello.\r\n"
    ).encode()


@asynccontextmanager
async def watcher(server: ImapServer, user: ImapUser) -> AsyncIterator[MailboxSession]:
    """A session like the mailbox watcher's: INBOX selected."""
    settings = ImapSettings(
        host=server.host,
        port=server.port,
        username=user.username,
        password=user.password,
        security=TransportSecurity.none,
        timeout=5.0,
    )
    async with MailboxSession(settings) as session:
        yield session


async def subjects(server: ImapServer, user: ImapUser, folder: str) -> list[str]:
    raws = await server.list_messages(user, folder)
    return [str(email.message_from_bytes(raw)["Subject"]) for raw in raws]


async def flags(server: ImapServer, user: ImapUser, folder: str) -> dict[int, set[str]]:
    """UID → flags, read through a FETCH FLAGS of a separate connection."""
    async with server.client(user) as client:
        assert (await client.select(quote_mailbox(folder))).result == "OK"
        response = await client.uid("fetch", "1:*", "(UID FLAGS)")
        assert response.result == "OK"
    found: dict[int, set[str]] = {}
    for line in response.lines[:-1]:
        uid, listed = _UID.search(line), _FLAGS.search(line)
        if uid is not None and listed is not None:
            found[int(uid.group(1))] = set(listed.group(1).decode().split()) - {"\\Recent"}
    return found


def hide(session: MailboxSession, monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    """Make the session behave as if the server lacked these capabilities."""
    real = session.has_capability
    monkeypatch.setattr(session, "has_capability", lambda name: name not in names and real(name))


class Recorder:
    """Stands in for the aioimaplib client inside ``session.execute`` and notes each command."""

    def __init__(self, client: Any, seen: list[str]) -> None:
        self.client, self.seen = client, seen

    def uid(self, command: str, *args: str) -> Any:
        self.seen.append(f"UID {command.upper()}")
        return self.client.uid(command, *args)

    def __getattr__(self, name: str) -> Any:
        self.seen.append(name.upper())
        return getattr(self.client, name)


def record(session: MailboxSession, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The commands this module sends through ``session.execute`` from now on."""
    seen: list[str] = []
    real = session.execute
    monkeypatch.setattr(
        session, "execute", lambda command: real(lambda client: command(Recorder(client, seen)))
    )
    return seen


async def seed(server: ImapServer, user: ImapUser, *, user_flags: str = "") -> None:
    """INBOX: 2 messages of the user. Junk: UID 1 the user's own, UIDs 2-4 warmup mail."""
    for n in (1, 2):
        await server.append(user, message(f"inbox-{n}", warmup=False))
    await server.append(user, message("mine", warmup=False), folder="Junk", flags=user_flags)
    for n in (1, 2, 3):
        await server.append(user, message(f"warmup-{n}", warmup=True), folder="Junk")


@pytest.mark.imap
async def test_finds_junk_by_special_use(
    imap_server: ImapServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = imap_server.add_user()
    await imap_server.append(user, message("inbox-1", warmup=False))
    async with watcher(imap_server, user) as session:
        assert await find_junk_folder(session) == "Junk"
        hide(session, monkeypatch, "SPECIAL-USE", "LIST-EXTENDED")
        assert await find_junk_folder(session) == "Junk"  # plain LIST carries \Junk too
        assert await session.uids_after(0) == [1]
    async with imap_server.client(user) as client:
        patterns: list[str] = []
        real_list = client.list

        async def recording(reference: str, pattern: str) -> Any:
            patterns.append(pattern)
            return await real_list(reference, pattern)

        monkeypatch.setattr(client, "list", recording)
        assert await find_junk_folder(client, ["Spam"]) == "Junk"
        assert patterns == ['"*" RETURN (SPECIAL-USE)']


@pytest.mark.imap
@pytest.mark.parametrize(
    ("created", "configured"),
    [
        pytest.param("Courrier ind&AOk-sirable", "Courrier indésirable", id="modified-utf7"),
        pytest.param('Sp"am\\x', 'Sp"am\\x', id="quote-and-backslash"),
    ],
)
async def test_configured_name_round_trips_to_select(
    imap_server: ImapServer, created: str, configured: str
) -> None:
    user = imap_server.add_user()
    async with imap_server.client(user) as client:
        assert (await client.create(quote_mailbox(created))).result == "OK"
    await imap_server.append(user, message("warmup-1", warmup=True), folder=created)
    async with watcher(imap_server, user) as session:
        listed = await list_mailboxes(session)
        # As a server without SPECIAL-USE would answer: only the configured name can tell.
        plain = [ListedMailbox(m.name, m.delimiter, frozenset()) for m in listed]
        name = pick_junk(plain, ["Junk E-mail", configured])
        assert name == created
        uids = await uids_with_header(session, name, WARMUP)
        assert uids == [1]
        assert list(await move_to_inbox(session, name, uids)) == [1]
    assert await subjects(imap_server, user, "INBOX") == ["warmup-1"]
    assert await subjects(imap_server, user, created) == []


@pytest.mark.imap
async def test_moves_warmup_mail_out_of_junk_and_marks_it(
    imap_server: ImapServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = imap_server.add_user()
    await seed(imap_server, user)
    async with watcher(imap_server, user) as session:
        junk = await find_junk_folder(session)
        assert junk == "Junk"
        uids = await uids_with_header(session, junk, WARMUP)
        assert uids == [2, 3, 4]
        assert await session.uids_after(0) == [1, 2]  # INBOX is selected again

        sent = record(session, monkeypatch)
        moved = await move_to_inbox(session, junk, uids)
        assert sent == ["UID MOVE"]
        assert sorted(moved) == [2, 3, 4]
        assert sorted(v for v in moved.values() if v is not None) == [3, 4, 5]  # COPYUID
        assert await session.uids_after(0) == [1, 2, 3, 4, 5]

        new = [uid for uid in moved.values() if uid is not None]
        await mark_seen_and_flagged(session, "INBOX", new)
        assert await session.uids_after(0) == [1, 2, 3, 4, 5]
    assert await subjects(imap_server, user, "Junk") == ["mine"]
    assert await subjects(imap_server, user, "INBOX") == [
        "inbox-1",
        "inbox-2",
        "warmup-1",
        "warmup-2",
        "warmup-3",
    ]
    assert await flags(imap_server, user, "INBOX") == {
        1: set(),
        2: set(),
        3: {"\\Seen", "\\Flagged"},
        4: {"\\Seen", "\\Flagged"},
        5: {"\\Seen", "\\Flagged"},
    }


@pytest.mark.imap
async def test_marks_mail_in_another_folder_and_comes_back(imap_server: ImapServer) -> None:
    user = imap_server.add_user()
    await seed(imap_server, user)
    async with watcher(imap_server, user) as session:
        await mark_seen_and_flagged(session, "Junk", [3, 99])
        assert await session.uids_after(0) == [1, 2]
    assert (await flags(imap_server, user, "Junk"))[3] == {"\\Seen", "\\Flagged"}
    assert (await flags(imap_server, user, "Junk"))[2] == set()


@pytest.mark.imap
async def test_moving_twice_is_harmless(imap_server: ImapServer) -> None:
    user = imap_server.add_user()
    await seed(imap_server, user)
    async with watcher(imap_server, user) as session:
        assert len(await move_to_inbox(session, "Junk", [2, 3, 4])) == 3
        assert await move_to_inbox(session, "Junk", [2, 3, 4]) == {}
        assert await move_to_inbox(session, "Junk", []) == {}
        assert await uids_with_header(session, "Junk", WARMUP) == []
    assert await subjects(imap_server, user, "Junk") == ["mine"]
    assert len(await subjects(imap_server, user, "INBOX")) == 5


@pytest.mark.imap
async def test_require_header_leaves_other_mail_alone(imap_server: ImapServer) -> None:
    user = imap_server.add_user()
    await seed(imap_server, user)
    async with watcher(imap_server, user) as session:
        moved = await move_to_inbox(session, "Junk", [1, 2], require_header=WARMUP)
        assert list(moved) == [2]
    assert await subjects(imap_server, user, "Junk") == ["mine", "warmup-2", "warmup-3"]


@pytest.mark.imap
async def test_copy_fallback_expunges_only_the_moved_messages(
    imap_server: ImapServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without MOVE: COPY + \\Deleted + UID EXPUNGE; the user's own \\Deleted mail stays."""
    user = imap_server.add_user()
    await seed(imap_server, user, user_flags="\\Deleted")
    async with watcher(imap_server, user) as session:
        hide(session, monkeypatch, "MOVE")
        sent = record(session, monkeypatch)
        moved = await move_to_inbox(session, "Junk", [2, 3, 4])
        assert moved == {2: 3, 3: 4, 4: 5}
        assert sent == ["UID COPY", "UID STORE", "UID EXPUNGE"]
        assert await move_to_inbox(session, "Junk", [2, 3, 4]) == {}
        assert sent == ["UID COPY", "UID STORE", "UID EXPUNGE"]
        assert await session.uids_after(0) == [1, 2, 3, 4, 5]
    assert await flags(imap_server, user, "Junk") == {1: {"\\Deleted"}}
    assert len(await subjects(imap_server, user, "INBOX")) == 5


@pytest.mark.imap
async def test_fallback_without_uidplus_never_expunges(
    imap_server: ImapServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without MOVE or UIDPLUS only a plain EXPUNGE could remove the originals, and it would
    take the user's own \\Deleted message with them: the originals stay, flagged \\Deleted."""
    user = imap_server.add_user()
    await seed(imap_server, user, user_flags="\\Deleted")
    async with watcher(imap_server, user) as session:
        hide(session, monkeypatch, "MOVE", "UIDPLUS")
        sent = record(session, monkeypatch)
        # Dovecot still answers COPYUID (it has UIDPLUS); a server without it would give None.
        assert sorted(await move_to_inbox(session, "Junk", [2, 3, 4])) == [2, 3, 4]
        assert await move_to_inbox(session, "Junk", [2, 3, 4]) == {}  # no second copy
        assert sent == ["UID COPY", "UID STORE"]
        assert await session.uids_after(0) == [1, 2, 3, 4, 5]
    assert await flags(imap_server, user, "Junk") == {uid: {"\\Deleted"} for uid in (1, 2, 3, 4)}
    assert len(await subjects(imap_server, user, "INBOX")) == 5


@pytest.mark.imap
async def test_missing_folder_fails_and_keeps_inbox_selected(imap_server: ImapServer) -> None:
    """A failed SELECT deselects the current folder (RFC 3501 6.3.1): INBOX is selected again."""
    user = imap_server.add_user()
    await seed(imap_server, user)
    async with watcher(imap_server, user) as session:
        with pytest.raises(ImapUnavailable, match="SELECT"):
            await uids_with_header(session, "Nope", WARMUP)
        assert await session.uids_after(0) == [1, 2]


@pytest.mark.imap
async def test_changed_uidvalidity_on_return_ends_the_session(imap_server: ImapServer) -> None:
    user = imap_server.add_user()
    await seed(imap_server, user)
    async with watcher(imap_server, user) as session:
        session.folder = FolderState(session.folder.uidvalidity + 1, session.folder.uidnext)
        with pytest.raises(ImapUnavailable, match="UIDVALIDITY"):
            await uids_with_header(session, "Junk", WARMUP)
        # Closed, so nothing can read Junk's UIDs as if they were INBOX's.
        with pytest.raises(ImapUnavailable, match="connection lost"):
            await session.search("ALL")


async def test_header_names_are_checked_before_anything_is_sent() -> None:
    with pytest.raises(ValueError, match="header"):
        await uids_with_header(None, "Junk", "X-Bad: name")  # type: ignore[arg-type]
