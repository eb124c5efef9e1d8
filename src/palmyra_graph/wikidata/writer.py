"""Append an accepted Wikidata link and its mapping node to a hand-edited Turtle file.

The file is a reviewed, hand-laid-out document, so it is never re-serialised: a commented
block is appended, using the file's own prefixes where it declares them. The result is
parsed again before it replaces the file, and parsed once more after; on any failure the
original bytes are put back.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pyoxigraph as ox
from rdflib import Literal, URIRef
from rdflib.namespace import XSD

from palmyra_graph import __version__
from palmyra_graph.errors import LoadError, StorageError
from palmyra_graph.graph import loader
from palmyra_graph.graph.claims import claim_iri
from palmyra_graph.graph.namespaces import DCTERMS, OWL, PAL, RDF, RDFS, WD
from palmyra_graph.wikidata.links import CONFIDENCE, MAPPING_TOOL, REVIEWER_LABEL, SEMAPV
from palmyra_graph.wikidata.matching import Fit

LEXICAL_MATCHING = URIRef(SEMAPV + "LexicalMatching")
_PREFIX = re.compile(r"^\s*(?:@prefix|PREFIX)\s+([A-Za-z][\w.-]*)?:\s*<([^>]*)>", re.M | re.I)
_LOCAL = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]*$")


def declared_prefixes(text: str) -> dict[str, str]:
    """Namespace IRI -> prefix, for each prefix the Turtle text declares."""
    return {iri: prefix or "" for prefix, iri in _PREFIX.findall(text)}


def link_block(
    text: str, entity: URIRef, qid: str, scored: Fit, *, day: date, reviewer: str | None
) -> str:
    """The Turtle block for ``entity owl:sameAs wd:qid`` and its mapping node."""
    prefixes = declared_prefixes(text)

    def name(iri: str) -> str:
        for namespace, prefix in prefixes.items():
            local = iri[len(namespace) :]
            if namespace and iri.startswith(namespace) and _LOCAL.match(local):
                return f"{prefix}:{local}"
        return f"<{iri}>"

    item = WD[qid]
    node = claim_iri(entity, OWL.sameAs, item)
    evidence = (
        f"Accepted by a person from the candidates of palmyra-graph wikidata reconcile: "
        f"Wikidata label {scored.item_label!r}, description {scored.item_description!r}; "
        f"name similarity {scored.name}, description {scored.description}, type {scored.type}."
    )
    lines = [
        "",
        f"# Wikidata link accepted from the reconciler on {day.isoformat()} (score {scored.score})",
        f"{name(entity)} {name(OWL.sameAs)} {name(item)} .",
        f"{name(node)} a {name(PAL.Mapping)}, {name(RDF.Statement)} ;",
        f"    {name(RDF.subject)} {name(entity)} ;",
        f"    {name(RDF.predicate)} {name(OWL.sameAs)} ;",
        f"    {name(RDF.object)} {name(item)} ;",
        f"    {name(PAL.mappingJustification)} {name(LEXICAL_MATCHING)} ;",
        f"    {name(DCTERMS.date)} {_literal(day.isoformat(), XSD.date, name)} ;",
        f"    {name(CONFIDENCE)} {_literal(str(scored.score), XSD.double, name)} ;",
        f"    {name(MAPPING_TOOL)} {Literal(f'palmyra-graph {__version__}').n3()} ;",
    ]
    if reviewer:
        lines.append(f"    {name(REVIEWER_LABEL)} {Literal(reviewer).n3()} ;")
    lines.append(f"    {name(RDFS.comment)} {Literal(evidence, lang='en').n3()} .")
    return "\n".join(lines) + "\n"


def append_link(
    data_file: Path,
    entity: URIRef,
    qid: str,
    scored: Fit,
    *,
    day: date,
    reviewer: str | None = None,
) -> None:
    """Append the link block to ``data_file`` safely (see the module docstring).

    Raises:
        StorageError: the file cannot be read or written, or the result does not parse or
            lacks the link (the original is restored first).
    """
    try:
        original = data_file.read_bytes()
    except OSError as exc:
        raise StorageError(
            f"cannot read the data file: {exc.strerror}", where=str(data_file)
        ) from exc
    text = original.decode("utf-8")
    separator = "" if text.endswith("\n") or not text else "\n"
    updated = text + separator + link_block(text, entity, qid, scored, day=day, reviewer=reviewer)
    partial = data_file.with_name(f".{data_file.name}.{os.getpid()}.part{data_file.suffix}")
    try:
        partial.write_text(updated, encoding="utf-8")
        _check(partial, entity, qid)
        os.replace(partial, data_file)
        _check(data_file, entity, qid)
    except (OSError, LoadError, StorageError) as exc:
        data_file.write_bytes(original)
        raise StorageError(
            f"link not written, file left as it was: {exc}", where=str(data_file)
        ) from exc
    finally:
        partial.unlink(missing_ok=True)


def _check(path: Path, entity: URIRef, qid: str) -> None:
    """The file parses and states the link."""
    store = ox.Store()
    loader.parse_into(store, path)
    pattern = (ox.NamedNode(str(entity)), ox.NamedNode(str(OWL.sameAs)), ox.NamedNode(WD[qid]))
    if not any(True for _ in store.quads_for_pattern(*pattern)):
        raise StorageError("the written file does not state the link", where=str(path))


def _literal(lexical: str, datatype: URIRef, name: Callable[[str], str]) -> str:
    return f'"{lexical}"^^{name(str(datatype))}'
