"""The whole graph, or a part of it, written in one RDF format, deterministically.

Same input, same bytes, in any process: the files are parsed again (not read from the
store), blank nodes get labels computed from the dataset's content (Oxigraph's
canonicalisation), and every format is written by an engine serialiser from the sorted
N-Triples (or N-Quads) lines, so the order never depends on a hash or a parse. Triple formats
hold the merge of every named graph; N-Quads and TriG keep each named graph
(``graph:ontology``, ``graph:data`` for the bundled files).

Entity pages and VoID (small graphs built with rdflib) go through :func:`serialize_graph`.

JSON-LD is compacted against the project's context, ``ontology/context.jsonld``
(https://www.w3.org/TR/json-ld11/#compacted-document-form), embedded in the document so that
it reads without fetching anything; dumps by :mod:`.jsonld`, pages by rdflib.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import rdflib
from rdflib.term import Node, URIRef

from palmyra_graph.errors import NotAcceptable
from palmyra_graph.graph import formats, jsonld, lines
from palmyra_graph.graph.formats import Format
from palmyra_graph.graph.loader import LoadedGraph
from palmyra_graph.graph.namespaces import GRAPH, PREFIXES
from palmyra_graph.graph.resources import CONTEXT_FILE

#: Quad formats keep the named graphs; the others get the merge of all graphs.
QUAD_FORMATS = (formats.NQUADS, formats.TRIG)

Triple = tuple[Node, Node, Node]
#: TriG names the bundled graphs graph:ontology and graph:data.
_PREFIXES = dict(sorted(PREFIXES.items()))
_TRIG_PREFIXES = dict(sorted({"graph": str(GRAPH), **PREFIXES}.items()))


@cache
def jsonld_context() -> dict[str, Any]:
    """The term definitions of ``ontology/context.jsonld`` (the value of its ``@context``)."""
    document = json.loads(CONTEXT_FILE.read_text(encoding="utf-8"))
    context: dict[str, Any] = document["@context"]
    return context


def export_format(name: str) -> Format:
    """The dump format called ``name`` (``turtle``, ``jsonld``, ``nt``, ``nq``, ``trig``, ...).

    Raises:
        NotAcceptable: no dump format has that name.
    """
    fmt = formats.by_name(name, formats.DUMP_FORMATS)
    if fmt is None:
        known = ", ".join(f.names[0] for f in formats.DUMP_FORMATS)
        raise NotAcceptable(f"unknown export format {name!r} (known: {known})")
    return fmt


def export(loaded: LoadedGraph, fmt: Format) -> bytes:
    """The whole loaded graph (every named graph) in ``fmt``, byte-for-byte reproducible."""
    return export_files(loaded.files, fmt)


def export_files(files: Sequence[Path | str], fmt: Format) -> bytes:
    """The graph of ``files`` (each a named graph, as the loader names them) in ``fmt``.

    Every format is written by Oxigraph's serialisers (JSON-LD by :mod:`.jsonld`) from the
    sorted lines of :func:`.lines.graph_lines`, so the order is the same in any process.

    Raises:
        LoadError: a file cannot be read or parsed.
        NotAcceptable: ``fmt`` is not a dump format.
    """
    graphs = lines.graph_lines([Path(f) for f in files])
    if fmt == formats.NQUADS:
        return lines.nquads(graphs)
    if fmt == formats.TRIG:
        quads = ox.parse(lines.nquads(graphs, by_graph=True), format=ox.RdfFormat.N_QUADS)
        return ox.serialize(quads, format=ox.RdfFormat.TRIG, prefixes=_TRIG_PREFIXES) or b""
    ntriples = lines.merged(graphs)
    del graphs  # every graph's set of lines: as large as the output, not needed past here
    if fmt == formats.NTRIPLES:
        return ntriples
    if fmt == formats.JSONLD:
        return jsonld.document(ntriples, jsonld_context())
    return serialize_sorted(ox.parse(ntriples, format=ox.RdfFormat.N_TRIPLES), fmt)


def serialize_sorted(triples: Iterable[ox.Triple] | Iterable[ox.Quad], fmt: Format) -> bytes:
    """Triples (or default-graph quads), in the order to write them, as Turtle or RDF/XML.

    Raises:
        NotAcceptable: ``fmt`` is neither.
    """
    if fmt == formats.TURTLE:
        return ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=_PREFIXES) or b""
    if fmt == formats.RDFXML:
        return ox.serialize(triples, format=ox.RdfFormat.RDF_XML, prefixes=_PREFIXES) or b""
    raise NotAcceptable(f"{fmt.media_type} is not a dump format for one graph")


def _sorted_graph(triples: Iterable[Triple], identifier: str | None = None) -> rdflib.Graph:
    """A fresh graph with our prefixes, filled in sorted order so every walk is stable."""
    graph = rdflib.Graph(bind_namespaces="none", identifier=identifier)
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace)
    for triple in sorted(set(triples), key=_triple_key):
        graph.add(triple)
    return graph


def _triple_key(triple: Triple) -> tuple[str, ...]:
    return tuple(term.n3() for term in triple)


def serialize_graph(graph: rdflib.Graph, fmt: Format) -> bytes:
    """One graph in a triple format (Turtle, N-Triples, JSON-LD, RDF/XML), deterministically.

    Raises:
        NotAcceptable: ``fmt`` is not a triple format.
    """
    if fmt == formats.TURTLE:
        return graph.serialize(format="turtle", encoding="utf-8")
    if fmt == formats.NTRIPLES:
        return _sorted_lines(graph.serialize(format="nt", encoding="utf-8"))
    if fmt == formats.JSONLD:
        return _jsonld(graph)
    if fmt == formats.RDFXML:
        # rdflib's RDF/XML writer walks subjects in an order that changes between runs;
        # Oxigraph's writes the sorted triples as given.
        ntriples = _sorted_lines(graph.serialize(format="nt", encoding="utf-8"))
        triples = ox.parse(ntriples, format=ox.RdfFormat.N_TRIPLES)
        xml = ox.serialize(triples, format=ox.RdfFormat.RDF_XML, prefixes=_used_prefixes(graph))
        return xml or b""
    raise NotAcceptable(f"{fmt.media_type} is not a format for one graph")


def graph_from_triples(triples: Iterable[ox.Triple]) -> rdflib.Graph:
    """Pyoxigraph triples (a CONSTRUCT result) as a sorted rdflib graph with our prefixes."""
    ntriples = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)
    parsed = rdflib.Graph(bind_namespaces="none")
    parsed.parse(data=ntriples or b"", format="nt")
    return _sorted_graph(parsed)


def _used_prefixes(graph: rdflib.Graph) -> dict[str, str]:
    used = {str(term) for triple in graph for term in triple if isinstance(term, URIRef)}
    return {
        prefix: namespace
        for prefix, namespace in sorted(PREFIXES.items())
        if any(iri.startswith(namespace) for iri in used)
    }


def _sorted_lines(data: bytes) -> bytes:
    """Each distinct line once, in byte order (code point order for UTF-8)."""
    lines = sorted(set(data.splitlines()) - {b""})
    return b"".join(line + b"\n" for line in lines)


def _jsonld(graph: rdflib.Graph) -> bytes:
    context = jsonld_context()
    document = json.loads(graph.serialize(format="json-ld", context=context, auto_compact=True))
    if not isinstance(document, dict):  # an empty graph, or nothing the context compacts
        document = {"@context": context, "@graph": document}
    nodes = document.get("@graph")
    if isinstance(nodes, list):
        document["@graph"] = sorted((_sort_arrays(n) for n in nodes), key=_node_key)
    else:
        document = _sort_arrays(document)
    document["@context"] = context
    text = json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False)
    return (text + "\n").encode("utf-8")


def _node_key(node: Any) -> str:
    return str(node.get("@id", "")) if isinstance(node, dict) else json.dumps(node)


def _sort_arrays(value: Any, key: str | None = None) -> Any:
    """Sort every JSON array by its members' JSON text, except ordered ``@list`` arrays."""
    if isinstance(value, dict):
        return {k: _sort_arrays(v, k) for k, v in value.items() if k != "@context"} | (
            {"@context": value["@context"]} if "@context" in value else {}
        )
    if isinstance(value, list):
        members = [_sort_arrays(v) for v in value]
        if key == "@list":
            return members
        return sorted(members, key=lambda v: json.dumps(v, sort_keys=True, ensure_ascii=False))
    return value
