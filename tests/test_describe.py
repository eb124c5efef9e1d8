"""A description carries the resource's triples, the claims about it with sources, and labels."""

from __future__ import annotations

from pathlib import Path

import pytest

from palmyra_graph.query.describe import describe_query
from palmyra_graph.query.engine import OxigraphEngine

DATA = """\
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix pal: <https://w3id.org/palmyra/ontology#> .
@prefix e: <http://e/> .
e:a rdfs:label "A"@en ; pal:casualties e:f ; pal:partOf e:w .
e:w rdfs:label "W"@en ; e:unrelated e:x .
e:f a pal:Figure ; pal:amount 3 .
e:c a rdf:Statement ; rdf:subject e:a ; rdf:predicate pal:partOf ; rdf:object e:w ;
    prov:wasDerivedFrom e:s1 .
e:s1 rdfs:label "S1" ; pal:referenceNumber 1 .
e:other rdfs:label "O" ; pal:partOf e:w .
"""


def test_description_has_provenance_figures_and_labels_only(tmp_path: Path) -> None:
    path = tmp_path / "d.ttl"
    path.write_text(DATA, encoding="utf-8")
    engine = OxigraphEngine.from_files([path])
    triples = {
        tuple(term.value for term in (t.subject, t.predicate, t.object))
        for t in engine.describe("http://e/a").raw  # type: ignore[union-attr]
    }
    subjects = {s for s, _, _ in triples}
    assert subjects == {"http://e/a", "http://e/c", "http://e/s1", "http://e/f", "http://e/w"}
    assert ("http://e/c", "http://www.w3.org/ns/prov#wasDerivedFrom", "http://e/s1") in triples
    assert ("http://e/f", "https://w3id.org/palmyra/ontology#amount", "3") in triples
    assert ("http://e/w", "http://e/unrelated", "http://e/x") not in triples  # only labels


def test_describe_query_refuses_what_is_not_an_iri() -> None:
    with pytest.raises(ValueError, match="not an IRI"):
        describe_query("http://e/a> } ; DROP ALL ; <x")
