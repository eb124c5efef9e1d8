"""The figures (strength, reinforcements, casualties, each with its claimants and sources) and
the dated claims the home page charts, read from the graph by SPARQL at request time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from palmyra_graph.query.engine import Engine
from palmyra_graph.web.home import (
    FIGURE_LINKS,
    OFFENSIVE,
    Row,
    ShownTerm,
    Source,
    SourcedFact,
    add_source,
    facts,
    local_name,
    rows,
    text,
    value_of,
    values_list,
)


@dataclass
class Figure:
    """A count as a value node: amount (or unknown), bound, what is counted, for whom."""

    iri: str
    label: str
    amount: int | None
    lower_bound: bool
    measure: ShownTerm | None
    party: ShownTerm | None
    origin: ShownTerm | None = None
    unit: ShownTerm | None = None
    since: str | None = None
    parts: list[Figure] = field(default_factory=list)

    @property
    def amount_text(self) -> str:
        """The amount as the article prints it: ``4,900+``, or ``Unknown``."""
        if self.amount is None:
            return "Unknown"
        return f"{self.amount:,}" + ("+" if self.lower_bound else "")


@dataclass
class FigureFact:
    """The claim linking the offensive to a figure, with the figure."""

    fact: SourcedFact
    figure: Figure


_FIGURES = """
SELECT ?figure ?label ?amount ?lower ?measure ?measureLabel ?party ?partyLabel ?origin
       ?originLabel ?unit ?unitLabel ?since ?part
WHERE {
  VALUES ?figure { %s }
  OPTIONAL { ?figure rdfs:label ?label }
  OPTIONAL { ?figure pal:amount ?amount }
  OPTIONAL { ?figure pal:isLowerBound ?lower }
  OPTIONAL { ?figure pal:measure ?measure OPTIONAL { ?measure rdfs:label ?measureLabel } }
  OPTIONAL { ?figure pal:party ?party OPTIONAL { ?party rdfs:label ?partyLabel } }
  OPTIONAL { ?figure pal:origin ?origin OPTIONAL { ?origin rdfs:label ?originLabel } }
  OPTIONAL { ?figure pal:unit ?unit OPTIONAL { ?unit rdfs:label ?unitLabel } }
  OPTIONAL { ?figure pal:since ?since }
  OPTIONAL { ?figure pal:hasPart ?part }
}
"""


def figures(engine: Engine) -> dict[str, list[FigureFact]]:
    """Strength, reinforcements and casualties, keyed by property local name."""
    links = facts(engine, [OFFENSIVE], FIGURE_LINKS)
    described = _figures(engine, [f.object.value for f in links])
    grouped: dict[str, list[FigureFact]] = {name: [] for name in FIGURE_LINKS}
    for link in links:
        figure = described.get(link.object.value)
        if figure is not None:
            grouped[local_name(link.predicate)].append(FigureFact(link, figure))
    for items in grouped.values():
        items.sort(key=lambda i: (i.figure.party.label if i.figure.party else "", i.figure.label))
    return grouped


def _figures(engine: Engine, iris: Sequence[str]) -> dict[str, Figure]:
    """Figures by IRI, with their breakdown parts (one level, as the data model has it)."""
    if not iris:
        return {}
    found: dict[str, Figure] = {}
    part_iris: dict[str, list[str]] = {}
    for row in rows(engine, _FIGURES % values_list(iris)):
        iri = text(row["figure"]) or ""
        if iri not in found:
            found[iri] = _figure(iri, row)
        part = text(row["part"])
        if part and part not in part_iris.setdefault(iri, []):
            part_iris[iri].append(part)
    parts = _figures(engine, sorted({p for ps in part_iris.values() for p in ps}))
    for iri, figure in found.items():
        figure.parts = [parts[p] for p in part_iris.get(iri, []) if p in parts]
    return found


def _figure(iri: str, row: Row) -> Figure:
    amount = text(row["amount"])

    def labelled(name: str) -> ShownTerm | None:
        term = row[name]
        return value_of(term, row[f"{name}Label"]) if term is not None else None

    return Figure(
        iri=iri,
        label=text(row["label"]) or local_name(iri),
        amount=int(amount) if amount is not None and amount.isdigit() else None,
        lower_bound=text(row["lower"]) in ("true", "1"),
        measure=labelled("measure"),
        party=labelled("party"),
        origin=labelled("origin"),
        unit=labelled("unit"),
        since=text(row["since"]),
    )


@dataclass
class DatedClaim:
    """A claim that carries a date: a date-valued fact, a point in time, or a figure's start."""

    date: str
    claim: str
    subject: ShownTerm
    predicate: ShownTerm
    object: ShownTerm
    kind: str  # "date" (the object is the date), "pointInTime", or "since"
    sources: list[Source] = field(default_factory=list)


_DATED = """
SELECT ?claim ?s ?sLabel ?p ?pLabel ?o ?oLabel ?date ?kind ?source ?ref ?title
WHERE {
  {
    ?claim rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o .
    FILTER(isLiteral(?o) && datatype(?o) = xsd:date)
    BIND(?o AS ?date) BIND("date" AS ?kind)
  } UNION {
    ?claim rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o ; pal:pointInTime ?date .
    BIND("pointInTime" AS ?kind)
  } UNION {
    ?claim rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o . ?o pal:since ?date .
    BIND("since" AS ?kind)
  }
  FILTER(isLiteral(?date) && datatype(?date) = xsd:date)
  OPTIONAL { ?s rdfs:label ?sLabel }
  OPTIONAL { ?p rdfs:label ?pLabel }
  OPTIONAL { ?o rdfs:label ?oLabel }
  OPTIONAL {
    ?claim prov:wasDerivedFrom ?source .
    OPTIONAL { ?source pal:referenceNumber ?ref }
    OPTIONAL { ?source schema:headline ?title }
  }
}
"""


def dated_claims(engine: Engine) -> list[DatedClaim]:
    """Every claim that carries an ``xsd:date``, in date order (the timeline's marks)."""
    found: dict[tuple[str, str], DatedClaim] = {}
    for row in rows(engine, _DATED):
        key = (text(row["claim"]) or "", text(row["kind"]) or "")
        item = found.get(key)
        if item is None:
            item = found[key] = _dated(row)
        add_source(item.sources, row)
    return sorted(found.values(), key=lambda d: (d.date, d.subject.label, d.predicate.label))


def _dated(row: Row) -> DatedClaim:
    s, p, o = row["s"], row["p"], row["o"]
    assert s is not None and p is not None and o is not None
    return DatedClaim(
        date=text(row["date"]) or "",
        claim=text(row["claim"]) or "",
        subject=value_of(s, row["sLabel"]),
        predicate=value_of(p, row["pLabel"]),
        object=value_of(o, row["oLabel"]),
        kind=text(row["kind"]) or "date",
    )
