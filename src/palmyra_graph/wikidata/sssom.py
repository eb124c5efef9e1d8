"""The Wikidata links as an SSSOM/TSV mapping set: a YAML metadata block, then a TSV table.

Follows the SSSOM specification (https://mapping-commons.github.io/sssom/spec-formats-tsv/):
the metadata block is YAML with every line prefixed by ``#``; it carries the ``curie_map``
for every prefix used in the table, ``mapping_set_id`` and ``license``. Each row is one
``owl:sameAs`` link with its ``mapping_justification`` (a SEMAPV term) and provenance.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping

from palmyra_graph import __version__
from palmyra_graph.graph.namespaces import BASE, DATASET, ID, OWL, PAL, WD
from palmyra_graph.wikidata.links import SEMAPV, Link

MAPPING_SET_ID = BASE + "mappings/wikidata.sssom.tsv"
LICENSE = "https://creativecommons.org/licenses/by-sa/4.0/"
CURIE_MAP: dict[str, str] = {
    "id": str(ID),
    "owl": str(OWL),
    "pal": str(PAL),
    "semapv": SEMAPV,
    "wd": str(WD),
}
COLUMNS = (
    "subject_id",
    "subject_label",
    "subject_type",
    "predicate_id",
    "object_id",
    "mapping_justification",
    "mapping_date",
    "confidence",
    "mapping_tool",
    "reviewer_label",
    "comment",
)


def metadata() -> dict[str, object]:
    """The mapping-set metadata written in the YAML block."""
    return {
        "curie_map": CURIE_MAP,
        "mapping_set_id": MAPPING_SET_ID,
        "mapping_set_version": __version__,
        "mapping_set_title": "palmyra-graph entities to Wikidata items",
        "mapping_set_description": (
            "owl:sameAs links from the entities of the 2017 Palmyra offensive graph to "
            "Wikidata, each with how it was made."
        ),
        "license": LICENSE,
        "subject_source": DATASET,
        "object_source": "https://www.wikidata.org/",
    }


def yaml_block(meta: Mapping[str, object]) -> str:
    """The metadata as ``#``-prefixed YAML; strings are JSON-quoted (valid YAML scalars)."""
    lines: list[str] = []
    for key, value in meta.items():
        if isinstance(value, Mapping):
            lines.append(f"#{key}:")
            lines.extend(f"#  {k}: {json.dumps(str(v))}" for k, v in value.items())
        else:
            lines.append(f"#{key}: {json.dumps(str(value))}")
    return "\n".join(lines) + "\n"


def curie(iri: str) -> str:
    """``iri`` shortened with the longest matching prefix of CURIE_MAP (unchanged if none)."""
    best = max(
        ((p, ns) for p, ns in CURIE_MAP.items() if iri.startswith(ns)),
        key=lambda pair: len(pair[1]),
        default=None,
    )
    return f"{best[0]}:{iri[len(best[1]) :]}" if best else iri


def row(link: Link) -> dict[str, str]:
    """One TSV row for a linked entity."""
    mapping = link.mapping
    return {
        "subject_id": curie(str(link.entity)),
        "subject_label": link.label,
        "subject_type": "owl:NamedIndividual",
        "predicate_id": "owl:sameAs",
        "object_id": f"wd:{link.qid}",
        "mapping_justification": curie(str(mapping.justification))
        if mapping and mapping.justification
        else "semapv:UnspecifiedMatching",
        "mapping_date": (mapping.date or "") if mapping else "",
        "confidence": "" if not mapping or mapping.confidence is None else str(mapping.confidence),
        "mapping_tool": (mapping.tool or "") if mapping else "",
        "reviewer_label": (mapping.reviewer or "") if mapping else "",
        "comment": (mapping.comment or "") if mapping else "",
    }


def write_sssom(all_links: Iterable[Link]) -> str:
    """The mapping set of every linked entity (unlinked ones have no row)."""
    out = io.StringIO()
    out.write(yaml_block(metadata()))
    writer = csv.DictWriter(
        out, fieldnames=COLUMNS, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_MINIMAL
    )
    writer.writeheader()
    for link in all_links:
        if link.qid:
            writer.writerow(
                {k: v.replace("\t", " ").replace("\n", " ") for k, v in row(link).items()}
            )
    return out.getvalue()
