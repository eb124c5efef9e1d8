"""Claim IRIs are derived from what they claim (docs/data-model.md)."""

from __future__ import annotations

import pytest
from rdflib import Literal, URIRef
from rdflib.namespace import XSD

from palmyra_graph.graph.claims import claim_iri, term_key
from palmyra_graph.graph.namespaces import CLAIM, ID, PAL, WD


@pytest.mark.parametrize(
    ("term", "key"),
    [
        (ID["palmyra-offensive-2017"], "palmyra-offensive-2017"),
        (PAL.Killed, "Killed"),
        (WD.Q5747, "Q5747"),
        (Literal("2017-01-13", datatype=XSD.date), "2017-01-13"),
        (Literal("Syrian government victory", lang="en"), "syrian-government-victory"),
        (Literal("Maj. Gen."), "maj-gen"),
        (Literal("x" * 60), "x" * 48),
    ],
)
def test_term_key(term: URIRef | Literal, key: str) -> None:
    assert term_key(term) == key


def test_claim_iri_joins_the_three_keys() -> None:
    date = Literal("2017-01-13", datatype=XSD.date)
    assert (
        claim_iri(ID["palmyra-offensive-2017"], PAL.startDate, date)
        == (CLAIM["palmyra-offensive-2017_startDate_2017-01-13"])
    )
