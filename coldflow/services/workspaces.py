"""Creating workspaces and API keys (used by the CLI and the dev bootstrap)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from coldflow.errors import Conflict, InvalidInput, NotFound
from coldflow.ids import api_key_hint, generate_api_key, hash_api_key
from coldflow.models import ALL_SCOPES, WILDCARD_SCOPE, ApiKey, Workspace
from coldflow.store import workspaces as store


@dataclass(frozen=True)
class IssuedKey:
    """A key as returned once at creation; afterwards only its hint is ever shown."""

    workspace: Workspace
    api_key: ApiKey
    secret: str


async def create_workspace(*, session: AsyncSession, name: str) -> Workspace:
    name = name.strip()
    if not name or len(name) > 150:
        raise InvalidInput.field("name", "name must be 1–150 characters")
    if await store.get_workspace_by_name(session, name) is not None:
        raise Conflict(f"A workspace named {name!r} exists", code="WORKSPACE_EXISTS")
    workspace = Workspace(name=name)
    session.add(workspace)
    await session.flush()
    return workspace


async def create_api_key(
    *,
    session: AsyncSession,
    workspace_name: str,
    scopes: Sequence[str] = (WILDCARD_SCOPE,),
    name: str = "default",
) -> IssuedKey:
    """Issue a key; only its SHA-256 is stored, the secret is in the result alone."""
    unknown = [s for s in scopes if s != WILDCARD_SCOPE and s not in ALL_SCOPES]
    if unknown:
        raise InvalidInput.field(
            "scope", f"unknown scope(s): {', '.join(unknown)}", code="UNKNOWN_SCOPE"
        )
    workspace = await store.get_workspace_by_name(session, workspace_name)
    if workspace is None:
        raise NotFound("workspace", workspace_name)
    secret = generate_api_key()
    api_key = ApiKey(
        workspace_id=workspace.id,
        name=name,
        key_hash=hash_api_key(secret),
        hint=api_key_hint(secret),
        scopes=list(dict.fromkeys(scopes)) or [WILDCARD_SCOPE],
    )
    session.add(api_key)
    await session.flush()
    return IssuedKey(workspace=workspace, api_key=api_key, secret=secret)


async def authenticate(*, session: AsyncSession, secret: str) -> ApiKey | None:
    """The live key matching ``secret``, or None."""
    return await store.find_key_by_hash(session, hash_api_key(secret))


DEFAULT_WORKSPACE = "default"


async def ensure_default_key(*, session: AsyncSession, stored_key: str | None) -> tuple[str, bool]:
    """The dev mode key: the stored one while it is still valid, else a new key (and workspace).

    Returns the key and whether it was issued just now.
    """
    if stored_key and await authenticate(session=session, secret=stored_key) is not None:
        return stored_key, False
    if await store.get_workspace_by_name(session, DEFAULT_WORKSPACE) is None:
        await create_workspace(session=session, name=DEFAULT_WORKSPACE)
    issued = await create_api_key(session=session, workspace_name=DEFAULT_WORKSPACE, name="dev")
    return issued.secret, True


async def set_warmup_sharing(*, session: AsyncSession, name: str, share: bool) -> Workspace:
    """Opt a workspace in to (or out of) the installation's shared warmup pool; it takes effect
    only where the operator allows sharing (``COLDFLOW_WARMUP_SHARED_POOL``)."""
    workspace = await store.get_workspace_by_name(session, name)
    if workspace is None:
        raise NotFound("workspace", name)
    workspace.warmup_shared_pool = share
    session.add(workspace)
    return workspace
