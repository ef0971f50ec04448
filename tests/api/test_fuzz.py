"""OpenAPI-driven fuzzing of the live app: schemathesis generates requests for every operation
from the app's own /openapi.json and checks each response against it: no 5xx, only documented
status codes and content types, and bodies that match the documented response schema.

How it runs. ``client`` and ``tenant`` create this test's database, a workspace and its ``*`` key
on pytest's event loop, and ``world`` creates a few real objects through the API. A second
``create_app(settings)`` over the same database is loaded with
``schemathesis.openapi.from_asgi``: schemathesis starts that app's lifespan and serves every
request on its own event-loop thread (its ASGI transport), so the synchronous Hypothesis loop
never has to share pytest's loop; the fixture shuts the lifespan down afterwards.
``schemathesis.pytest.from_fixture`` would be the stock way to take a schema from a fixture, but
schemathesis 4.32 sets ``node._nodeid``, which pytest 9 no longer has, and ``schema.parametrize``
needs the schema at import time. So each operation is a pytest parameter (collected from
``create_app().openapi()``) and the test runs Hypothesis over that operation's strategies.

Each operation draws from schemathesis' positive and negative strategies and the schema's own
examples, with path parameters either generated (unknown ids: the 404 paths) or the ids of the
``world`` objects, so PATCH, DELETE, activation and the other state changes run on real rows.
Every operation gets a fresh database and world. Runs are derandomized: CI sees the same requests
every time. The Temporal dev server is up; nothing here needs a worker.

The bugs earlier runs found (a 500 on huge page numbers, undocumented 400/413/200 answers,
unresolvable refs in /openapi.json) are pinned by the regression tests at the end.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.python import asgi

from api.main import create_app
from coldflow.config import Settings
from tests.fixtures.api import Tenant
from tests.fixtures.world import build_world, created

EXAMPLES_PER_OPERATION = 20
FUZZ = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    database=None,
    # Generation is slow on a loaded CI box, and some operations have few distinct inputs.
    suppress_health_check=list(HealthCheck),
    # Shrinking would replay requests against state the first run already changed.
    phases=[Phase.explicit, Phase.generate],
)
OPERATIONS = [
    f"{method.upper()} {path}"
    for path, methods in create_app(Settings(env="test")).openapi()["paths"].items()
    for method in methods
]
# Literals mined from the app's source would feed generation too, but their order depends on
# string hashing, which differs per process: off, so every run sends the same requests.
CONFIG = {"analysis": {"constants": {"enabled": False}}}
ADD_LEADS = "POST /api/v1/campaigns/{campaign_id}/leads"


CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
]


@pytest.fixture
async def world(client: httpx.AsyncClient, tenant: Tenant) -> dict[str, str]:
    """Real objects of the tenant's workspace, by the path parameter that names them.

    The webhook is left out: ``POST /webhooks/{id}/test`` on a real endpoint waits for the
    delivery, which needs a worker (none runs here); generated ids still fuzz its 404 path.
    """
    world = await build_world(client, tenant)
    for name in ("webhook_id", "delivery_id"):
        world.pop(name)
    return world


@pytest.fixture
def fuzz_app(settings: Settings, world: dict[str, str]) -> Iterator[FastAPI]:
    """A second app over the test's database, its lifespan run by schemathesis' ASGI thread."""
    app = create_app(settings)
    try:
        yield app
    finally:
        asgi.shutdown_lifespans()


def strategies_for(
    operation: schemathesis.APIOperation, schema: schemathesis.BaseSchema, world: dict[str, str]
) -> list[Any]:
    names = re.findall(r"{(\w+)}", operation.path)
    real = {name: world[name] for name in names if name in world}
    strategies = [
        operation.as_strategy(mode, path_parameters=fixed)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        for fixed in ([None, real] if real else [None])
    ] + schema.get_strategies_from_examples(operation)
    return strategies


class TestEveryOperation:
    @pytest.mark.timeout(180)
    @pytest.mark.parametrize("label", OPERATIONS)
    def test_conforms_to_its_openapi(
        self, label: str, fuzz_app: FastAPI, tenant: Tenant, world: dict[str, str]
    ) -> None:
        config = schemathesis.Config.from_dict(CONFIG)
        schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz_app, config=config)
        operation = schema.find_operation_by_label(label)
        assert operation is not None, label

        @FUZZ
        @given(case=st.one_of(strategies_for(operation, schema, world)))
        def fuzz(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=tenant.headers, checks=CHECKS)

        fuzz()


# --- regression tests for the bugs earlier fuzz runs found -----------------------------------


def _unresolved_refs(document: dict[str, Any]) -> list[str]:
    found = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/"):
                target: Any = document
                for part in ref[2:].split("/"):
                    part = part.replace("~1", "/").replace("~0", "~")
                    target = target.get(part) if isinstance(target, dict) else None
                if target is None:
                    found.append(f"{ref} at {where}")
            for key, value in node.items():
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{where}/{index}")

    walk(document, "#")
    return found


async def _documented(client: httpx.AsyncClient, method: str, path: str) -> set[str]:
    document = (await client.get("/openapi.json")).json()
    return set(document["paths"][path][method]["responses"])


class TestOpenApiDocument:
    async def test_every_ref_resolves(self, client: httpx.AsyncClient) -> None:
        document = (await client.get("/openapi.json")).json()
        assert _unresolved_refs(document) == []


class TestMalformedBody:
    @pytest.mark.parametrize("body", [b"\x00", b"\xff"], ids=["nul-byte", "invalid-utf8"])
    async def test_unparseable_body_status_is_documented(
        self, client: httpx.AsyncClient, tenant: Tenant, body: bytes
    ) -> None:
        response = await client.post(
            "/api/v1/blocklist",
            content=body,
            headers={**tenant.headers, "Content-Type": "application/json"},
        )
        documented = await _documented(client, "post", "/api/v1/blocklist")
        assert str(response.status_code) in documented, response.text

    async def test_oversized_body_status_is_documented(
        self, client: httpx.AsyncClient, tenant: Tenant, settings: Settings
    ) -> None:
        padding = "x" * settings.max_body_bytes
        response = await client.post(
            "/api/v1/blocklist",
            content=f'{{"email": "ann@example.com", "padding": "{padding}"}}'.encode(),
            headers={**tenant.headers, "Content-Type": "application/json"},
        )
        assert response.status_code == 413
        documented = await _documented(client, "post", "/api/v1/blocklist")
        assert "413" in documented, response.text


class TestListPaging:
    @pytest.mark.parametrize(
        "url", ["/api/v1/campaigns", "/api/v1/leads", "/api/v1/inboxes", "/api/v1/blocklist"]
    )
    async def test_page_past_int64_is_not_a_server_error(
        self, client: httpx.AsyncClient, tenant: Tenant, url: str
    ) -> None:
        app = client.app  # type: ignore[attr-defined]
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url=str(client.base_url)) as http:
            page = 2**63 // 30 + 2  # the first page whose offset passes 2**63 - 1
            response = await http.get(url, params={"page": page}, headers=tenant.headers)
        assert response.status_code in (200, 422), response.text


class TestAddLeads:
    @pytest.mark.parametrize("if_exists", ["skip", "update"])
    async def test_existing_single_lead_status_is_documented(
        self, client: httpx.AsyncClient, tenant: Tenant, if_exists: str
    ) -> None:
        campaign = await created(client, tenant, "/api/v1/campaigns", json={"name": "Q2"})
        url = f"/api/v1/campaigns/{campaign['id']}/leads"
        await created(client, tenant, url, json={"email": "ann@example.com"})
        response = await client.post(
            url, json={"email": "ann@example.com", "if_exists": if_exists}, headers=tenant.headers
        )
        documented = await _documented(client, "post", "/api/v1/campaigns/{campaign_id}/leads")
        assert str(response.status_code) in documented, response.text
