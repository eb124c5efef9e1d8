"""The one loader: a named graph per file, clear errors with file and line, nothing partial."""

from __future__ import annotations

from pathlib import Path

import pytest

from palmyra_graph.errors import LoadError
from palmyra_graph.graph.loader import load
from palmyra_graph.graph.namespaces import GRAPH
from palmyra_graph.query.engine import OxigraphEngine


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_each_file_is_a_named_graph_and_the_default_graph_is_their_union(tmp_path: Path) -> None:
    one = write(tmp_path, "one.ttl", "<http://e/a> <http://e/p> 1 .\n")
    two = write(tmp_path, "two.nt", "<http://e/b> <http://e/p> <http://e/c> .\n")
    engine = OxigraphEngine.from_files([one, two])
    assert engine.graph_names() == sorted([one.resolve().as_uri(), two.resolve().as_uri()])
    result = engine.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    assert [row["n"].value for row in result.raw] == ["2"]  # type: ignore[union-attr]
    only_one = engine.query("ASK { <http://e/b> ?p ?o }", default_graphs=[one.resolve().as_uri()])
    assert only_one.boolean is False


def test_bundled_files_get_stable_graph_names() -> None:
    assert set(load().graphs) == {str(GRAPH["ontology"]), str(GRAPH["data"])}


def test_bad_turtle_names_file_and_line(tmp_path: Path) -> None:
    bad = write(tmp_path, "bad.ttl", "@prefix e: <http://e/> .\n\ne:a e:b e:c ;\n  e:d .\n")
    with pytest.raises(LoadError) as caught:
        load([bad])
    assert str(caught.value).startswith(f"{bad}:4: does not parse as Turtle")


def test_missing_file_and_unknown_suffix_are_load_errors(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="cannot read file"):
        load([tmp_path / "absent.ttl"])
    with pytest.raises(LoadError, match="unknown RDF file suffix"):
        load([write(tmp_path, "data.csv", "a,b\n")])


def test_rdflib_views_hold_every_quad_without_warnings(tmp_path: Path) -> None:
    quads = write(tmp_path, "g.nq", "<http://e/a> <http://e/p> <http://e/b> <http://e/g> .\n")
    triples = write(tmp_path, "t.ttl", "<http://e/c> <http://e/p> 2 .\n")
    loaded = load([quads, triples])  # warnings are errors in this suite
    dataset = loaded.rdflib_dataset()
    graphs = {str(g.identifier): len(g) for g in dataset.graphs() if len(g)}
    assert graphs == {"http://e/g": 1, triples.resolve().as_uri(): 1}
    assert len(loaded.rdflib_graph()) == 2
