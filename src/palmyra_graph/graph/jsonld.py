"""JSON-LD written straight from sorted triples, compacted against one context.

A narrow compactor for contexts like ``ontology/context.jsonld``: prefixes (a term whose
value is an IRI ending in ``/`` or ``#``) and term definitions with an ``@id`` and an optional
``@type`` (``@id`` or a datatype), nothing else. It follows the JSON-LD 1.1 compaction rules
that such a context can exercise (https://www.w3.org/TR/json-ld11-api/#compaction-algorithms):

- a property is written with the term for its IRI whose ``@type`` matches the value (IRI
  values under ``"@type": "@id"``, typed literals under their datatype), then with a term
  that has no ``@type`` (the value as a value object), else as a compact IRI;
- IRIs become ``prefix:suffix`` with the shortest suffix (a suffix that starts with ``//``
  would read as an absolute IRI, so it is not used);
- ``rdf:type`` is ``@type``; a single value is not wrapped in an array.

Nodes and values appear in the order of the triples given, which the exporter sorts, so the
same graph gives the same bytes. rdf:first/rdf:rest lists stay as nodes (no ``@list``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import pyoxigraph as ox

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
_GEN_DELIMS = ("/", "#", ":", "?", "[", "]", "@")

Term = ox.NamedNode | ox.BlankNode | ox.Literal


class Compactor:
    """Compacts terms against one context (see the module's description of what it supports)."""

    def __init__(self, context: Mapping[str, Any]) -> None:
        self.context = dict(context)
        self.prefixes = sorted(
            ((iri, name) for name, iri in context.items() if _is_prefix(iri)),
            key=lambda item: (-len(item[0]), item[1]),
        )
        #: property IRI -> {coercion (None, "@id" or a datatype IRI): term}
        self.terms: dict[str, dict[str | None, str]] = {}
        for name, definition in sorted(context.items()):
            if isinstance(definition, dict) and "@id" in definition:
                coercion = definition.get("@type")
                coerced = coercion if coercion in (None, "@id") else self._expand(coercion)
                by_type = self.terms.setdefault(self._expand(definition["@id"]), {})
                by_type.setdefault(coerced, name)
        self._iris: dict[str, str] = {}

    def _expand(self, value: str) -> str:
        prefix, _, suffix = value.partition(":")
        namespace = self.context.get(prefix)
        return namespace + suffix if isinstance(namespace, str) and suffix else value

    def iri(self, iri: str) -> str:
        """``iri`` as the shortest compact IRI the prefixes allow, else whole."""
        compact = self._iris.get(iri)
        if compact is None:
            compact = iri
            for namespace, name in self.prefixes:  # longest namespace: shortest suffix
                suffix = iri[len(namespace) :]
                if iri.startswith(namespace) and not suffix.startswith("//"):
                    compact = f"{name}:{suffix}"
                    break
            self._iris[iri] = compact
        return compact

    def node_id(self, term: ox.NamedNode | ox.BlankNode) -> str:
        """The ``@id`` of a subject or of an IRI value."""
        return f"_:{term.value}" if isinstance(term, ox.BlankNode) else self.iri(term.value)

    def entry(self, predicate: str, value: Term) -> tuple[str, Any]:
        """The key and the compacted value of one triple's predicate and object."""
        terms = self.terms.get(predicate, {})
        if isinstance(value, ox.Literal):
            return self._literal(predicate, value, terms)
        reference = self.node_id(value)
        if predicate == RDF_TYPE:
            return "@type", reference
        if "@id" in terms:
            return terms["@id"], reference
        return terms.get(None) or self.iri(predicate), {"@id": reference}

    def _literal(
        self, predicate: str, value: ox.Literal, terms: dict[str | None, str]
    ) -> tuple[str, Any]:
        datatype = value.datatype.value
        if datatype in terms:
            return terms[datatype], value.value
        key = terms.get(None) or self.iri(predicate)
        if value.language:
            return key, {"@value": value.value, "@language": value.language}
        if datatype == XSD_STRING:  # neither key coerces: a plain JSON string
            return key, value.value
        return key, {"@value": value.value, "@type": self.iri(datatype)}


def _is_prefix(value: object) -> bool:
    return isinstance(value, str) and value.endswith(_GEN_DELIMS)


def nodes(triples: Iterable[ox.Triple], compactor: Compactor) -> list[dict[str, Any]]:
    """One node object per subject, in the order the subjects first appear."""
    by_subject: dict[str, dict[str, list[Any]]] = {}
    for triple in triples:
        subject = compactor.node_id(triple.subject)  # type: ignore[arg-type]
        key, value = compactor.entry(triple.predicate.value, triple.object)  # type: ignore[arg-type]
        by_subject.setdefault(subject, {}).setdefault(key, []).append(value)
    return [
        {
            "@id": subject,
            **{key: values[0] if len(values) == 1 else values for key, values in node.items()},
        }
        for subject, node in by_subject.items()
    ]


def document(triples: Iterable[ox.Triple], context: Mapping[str, Any]) -> bytes:
    """A JSON-LD document of ``triples``: the context embedded, then ``@graph`` with one node
    object a line (keys sorted), in the order of the triples' subjects."""
    graph = nodes(triples, Compactor(context))
    head = json.dumps({"@context": context}, indent=2, sort_keys=True, ensure_ascii=False)
    lines = ",\n".join(
        "    " + json.dumps(node, sort_keys=True, ensure_ascii=False) for node in graph
    )
    body = f'  "@graph": [\n{lines}\n  ]\n' if graph else '  "@graph": []\n'
    return (head[:-2] + ",\n" + body + "}\n").encode("utf-8")
