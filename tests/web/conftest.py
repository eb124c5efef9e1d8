"""Fixtures for the page tests: apps on small fixture graphs, and an HTML parser that builds a
tree (html.parser from the standard library), so tests assert on elements, not on strings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from palmyra_graph.app import create_app

FIXTURES = Path(__file__).parent / "fixtures"
VOID_ELEMENTS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
                 "source", "track", "wbr"}  # fmt: skip


@dataclass
class Element:
    """An element of a parsed page."""

    tag: str
    attrs: dict[str, str]
    children: list[Element | str] = field(default_factory=list)

    def iter(self, tag: str | None = None) -> Iterator[Element]:
        """This element and every descendant (with that tag), in document order."""
        if tag is None or self.tag == tag:
            yield self
        for child in self.children:
            if isinstance(child, Element):
                yield from child.iter(tag)

    def find_all(self, tag: str | None = None, **attrs: str) -> list[Element]:
        """Descendants with the tag whose attributes contain ``attrs`` (``class_`` → class)."""
        wanted = {k.rstrip("_"): v for k, v in attrs.items()}
        return [
            e
            for e in self.iter(tag)
            if all(
                (v in e.attrs.get(k, "").split()) if k == "class" else e.attrs.get(k) == v
                for k, v in wanted.items()
            )
        ]

    def find(self, tag: str | None = None, **attrs: str) -> Element:
        found = self.find_all(tag, **attrs)
        assert found, f"no <{tag}> with {attrs}"
        return found[0]

    def by_id(self, ident: str) -> Element:
        return self.find(None, id=ident)

    @property
    def text(self) -> str:
        """The text content, whitespace collapsed."""
        return " ".join(self._raw_text().split())

    def _raw_text(self) -> str:
        return "".join(c if isinstance(c, str) else c._raw_text() for c in self.children)


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(element)
        if tag not in VOID_ELEMENTS:
            self.stack.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Element(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse_html(markup: bytes | str) -> Element:
    """Parse a page into an element tree."""
    builder = _TreeBuilder()
    builder.feed(markup.decode("utf-8") if isinstance(markup, bytes) else markup)
    builder.close()
    return builder.root


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
