"""An app on the small excerpt graph (known content) and a tiny HTML reader for page tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from palmyra_graph.testing import Element, parse_html
from palmyra_graph.web import create_app

FIXTURES = Path(__file__).parent.parent / "export" / "fixtures"
MINI = [str(FIXTURES / "mini-ontology.ttl"), str(FIXTURES / "mini-data.ttl")]


@pytest.fixture(scope="session")
def mini_app() -> Flask:
    return create_app({"TESTING": True, "DATA_FILES": MINI})


@pytest.fixture
def mini(mini_app: Flask) -> FlaskClient:
    return mini_app.test_client()


@pytest.fixture
def html() -> Callable[[bytes], Element]:
    """``html(response.data)``: the page as a tree of elements."""
    return parse_html
