"""What points at a resource, for its page: the facts whose object it is, each with the claim
node that sources it (qualifiers and references, as its subject's page shows them), and, for a
source, the claims that cite it."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from palmyra_graph.graph.namespaces import PROV, RDF
from palmyra_graph.query.engine import Engine
from palmyra_graph.web.description import (
    STATEMENT,
    TYPE,
    Description,
    PropertyValues,
    SourcedValue,
    Term,
    key,
    text_order,
)

#: Claim-node properties that are the claim itself, not qualifiers.
_CLAIM_SHAPE = {str(RDF.subject), str(RDF.predicate), str(RDF.object), str(TYPE)}


@dataclass
class CitingClaim:
    """A claim that cites the source: subject, property, object."""

    claim: Term
    subject: Term
    predicate: Term
    object: Term


def incoming(desc: Description, iri: str) -> list[PropertyValues]:
    """The facts whose object is ``iri``, by property, each subject shown with the qualifiers
    and references of the fact's claim ("commander of: Palmyra offensive (2017) (role:
    Operations chief commander) (side: Pro-government side) [8]"). Claim nodes that name
    ``iri`` are shown with their facts instead, and sources' citing claims apart."""
    claims = desc.claims(obj=iri)
    by_predicate: dict[str, list[SourcedValue]] = defaultdict(list)
    for subject, predicate, obj in desc.incoming:
        if key(obj) != iri or subject == iri or predicate in _CLAIM_SHAPE:
            continue
        if STATEMENT in desc.types(subject) or predicate == str(PROV.wasDerivedFrom):
            continue
        claim = claims.get((subject, predicate, str(obj)))
        by_predicate[predicate].append(desc.sourced(desc.nodes[subject], claim))
    facts = [
        PropertyValues(desc.iri_term(p), sorted(v, key=lambda x: text_order(x.term)))
        for p, v in by_predicate.items()
    ]
    return sorted(facts, key=lambda f: text_order(f.predicate))


_CITING = """
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX prov: <http://www.w3.org/ns/prov#>
SELECT ?claim ?s ?p ?o ?sl ?pl ?ol WHERE {
  ?claim prov:wasDerivedFrom <IRI> ; rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o .
  OPTIONAL { ?s rdfs:label ?sl } OPTIONAL { ?p rdfs:label ?pl } OPTIONAL { ?o rdfs:label ?ol }
}
ORDER BY ?claim
"""


def citing(engine: Engine, desc: Description, iri: str) -> list[CitingClaim]:
    """The claims that cite ``iri`` (a source), with labels of what they claim."""
    if not any(p == str(PROV.wasDerivedFrom) and key(o) == iri for _, p, o in desc.incoming):
        return []
    rows: dict[str, CitingClaim] = {}
    for row in engine.query(_CITING.replace("<IRI>", f"<{iri}>")).solutions():
        for node, label in (("s", "sl"), ("p", "pl"), ("o", "ol")):
            if row[label] is not None:
                desc.label(key(row[node]), row[label])
        claim = row["claim"].value
        rows.setdefault(
            claim,
            CitingClaim(
                desc.term(row["claim"]),
                desc.term(row["s"]),
                desc.term(row["p"]),
                desc.term(row["o"]),
            ),
        )
    return list(rows.values())
