"""The auth and tenancy contract of every /api/v1 operation, walked from the app's route table.

The operations are not listed by hand: ``OPERATIONS`` is built at import from
``create_app(settings).routes`` (every ``APIRoute`` under ``/api/v1``, one case per method), and
``openapi()`` supplies each operation's request body (content type and ``examples``) and its
required query parameters. A route added later is a new case of every test below without any
edit here; if it has a path parameter this module cannot fill, or no scope, a meta test fails
and says what to add.

For every operation:

1. ``test_no_key_is_401`` — no key: 401 ``API_KEY_MISSING`` in the error envelope, its
   ``request_id`` equal to the ``X-Request-ID`` header (also with a caller-chosen id); an unknown
   key is 401 ``API_KEY_INVALID``. The body sent is ``{}`` (invalid for every operation that
   takes one), proving authentication runs before body validation.
2. ``test_key_without_the_scope_is_403`` — a key holding every scope *except* the operation's:
   403 ``INSUFFICIENT_SCOPE`` with ``details[0].required_scope``, again with an invalid body.
   ``test_key_with_only_the_scope_is_not_refused`` — a key holding that one scope and nothing
   else, with a valid body, is neither 401 nor 403 (nor 5xx).
3. ``test_other_workspace_ids_are_404`` — for every operation whose path names a workspace-owned
   object: workspace B's ``*`` key on workspace A's real ids (a fresh world per case) gets 404
   with a ``*_NOT_FOUND`` code, and A's whole world (every object, re-read with A's key) is
   byte-for-byte what it was. For reads, A's own key on the same URL answers 2xx (the ids are
   real and the URL is right).

Scope mapping. The required scope is read from the route itself: each handler declares a key
dependency built by ``api.auth.require_scope(scope)``; ``scope_of`` walks ``route.dependant``
for that closure and reads ``scope`` from it. Today this yields: campaigns, sequences, variants,
schedule, inbox attach/detach, activate/launch/pause/resume and preview → ``campaigns:read`` for
GET and preview (POST), ``campaigns:write`` otherwise; leads, imports, lead steering →
``leads:read``/``leads:write``; inboxes → ``inboxes:*``; blocklist (incl. GET /check) →
``blocklist:*``; unibox conversations (incl. attachment download) → ``conversations:*``;
webhooks (incl. deliveries, redeliver, test, rotate-secret) → ``webhooks:*``; POST /triggers →
``triggers:write``; the emails log → ``emails:read``, sending (POST /emails, /emails/batch)
→ ``emails:write``; GET /stats → ``stats:read``; sender domains (incl. verify) →
``domains:*``; contacts and lists (incl. members) → ``contacts:*``.
``test_scope_mapping_is_as_documented`` pins that table so a change of scope is a visible
decision.

The world (A's objects): a sandbox inbox, a campaign with two steps using it, a lead, a CSV
import, a blocklist entry, a webhook, a sender domain, a contact list and a contact, created
through the API as tests/api/test_fuzz.py does; a conversation with a message and an
attachment, an event with a webhook delivery and a sent email, written through the models as
the mailbox watcher, the webhook relay and a journey store them (there is no
API that creates them without a worker and a live SMTP/receiver).

Timing: one app, database and set of keys per module; a fresh world (about 12 requests) per 404
case only. No worker runs: requests that start workflows only enqueue them.

``test_auth_comes_before_parsing_the_body`` pins a fixed bug: an unparseable body used to be
answered 400 ``INVALID_JSON`` before authentication (FastAPI parses bodies before it runs
dependencies); ``UnitOfWorkRoute`` now checks the key and scope first.

Not covered: routes outside /api/v1 (``/healthz``, ``/u/{token}``, ``/t/o/{token}``,
``/t/c/{token}``, ``/openapi.json``, ``/docs``) are public by design. Ids named in a *body*
(``inbox_ids`` of attach, ``campaign_id`` of webhooks/triggers, ``inbox_id`` of a new
conversation, ``lead_id`` of preview) are covered by the resource tests, not this matrix.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute
from temporalio.testing import WorkflowEnvironment

from api.main import API_PREFIX, create_app
from coldflow.config import Settings
from coldflow.crypto import generate_key
from coldflow.models import (
    ALL_SCOPES,
)
from coldflow.store.db import SessionFactory
from tests.fixtures.api import Tenant, make_tenant
from tests.fixtures.temporal import unique_task_queue
from tests.fixtures.world import build_world

# --- the operations, from the app's own route table --------------------------------------------


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    scope: str | None
    params: tuple[str, ...]
    body_type: str | None  # the request body's content type, None when there is none
    examples: tuple[Any, ...]
    required_query: tuple[str, ...]

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


def _walk_routes(routes: list[Any]) -> Iterator[tuple[str, set[str], Any]]:
    """``(path, methods, dependant)`` of every API route, however the routers were included.

    FastAPI 0.165 keeps ``include_router`` lazy: ``app.routes`` holds ``_IncludedRouter``
    entries whose ``effective_route_contexts()`` carry the full path and the dependant. Older
    versions flatten to ``APIRoute``; both are handled.
    """
    for route in routes:
        if isinstance(route, APIRoute):
            yield route.path, set(route.methods), route.dependant
        elif hasattr(route, "effective_route_contexts"):
            for context in route.effective_route_contexts():
                if isinstance(context.original_route, APIRoute):
                    yield context.path, set(context.methods), context.dependant


def scope_of(dependant: Any) -> str | None:
    """The scope of the ``require_scope`` closure among the dependencies, if any."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        for sub in node.dependencies:
            call = sub.call
            if getattr(call, "__qualname__", "").startswith("require_scope."):
                found.add(inspect.getclosurevars(call).nonlocals["scope"])
            walk(sub)

    walk(dependant)
    assert len(found) <= 1, f"several scopes required: {found}"
    return next(iter(found), None)


def _operations() -> list[Operation]:
    app = create_app(Settings(env="test"))
    document = app.openapi()
    schemas = document.get("components", {}).get("schemas", {})
    scopes: dict[tuple[str, str], str | None] = {}
    for path, methods, dependant in _walk_routes(app.routes):
        for method in methods - {"HEAD", "OPTIONS"}:
            scopes[(method, path)] = scope_of(dependant)
    # The union with the OpenAPI document: a route the walk missed still gets a case (and
    # fails test_every_operation_requires_exactly_one_scope) instead of silently vanishing.
    for path, methods in document["paths"].items():
        for method in methods:
            scopes.setdefault((method.upper(), path), None)
    operations = []
    for method, path in sorted(scopes, key=lambda k: (k[1], k[0])):
        if not path.startswith(API_PREFIX + "/"):
            continue
        spec = document["paths"].get(path, {}).get(method.lower(), {})
        body_type, examples = None, ()
        if "requestBody" in spec:
            body_type, media = next(iter(spec["requestBody"]["content"].items()))
            schema = media.get("schema", {})
            if "$ref" in schema:
                schema = schemas[schema["$ref"].rsplit("/", 1)[1]]
            examples = tuple(schema.get("examples") or ())
        required_query = tuple(
            p["name"]
            for p in spec.get("parameters", [])
            if p["in"] == "query" and p.get("required")
        )
        operations.append(
            Operation(
                method=method,
                path=path,
                scope=scopes[(method, path)],
                params=tuple(re.findall(r"{(\w+)}", path)),
                body_type=body_type,
                examples=examples,
                required_query=required_query,
            )
        )
    return operations


OPERATIONS = _operations()
IDS = [op.label for op in OPERATIONS]

# Path parameters naming an object of the caller's workspace: the world has one of each.
OBJECT_PARAMS = frozenset(
    {
        "campaign_id",
        "inbox_id",
        "sequence_id",
        "variant_id",
        "lead_id",
        "import_id",
        "entry_id",
        "webhook_id",
        "delivery_id",
        "conversation_id",
        "attachment_id",
        "email_id",
        "domain_id",
        "list_id",
        "contact_id",
        "contact_import_id",
    }
)
# Path parameters that are not objects, and the value to use.
OTHER_PARAMS = {"action": "pause"}
QUERY_VALUES = {"email": "ann@example.com"}
OWNED = [op for op in OPERATIONS if OBJECT_PARAMS.intersection(op.params)]
CSV = b"email,first_name\nzed@example.com,Zed\n"

# Valid bodies where the OpenAPI document has no example (or one that needs a real id).
BODIES: dict[str, Any] = {
    "PATCH /api/v1/campaigns/{campaign_id}": {"name": "Renamed"},
    "POST /api/v1/campaigns/{campaign_id}/inboxes/attach": {"inbox_ids": ["{inbox_id}"]},
    "POST /api/v1/campaigns/{campaign_id}/inboxes/detach": {"inbox_ids": ["{inbox_id}"]},
    "POST /api/v1/campaigns/{campaign_id}/leads": {"email": "zed@example.com"},
    "PATCH /api/v1/inboxes/{inbox_id}": {"first_name": "Zed"},
    "PATCH /api/v1/webhooks/{webhook_id}": {"is_active": False},
    "PATCH /api/v1/domains/{domain_id}": {"dkim_selector": "cf2024"},
}

EXPECTED_SCOPES = {
    "GET /api/v1/campaigns": "campaigns:read",
    "POST /api/v1/campaigns/{campaign_id}/preview": "campaigns:read",
    "POST /api/v1/campaigns/{campaign_id}/activate": "campaigns:write",
    "PATCH /api/v1/campaigns/{campaign_id}/schedule": "campaigns:write",
    "POST /api/v1/campaigns/{campaign_id}/inboxes/attach": "campaigns:write",
    "GET /api/v1/campaigns/{campaign_id}/sequences": "campaigns:read",
    "PATCH /api/v1/campaigns/{campaign_id}/variants/{variant_id}": "campaigns:write",
    "POST /api/v1/campaigns/{campaign_id}/leads": "leads:write",
    "POST /api/v1/campaigns/{campaign_id}/leads/import": "leads:write",
    "GET /api/v1/campaigns/{campaign_id}/imports/{import_id}": "leads:read",
    "POST /api/v1/campaigns/{campaign_id}/leads/{lead_id}/{action}": "leads:write",
    "GET /api/v1/leads/{lead_id}": "leads:read",
    "POST /api/v1/inboxes/{inbox_id}/validate": "inboxes:write",
    "GET /api/v1/inboxes/{inbox_id}/messages": "inboxes:read",
    "GET /api/v1/inboxes/{inbox_id}/warmup/stats": "inboxes:read",
    "GET /api/v1/blocklist/check": "blocklist:read",
    "DELETE /api/v1/blocklist/{entry_id}": "blocklist:write",
    "GET /api/v1/unibox/conversations/{conversation_id}/attachments/{attachment_id}": (
        "conversations:read"
    ),
    "POST /api/v1/unibox/conversations/{conversation_id}/reply": "conversations:write",
    "GET /api/v1/webhooks/{webhook_id}/deliveries": "webhooks:read",
    "POST /api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver": "webhooks:write",
    "POST /api/v1/triggers": "triggers:write",
    "GET /api/v1/emails": "emails:read",
    "GET /api/v1/emails/{email_id}": "emails:read",
    "POST /api/v1/emails": "emails:write",
    "POST /api/v1/emails/batch": "emails:write",
    "GET /api/v1/stats": "stats:read",
    "GET /api/v1/domains": "domains:read",
    "POST /api/v1/domains/{domain_id}/verify": "domains:write",
    "DELETE /api/v1/domains/{domain_id}": "domains:write",
    "GET /api/v1/contacts": "contacts:read",
    "PATCH /api/v1/contacts/{contact_id}": "contacts:write",
    "POST /api/v1/lists/{list_id}/contacts": "contacts:write",
    "GET /api/v1/lists/{list_id}/contacts": "contacts:read",
    "DELETE /api/v1/lists/{list_id}/contacts/{contact_id}": "contacts:write",
}


def _fill(value: Any, world: dict[str, str]) -> Any:
    if isinstance(value, str):
        return re.sub(r"{(\w+)}", lambda m: world[m.group(1)], value)
    if isinstance(value, list):
        return [_fill(v, world) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, world) for k, v in value.items()}
    return value


def url_of(op: Operation, world: dict[str, str]) -> str:
    values = {**OTHER_PARAMS, **world}
    return re.sub(r"{(\w+)}", lambda m: values.get(m.group(1), "unknown"), op.path)


def request_kwargs(op: Operation, world: dict[str, str], *, valid: bool) -> dict[str, Any]:
    """Query and body for ``op``: a minimal valid one, or ``{}`` (invalid wherever a body is
    required) to show that authentication comes first."""
    kwargs: dict[str, Any] = {}
    if op.required_query:
        kwargs["params"] = {name: QUERY_VALUES.get(name, "x") for name in op.required_query}
    if op.body_type is None:
        return kwargs
    if not valid:
        kwargs["json"] = {}
    elif op.body_type == "text/csv":
        kwargs["content"] = CSV
        kwargs["headers"] = {"Content-Type": "text/csv"}
    elif op.label in BODIES:
        kwargs["json"] = _fill(BODIES[op.label], world)
    elif op.examples:
        kwargs["json"] = op.examples[0]
    else:
        kwargs["json"] = {}
    return kwargs


async def call(
    client: httpx.AsyncClient,
    op: Operation,
    world: dict[str, str],
    tenant: Tenant | None,
    *,
    valid: bool = True,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    kwargs = request_kwargs(op, world, valid=valid)
    merged = {**(tenant.headers if tenant else {}), **kwargs.pop("headers", {}), **(headers or {})}
    return await client.request(op.method, url_of(op, world), headers=merged, **kwargs)


def assert_error(response: httpx.Response, status: int, code: str | re.Pattern[str]) -> dict:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    if isinstance(code, str):
        assert error["code"] == code, error
    else:
        assert code.fullmatch(error["code"]), error
    assert error["status"] == status
    assert error["message"]
    assert error["request_id"] == response.headers["X-Request-ID"], error
    return error


# --- fixtures: one app, database and key set per module; a world per 404 case -------------------


@pytest.fixture(scope="module")
def matrix_settings(
    migrated_template: Path,
    tmp_path_factory: pytest.TempPathFactory,
    temporal_env: WorkflowEnvironment,
) -> Settings:
    directory = tmp_path_factory.mktemp("contract")
    database = directory / "coldflow.db"
    database.write_bytes(migrated_template.read_bytes())
    return Settings(
        env="test",
        data_dir=directory / "data",
        database_url=f"sqlite+aiosqlite:///{database}",
        temporal_address=temporal_env.client.service_client.config.target_host,
        task_queue=unique_task_queue(),
        secret_key=generate_key(),
        public_url="http://127.0.0.1:8000",
        rate_limit_per_minute=100_000,
        campaign_create_limit_per_minute=100_000,
        webhook_allow_private=True,
    )


@pytest.fixture(scope="module")
async def api(matrix_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(matrix_settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://coldflow.test") as http:
            http.app = app  # type: ignore[attr-defined]
            yield http


def _sessions(api: httpx.AsyncClient) -> SessionFactory:
    sessions: SessionFactory = api.app.state.sessions  # type: ignore[attr-defined]
    return sessions


_names: Iterator[int] = iter(range(10**9))


async def _tenant(api: httpx.AsyncClient, prefix: str, scopes: tuple[str, ...]) -> Tenant:
    return await make_tenant(_sessions(api), f"{prefix}-{next(_names)}", scopes=scopes)


@pytest.fixture(scope="module")
async def keys(api: httpx.AsyncClient) -> dict[str, dict[str, Tenant]]:
    """Per scope: a key with every other scope (``without``) and one with only it (``only``)."""
    without = {s: await _tenant(api, "without", tuple(set(ALL_SCOPES) - {s})) for s in ALL_SCOPES}
    only = {s: await _tenant(api, "only", (s,)) for s in ALL_SCOPES}
    return {"without": without, "only": only}


@pytest.fixture(scope="module")
async def intruder(api: httpx.AsyncClient) -> Tenant:
    """Workspace B, with every scope."""
    return await _tenant(api, "intruder", ("*",))


@pytest.fixture(scope="module")
async def shared_world(api: httpx.AsyncClient) -> dict[str, str]:
    """A world for the 401/403 cases, which must never reach it."""
    return await build_world(api, await _tenant(api, "owner", ("*",)))


async def snapshot(api: httpx.AsyncClient, owner: Tenant, world: dict[str, str]) -> dict:
    """Every object of the world as its owner reads it."""
    c = f"/api/v1/campaigns/{world['campaign_id']}"
    w = f"/api/v1/webhooks/{world['webhook_id']}"
    u = f"/api/v1/unibox/conversations/{world['conversation_id']}"
    urls = [
        c,
        f"{c}/sequences",
        f"{c}/leads",
        f"{c}/leads/{world['lead_id']}",
        f"{c}/imports/{world['import_id']}",
        f"/api/v1/inboxes/{world['inbox_id']}",
        "/api/v1/blocklist",
        w,
        f"{w}/deliveries",
        u,
        f"{u}/attachments/{world['attachment_id']}",
    ]
    seen: dict[str, Any] = {}
    for url in urls:
        response = await api.get(url, headers=owner.headers)
        assert response.status_code == 200, f"{url}: {response.text}"
        is_json = response.headers["content-type"].startswith("application/json")
        seen[url] = response.json() if is_json else response.content
    return seen


# --- the route table itself ---------------------------------------------------------------------


def test_the_table_is_the_whole_api() -> None:
    labels = set(IDS)
    assert len(labels) == len(IDS)
    assert len(OPERATIONS) >= 55, IDS  # 59 when written; fewer means the walk lost routes
    assert set(EXPECTED_SCOPES) <= labels


def test_every_operation_requires_exactly_one_scope() -> None:
    missing = [op.label for op in OPERATIONS if op.scope is None]
    assert missing == [], f"operations without require_scope: {missing}"
    assert {op.scope for op in OPERATIONS} <= set(ALL_SCOPES)


def test_every_path_parameter_can_be_filled() -> None:
    unknown = {
        (op.label, p)
        for op in OPERATIONS
        for p in op.params
        if p not in OBJECT_PARAMS and p not in OTHER_PARAMS
    }
    assert unknown == set(), "add these to build_world/OBJECT_PARAMS or OTHER_PARAMS"


def test_scope_mapping_is_as_documented() -> None:
    actual = {op.label: op.scope for op in OPERATIONS}
    assert {label: actual[label] for label in EXPECTED_SCOPES} == EXPECTED_SCOPES
    for op in OPERATIONS:
        family = op.scope.split(":")[0] if op.scope else None
        # Reads need :read, everything else :write; preview (a POST that saves nothing) reads.
        reads = op.method == "GET" or op.path.endswith("/preview")
        assert op.scope == f"{family}:{'read' if reads else 'write'}", op.label


# --- 1. no key ----------------------------------------------------------------------------------


@pytest.mark.parametrize("op", OPERATIONS, ids=IDS)
async def test_no_key_is_401(
    api: httpx.AsyncClient, shared_world: dict[str, str], op: Operation
) -> None:
    response = await call(api, op, shared_world, None, valid=False)
    error = assert_error(response, 401, "API_KEY_MISSING")
    assert error["request_id"].startswith("req_")

    chosen = f"contract-{next(_names)}"
    response = await call(
        api, op, shared_world, None, valid=False, headers={"X-Request-ID": chosen}
    )
    assert assert_error(response, 401, "API_KEY_MISSING")["request_id"] == chosen
    assert response.headers["X-Request-ID"] == chosen

    response = await call(
        api, op, shared_world, None, valid=False, headers={"Authorization": "Bearer cf_nope"}
    )
    assert_error(response, 401, "API_KEY_INVALID")


# --- 2. scopes ----------------------------------------------------------------------------------


@pytest.mark.parametrize("op", OPERATIONS, ids=IDS)
async def test_key_without_the_scope_is_403(
    api: httpx.AsyncClient,
    shared_world: dict[str, str],
    keys: dict[str, dict[str, Tenant]],
    op: Operation,
) -> None:
    assert op.scope is not None
    response = await call(api, op, shared_world, keys["without"][op.scope], valid=False)
    error = assert_error(response, 403, "INSUFFICIENT_SCOPE")
    assert error["details"][0]["required_scope"] == op.scope


@pytest.mark.parametrize("op", OPERATIONS, ids=IDS)
async def test_key_with_only_the_scope_is_not_refused(
    api: httpx.AsyncClient,
    shared_world: dict[str, str],
    keys: dict[str, dict[str, Tenant]],
    op: Operation,
) -> None:
    """The key's workspace is not the world's: object routes answer 404, collections work."""
    assert op.scope is not None
    response = await call(api, op, shared_world, keys["only"][op.scope])
    assert response.status_code not in (401, 403), response.text
    assert response.status_code < 500, response.text
    if op in OWNED:
        assert response.status_code == 404, response.text


# --- 3. another workspace's objects -------------------------------------------------------------


@pytest.mark.parametrize("op", OWNED, ids=[op.label for op in OWNED])
async def test_other_workspace_ids_are_404(
    api: httpx.AsyncClient, intruder: Tenant, op: Operation
) -> None:
    owner = await _tenant(api, "owner", ("*",))
    world = await build_world(api, owner)
    before = await snapshot(api, owner, world)

    response = await call(api, op, world, intruder)
    assert_error(response, 404, re.compile(r"[A-Z_]+_NOT_FOUND"))

    assert await snapshot(api, owner, world) == before
    if op.method == "GET":
        own = await call(api, op, world, owner)
        assert 200 <= own.status_code < 300, own.text


# --- auth before body parsing -------------------------------------------------------------------

JSON_BODY = [op for op in OPERATIONS if op.body_type == "application/json"]


@pytest.mark.parametrize("op", [pytest.param(op, id=op.label) for op in JSON_BODY])
@pytest.mark.parametrize("who", ["no-key", "no-scope"])
async def test_auth_comes_before_parsing_the_body(
    api: httpx.AsyncClient,
    shared_world: dict[str, str],
    keys: dict[str, dict[str, Tenant]],
    op: Operation,
    who: str,
) -> None:
    assert op.scope is not None
    headers = {"Content-Type": "application/json"}
    if who == "no-scope":
        headers.update(keys["without"][op.scope].headers)
    response = await api.request(
        op.method, url_of(op, shared_world), content=b"{not json", headers=headers
    )
    if who == "no-key":
        assert_error(response, 401, "API_KEY_MISSING")
    else:
        assert_error(response, 403, "INSUFFICIENT_SCOPE")
