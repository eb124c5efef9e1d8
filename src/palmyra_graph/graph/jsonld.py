"""JSON-LD written straight from sorted triples, compacted against one context.

Written from canonical N-Triples lines (https://www.w3.org/TR/n-triples/#canonical-ntriples),
which are cheap to take apart: no term holds a space but a literal, the last term. A narrow
compactor for contexts like ``ontology/context.jsonld``: prefixes (a term whose
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

import io
import json
from collections.abc import Iterator, Mapping
from typing import Any

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
_GEN_DELIMS = ("/", "#", ":", "?", "[", "]", "@")


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

    def node_id(self, term: str) -> str:
        """The ``@id`` of a subject or of an IRI value, given in N-Triples (``<iri>``, ``_:b``)."""
        return term if term.startswith("_:") else self.iri(term[1:-1])

    def entry(self, predicate: str, value: str) -> tuple[str, Any]:
        """The key and the compacted value of one triple's predicate (an IRI) and object (in
        N-Triples)."""
        if value.startswith('"'):
            return self._literal(predicate, value)
        reference = self.node_id(value)
        if predicate == RDF_TYPE:
            return "@type", reference
        terms = self.terms.get(predicate, {})
        if "@id" in terms:
            return terms["@id"], reference
        return terms.get(None) or self.iri(predicate), {"@id": reference}

    def _literal(self, predicate: str, literal: str) -> tuple[str, Any]:
        end = literal.rindex('"')
        quoted, suffix = literal[: end + 1], literal[end + 1 :]
        # Canonical N-Triples escapes (\" \\ \n \r \t \b \f \uXXXX) are JSON's.
        lexical = json.loads(quoted) if "\\" in quoted else quoted[1:-1]
        terms = self.terms.get(predicate, {})
        language = suffix[1:] if suffix.startswith("@") else ""
        datatype = (
            suffix[3:-1] if suffix.startswith("^^") else LANG_STRING if language else XSD_STRING
        )
        if datatype in terms:
            return terms[datatype], lexical
        key = terms.get(None) or self.iri(predicate)
        if language:
            return key, {"@value": lexical, "@language": language}
        if datatype == XSD_STRING:  # neither key coerces: a plain JSON string
            return key, lexical
        return key, {"@value": lexical, "@type": self.iri(datatype)}


def _is_prefix(value: object) -> bool:
    return isinstance(value, str) and value.endswith(_GEN_DELIMS)


def nodes(ntriples: bytes, compactor: Compactor) -> Iterator[dict[str, Any]]:
    """One node object per run of lines with the same subject, in the order of the lines,
    each value in the order of its line. Sorted canonical N-Triples hold each subject's
    lines together, so each node is complete when the next subject's first line comes; read
    line by line, neither the text nor all the nodes are held at once."""
    subject: str | None = None
    node: dict[str, list[Any]] = {}
    for raw in io.BytesIO(ntriples):
        line = raw.decode("utf-8").rstrip("\n")
        if not line:
            continue
        this, predicate, value = line[:-2].split(" ", 2)  # "<s> <p> o ."
        if this != subject:
            if subject is not None:
                yield _node(compactor, subject, node)
            subject, node = this, {}
        key, compacted = compactor.entry(predicate[1:-1], value)
        node.setdefault(key, []).append(compacted)
    if subject is not None:
        yield _node(compactor, subject, node)


def _node(compactor: Compactor, subject: str, node: dict[str, list[Any]]) -> dict[str, Any]:
    return {"@id": compactor.node_id(subject)} | {
        key: values[0] if len(values) == 1 else values for key, values in node.items()
    }


def document(ntriples: bytes, context: Mapping[str, Any]) -> bytes:
    """A JSON-LD document of canonical N-Triples (in the order to write them): the context
    embedded, then ``@graph`` with one node object a line (keys sorted)."""
    head = json.dumps({"@context": context}, indent=2, sort_keys=True, ensure_ascii=False)
    lines = ",\n".join(
        "    " + json.dumps(node, sort_keys=True, ensure_ascii=False)
        for node in nodes(ntriples, Compactor(context))
    )
    body = f'  "@graph": [\n{lines}\n  ]\n' if lines else '  "@graph": []\n'
    return (head[:-2] + ",\n" + body + "}\n").encode("utf-8")
