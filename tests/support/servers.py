"""Private, throw-away server processes for tests: each test session gets its own ports.

These start the real Debian binaries (``redis-server``, ``mosquitto``) on loopback with a
free port and a temporary directory, and stop them by pid. They are for suites that need a
server of their own (to stop and restart it, for instance); the shared lab services are
started by ``hotline lab up``.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.support.wait import free_port, wait_port


@dataclass
class ServerProcess:
    """A server started by a test: ``port`` on 127.0.0.1, ``proc`` its process."""

    name: str
    port: int
    proc: subprocess.Popen[bytes]
    workdir: Path
    argv: list[str]

    @property
    def url(self) -> str:
        scheme = {"redis": "redis", "mosquitto": "mqtt"}.get(self.name, "tcp")
        return f"{scheme}://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Stop the process (SIGTERM, then SIGKILL after 5 s)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)

    def start(self) -> None:
        """(Re)start the process on the same port and wait until it accepts connections."""
        self.stop()
        log = open(self.workdir / f"{self.name}.log", "ab")
        self.proc = subprocess.Popen(self.argv, cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT)
        wait_port(self.port, timeout=10)


def _need(binary: str) -> str:
    path = shutil.which(binary) or (f"/usr/sbin/{binary}" if Path(f"/usr/sbin/{binary}").exists() else None)
    if not path:
        raise RuntimeError(f"{binary} is not installed: run `hotline lab up` (or `make lab`) first")
    return path


def start_redis(workdir: Path) -> ServerProcess:
    """Start a private redis-server (no persistence) on a free loopback port."""
    port = free_port()
    argv = [_need("redis-server"), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--dir", str(workdir)]
    srv = ServerProcess("redis", port, subprocess.Popen(["true"]), workdir, argv)
    srv.start()
    return srv


def start_mosquitto(workdir: Path) -> ServerProcess:
    """Start a private mosquitto broker on a free loopback port (anonymous, persistence on)."""
    port = free_port()
    conf = workdir / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
        f"persistence_location {workdir}/\n"
    )
    argv = [_need("mosquitto"), "-c", str(conf)]
    srv = ServerProcess("mosquitto", port, subprocess.Popen(["true"]), workdir, argv)
    srv.start()
    return srv
