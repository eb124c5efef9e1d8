"""The questions rewritten for large graphs give the answers of their whole-graph forms
(``tests/queries/whole-graph/NAME.rq``) on the bundled graph, and only those on a graph with
other offensives beside it, where the whole-graph forms answer for every offensive."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest

from palmyra_graph.graph import resources
from palmyra_graph.graph.resources import QUERIES_DIR, ROOT
from palmyra_graph.query.engine import OxigraphEngine

WHOLE_GRAPH = sorted((Path(__file__).parent / "whole-graph").glob("*.rq"))
IDS = [q.stem for q in WHOLE_GRAPH]


def solutions(engine: OxigraphEngine, query: Path) -> Counter[tuple[tuple[str, str], ...]]:
    """The solutions as a multiset of (variable, term in N-Triples) rows."""
    result = engine.query(query.read_text(encoding="utf-8"))
    assert isinstance(result.raw, ox.QuerySolutions)
    names = [v.value for v in result.raw.variables]
    return Counter(
        tuple((name, str(row[name])) for name in names if row[name] is not None)
        for row in result.raw
    )


@pytest.fixture(scope="module")
def bundled() -> OxigraphEngine:
    return OxigraphEngine.from_files()


@pytest.fixture(scope="module")
def with_others(tmp_path_factory: pytest.TempPathFactory) -> OxigraphEngine:
    """The bundled graph beside 10^4 triples of synthetic offensives (bench/generate.py)."""
    sys.path.insert(0, str(ROOT / "bench"))
    from generate import generate_file

    synthetic = tmp_path_factory.mktemp("synthetic") / "synthetic.nt"
    generate_file(synthetic, 10_000, seed=0)
    return OxigraphEngine.from_files([*resources.default_data_files(), synthetic])


def test_every_whole_graph_form_has_its_rewrite() -> None:
    assert IDS == ["publishers", "single-source"]
    for query in WHOLE_GRAPH:
        assert (QUERIES_DIR / query.name).exists()


@pytest.mark.parametrize("whole", WHOLE_GRAPH, ids=IDS)
def test_the_rewrite_gives_the_whole_graph_answers_on_the_bundled_graph(
    bundled: OxigraphEngine, whole: Path
) -> None:
    expected = solutions(bundled, whole)
    assert sum(expected.values()) > 10
    assert solutions(bundled, QUERIES_DIR / whole.name) == expected


@pytest.mark.parametrize("whole", WHOLE_GRAPH, ids=IDS)
def test_beside_other_offensives_the_rewrite_answers_for_this_one_alone(
    bundled: OxigraphEngine, with_others: OxigraphEngine, whole: Path
) -> None:
    rewrite = QUERIES_DIR / whole.name
    assert solutions(with_others, rewrite) == solutions(bundled, rewrite)
    assert sum(solutions(with_others, whole).values()) > sum(solutions(bundled, whole).values())
