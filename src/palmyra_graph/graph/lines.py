"""The files of a graph as sorted N-Triples lines, graph by graph, with canonical blank nodes.

The exporter's one intermediate form (https://www.w3.org/TR/n-triples/#canonical-ntriples):
Oxigraph parses each file and writes its triples as canonical N-Triples, so that sorting the
lines (bytes, which is code point order for UTF-8) orders the triples the same way in any
process. Only the lines that may hold a blank node (``_:`` anywhere in them) go through
Oxigraph's dataset canonicalisation, which gives blank nodes labels computed from their
surroundings: the lines of ground triples are already final, so data without blank nodes
costs one parse and one write.

The files are read again rather than the store: Oxigraph's store normalises literals
(``"283"^^xsd:nonNegativeInteger`` comes back as ``xsd:integer``, oxigraph issue 526), and an
export must give back what the files say.
"""

from __future__ import annotations

import heapq
import io
import itertools
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import pyoxigraph as ox

from palmyra_graph.errors import LoadError
from palmyra_graph.graph.loader import QUAD_FORMATS, graph_name, rdf_format

#: Graph term as N-Quads writes it (``<iri>``, ``_:label``); ``b""`` is the default graph.
GraphKey = bytes
Lines = dict[GraphKey, set[bytes]]

_BLANK = b"_:"


def graph_lines(files: Sequence[Path]) -> Lines:
    """Each graph's distinct N-Triples lines (no line ends, in no order), graphs in order
    (named graphs by name, the default graph last): a triple file is the named graph the
    loader gives it, a quad file keeps its own graphs.

    Raises:
        LoadError: a file cannot be read or parsed.
    """
    by_graph: dict[GraphKey, set[bytes]] = {}
    blank: set[GraphKey] = set()  # graphs with a line that may hold a blank node
    for path in files:
        for key, data in _file_ntriples(path).items():
            by_graph.setdefault(key, set()).update(data.splitlines())
            if _BLANK in data or key.startswith(_BLANK):
                blank.add(key)
    _canonical_blank_nodes(by_graph, blank)
    return {key: by_graph[key] for key in sorted(by_graph, key=_graph_order)}


def _graph_order(key: GraphKey) -> tuple[bool, bytes]:
    return key == b"", key  # named graphs by name, the default graph last


def _file_ntriples(path: Path) -> dict[GraphKey, bytes]:
    fmt = rdf_format(path)
    try:
        quads = ox.parse(  # renamed: two files' ``_:b0`` are two nodes
            path=path, format=fmt, base_iri=path.resolve().as_uri(), rename_blank_nodes=True
        )
        if fmt not in QUAD_FORMATS:
            key = f"<{graph_name(path)}>".encode()
            return {key: _ntriples(quad.triple for quad in quads)}
        grouped: dict[GraphKey, list[ox.Triple]] = {}
        for quad in quads:
            grouped.setdefault(_key(quad.graph_name), []).append(quad.triple)
    except (OSError, SyntaxError) as exc:
        raise LoadError(f"cannot read for export: {exc}", where=str(path)) from exc
    return {key: _ntriples(triples) for key, triples in grouped.items()}


def _key(graph: ox.NamedNode | ox.BlankNode | ox.DefaultGraph) -> GraphKey:
    return b"" if isinstance(graph, ox.DefaultGraph) else str(graph).encode()


def _ntriples(triples: Iterable[ox.Triple]) -> bytes:
    return ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""


def _canonical_blank_nodes(by_graph: dict[GraphKey, set[bytes]], blank: set[GraphKey]) -> None:
    """Relabel, in place, every line of the ``blank`` graphs that may hold a blank node (in a
    graph named by a blank node, every line), from the content of all those lines together."""
    candidates = {
        key: {line for line in by_graph[key] if key.startswith(_BLANK) or _BLANK in line}
        for key in sorted(blank)
    }
    nquads = b"".join(
        quad_line(line, key) for key, lines in candidates.items() for line in sorted(lines)
    )
    if not nquads:
        return
    dataset = ox.Dataset(ox.parse(nquads, format=ox.RdfFormat.N_QUADS))
    dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    for key, lines in candidates.items():
        by_graph[key] -= lines
        if not by_graph[key]:
            del by_graph[key]
    grouped: dict[GraphKey, list[ox.Triple]] = {}
    for quad in dataset:
        grouped.setdefault(_key(quad.graph_name), []).append(quad.triple)
    for key, triples in grouped.items():
        by_graph.setdefault(key, set()).update(_ntriples(triples).splitlines())


def quad_line(line: bytes, key: GraphKey) -> bytes:
    """One N-Triples line (``… .``, no line end) as an N-Quads line in graph ``key``, ended."""
    return line[:-1] + key + b" .\n" if key else line + b"\n"


def merged(lines: Lines) -> bytes:
    """The N-Triples of the merge of every graph: each distinct line once, sorted."""
    distinct = set().union(*lines.values()) if lines else set()
    # Joined as they are, ended by the empty last item: no second copy of every line.
    return b"\n".join([*sorted(distinct), b""])


def nquads(lines: Lines, *, by_graph: bool = False) -> bytes:
    """The N-Quads of every graph: sorted lines, or graph by graph in :func:`graph_lines`
    order, each graph's lines sorted (``by_graph``, for a writer that groups consecutive
    quads of one graph)."""
    runs = [_quad_lines(sorted(graph), key) for key, graph in lines.items()]
    # Within a graph, sorting its lines sorts its quad lines (they differ before the graph
    # term), so merging the graphs' runs sorts them all. Written as they come: no list of
    # every quad line beside the output.
    out = io.BytesIO()
    for quad in itertools.chain(*runs) if by_graph else heapq.merge(*runs):
        out.write(quad)
    return out.getvalue()


def _quad_lines(ordered: list[bytes], key: GraphKey) -> Iterator[bytes]:
    for line in ordered:
        yield quad_line(line, key)
