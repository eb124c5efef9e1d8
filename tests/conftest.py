"""Shared fixtures: the app, its test client and CLI runner (as the Flask tutorial has them),
the read-only ``../shared/`` folder, and a real server on a free loopback port.

Tests that read ``../shared/`` skip when it is absent (a user's clone) unless
``PALMYRA_REQUIRE_SHARED`` is set, as ``.ci/run`` does; browser tests likewise with
``PALMYRA_REQUIRE_BROWSER``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from palmyra_graph.testing import LiveServer
from palmyra_graph.web import create_app

#: The checkout the tests run from, and the shared folder beside it.
ROOT = Path(__file__).resolve().parents[1]
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


@pytest.fixture(scope="session", autouse=True)
def dumps_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Every app and server of the session writes its dumps here, not in the user's cache."""
    directory = tmp_path_factory.mktemp("dumps")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PALMYRA_DUMPS_DIR", str(directory))
        yield directory


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


@pytest.fixture(scope="session")
def live_server() -> Iterator[LiveServer]:
    """One real server on the bundled data for the whole session."""
    server = LiveServer()
    yield server
    server.stop()
