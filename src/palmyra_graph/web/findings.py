"""The validation report of the served data, as the pages show it: findings by rule, by source,
by reference marker, and as an ``sh:ValidationReport`` graph (SHACL §3.6,
https://www.w3.org/TR/shacl/#validation-report).

The graph does not change while it is served, so the report is computed once, from
:func:`palmyra_graph.graph.validate.validate` and its report as it is, never per request: on
first use, kept on the app and for the process, so apps of one process on the same files (the
test suite builds many) share one computation. ``serve`` computes it for its start-up line
before granian forks the server processes, which inherit it (each warms its own only if it was
not inherited: another start method, other files).
A store or remote endpoint is not validated (the files are not what is served), nor a graph
past ``MAX_VALIDATED_TRIPLES`` (pySHACL would take minutes): the report then says why.

Report and result nodes are IRIs under the base (``{BASE_IRI}quality``,
``{BASE_IRI}quality#result-3``), so they dereference to ``/quality`` and the finding's anchor.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import rdflib
from flask import Flask
from rdflib import BNode, Literal, URIRef
from rdflib.term import Node

from palmyra_graph.errors import PalmyraError
from palmyra_graph.graph.formats import Format
from palmyra_graph.graph.loader import fingerprint
from palmyra_graph.graph.namespaces import PREFIXES, RDF, RDFS, SH
from palmyra_graph.graph.validate import (
    SEVERITIES,
    SHAPES,
    Report,
    Result,
    SourceRef,
    compact,
    validate,
)
from palmyra_graph.query.engine import Engine
from palmyra_graph.web.context import engine_of

#: Larger graphs are not validated when served (pySHACL would delay start-up by minutes).
MAX_VALIDATED_TRIPLES = 100_000
#: The path of the report under the base IRI, and of its page on this server.
PATH = "quality"
REPORT_LABEL = "SHACL validation report of the dataset"

_LOCK = threading.Lock()
_MEMO: dict[tuple[Any, ...], Quality] = {}


@dataclass(frozen=True)
class Finding:
    """One validation result: its number on the page (``#result-N``), rule and message, what
    it is about (focus and value), and the sources it concerns."""

    number: int
    severity: str
    rule: str
    message: str
    focus: str
    focus_text: str
    value: str | None
    value_text: str
    value_is_iri: bool
    sources: tuple[SourceRef, ...]

    @property
    def anchor(self) -> str:
        return f"result-{self.number}"

    @property
    def focus_is_source(self) -> bool:
        """The focus is one of the finding's sources (shown once, among them)."""
        return any(s.iri == self.focus for s in self.sources)

    @property
    def value_shown(self) -> bool:
        """The value says more than the focus and sources do (a claim, a literal)."""
        return self.value is not None and self.value not in (
            self.focus,
            *(s.iri for s in self.sources),
        )


@dataclass
class Rule:
    """A shape with the findings it produced, and how the shapes file names and explains it."""

    iri: str
    name: str
    label: str
    comment: str | None
    severity: str
    findings: list[Finding] = field(default_factory=list)


@dataclass
class Quality:
    """The served data's validation report, or the reason there is none."""

    base: str
    reason: str | None = None
    conforms: bool = True
    findings: list[Finding] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    seconds: float = 0.0
    shape_files: list[str] = field(default_factory=list)
    graph: rdflib.Graph = field(default_factory=rdflib.Graph, repr=False)
    serialized: dict[Format, bytes] = field(default_factory=dict, repr=False)
    _by_source: dict[str, list[Finding]] = field(default_factory=dict, repr=False)
    #: findings by their focus and by their value (a resource's page looks them up)
    _by_node: dict[str, list[Finding]] = field(default_factory=dict, repr=False)

    @property
    def available(self) -> bool:
        return self.reason is None

    @property
    def iri(self) -> str:
        """The report node: ``{BASE_IRI}quality``."""
        return self.base + PATH

    def counts(self) -> dict[str, int]:
        """Findings per severity, every severity (in SEVERITIES order) included."""
        return {s: sum(f.severity == s for f in self.findings) for s in SEVERITIES}

    def of_source(self, source: str) -> list[Finding]:
        """The findings about one source: those whose focus is it, and, for a result about a
        claim, those of the claim's sources."""
        return self._by_source.get(source, [])

    def about(self, iri: str) -> list[Finding]:
        """The findings a resource's page shows: a source's own (``of_source``), else those
        whose focus or value it is (a claim a source is dated long before)."""
        if iri in self._by_source:
            return self._by_source[iri]
        return self._by_node.get(iri, [])

    def marks(self, source: str, claim: str | None = None) -> list[Finding]:
        """What a reference marker of ``source`` on ``claim`` points out: the source's
        findings, less those about one of its other claims (a date that is only wrong for
        what else the source is cited for)."""
        claims = self.base + "claim/"
        return [
            f
            for f in self.of_source(source)
            if not (f.value and f.value.startswith(claims) and f.value != claim)
        ]


def quality_of(app: Flask) -> Quality:
    """The app's report, computed on first use and kept on the app (and for the process).

    A file that cannot be read, or shapes that cannot be used, leave a report with the reason
    (the data is served anyway, as ``serve`` does with data that breaks the shapes).
    """
    cached: Quality | None = app.extensions.get("palmyra.quality")
    if cached is not None:
        return cached
    with _LOCK:
        cached = app.extensions.get("palmyra.quality")
        if cached is None:
            quality = quality_for(app.config, engine_of(app))
            cached = app.extensions["palmyra.quality"] = quality
    return cached


def quality_for(config: Mapping[str, Any], engine: Engine) -> Quality:
    """The report of the files ``config`` serves (kept for the process, by the files' identity),
    or why there is none; ``engine`` serves them (its triples are counted if they must be)."""
    base = str(config["BASE_IRI"])
    if config["STORE"] or config["REMOTE"]:
        where = "an on-disk store" if config["STORE"] else "a remote endpoint"
        return Quality(base, reason=f"the graph is served from {where}: run palmyra-graph validate")
    files = [str(f) for f in config["DATA_FILES"]]
    key = (base, fingerprint(files))  # the files' paths, sizes and modification times
    if key in _MEMO:
        return _MEMO[key]
    if triples_up_to(engine, MAX_VALIDATED_TRIPLES + 1) > MAX_VALIDATED_TRIPLES:
        reason = (
            f"more than {MAX_VALIDATED_TRIPLES:,} triples: not validated when served "
            "(run palmyra-graph validate)"
        )
        return Quality(base, reason=reason)
    started = time.perf_counter()
    try:
        report = validate(files, ontology=True)
    except PalmyraError as error:  # the pages are served anyway; /quality says why
        return Quality(base, reason=f"the data could not be validated: {error}")
    quality = from_report(report, base=base)
    quality.seconds = time.perf_counter() - started
    _MEMO[key] = quality
    return quality


def triples_up_to(engine: Engine, limit: int) -> int:
    """The served triples counted by the engine, stopping at ``limit``: linear in the limit,
    not in the graph (counting 10^6 triples took 0.2-0.4 s of ``serve``'s start, the bound
    at 10^5 0.02 s)."""
    query = f"SELECT (COUNT(*) AS ?n) WHERE {{ SELECT * WHERE {{ ?s ?p ?o }} LIMIT {limit} }}"
    for solution in engine.query(query).solutions():
        count = solution[0]
        assert isinstance(count, ox.Literal)
        return int(count.value)
    return 0


def from_report(report: Report, *, base: str) -> Quality:
    """The findings of ``report`` numbered in its order, by rule and by source, and its graph."""
    names = _shape_names(report.shape_files)
    quality = Quality(
        base,
        conforms=report.conforms,
        shape_files=[str(p) for p in report.shape_files],
    )
    rules: dict[str, Rule] = {}
    for number, result in enumerate(report.results, start=1):
        finding = _finding(number, result)
        quality.findings.append(finding)
        rule = rules.get(finding.rule)
        if rule is None:
            label, comment = names.get(finding.rule, (None, None))
            name = compact(URIRef(finding.rule)) if finding.rule else "(an unnamed shape)"
            rule = rules[finding.rule] = Rule(
                finding.rule, name, label or name, comment, finding.severity
            )
        rule.findings.append(finding)
        for source in _about(finding):
            quality._by_source.setdefault(source, []).append(finding)
        for node in dict.fromkeys(n for n in (finding.focus, finding.value) if n):
            quality._by_node.setdefault(node, []).append(finding)
    quality.rules = sorted(rules.values(), key=_rule_order)
    quality.graph = report_graph(report, iri=quality.iri)
    return quality


def _finding(number: int, result: Result) -> Finding:
    value = result.value
    return Finding(
        number=number,
        severity=result.severity,
        rule=str(result.shape) if isinstance(result.shape, URIRef) else "",
        message=result.message,
        focus=str(result.focus),
        focus_text=result.focus_label or compact(result.focus),
        value=str(value) if value is not None and not isinstance(value, BNode) else None,
        value_text=str(value) if isinstance(value, Literal) else compact(value),
        value_is_iri=isinstance(value, URIRef),
        sources=result.sources,
    )


def _about(finding: Finding) -> list[str]:
    """The sources a finding is about: its focus when that is one, else the claim's sources."""
    iris = [s.iri for s in finding.sources]
    return [finding.focus] if finding.focus in iris else iris


def _rule_order(rule: Rule) -> tuple[int, str]:
    rank = SEVERITIES.index(rule.severity) if rule.severity in SEVERITIES else len(SEVERITIES)
    return rank, rule.label.casefold()


def _shape_names(files: Sequence[Path]) -> dict[str, tuple[str | None, str | None]]:
    """Each shape's rdfs:label and rdfs:comment; a property shape without its own takes those of
    the node shape it belongs to (``sh:property``)."""
    shapes = rdflib.Graph()
    for path in files:
        shapes.parse(path, format="turtle")
    names: dict[str, tuple[str | None, str | None]] = {}
    for shape in set(shapes.subjects(RDF.type, SH.NodeShape)) | set(
        shapes.subjects(RDF.type, SH.PropertyShape)
    ):
        owner = shapes.value(None, SH.property, shape)
        label = shapes.value(shape, RDFS.label) or (owner and shapes.value(owner, RDFS.label))
        comment = shapes.value(shape, RDFS.comment) or (owner and shapes.value(owner, RDFS.comment))
        names[str(shape)] = (_text(label), _text(comment))
    return names


def _text(node: Node | None) -> str | None:
    return str(node) if isinstance(node, Literal) else None


def report_graph(report: Report, *, iri: str) -> rdflib.Graph:
    """``report`` as an ``sh:ValidationReport`` (SHACL §3.6): ``sh:conforms`` and one
    ``sh:ValidationResult`` per result, numbered ``{iri}#result-N`` in the report's order, each
    with its focus node, severity, message, source shape and constraint component, and its
    path, value and source constraint where they are IRIs or literals (blank nodes of the shapes
    graph mean nothing outside it)."""
    graph = rdflib.Graph(bind_namespaces="none")
    for prefix, namespace in {**PREFIXES, "palsh": str(SHAPES)}.items():
        graph.bind(prefix, namespace)
    node = URIRef(iri)
    graph.add((node, RDF.type, SH.ValidationReport))
    graph.add((node, SH.conforms, Literal(report.conforms)))
    graph.add((node, RDFS.label, Literal(REPORT_LABEL, lang="en")))
    for number, result in enumerate(report.results, start=1):
        item = URIRef(f"{iri}#result-{number}")
        graph.add((node, SH.result, item))
        graph.add((item, RDF.type, SH.ValidationResult))
        graph.add((item, SH.focusNode, result.focus))
        graph.add((item, SH.resultSeverity, SH[result.severity]))
        graph.add((item, SH.resultMessage, Literal(result.message)))
        # sh:sourceShape is required: a blank-node shape keeps a (new) blank node
        graph.add((item, SH.sourceShape, _named(result.shape) or BNode()))
        for prop, value in (
            (SH.sourceConstraintComponent, result.component),
            (SH.sourceConstraint, result.constraint),
            (SH.resultPath, result.path),
            (SH.value, result.value),
        ):
            named = _named(value)
            if named is not None:
                graph.add((item, prop, named))
    return graph


def _named(node: Node | None) -> URIRef | Literal | None:
    """The node when it is an IRI or a literal (a blank node means nothing outside its graph)."""
    return node if isinstance(node, URIRef | Literal) else None
