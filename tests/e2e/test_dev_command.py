"""`coldflow dev` as a user runs it: start, use, stop with SIGTERM, start again on the same data."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.fixtures.ports import free_port

pytestmark = pytest.mark.timeout(240)


class DevProcess:
    """A `coldflow dev` child whose stdout is read line by line on a thread."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        coldflow = str(Path(sys.executable).parent / "coldflow")
        self.process = subprocess.Popen(
            [coldflow, "dev"],
            env=env,
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            self.lines.put(line)

    def wait_for_line(self, prefix: str, timeout: float = 120.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            if line.strip().startswith(prefix):
                return line.strip()
        raise AssertionError(f"no line starting {prefix!r}; output:\n{''.join(self.output)}")

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)


def _port_closed(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) != 0


def test_dev_starts_serves_stops_and_restarts_on_the_same_data(tmp_path: Path) -> None:
    api_port, temporal_port, ui_port = free_port(), free_port(), free_port()
    env = {
        **os.environ,
        "COLDFLOW_DATA_DIR": str(tmp_path / "data"),
        "COLDFLOW_API_PORT": str(api_port),
        "COLDFLOW_TEMPORAL_PORT": str(temporal_port),
        "COLDFLOW_TEMPORAL_UI_PORT": str(ui_port),
    }
    for name in ("DATABASE_URL", "COLDFLOW_DATABASE_URL", "COLDFLOW_TEMPORAL_ADDRESS"):
        env.pop(name, None)
    base = f"http://127.0.0.1:{api_port}"

    first = DevProcess(env, tmp_path)
    try:
        key = first.wait_for_line("API key").split()[2]
        assert (tmp_path / "data" / "api-key").read_text().strip() == key
        assert oct((tmp_path / "data" / "api-key").stat().st_mode & 0o777) == "0o600"
        assert httpx.get(f"{base}/healthz", timeout=10).status_code == 200
        assert httpx.get(f"http://127.0.0.1:{ui_port}/", timeout=10).status_code == 200
        created = httpx.post(
            f"{base}/api/v1/campaigns",
            json={"name": "Survives restarts"},
            headers={"Authorization": f"Bearer {key}"},
            timeout=10,
        )
        assert created.status_code == 201, created.text
    finally:
        assert first.stop() == 0, "".join(first.output)
    assert _port_closed(api_port)
    assert _port_closed(temporal_port)
    assert _port_closed(ui_port)

    second = DevProcess(env, tmp_path)
    try:
        assert second.wait_for_line("API key").split()[2] == key
        listed = httpx.get(f"{base}/api/v1/campaigns", headers={"X-API-Key": key}, timeout=10)
        assert [c["name"] for c in listed.json()["data"]] == ["Survives restarts"]
    finally:
        assert second.stop() == 0, "".join(second.output)
    assert _port_closed(temporal_port)
