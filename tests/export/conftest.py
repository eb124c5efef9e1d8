"""Fixture graphs for export tests: a small excerpt (with a blank node list), the excerpt with
blank nodes of every shape beside it, and the bundled ontology and data, each as the files and
as rdflib's own reading of them."""

from __future__ import annotations

from pathlib import Path

import pytest
import rdflib

from palmyra_graph.graph import resources

FIXTURES = Path(__file__).parent / "fixtures"
MINI = (FIXTURES / "mini-ontology.ttl", FIXTURES / "mini-data.ttl")
BLANK = (*MINI, FIXTURES / "blank-nodes.ttl")
BUNDLED = (resources.ONTOLOGY_FILE, resources.DATA_FILE)
GRAPHS = {"mini": MINI, "blank": BLANK, "bundled": BUNDLED}


@pytest.fixture(params=sorted(GRAPHS))
def files(request: pytest.FixtureRequest) -> tuple[Path, ...]:
    """The files of a graph: the bundled ontology and data, the test excerpt with blank
    nodes of every shape, then the excerpt alone."""
    return GRAPHS[request.param]


def read_with_rdflib(paths: tuple[Path, ...]) -> rdflib.Graph:
    """The files as rdflib parses them: the reference an export must give back."""
    graph = rdflib.Graph()
    for path in paths:
        graph.parse(path, format="turtle")
    return graph
