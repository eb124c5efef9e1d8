"""The dataset's IRI spaces and the vocabularies it uses, as precomputed constants.

One base for the dataset, with separate spaces for entities (``id/``), the vocabulary
(``ontology#``), claims (``claim/``), sources (``source/``), figures (``figure/``) and the
named graphs the files are loaded into (``graph/``).
"""

from __future__ import annotations

from rdflib import Namespace
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SDO, SH, SKOS, VOID, XSD

BASE = "https://w3id.org/palmyra/"

PAL = Namespace(BASE + "ontology#")
ID = Namespace(BASE + "id/")
CLAIM = Namespace(BASE + "claim/")
SOURCE = Namespace(BASE + "source/")
FIGURE = Namespace(BASE + "figure/")
GRAPH = Namespace(BASE + "graph/")
DATASET = BASE + "dataset"

WD = Namespace("http://www.wikidata.org/entity/")
WDT = Namespace("http://www.wikidata.org/prop/direct/")
PAV = Namespace("http://purl.org/pav/")
SEM = Namespace("http://semanticweb.cs.vu.nl/2009/11/sem/")
SCHEMA = SDO  # https://schema.org/

#: Prefixes used when printing Turtle, tables and query results.
PREFIXES: dict[str, str] = {
    "pal": str(PAL),
    "id": str(ID),
    "claim": str(CLAIM),
    "source": str(SOURCE),
    "figure": str(FIGURE),
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "owl": str(OWL),
    "xsd": str(XSD),
    "skos": str(SKOS),
    "prov": str(PROV),
    "schema": str(SCHEMA),
    "dcterms": str(DCTERMS),
    "pav": str(PAV),
    "sem": str(SEM),
    "void": str(VOID),
    "sh": str(SH),
    "wd": str(WD),
    "wdt": str(WDT),
}

__all__ = [
    "BASE",
    "CLAIM",
    "DATASET",
    "DCTERMS",
    "FIGURE",
    "GRAPH",
    "ID",
    "OWL",
    "PAL",
    "PAV",
    "PREFIXES",
    "PROV",
    "RDF",
    "RDFS",
    "SCHEMA",
    "SEM",
    "SH",
    "SKOS",
    "SOURCE",
    "VOID",
    "WD",
    "WDT",
    "XSD",
    "local_name",
]


def local_name(iri: object) -> str:
    """What follows an IRI's last ``#`` or ``/`` (``pal:Killed`` gives ``Killed``); "" for
    None."""
    return str(iri or "").rsplit("#", 1)[-1].rsplit("/", 1)[-1]
