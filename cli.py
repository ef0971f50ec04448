"""The ``coldflow`` command: run the pieces, migrate, and manage workspaces and keys."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from api.main import create_app
from coldflow.config import Settings, get_settings, resolve_secret_key
from coldflow.devserver import start_dev_server
from coldflow.errors import CodedError, NotFound
from coldflow.models import ImportStatus, LeadImport
from coldflow.schemas.leads import IfExists, LeadImportRead
from coldflow.services import lead_imports as import_service
from coldflow.services import workspaces as workspace_service
from coldflow.services.journeys import Journeys
from coldflow.services.webhooks import ensure_relay
from coldflow.store import workspaces as workspace_store
from coldflow.store.db import create_engine, session_factory, unit_of_work
from coldflow.store.migrate import upgrade_to_head
from coldflow.temporal import connect
from worker import build_worker, run_worker

app = typer.Typer(help="coldflow: cold-email sequencing on Temporal.", no_args_is_help=True)
workspace_app = typer.Typer(help="Workspaces.", no_args_is_help=True)
key_app = typer.Typer(help="API keys.", no_args_is_help=True)
leads_app = typer.Typer(help="Leads.", no_args_is_help=True)
app.add_typer(workspace_app, name="workspace")
app.add_typer(key_app, name="key")
app.add_typer(leads_app, name="leads")

log = logging.getLogger("coldflow")

JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


def _setup_logging() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


@contextlib.contextmanager
def _coded_errors() -> Iterator[None]:
    """A CodedError becomes a one-line message and exit code 1, not a traceback."""
    try:
        yield
    except CodedError as exc:
        typer.echo(f"error: {exc.code}: {exc.message}", err=True)
        raise typer.Exit(1) from exc


@app.command()
def migrate() -> None:
    """Apply the database migrations (safe to run on every deploy)."""
    settings = get_settings()
    upgrade_to_head(settings.resolved_database_url)
    typer.echo("database is up to date")


@app.command()
def api() -> None:
    """Serve the REST API (uvicorn) on COLDFLOW_API_HOST:COLDFLOW_API_PORT."""
    settings = get_settings()
    uvicorn.run(create_app(settings), host=settings.api_host, port=settings.api_port)


@app.command()
def worker() -> None:
    """Run a Temporal worker for coldflow's task queue."""
    _setup_logging()
    asyncio.run(run_worker(get_settings()))


async def _create_workspace(settings: Settings, name: str) -> tuple[str, str]:
    engine = create_engine(settings.resolved_database_url)
    try:
        async with unit_of_work(session_factory(engine)) as session:
            workspace = await workspace_service.create_workspace(session=session, name=name)
            issued = await workspace_service.create_api_key(session=session, workspace_name=name)
        return workspace.id, issued.secret
    finally:
        await engine.dispose()


@workspace_app.command("create")
def workspace_create(name: str, as_json: JsonFlag = False) -> None:
    """Create a workspace and its first API key (shown once)."""
    settings = get_settings()
    with _coded_errors():
        workspace_id, key = asyncio.run(_create_workspace(settings, name))
    if as_json:
        typer.echo(json.dumps({"workspace_id": workspace_id, "name": name, "api_key": key}))
    else:
        typer.echo(f"workspace {name} ({workspace_id})\napi key (shown once): {key}")


async def _warmup_sharing(settings: Settings, name: str, share: bool) -> None:
    engine = create_engine(settings.resolved_database_url)
    try:
        async with unit_of_work(session_factory(engine)) as session:
            await workspace_service.set_warmup_sharing(session=session, name=name, share=share)
    finally:
        await engine.dispose()


@workspace_app.command("warmup-pool")
def workspace_warmup_pool(
    name: str,
    share: Annotated[
        bool, typer.Option("--share/--private", help="Join the shared pool, or keep to itself.")
    ] = True,
) -> None:
    """Let a workspace's warming inboxes exchange with other opted-in workspaces' (needs
    COLDFLOW_WARMUP_SHARED_POOL=true on the workers)."""
    settings = get_settings()
    with _coded_errors():
        asyncio.run(_warmup_sharing(settings, name, share))
    typer.echo(f"workspace {name}: warmup pool {'shared' if share else 'private'}")


async def _create_key(
    settings: Settings, workspace: str, scopes: list[str], name: str
) -> tuple[str, str]:
    engine = create_engine(settings.resolved_database_url)
    try:
        async with unit_of_work(session_factory(engine)) as session:
            issued = await workspace_service.create_api_key(
                session=session, workspace_name=workspace, scopes=scopes, name=name
            )
        return issued.workspace.id, issued.secret
    finally:
        await engine.dispose()


@key_app.command("create")
def key_create(
    workspace: Annotated[str, typer.Option(help="Workspace name.")],
    scope: Annotated[
        list[str] | None, typer.Option(help="A scope; repeat for several. Default: *")
    ] = None,
    name: Annotated[str, typer.Option(help="A label for the key.")] = "default",
    as_json: JsonFlag = False,
) -> None:
    """Issue an API key for a workspace (shown once, stored hashed)."""
    settings = get_settings()
    with _coded_errors():
        workspace_id, key = asyncio.run(_create_key(settings, workspace, scope or ["*"], name))
    if as_json:
        typer.echo(
            json.dumps({"workspace_id": workspace_id, "api_key": key, "scopes": scope or ["*"]})
        )
    else:
        typer.echo(f"api key for {workspace} (shown once): {key}")


async def _import_leads(
    settings: Settings, workspace: str, campaign_id: str, path: Path, if_exists: IfExists
) -> dict[str, object]:
    """Upload through the same service as the API, then follow the durable import's progress."""
    engine = create_engine(settings.resolved_database_url)
    sessions = session_factory(engine)
    client = await connect(settings)
    journeys = Journeys(
        client, task_queue=settings.task_queue, namespace=settings.temporal_namespace
    )
    try:
        async with unit_of_work(sessions) as session:
            found = await workspace_store.get_workspace_by_name(session, workspace)
            if found is None:
                raise NotFound("workspace", workspace)
            record = await import_service.create_import(
                session=session,
                journeys=journeys,
                workspace_id=found.id,
                campaign_id=campaign_id,
                filename=path.name,
                content=path.read_bytes(),
                if_exists=if_exists,
                max_bytes=settings.max_import_bytes,
            )
        shown = 0
        with typer.progressbar(length=1, label=f"importing {path.name}", file=sys.stderr) as bar:
            while True:
                async with sessions() as session:
                    current = await session.get(LeadImport, record.id)
                assert current is not None
                if current.total_rows and bar.length != current.total_rows:
                    bar.length = current.total_rows
                bar.update(current.processed_rows - shown)
                shown = current.processed_rows
                if current.status in (ImportStatus.completed, ImportStatus.failed):
                    break
                await asyncio.sleep(0.5)
        view = LeadImportRead.model_validate(current, from_attributes=True)
        return view.model_dump(mode="json", exclude={"errors"}) | {"errors": view.errors[:20]}
    finally:
        await engine.dispose()


@leads_app.command("import")
def leads_import(
    campaign_id: str,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    workspace: Annotated[str, typer.Option(help="Workspace name.")] = "default",
    if_exists: Annotated[IfExists, typer.Option(help="fail, skip or update.")] = IfExists.skip,
) -> None:
    """Import a CSV of leads into a campaign (needs a running worker), with a progress bar."""
    settings = get_settings()
    with _coded_errors():
        summary = asyncio.run(_import_leads(settings, workspace, campaign_id, file, if_exists))
    typer.echo(json.dumps(summary, indent=2))
    if summary["status"] != "completed":
        raise typer.Exit(1)


async def _bootstrap_key(settings: Settings) -> tuple[str, bool]:
    key_file = settings.data_dir / "api-key"
    stored = key_file.read_text().strip() if key_file.exists() else None
    engine = create_engine(settings.resolved_database_url)
    try:
        async with unit_of_work(session_factory(engine)) as session:
            key, issued = await workspace_service.ensure_default_key(
                session=session, stored_key=stored
            )
    finally:
        await engine.dispose()
    if issued:
        key_file.write_text(key + "\n")
    key_file.chmod(0o600)
    return key, issued


class _QuietServer(uvicorn.Server):
    """uvicorn without its own signal handling: ``dev`` owns SIGINT/SIGTERM for every part."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def _dev(settings: Settings) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    server = start_dev_server(
        db_file=settings.data_dir / "temporal.db",
        port=settings.temporal_port,
        ui_port=settings.temporal_ui_port,
        namespace=settings.temporal_namespace,
        log_file=settings.data_dir / "temporal.log",
    )
    try:
        await server.wait_ready()
        key, issued = await _bootstrap_key(settings)
        client = await connect(settings)
        api_server = _QuietServer(
            uvicorn.Config(
                create_app(settings),
                host=settings.api_host,
                port=settings.api_port,
                log_level="warning",
            )
        )
        async with build_worker(settings, client) as temporal_worker, temporal_worker:
            await ensure_relay(client, settings.task_queue)
            api_task = asyncio.create_task(api_server.serve())
            while not api_server.started and not api_task.done():
                await asyncio.sleep(0.05)
            if api_task.done():
                api_task.result()
            base = f"http://{settings.api_host}:{settings.api_port}"
            typer.echo(
                "\ncoldflow is running\n"
                f"  API docs    {base}/docs\n"
                f"  Temporal UI http://127.0.0.1:{settings.temporal_ui_port}\n"
                f"  API key     {key}{'  (new)' if issued else ''}\n"
                f"  key file    {(settings.data_dir / 'api-key').resolve()}\n"
                "Ctrl-C stops everything.\n"
            )
            await stop.wait()
            api_server.should_exit = True
            await api_task
    finally:
        server.stop()
    typer.echo("coldflow stopped")


@app.command()
def dev() -> None:
    """Run everything on this machine: Temporal dev server (SQLite), worker, API, default key."""
    _setup_logging()
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    resolve_secret_key(settings)
    upgrade_to_head(settings.resolved_database_url)
    asyncio.run(_dev(settings))


if __name__ == "__main__":
    app()
