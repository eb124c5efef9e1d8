"""An app on the small excerpt graph (known content) and a tiny HTML reader for page tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from palmyra_graph.app import create_app

FIXTURES = Path(__file__).parent.parent / "export" / "fixtures"
MINI = [str(FIXTURES / "mini-ontology.ttl"), str(FIXTURES / "mini-data.ttl")]


@pytest.fixture(scope="session")
def mini_app() -> Flask:
    return create_app({"TESTING": True, "DATA_FILES": MINI})


@pytest.fixture
def mini(mini_app: Flask) -> FlaskClient:
    return mini_app.test_client()


@dataclass
class Element:
    """An element of a parsed page: tag, attributes, children and its own text."""

    tag: str
    attrs: dict[str, str]
    content: list[Element | str] = field(default_factory=list)

    @property
    def children(self) -> list[Element]:
        return [c for c in self.content if isinstance(c, Element)]

    @property
    def text(self) -> str:
        inner = "".join(c if isinstance(c, str) else c.text for c in self.content)
        return " ".join(inner.split())

    def iter(self, tag: str | None = None, cls: str | None = None) -> list[Element]:
        found = []
        for child in self.children:
            classes = child.attrs.get("class", "").split()
            if (tag is None or child.tag == tag) and (cls is None or cls in classes):
                found.append(child)
            found.extend(child.iter(tag, cls))
        return found


_VOID = {"meta", "link", "br", "img", "input", "hr"}


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.root = Element("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].content.append(element)
        if tag not in _VOID:
            self.stack.append(element)

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].content.append(data)


def parse_html(page: bytes) -> Element:
    """The page as a tree of elements (the standard library's tokenizer, no browser)."""
    reader = _Reader()
    reader.feed(page.decode("utf-8"))
    reader.close()
    return reader.root


@pytest.fixture
def html() -> Callable[[bytes], Element]:
    """``html(response.data)``: the page as a tree of elements."""
    return parse_html
