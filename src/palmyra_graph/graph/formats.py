"""Media types, file suffixes and ``format=`` names as plain tables, and Accept negotiation.

Kept apart from request handling, as rdflib-endpoint keeps its tables in one module.
Negotiation follows RFC 9110 §12.5.1: q-values, ``type/*`` and ``*/*`` wildcards, and the
most specific matching range decides a type's quality. A generic type a format is also asked by
(``application/json``, ``application/xml``, ``text/plain``) names the format of that kind among
those offered: SPARQL JSON results for a SELECT, JSON-LD for a graph.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox


@dataclass(frozen=True)
class Format:
    """One representation: its media type, ``format=`` names, file suffix and Oxigraph format."""

    media_type: str
    names: tuple[str, ...]
    suffix: str
    oxigraph: ox.QueryResultsFormat | ox.RdfFormat | None = None
    text: bool = True
    #: Generic media types a client may ask this format by (``application/json`` for SPARQL
    #: JSON results, or for JSON-LD where a graph is the answer): matched after the format's
    #: own type, and only among the formats offered for the answer at hand.
    also: tuple[str, ...] = ()

    @property
    def content_type(self) -> str:
        """The Content-Type header value, with a charset for text formats."""
        return f"{self.media_type}; charset=utf-8" if self.text else self.media_type


# Results of SELECT and ASK (https://www.w3.org/TR/sparql11-results-json/ and siblings).
RESULTS_JSON = Format(
    "application/sparql-results+json",
    ("json", "srj"),
    ".srj",
    ox.QueryResultsFormat.JSON,
    also=("application/json",),
)
RESULTS_XML = Format(
    "application/sparql-results+xml",
    ("xml", "srx"),
    ".srx",
    ox.QueryResultsFormat.XML,
    also=("application/xml", "text/xml"),
)
RESULTS_CSV = Format("text/csv", ("csv",), ".csv", ox.QueryResultsFormat.CSV)
RESULTS_TSV = Format("text/tab-separated-values", ("tsv",), ".tsv", ox.QueryResultsFormat.TSV)

# Graphs from CONSTRUCT and DESCRIBE, entity pages and dumps.
TURTLE = Format("text/turtle", ("turtle", "ttl"), ".ttl", ox.RdfFormat.TURTLE)
NTRIPLES = Format(
    "application/n-triples",
    ("nt", "ntriples", "n-triples"),
    ".nt",
    ox.RdfFormat.N_TRIPLES,
    also=("text/plain",),
)
JSONLD = Format(
    "application/ld+json",
    ("jsonld", "json-ld"),
    ".jsonld",
    ox.RdfFormat.JSON_LD,
    also=("application/json",),
)
RDFXML = Format(
    "application/rdf+xml",
    ("rdfxml", "rdf", "xml"),
    ".rdf",
    ox.RdfFormat.RDF_XML,
    also=("application/xml", "text/xml"),
)
NQUADS = Format("application/n-quads", ("nq", "nquads", "n-quads"), ".nq", ox.RdfFormat.N_QUADS)
TRIG = Format("application/trig", ("trig",), ".trig", ox.RdfFormat.TRIG)
HTML = Format("text/html", ("html",), ".html")

#: Offered for SELECT/ASK, first is the default for ``*/*`` or no Accept.
RESULT_FORMATS: tuple[Format, ...] = (RESULTS_JSON, RESULTS_XML, RESULTS_CSV, RESULTS_TSV)
#: Offered for CONSTRUCT/DESCRIBE, first is the default.
GRAPH_FORMATS: tuple[Format, ...] = (TURTLE, NTRIPLES, JSONLD, RDFXML)
#: Offered for whole-dataset dumps (quad formats keep the named graphs).
DUMP_FORMATS: tuple[Format, ...] = (TURTLE, NTRIPLES, JSONLD, RDFXML, NQUADS, TRIG)

#: Media types clients send for the formats above that are not their registered name, and
#: that mean one format whatever the answer (generic types are each format's ``also``).
ALIASES: dict[str, str] = {
    "application/x-turtle": "text/turtle",
    "text/n-triples": "application/n-triples",
    "application/json+ld": "application/ld+json",
    "text/n-quads": "application/n-quads",
}


@dataclass(frozen=True)
class MediaRange:
    """One entry of an Accept header."""

    type: str
    subtype: str
    q: float

    def matches(self, media_type: str, also: tuple[str, ...] = ()) -> int:
        """How specifically this range matches a format's type: 3 exact, 2 one of the generic
        types it is also asked by (``also``), 1 ``type/*``, 0 ``*/*``, -1 no match."""
        main, _, sub = media_type.partition("/")
        if self.type == "*":
            return 0
        if f"{self.type}/{self.subtype}" in also:
            return 2
        if self.type != main:
            return -1
        if self.subtype == "*":
            return 1
        return 3 if self.subtype == sub else -1


def parse_accept(header: str | None) -> list[MediaRange]:
    """Parse an Accept header; malformed entries are skipped, a bad q counts as 0."""
    ranges = []
    for entry in (header or "").split(","):
        parts = [p.strip() for p in entry.split(";")]
        media, params = parts[0].lower(), parts[1:]
        if "/" not in media:
            continue
        main, _, sub = media.partition("/")
        media = ALIASES.get(media, media) if main != "*" and sub != "*" else media
        main, _, sub = media.partition("/")
        ranges.append(MediaRange(main, sub, _quality(params)))
    return ranges


def _quality(params: list[str]) -> float:
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                return min(max(float(value), 0.0), 1.0)
            except ValueError:
                return 0.0
    return 1.0


def negotiate(accept: str | None, offered: tuple[Format, ...]) -> Format | None:
    """The offered format the client prefers, or None when nothing offered is acceptable.

    No Accept header (or an empty one) means "anything": the first offered format. Among
    equal q-values the order of ``offered`` (the server's preference) decides.
    """
    ranges = parse_accept(accept)
    if not ranges:
        return offered[0]
    best_q, chosen = 0.0, None
    for fmt in offered:
        q = _quality_of(fmt, ranges)
        if q > best_q:
            best_q, chosen = q, fmt
    return chosen


def _quality_of(fmt: Format, ranges: list[MediaRange]) -> float:
    specificity, q = -1, 0.0
    for media_range in ranges:
        match = media_range.matches(fmt.media_type, fmt.also)
        if match > specificity:
            specificity, q = match, media_range.q
    return q


def by_name(name: str, offered: tuple[Format, ...]) -> Format | None:
    """The offered format called ``name`` (a ``format=`` value, a suffix or a media type)."""
    key = name.strip().lower().lstrip(".")
    key = ALIASES.get(key, key)
    for fmt in offered:
        if key in fmt.names or key == fmt.media_type or key == fmt.suffix.lstrip("."):
            return fmt
    return next((fmt for fmt in offered if key in fmt.also), None)
