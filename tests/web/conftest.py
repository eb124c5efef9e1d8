"""Fixtures for the page tests: apps on small fixture graphs, and an HTML parser that builds a
tree (html.parser from the standard library), so tests assert on elements, not on strings.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from palmyra_graph.testing import Element, parse_html
from palmyra_graph.web import create_app

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def parse() -> Callable[[bytes | str], Element]:
    return parse_html


@pytest.fixture(scope="session")
def fixture_app() -> Flask:
    """The app on a small graph of the seed's facts, with fixture example queries."""
    return create_app(
        {
            "TESTING": True,
            "DATA_FILES": [str(FIXTURES / "offensive.ttl")],
            "QUERIES_DIR": str(FIXTURES / "queries"),
        }
    )


@pytest.fixture
def fixture_client(fixture_app: Flask) -> FlaskClient:
    return fixture_app.test_client()
