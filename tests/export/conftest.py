"""Fixture graphs for export tests: a small excerpt (with a blank node list) and the bundled
ontology and data, each as the files and as rdflib's own reading of them."""

from __future__ import annotations

from pathlib import Path

import pytest
import rdflib

from palmyra_graph.graph import resources

FIXTURES = Path(__file__).parent / "fixtures"
MINI = (FIXTURES / "mini-ontology.ttl", FIXTURES / "mini-data.ttl")
BUNDLED = (resources.ONTOLOGY_FILE, resources.DATA_FILE)


@pytest.fixture(params=["mini", "bundled"])
def files(request: pytest.FixtureRequest) -> tuple[Path, ...]:
    """The files of a graph: the test excerpt, then the bundled ontology and data."""
    return MINI if request.param == "mini" else BUNDLED


def read_with_rdflib(paths: tuple[Path, ...]) -> rdflib.Graph:
    """The files as rdflib parses them: the reference an export must give back."""
    graph = rdflib.Graph()
    for path in paths:
        graph.parse(path, format="turtle")
    return graph
