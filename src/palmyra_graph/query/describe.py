"""What the graph says about one resource, with provenance: the query behind DESCRIBE and pages.

A description holds the resource's own triples (both directions), the claim nodes about it
with their sources, the figures it links to, and labels of everything it mentions, so it
reads on its own.
"""

from __future__ import annotations

_DESCRIBE = """
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX pal: <https://w3id.org/palmyra/ontology#>
CONSTRUCT { ?s ?p ?o }
WHERE {
  {
    BIND(<IRI> AS ?s) ?s ?p ?o .
  } UNION {
    ?s ?p <IRI> . BIND(<IRI> AS ?o)
  } UNION {
    # claim nodes about the resource, and the sources they cite (sub-groups are evaluated
    # on their own, so ?claim is bound in the same group as the BIND that reads it)
    { ?claim rdf:subject <IRI> } UNION { ?claim rdf:object <IRI> }
    ?claim a rdf:Statement .
    { ?claim ?p ?o . BIND(?claim AS ?s) }
    UNION { ?claim prov:wasDerivedFrom ?s . ?s ?p ?o }
  } UNION {
    # figures the resource links to, their parts, and the claims about those links
    <IRI> ?link ?figure . ?figure a pal:Figure .
    { ?figure ?p ?o . BIND(?figure AS ?s) }
    UNION { ?figure pal:hasPart ?s . ?s ?p ?o }
  } UNION {
    # labels of everything mentioned
    { <IRI> ?x ?s } UNION { ?s ?x <IRI> }
    UNION { ?claim rdf:subject|rdf:object <IRI> ; ?y ?s }
    UNION { <IRI> ?z ?f . ?f a pal:Figure ; ?w ?s }
    FILTER(isIRI(?s))
    VALUES ?p { rdfs:label }
    ?s ?p ?o .
  }
}
"""


def describe_query(iri: str) -> str:
    """The CONSTRUCT query that describes ``iri`` (an absolute IRI, without angle brackets).

    Raises:
        ValueError: ``iri`` contains characters an IRI reference may not hold.
    """
    if any(ch in iri for ch in '<>"{}|^`\\ \n\t'):
        raise ValueError(f"not an IRI: {iri!r}")
    return _DESCRIBE.replace("<IRI>", f"<{iri}>")
