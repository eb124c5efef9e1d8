"""Validate the graph against the SHACL shapes and report the results by severity.

SHACL: https://www.w3.org/TR/shacl/ (validation report, section 3.6); pySHACL evaluates it,
with SHACL Advanced Features on (https://www.w3.org/TR/shacl-af/) for the SPARQL-based
targets of ``shapes/structure.ttl``, and no inference: the ontology's rdfs:subClassOf
triples, loaded with the data, are all the shapes need.

pySHACL runs over an Oxigraph store (supported since pySHACL 0.30), and Oxigraph answers
the SPARQL: the shapes' SPARQL is written for it (XPath date and duration arithmetic, Rust
regex syntax). pySHACL would run each SPARQL-based constraint once per focus node;
``shacl_sparql`` runs it once over the whole graph where that gives the same results, and
pySHACL still builds every result. Labels and sources for the results are read from the
store for the result nodes alone, so validation stays linear in the data.

Violations mean the data is broken (``Report.conforms`` is false); warnings are findings
about the article's sources that the data records faithfully.
"""

from __future__ import annotations

import gc
import logging
import re
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pyshacl
import rdflib
from pyshacl.errors import ReportableRuntimeError, ShapeLoadError, ValidationFailure
from pyshacl.graph_abstraction import to_rdf
from rdflib import BNode, Literal, URIRef
from rdflib.term import Node

from palmyra_graph.errors import ShapeError
from palmyra_graph.graph import loader, resources
from palmyra_graph.graph.namespaces import (
    PAL,
    PREFIXES,
    PROV,
    RDF,
    RDFS,
    SCHEMA,
    SH,
    XSD,
    local_name,
)
from palmyra_graph.graph.shacl_sparql import DataGraph, whole_graph_constraints

SHAPES = rdflib.Namespace("https://w3id.org/palmyra/shapes#")

_NAMESPACES = rdflib.namespace.NamespaceManager(rdflib.Graph(bind_namespaces="none"))
for _prefix, _namespace in {**PREFIXES, "palsh": str(SHAPES)}.items():
    _NAMESPACES.bind(_prefix, _namespace)

_DIGITS = re.compile(r"(\d+)")  # sorts source:3 before source:12

#: Severities in the order a report lists them.
SEVERITIES = ("Violation", "Warning", "Info")


@dataclass(frozen=True)
class SourceRef:
    """A source a result is about: its IRI and, for a reference, its number and title."""

    iri: str
    number: int | None = None
    title: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"iri": self.iri, "number": self.number, "title": self.title}


@dataclass(frozen=True)
class Result:
    """One SHACL validation result, with the labels a reader needs."""

    severity: str
    focus: Node
    focus_label: str | None
    message: str
    shape: Node | None
    component: Node | None
    constraint: Node | None = None
    path: Node | None = None
    value: Node | None = None
    sources: tuple[SourceRef, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """This result as plain JSON data (see ``Report.to_dict``)."""
        return {
            "severity": self.severity,
            "focusNode": {"iri": _json_term(self.focus), "label": self.focus_label},
            "message": self.message,
            "sourceShape": _json_term(self.shape),
            "constraintComponent": _json_term(self.component),
            "sourceConstraint": _json_term(self.constraint),
            "resultPath": _json_term(self.path),
            "value": _json_term(self.value),
            "sources": [source.to_dict() for source in self.sources],
        }


@dataclass
class Report:
    """The outcome of validating some files against some shapes."""

    results: list[Result]
    graph: rdflib.Graph = field(repr=False)
    files: list[Path]
    shape_files: list[Path]
    seconds: float

    @property
    def conforms(self) -> bool:
        """True when no result is a violation (warnings and infos do not fail the data)."""
        return not self.of("Violation")

    def of(self, severity: str) -> list[Result]:
        """The results of one severity ("Violation", "Warning" or "Info")."""
        return [result for result in self.results if result.severity == severity]

    def by_severity(self) -> dict[str, list[Result]]:
        """Every severity (in SEVERITIES order) with its results, empty ones included."""
        return {severity: self.of(severity) for severity in SEVERITIES}

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON data, the structure ``validate --format json`` prints.

        ``{"conforms": bool, "files": [path], "shapes": [path], "seconds": float,
        "counts": {"Violation": n, "Warning": n, "Info": n},
        "results": {"Violation": [result], "Warning": [...], "Info": [...]}}`` where a result
        is ``{"severity", "focusNode": {"iri", "label"}, "message", "sourceShape",
        "constraintComponent", "sourceConstraint", "resultPath", "value",
        "sources": [{"iri", "number", "title"}]}``. IRIs are full strings; a literal value
        is its lexical form; blank nodes and absent fields are null.
        """
        grouped = self.by_severity()
        return {
            "conforms": self.conforms,
            "files": [str(path) for path in self.files],
            "shapes": [str(path) for path in self.shape_files],
            "seconds": round(self.seconds, 3),
            "counts": {severity: len(items) for severity, items in grouped.items()},
            "results": {
                severity: [result.to_dict() for result in items]
                for severity, items in grouped.items()
            },
        }


def data_files(paths: Sequence[Path | str] = (), *, ontology: bool = True) -> list[Path]:
    """The files to validate: ``paths`` (default: the bundled data) with the bundled ontology.

    The shapes need the ontology's typing (pal:FactualProperty, the class hierarchy), which
    the data files do not repeat, so it is added first unless ``ontology`` is false or it is
    among ``paths`` already.
    """
    files = [Path(p) for p in paths] or [resources.DATA_FILE]
    bundled = resources.ONTOLOGY_FILE.resolve()
    if ontology and all(path.resolve() != bundled for path in files):
        files.insert(0, resources.ONTOLOGY_FILE)
    return files


def validate(
    paths: Sequence[Path | str] | None = None,
    *,
    shapes: Sequence[Path | str] | None = None,
    ontology: bool = True,
) -> Report:
    """Validate RDF files (default: bundled ontology and data) against SHACL shapes files.

    Args:
        paths: the files to validate together, as one graph (loaded by the one loader);
            default: the bundled data.
        shapes: SHACL Turtle files (default: every bundled file in ``shapes/``).
        ontology: add the bundled ontology to ``paths`` (see ``data_files``).

    Raises:
        LoadError: a data or shapes file cannot be read or parsed (with file and line).
        ShapeError: the shapes are not valid SHACL, or there are none.
    """
    files = data_files(paths or (), ontology=ontology)
    shape_files = [Path(p) for p in (shapes or resources.shape_files())]
    if not shape_files:
        raise ShapeError("no SHACL shapes files to validate with", where=str(resources.SHAPES_DIR))
    data = _union_of(loader.load(files).store)
    shapes_graph = _rdflib_graph(_union_of(loader.load(shape_files).store))
    started = time.perf_counter()
    report_graph = _run_shacl(data, shapes_graph)
    seconds = time.perf_counter() - started
    with _quiet_literal_warnings():
        labels = _described(data, report_graph)
    results = sorted(_results(report_graph, labels), key=_sort_key)
    return Report(results, report_graph, files, shape_files, seconds)


def _union_of(store: ox.Store) -> ox.Store:
    """Every file's triples in the default graph of a new store, as SHACL validates one graph."""
    union = ox.Store()
    union.bulk_extend(ox.Quad(q.subject, q.predicate, q.object) for q in store)
    return union


def _rdflib_graph(store: ox.Store) -> rdflib.Graph:
    """The default graph of ``store`` as an rdflib Graph.

    Not ``LoadedGraph.rdflib_graph()``: it goes through ``rdflib.Dataset.parse``, which
    emits a DeprecationWarning on rdflib 7.6 (an error under the test suite's settings).
    """
    nt = store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.DefaultGraph())
    return rdflib.Graph().parse(data=nt, format="nt")


def _run_shacl(data: ox.Store, shapes: rdflib.Graph) -> rdflib.Graph:
    """pySHACL's report graph; its own errors about bad shapes become a ShapeError."""
    try:
        with _quiet_literal_warnings(), whole_graph_constraints():
            _conforms, report_graph, _text = pyshacl.validate(
                DataGraph(data),
                shacl_graph=shapes,
                advanced=True,
                inference="none",
                inplace=True,
                allow_warnings=True,
            )
    except (ReportableRuntimeError, ShapeLoadError) as error:
        raise ShapeError(f"the shapes cannot be used: {error}") from error
    finally:
        # pySHACL leaves its data graph in reference cycles that hold pyoxigraph query
        # results, which may only be freed on the thread that made them: collected later by
        # a server thread, each is an error and a leak. Collect them here, on this thread.
        gc.collect()
    if isinstance(report_graph, ValidationFailure):  # pySHACL returns some shape errors
        raise ShapeError(f"the shapes cannot be used: {report_graph}")
    for prefix, namespace in {**PREFIXES, "palsh": str(SHAPES)}.items():
        report_graph.bind(prefix, namespace, replace=True)
    return report_graph


#: What a result's reader needs to know about its focus node, value and their sources.
_DESCRIBING = (RDFS.label, PAL.referenceNumber, SCHEMA.headline, RDF.type, PROV.wasDerivedFrom)


def _described(data: ox.Store, report: rdflib.Graph) -> rdflib.Graph:
    """The part of ``data`` that labels the report's results: the focus nodes and values with
    their labels, numbers, titles, types and sources (and those sources' own), and the class
    hierarchy. A copy of the whole graph costs more than validating it."""
    described = rdflib.Graph()
    described += _matching(data, None, RDFS.subClassOf)
    nodes = {
        node
        for predicate in (SH.focusNode, SH.value)
        for node in report.objects(None, predicate)
        if isinstance(node, (URIRef, BNode))
    }
    for node in nodes:
        for predicate in _DESCRIBING:
            described += _matching(data, node, predicate)
    for source in set(described.objects(None, PROV.wasDerivedFrom)) - nodes:
        if isinstance(source, (URIRef, BNode)):
            for predicate in (PAL.referenceNumber, SCHEMA.headline):
                described += _matching(data, source, predicate)
    return described


def _matching(data: ox.Store, subject: URIRef | BNode | None, predicate: URIRef) -> list[Any]:
    """The triples of ``data`` with this subject (any, for None) and predicate, for rdflib."""
    node = None if subject is None else _ox_node(subject)
    quads = data.quads_for_pattern(node, ox.NamedNode(str(predicate)), None)
    return [(to_rdf(q.subject), to_rdf(q.predicate), to_rdf(q.object)) for q in quads]  # type: ignore[arg-type]


def _ox_node(node: URIRef | BNode) -> ox.NamedNode | ox.BlankNode:
    return ox.BlankNode(str(node)) if isinstance(node, BNode) else ox.NamedNode(str(node))


@contextmanager
def _quiet_literal_warnings() -> Iterator[None]:
    """Silence rdflib's traceback for an ill-formed literal ("2017-03-32"^^xsd:date): the
    sh:datatype shapes report it, with its focus node, as a violation."""
    term_logger = logging.getLogger("rdflib.term")
    level = term_logger.level
    term_logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        term_logger.setLevel(level)


def _results(report: rdflib.Graph, data: rdflib.Graph) -> Iterable[Result]:
    for node in report.subjects(RDF.type, SH.ValidationResult):
        focus = report.value(node, SH.focusNode)
        if focus is None:  # every SHACL result has one; never drop a result silently
            raise ShapeError(f"a validation result has no focus node: {_messages(report, node)}")
        value = report.value(node, SH.value)
        yield Result(
            severity=local_name(report.value(node, SH.resultSeverity)),
            focus=focus,
            focus_label=label_of(data, focus),
            message=_messages(report, node),
            shape=report.value(node, SH.sourceShape),
            component=report.value(node, SH.sourceConstraintComponent),
            constraint=report.value(node, SH.sourceConstraint),
            path=report.value(node, SH.resultPath),
            value=value,
            sources=tuple(_source_refs(data, focus, value)),
        )


def _messages(report: rdflib.Graph, node: Node) -> str:
    return "; ".join(sorted(str(m) for m in report.objects(node, SH.resultMessage)))


def label_of(graph: rdflib.Graph, node: Node | None) -> str | None:
    """A readable name for ``node``: its rdfs:label, or "reference N: title" for a source."""
    if node is None:
        return None
    label = graph.value(node, RDFS.label)
    if label is not None:
        return str(label)
    source = source_ref(graph, node)
    if source.title is None:
        return None
    return f"reference {source.number}: {source.title}" if source.number else source.title


def source_ref(graph: rdflib.Graph, node: Node) -> SourceRef:
    """A source's IRI, reference number and title, as far as the graph has them."""
    number = graph.value(node, PAL.referenceNumber)
    title = graph.value(node, SCHEMA.headline)
    return SourceRef(
        iri=str(node),
        number=int(number) if isinstance(number, Literal) and _is_int(number) else None,
        title=str(title) if title is not None else None,
    )


def _source_refs(graph: rdflib.Graph, focus: Node, value: Node | None) -> Iterable[SourceRef]:
    """The sources a result is about: the focus or value when it is a source, else the
    sources of the claim in question."""
    candidates = [n for n in dict.fromkeys((focus, value)) if n and _is_source(graph, n)]
    if not candidates:
        candidates = sorted(set(graph.objects(focus, PROV.wasDerivedFrom)), key=str)
    return [source_ref(graph, node) for node in candidates]


def _is_source(graph: rdflib.Graph, node: Node) -> bool:
    source_classes = set(graph.transitive_subjects(RDFS.subClassOf, PAL.Source))
    return any(cls in source_classes for cls in graph.objects(node, RDF.type))


def _is_int(literal: Literal) -> bool:
    return isinstance(literal.value, int)


def _json_term(node: Node | None) -> str | None:
    if node is None or isinstance(node, BNode):
        return None
    return str(node)


def _sort_key(result: Result) -> tuple[int, list[str | int], str, str, str]:
    rank = SEVERITIES.index(result.severity) if result.severity in SEVERITIES else 99
    focus = [int(part) if part.isdigit() else part for part in _DIGITS.split(str(result.focus))]
    return (rank, focus, str(result.shape or ""), result.message, str(result.value))


def compact(node: Node | None) -> str:
    """An IRI in prefixed form where a known prefix fits (``source:3``), else as N3."""
    if node is None:
        return "-"
    if isinstance(node, URIRef):
        iri = str(node)
        for prefix, namespace in {**PREFIXES, "palsh": str(SHAPES)}.items():
            if iri.startswith(namespace) and len(iri) > len(namespace):
                return f"{prefix}:{iri[len(namespace) :]}"
        return f"<{iri}>"
    if isinstance(node, Literal):
        plain = node.datatype == XSD.string  # Oxigraph states it; Turtle leaves it implicit
        return Literal(str(node)).n3() if plain else node.n3(namespace_manager=_NAMESPACES)
    return "[]"


__all__ = [
    "SEVERITIES",
    "SHAPES",
    "Report",
    "Result",
    "SourceRef",
    "compact",
    "data_files",
    "label_of",
    "source_ref",
    "validate",
]
