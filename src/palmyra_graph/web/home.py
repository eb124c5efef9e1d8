"""What the home page says about the offensive, read from the graph by SPARQL at request time.

Nothing here knows a date, a figure or a name: every value comes from the engine. The one
generic question is :func:`facts`: plain triples ``(s, p, o)`` with the claim node that
describes each (``rdf:subject/predicate/object``, see ``docs/data-model.md``), its sources
(``prov:wasDerivedFrom``) and qualifiers (``pal:accordingTo``, ``pal:role``, ``pal:side``,
``pal:pointInTime``). The sections of the page compose it; the figures and the timeline
(:mod:`palmyra_graph.web.figures`) add one query each.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import pyoxigraph as ox

from palmyra_graph.graph.namespaces import DATASET, ID, PAL, PREFIXES, SOURCE
from palmyra_graph.query.engine import Engine

OFFENSIVE = str(ID["palmyra-offensive-2017"])
XSD_DATE = "http://www.w3.org/2001/XMLSchema#date"

_PROLOGUE = "\n".join(f"PREFIX {name}: <{iri}>" for name, iri in PREFIXES.items())

#: The overview in the order the article's infobox prints it.
OVERVIEW = ("startDate", "endDate", "duration", "location", "result", "goal", "partOf",
            "follows", "launchedBy", "target")  # fmt: skip
FIGURE_LINKS = ("strength", "reinforcement", "casualties")

Row = dict[str, ox.NamedNode | ox.Literal | None]


@dataclass(frozen=True)
class ShownTerm:
    """An RDF term as shown: its IRI or lexical form, and a human label."""

    value: str
    label: str
    is_iri: bool = False
    datatype: str | None = None


@dataclass(frozen=True)
class Source:
    """A cited source: the article's reference number when it is one."""

    iri: str
    number: int | None
    title: str | None

    @property
    def mark(self) -> str:
        """How the article marks it: ``[3]``; the article itself as ``[article]``."""
        return f"[{self.number}]" if self.number is not None else "[article]"


@dataclass
class SourcedFact:
    """A triple with the claim node that describes it and its provenance."""

    subject: str
    predicate: str
    object: ShownTerm
    claim: str | None = None
    sources: list[Source] = field(default_factory=list)
    claimant: ShownTerm | None = None
    role: str | None = None
    side: ShownTerm | None = None
    point_in_time: str | None = None
    subject_label: str = ""


def rows(engine: Engine, sparql: str) -> list[Row]:
    """Run a SELECT query (our prefixes prepended) and return its solutions as dicts.

    Raises:
        QueryError: the query is malformed (a bug here, not user input).
    """
    solutions = engine.query(f"{_PROLOGUE}\n{sparql}").solutions()
    names = [v.value for v in solutions.variables]
    return [{n: _term(s[n]) for n in names} for s in solutions]


def _term(term: object) -> ox.NamedNode | ox.Literal | None:
    return term if isinstance(term, ox.NamedNode | ox.Literal) else None


def text(term: ox.NamedNode | ox.Literal | None) -> str | None:
    """The IRI or lexical form of a term, None when unbound."""
    return None if term is None else term.value


def values_list(iris: Iterable[str]) -> str:
    """IRIs as a VALUES list; NamedNode validates each, so nothing can break out of ``<>``."""
    return " ".join(str(ox.NamedNode(iri)) for iri in iris)


def value_of(term: ox.NamedNode | ox.Literal, label: ox.NamedNode | ox.Literal | None) -> ShownTerm:
    """A term with its label (or its lexical form / local name when it has none)."""
    if isinstance(term, ox.NamedNode):
        return ShownTerm(term.value, text(label) or local_name(term.value), is_iri=True)
    return ShownTerm(term.value, text(label) or term.value, datatype=term.datatype.value)


def local_name(iri: str) -> str:
    """The last segment or fragment of an IRI."""
    return iri.rstrip("/#").replace("#", "/").rsplit("/", 1)[-1]


_FACTS = """
SELECT ?s ?sLabel ?p ?o ?oLabel ?claim ?source ?ref ?title ?claimant ?claimantLabel ?role ?side
       ?sideLabel ?when
WHERE {
  VALUES ?s { %(subjects)s }
  VALUES ?p { %(predicates)s }
  ?s ?p ?o .
  OPTIONAL { ?s rdfs:label ?sLabel }
  OPTIONAL { ?o rdfs:label ?oLabel }
  OPTIONAL {
    ?claim rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o .
    OPTIONAL {
      ?claim prov:wasDerivedFrom ?source .
      OPTIONAL { ?source pal:referenceNumber ?ref }
      OPTIONAL { ?source schema:headline ?title }
    }
    OPTIONAL { ?claim pal:accordingTo ?claimant OPTIONAL { ?claimant rdfs:label ?claimantLabel } }
    OPTIONAL { ?claim pal:role ?role }
    OPTIONAL { ?claim pal:side ?side OPTIONAL { ?side rdfs:label ?sideLabel } }
    OPTIONAL { ?claim pal:pointInTime ?when }
  }
}
"""


def facts(engine: Engine, subjects: Sequence[str], predicates: Sequence[str]) -> list[SourcedFact]:
    """Every triple from ``subjects`` by ``predicates`` (local names in ``pal:``), sourced.

    Facts come in a stable order: by subject, predicate (in the order given), then label.
    """
    if not subjects or not predicates:
        return []
    sparql = _FACTS % {
        "subjects": values_list(subjects),
        "predicates": values_list(str(PAL[p]) for p in predicates),
    }
    found: dict[tuple[str, str, str], SourcedFact] = {}
    for row in rows(engine, sparql):
        key = (text(row["s"]) or "", text(row["p"]) or "", str(row["o"]))
        fact = found.get(key) or found.setdefault(key, _fact(row))
        add_source(fact.sources, row)
    order = {str(PAL[p]): i for i, p in enumerate(predicates)}
    subject_order = {s: i for i, s in enumerate(subjects)}
    return sorted(
        found.values(),
        key=lambda f: (subject_order[f.subject], order[f.predicate], f.object.label.lower()),
    )


def _fact(row: Row) -> SourcedFact:
    obj = row["o"]
    assert obj is not None
    claimant, side = row["claimant"], row["side"]
    subject = text(row["s"]) or ""
    return SourcedFact(
        subject=subject,
        subject_label=text(row["sLabel"]) or local_name(subject),
        predicate=text(row["p"]) or "",
        object=value_of(obj, row["oLabel"]),
        claim=text(row["claim"]),
        claimant=value_of(claimant, row["claimantLabel"]) if claimant else None,
        role=text(row["role"]),
        side=value_of(side, row["sideLabel"]) if side else None,
        point_in_time=text(row["when"]),
    )


def add_source(sources: list[Source], row: Row) -> None:
    """Add the source a row names (with its reference number and title), once, in order."""
    iri = text(row["source"])
    if iri is None or any(s.iri == iri for s in sources):
        return
    ref = text(row["ref"])
    number = int(ref) if ref is not None and ref.isdigit() else None
    sources.append(Source(iri, number, text(row["title"])))
    sources.sort(key=lambda s: (s.number is None, s.number or 0, s.iri))


def grouped(
    found: Iterable[SourcedFact], key: Callable[[SourcedFact], str]
) -> dict[str, list[SourcedFact]]:
    """Facts keyed by ``key`` of each, in their order."""
    groups: dict[str, list[SourcedFact]] = {}
    for fact in found:
        groups.setdefault(key(fact), []).append(fact)
    return groups


def by_predicate(found: Iterable[SourcedFact]) -> dict[str, list[SourcedFact]]:
    """Facts keyed by the local name of their predicate."""
    return grouped(found, lambda fact: local_name(fact.predicate))


# --- the sections of the page ---------------------------------------------------------------


@dataclass
class Unit:
    """A unit involved on a side (the ``pal:unitInvolved`` claim) and the state whose flag the
    infobox prints before it (``pal:allegiance``)."""

    fact: SourcedFact
    allegiance: list[SourcedFact]


@dataclass
class Side:
    """A belligerent side with the states and groups in it or supporting it, and its units."""

    fact: SourcedFact
    members: list[SourcedFact]
    supporters: list[SourcedFact]
    units: list[Unit] = field(default_factory=list)


@dataclass
class Commander:
    """A commander: the ``pal:commander`` claim (role, side) and facts about the person: rank,
    fate, and the state whose flag the infobox prints before the line (allegiance)."""

    fact: SourcedFact
    rank: list[SourcedFact]
    fates: list[SourcedFact]
    allegiance: list[SourcedFact] = field(default_factory=list)


def title(engine: Engine) -> str:
    """The offensive's label."""
    found = rows(engine, f"SELECT ?label WHERE {{ <{OFFENSIVE}> rdfs:label ?label }}")
    return (text(found[0]["label"]) if found else None) or local_name(OFFENSIVE)


def overview(engine: Engine) -> dict[str, list[SourcedFact]]:
    """The offensive's dates, place, result and context, keyed by property local name."""
    return by_predicate(facts(engine, [OFFENSIVE], OVERVIEW))


def sides(engine: Engine) -> list[Side]:
    """The belligerent sides, each with its members and its supporters."""
    belligerents = facts(engine, [OFFENSIVE], ["belligerent"])
    side_iris = [f.object.value for f in belligerents]
    members = facts(engine, side_iris, ["sideMember"])
    supporters = _supporters(engine, side_iris + [m.object.value for m in members])
    units = _units(engine)
    result = []
    for side in belligerents:
        own = [m for m in members if m.subject == side.object.value]
        targets = {side.object.value} | {m.object.value for m in own}
        helping = [s for s in supporters if s.object.value in targets]
        fought = [u for u in units if u.fact.side and u.fact.side.value == side.object.value]
        result.append(Side(side, own, helping, fought))
    return result


def _units(engine: Engine) -> list[Unit]:
    """The units involved (``pal:side`` on each claim names the column), with allegiance."""
    involved = facts(engine, [OFFENSIVE], ["unitInvolved"])
    flags = by_subject(facts(engine, [u.object.value for u in involved], ["allegiance"]))
    return [Unit(u, flags.get(u.object.value, [])) for u in involved]


def by_subject(found: Iterable[SourcedFact]) -> dict[str, list[SourcedFact]]:
    """Facts keyed by their subject's IRI."""
    return grouped(found, lambda fact: fact.subject)


def _supporters(engine: Engine, supported: Sequence[str]) -> list[SourcedFact]:
    """``pal:supports`` facts whose object is one of ``supported``."""
    if not supported:
        return []
    found = rows(engine, f"SELECT DISTINCT ?s WHERE {{ VALUES ?o {{ {values_list(supported)} }} "
                         "?s pal:supports ?o }")  # fmt: skip
    subjects = sorted({text(r["s"]) or "" for r in found})
    return [f for f in facts(engine, subjects, ["supports"]) if f.object.value in supported]


def commanders(engine: Engine) -> list[Commander]:
    """The commanders, with their role and side (claim qualifiers), rank, fate and allegiance."""
    claims = facts(engine, [OFFENSIVE], ["commander"])
    people = [c.object.value for c in claims]
    about = by_subject(facts(engine, people, ["militaryRank", "fate", "allegiance"]))
    result = []
    for claim in claims:
        mine = by_predicate(about.get(claim.object.value, []))
        result.append(
            Commander(
                claim,
                mine.get("militaryRank", []),
                mine.get("fate", []),
                mine.get("allegiance", []),
            )
        )
    return result


@dataclass
class About:
    """The dataset: what it is, where it comes from, and how much it holds."""

    title: str | None
    description: str | None
    license: str | None
    derived_from: str | None
    counts: dict[str, int]


_ABOUT = f"""
SELECT ?title ?description ?license ?derivedFrom WHERE {{
  OPTIONAL {{ <{DATASET}> dcterms:title ?title }}
  OPTIONAL {{ <{DATASET}> dcterms:description ?description }}
  OPTIONAL {{ <{DATASET}> dcterms:license ?license }}
  OPTIONAL {{ <{DATASET}> prov:wasDerivedFrom ?derivedFrom }}
}} LIMIT 1
"""

_COUNTS = f"""
SELECT
  (SUM(?t) AS ?triples) (SUM(?e) AS ?entities) (SUM(?c) AS ?claims) (SUM(?r) AS ?sources)
  (SUM(?f) AS ?figures)
WHERE {{
  {{ SELECT (COUNT(*) AS ?t) WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }} }}
  {{ SELECT (COUNT(DISTINCT ?x) AS ?e) WHERE {{
       ?x rdfs:label ?l FILTER(STRSTARTS(STR(?x), "{ID}")) }} }}
  {{ SELECT (COUNT(DISTINCT ?y) AS ?c) WHERE {{ ?y a rdf:Statement }} }}
  {{ SELECT (COUNT(DISTINCT ?z) AS ?r) WHERE {{
       ?z a ?type FILTER(STRSTARTS(STR(?z), "{SOURCE}")) }} }}
  {{ SELECT (COUNT(DISTINCT ?w) AS ?f) WHERE {{ ?w a pal:Figure }} }}
}}
"""


def about(engine: Engine) -> About:
    """The dataset's title, licence and origin, and counts of what the graph holds."""
    meta = rows(engine, _ABOUT)
    first = meta[0] if meta else {}
    counted = rows(engine, _COUNTS)[0]
    counts = {name: int(text(term) or 0) for name, term in counted.items()}
    return About(
        title=text(first.get("title")),
        description=text(first.get("description")),
        license=text(first.get("license")),
        derived_from=text(first.get("derivedFrom")),
        counts=counts,
    )
