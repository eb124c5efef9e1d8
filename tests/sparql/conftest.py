"""Fixtures for the endpoint tests: an app and a live server on a small fixture graph.

The fixture graph (``fixtures/offensive.ttl`` and ``fixtures/vocabulary.ttl``) has the data
model's shape and facts from the seed article only, so these tests do not move when the
bundled data grows.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from palmyra_graph.testing import CountingListener, LiveServer
from palmyra_graph.web import create_app

FIXTURES = Path(__file__).parent / "fixtures"
DATA = FIXTURES / "offensive.ttl"
VOCABULARY = FIXTURES / "vocabulary.ttl"
#: A small body limit, so 413 is cheap to provoke.
MAX_BODY = 20_000


@pytest.fixture(scope="session")
def sparql_app() -> Flask:
    """The app over the fixture graph (read-only, so shared by the session)."""
    return create_app(
        {
            "TESTING": True,
            "DATA_FILES": [str(DATA), str(VOCABULARY)],
            "MAX_CONTENT_LENGTH": MAX_BODY,
        }
    )


@pytest.fixture
def sparql_client(sparql_app: Flask) -> FlaskClient:
    return sparql_app.test_client()


@pytest.fixture(scope="session")
def fixture_server() -> Iterator[LiveServer]:
    """``palmyra-graph serve`` on the fixture graph, on a free loopback port."""
    server = LiveServer("--data", str(DATA), "--data", str(VOCABULARY))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def counter() -> Iterator[CountingListener]:
    """A loopback listener that counts the connections a query makes to it."""
    listener = CountingListener(path="")
    yield listener
    listener.close()
