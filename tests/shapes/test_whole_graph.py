"""SPARQL-based constraints run once over the whole graph give pySHACL's own report: on the
bundled data and on every broken fixture, the report is the one pySHACL writes when it runs
each constraint once per focus node."""

from __future__ import annotations

import contextlib
import gc
import random
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
import rdflib

from palmyra_graph.graph import resources
from palmyra_graph.graph import validate as validate_module
from palmyra_graph.graph.namespaces import PAL, PREFIXES, SH
from palmyra_graph.graph.shacl_sparql import runs_whole
from palmyra_graph.graph.validate import Report, validate

FIXTURES = Path(__file__).parent / "fixtures"
BROKEN = sorted(path.name for path in FIXTURES.glob("broken-*.ttl"))


def _per_focus_node(files: list[Path], *, ontology: bool) -> Report:
    """The report of stock pySHACL, each SPARQL constraint once per focus node."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(validate_module, "whole_graph_constraints", contextlib.nullcontext)
        return validate(files, ontology=ontology)


def _comparable(report: Report) -> dict[str, Any]:
    data = report.to_dict()
    data.pop("seconds")
    return data


def test_the_bundled_report_is_pyshacls_own(bundled_report: Report) -> None:
    files = resources.default_data_files()[1:]  # the data; the ontology is added by validate
    assert _comparable(bundled_report) == _comparable(_per_focus_node(files, ontology=True))


@pytest.mark.parametrize("name", [None, *BROKEN])
def test_each_fixture_report_is_pyshacls_own(
    name: str | None,
    fixture_files: Callable[[str | None], list[Path]],
    fixture_report: Callable[[str | None], Report],
) -> None:
    expected = _per_focus_node(fixture_files(name), ontology=False)
    assert _comparable(fixture_report(name)) == _comparable(expected)


def test_every_broken_fixture_at_once_gives_pyshacls_own_report(
    fixture_files: Callable[[str | None], list[Path]],
) -> None:
    files = [*fixture_files(None), *(FIXTURES / name for name in BROKEN)]
    whole = validate(files, ontology=False)
    assert whole.results
    assert _comparable(whole) == _comparable(_per_focus_node(files, ontology=False))


def _bundled_selects() -> list[tuple[str, str]]:
    shapes = rdflib.Graph()
    for path in resources.shape_files():
        shapes.parse(path, format="turtle")
    return sorted(
        (str(shapes.value(None, SH.sparql, node) or node), str(select))
        for node, select in shapes.subject_objects(SH.select)
        if (None, SH.sparql, node) in shapes
        or (node, rdflib.RDF.type, SH.SPARQLConstraint) in shapes
    )


@pytest.mark.parametrize(("shape", "select"), _bundled_selects())
def test_every_bundled_constraint_runs_once_over_the_whole_graph(shape: str, select: str) -> None:
    assert runs_whole(select, PREFIXES), shape


_SELECT = "SELECT $this ?value WHERE { "

#: A query's body, and whether it runs once over the whole graph.
CASES = [
    ("$this pal:p ?value }", True),
    ("$this pal:p/pal:q* ?value . FILTER NOT EXISTS { $this pal:r ?x } }", True),
    ("{ $this pal:p ?value } UNION { ?value pal:q $this } }", True),
    ("?value pal:p ?x . OPTIONAL { $this pal:q ?x } }", False),  # $this may stay unbound
    ("{ $this pal:p ?value } UNION { ?value pal:q ?x } }", False),
    ("FILTER NOT EXISTS { ?x pal:p $this } BIND(1 AS ?value) }", False),
    ("$this pal:p ?value } LIMIT 1", False),  # one row for all nodes, not one each
    ("$this pal:p ?value { SELECT ?value WHERE { $this pal:q ?value } } }", False),
    ("$this pal:p ?value { SELECT ?value WHERE { ?value pal:q ?x } } }", True),
    ("$this pal:p ?value . FILTER(EXISTS { SELECT ?y WHERE { $this pal:q ?y } }) }", False),
    ("$this pal:p ?value", False),  # does not parse: runs per node, where pySHACL reports it
    # An expression naming $this in a group of its own: free, $this is unbound there.
    ("$this pal:p ?value . { ?value pal:q ?x FILTER(?x != $this) } }", False),
    ("$this pal:p ?value . MINUS { ?value pal:q ?x FILTER(?x != $this) } }", False),
    ("$this pal:p ?value . { ?value pal:q ?x BIND(STR($this) AS ?t) } }", False),
    ("$this pal:p ?value . { ?value pal:q ?x FILTER EXISTS { ?x pal:p $this } } }", False),
    # ... and where the solutions it is evaluated over bind $this.
    ("$this pal:p ?value . OPTIONAL { ?value pal:q ?x FILTER(?x != $this) } }", True),
    ("$this pal:p ?value . FILTER NOT EXISTS { ?value pal:q ?x FILTER(?x != $this) } }", True),
    ("{ $this pal:p ?value FILTER(?value != $this) } UNION { $this pal:q ?value } }", True),
    ("$this pal:p ?value . MINUS { $this pal:q ?value } }", True),
]


@pytest.mark.parametrize(("body", "whole"), CASES)
def test_a_query_runs_whole_only_when_every_solution_binds_this(body: str, whole: bool) -> None:
    assert runs_whole(_SELECT + body, PREFIXES) is whole


def _sample_store() -> ox.Store:
    """Five nodes, each pair linked by pal:p, pal:q or pal:r with a chance of one in five."""
    rng = random.Random(2)
    nodes = [ox.NamedNode(f"https://example.org/{name}") for name in "abcde"]
    store = ox.Store()
    for predicate in "pqr":
        link = ox.NamedNode(f"{PAL}{predicate}")
        for subject in nodes:
            for obj in nodes:
                if rng.random() < 0.2:
                    store.add(ox.Quad(subject, link, obj))
    return store


def _rows(solutions: Any) -> Counter[tuple[tuple[str, str], ...]]:
    names = [variable.value for variable in solutions.variables]
    return Counter(
        tuple((name, str(value)) for name, value in zip(names, row, strict=True) if value)
        for row in solutions
    )


@pytest.mark.parametrize("body", [body for body, whole in CASES if whole])
def test_a_query_run_whole_gives_each_nodes_own_solutions(body: str) -> None:
    """What Oxigraph answers with $this substituted (pySHACL's pre-binding) for each node, and
    the whole graph's answer kept where $this is that node, are the same solutions."""
    store = _sample_store()
    select = _SELECT.replace("?value", "?value ?x ?t")
    query = f"PREFIX pal: <{PAL}>\n{select}{body}"
    whole = _rows(store.query(query))
    # the sample graph gives each query solutions for some nodes, not for all
    assert 0 < len({dict(row)["this"] for row in whole}) < 5
    for node in [ox.NamedNode(f"https://example.org/{name}") for name in "abcdef"]:
        own = _rows(store.query(query, substitutions={ox.Variable("this"): node}))
        kept = Counter({row: n for row, n in whole.items() if ("this", str(node)) in row})
        assert own == kept, node


def test_aggregates_run_whole_only_when_grouped_by_this() -> None:
    grouped = "SELECT $this (COUNT(?x) AS ?n) WHERE { $this pal:p ?x } GROUP BY $this"
    assert runs_whole(grouped, PREFIXES)
    by_other = "SELECT ?value (SAMPLE($this) AS ?t) WHERE { $this pal:p ?value } GROUP BY ?value"
    assert not runs_whole(by_other, PREFIXES)
    not_projected = "SELECT ?value WHERE { $this pal:p ?value }"
    assert not runs_whole(not_projected, PREFIXES)


def test_validation_leaves_no_engine_results_for_another_thread_to_free() -> None:
    # pyoxigraph's query results may only be freed on the thread that made them; left in
    # pySHACL's reference cycles, a server thread's garbage collection later freed them:
    # an error each ("unsendable, but is being dropped on another thread") and a leak.
    gc.collect()
    validate()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        gc.collect()
        left = sorted({type(o).__name__ for o in gc.garbage if type(o).__module__ == "pyoxigraph"})
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert left == []
