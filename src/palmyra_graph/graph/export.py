"""The whole graph, or a part of it, written in one RDF format, deterministically.

Same input, same bytes, in any process: blank nodes get labels computed from the graph's
content (rdflib's canonical labelling, after Hogan's algorithm), every graph is rebuilt in
sorted order before rdflib's serialisers walk it, N-Triples and N-Quads lines are sorted, and
JSON-LD arrays are sorted. Triple formats hold the merge of every named graph; N-Quads and
TriG keep each named graph (``graph:ontology``, ``graph:data`` for the bundled files).

JSON-LD is compacted against the project's context, ``ontology/context.jsonld``
(https://www.w3.org/TR/json-ld11/#compacted-document-form), embedded in the document so that
it reads without fetching anything.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import rdflib
from rdflib.compare import to_canonical_graph
from rdflib.term import BNode, Node, URIRef

from palmyra_graph.errors import LoadError, NotAcceptable
from palmyra_graph.graph import formats
from palmyra_graph.graph.formats import Format
from palmyra_graph.graph.loader import LoadedGraph, graph_name, rdf_format
from palmyra_graph.graph.namespaces import GRAPH, PREFIXES
from palmyra_graph.graph.resources import CONTEXT_FILE

#: Quad formats keep the named graphs; the others get the merge of all graphs.
QUAD_FORMATS = (formats.NQUADS, formats.TRIG)

Triple = tuple[Node, Node, Node]


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

    Raises:
        LoadError: a file cannot be read or parsed.
    """
    graphs = canonical_graphs([Path(f) for f in files])
    if fmt in QUAD_FORMATS:
        return _serialize_dataset(graphs, fmt)
    merged = _sorted_graph(triple for _, graph in graphs for triple in graph)
    return serialize_graph(merged, fmt)


def canonical_graphs(files: Sequence[Path]) -> list[tuple[str | None, rdflib.Graph]]:
    """Each graph of the loaded files, sorted by name (the default graph, if any, last), with
    content-derived blank node labels that are distinct across graphs.

    The files are read again rather than the store: Oxigraph's store normalises literals
    (``"283"^^xsd:nonNegativeInteger`` comes back as ``xsd:integer``, oxigraph issue 526), and
    an export must give back what the files say.
    """
    by_graph = _source_triples(files)
    names = sorted(by_graph, key=lambda name: (name is None, name or ""))
    return [(name, _canonical(by_graph[name], index)) for index, name in enumerate(names)]


def _source_triples(files: Iterable[Path]) -> dict[str | None, list[ox.Triple]]:
    by_graph: dict[str | None, list[ox.Triple]] = {}
    for path in files:
        fmt = rdf_format(path)
        name = None if fmt in (ox.RdfFormat.N_QUADS, ox.RdfFormat.TRIG) else graph_name(path)
        try:
            quads = list(ox.parse(path=path, format=fmt, base_iri=path.resolve().as_uri()))
        except (OSError, SyntaxError) as exc:
            raise LoadError(f"cannot read for export: {exc}", where=str(path)) from exc
        for quad in quads:
            graph = name or (None if quad.graph_name == ox.DefaultGraph() else quad.graph_name)
            key = graph.value if isinstance(graph, ox.NamedNode) else graph
            by_graph.setdefault(key, []).append(quad.triple)
    return by_graph


def _canonical(triples: list[ox.Triple], index: int) -> rdflib.Graph:
    graph = rdflib.Graph(bind_namespaces="none")
    graph.parse(data=ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b"", format="nt")
    canonical = to_canonical_graph(graph)
    # Canonical labels depend only on a node's surroundings: the graph index keeps two
    # look-alike blank nodes of different files apart, as they are in the store.
    return _sorted_graph(
        tuple(_relabel(term, index) for term in triple)  # type: ignore[misc]
        for triple in canonical
    )


def _relabel(term: Node, index: int) -> Node:
    return BNode(f"g{index}{term}") if isinstance(term, BNode) else term


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


def _serialize_dataset(graphs: list[tuple[str | None, rdflib.Graph]], fmt: Format) -> bytes:
    if fmt == formats.NQUADS:
        lines = []
        for name, graph in graphs:
            suffix = f" <{name}> ." if name else " ."
            for line in graph.serialize(format="nt", encoding="utf-8").decode().splitlines():
                if line.strip():
                    lines.append(line.removesuffix(" .") + suffix)
        return "".join(line + "\n" for line in sorted(set(lines))).encode("utf-8")
    return _trig(graphs)


def _trig(graphs: list[tuple[str | None, rdflib.Graph]]) -> bytes:
    """TriG written graph by graph in name order (rdflib's TriG writer orders graphs by hash):
    the prefixes once, then each graph's pretty Turtle body inside ``GRAPH <name> { }``."""
    prefixes = {"graph": str(GRAPH), **PREFIXES}
    head = "".join(f"@prefix {p}: <{ns}> .\n" for p, ns in sorted(prefixes.items()))
    blocks = []
    for name, graph in graphs:
        body = graph.serialize(format="turtle", encoding="utf-8").decode("utf-8")
        body = "\n".join(line for line in body.splitlines() if not line.startswith("@prefix"))
        # Not indented: a multi-line literal's continuation lines must stay as they are.
        label = _graph_label(name, prefixes)
        blocks.append(f"{label} {{\n{body.strip()}\n}}\n" if label else f"{{\n{body.strip()}\n}}\n")
    return (head + "\n" + "\n".join(blocks)).encode("utf-8")


def _graph_label(name: str | None, prefixes: dict[str, str]) -> str:
    if name is None:
        return ""
    for prefix, namespace in prefixes.items():
        local = name.removeprefix(namespace)
        if local != name and local.replace("-", "").replace("_", "").isalnum():
            return f"GRAPH {prefix}:{local}"
    return f"GRAPH <{name}>"


def _sorted_lines(data: bytes) -> bytes:
    lines = sorted({line for line in data.decode("utf-8").splitlines() if line.strip()})
    return "".join(line + "\n" for line in lines).encode("utf-8")


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
