"""Shared fixtures: the app, its test client and CLI runner (as the Flask tutorial has them),
the read-only ``../shared/`` folder, and a real server on a free loopback port.

Tests that read ``../shared/`` skip when it is absent (a user's clone) unless
``PALMYRA_REQUIRE_SHARED`` is set, as ``.ci/run`` does; browser tests likewise with
``PALMYRA_REQUIRE_BROWSER``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from palmyra_graph.app import create_app
from palmyra_graph.resources import ROOT

SHARED = ROOT.parent / "shared"
CHROMIUM = Path("/usr/bin/chromium")


def _required(variable: str) -> bool:
    return os.environ.get(variable, "") not in ("", "0")


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared/``: skipped when absent, a failure when PALMYRA_REQUIRE_SHARED is set."""
    if not SHARED.is_dir():
        if _required("PALMYRA_REQUIRE_SHARED"):
            pytest.fail(f"{SHARED} is required (PALMYRA_REQUIRE_SHARED is set) but absent")
        pytest.skip(f"{SHARED} is absent (a user's clone); CI makes these tests mandatory")
    return SHARED


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's Chromium: skipped when absent, a failure when PALMYRA_REQUIRE_BROWSER is set."""
    if not CHROMIUM.exists():
        if _required("PALMYRA_REQUIRE_BROWSER"):
            pytest.fail(f"{CHROMIUM} is required (PALMYRA_REQUIRE_BROWSER is set) but absent")
        pytest.skip(f"{CHROMIUM} is absent: apt-get install chromium to run browser tests")
    return CHROMIUM


@pytest.fixture(scope="session")
def app() -> Flask:
    """The app on the bundled ontology and data (read-only, so shared by the session)."""
    application = create_app({"TESTING": True})
    return application


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """``palmyra-graph serve`` in a child process on a free loopback port."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "palmyra_graph", "serve", "--port", str(self.port)]
        self.process = subprocess.Popen(
            [*command, *args],
            env={**os.environ, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._wait_until_listening()

    def _wait_until_listening(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                output = self.process.stdout.read() if self.process.stdout else ""
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{output}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not listen on {self.url} within {timeout} s")

    def stop(self) -> int:
        """Send SIGTERM, wait for a clean exit; returns the exit status."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout:
            self.process.stdout.close()
        return self.process.returncode


@pytest.fixture(scope="session")
def live_server() -> Iterator[LiveServer]:
    """One real server on the bundled data for the whole session."""
    server = LiveServer()
    yield server
    server.stop()
