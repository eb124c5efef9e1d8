"""The bundled ontology and data: well formed, each fact claimed once, as the article has it.

The hand-written expectations below come from ``../shared/seed/palmyra-offensive-2017.txt``;
tests that read the seed or ``wikidata.tsv`` themselves use the ``shared_dir`` fixture.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

from palmyra_graph.graph.claims import claim_iri
from palmyra_graph.graph.loader import load
from palmyra_graph.graph.namespaces import (
    CLAIM,
    DATASET,
    DCTERMS,
    FIGURE,
    GRAPH,
    ID,
    OWL,
    PAL,
    PAV,
    PROV,
    RDF,
    RDFS,
    SCHEMA,
    SKOS,
    SOURCE,
    WD,
    XSD,
)
from palmyra_graph.graph.resources import DATA_FILE, ONTOLOGY_FILE

ARTICLE = URIRef("https://en.wikipedia.org/wiki/Palmyra_offensive_(2017)")
MANUAL_CURATION = URIRef("https://w3id.org/semapv/vocab/ManualMappingCuration")
OFFENSIVE = ID["palmyra-offensive-2017"]

#: The alignment predicates the ontology may use to tie one of our terms to another vocabulary.
ALIGNMENTS = {
    OWL.equivalentClass,
    OWL.equivalentProperty,
    RDFS.subClassOf,
    RDFS.subPropertyOf,
    SKOS.exactMatch,
    SKOS.closeMatch,
    SKOS.broadMatch,
    SKOS.narrowMatch,
    SKOS.relatedMatch,
}

#: The Wikidata links docs/data-model.md fixes, written from its list.
SAME_AS = {
    "syria": "Q858",
    "russia": "Q159",
    "palmyra": "Q5747",
    "syrian-civil-war": "Q178810",
    "homs-governorate": "Q214094",
    "isil": "Q2429253",
    "hezbollah": "Q41053",
    "russian-military-intervention-in-syria": "Q21032720",
    "reuters": "Q130879",
    "tass": "Q223799",
    "the-washington-post": "Q166032",
    "cnn": "Q48340",
    "the-independent": "Q11149",
    "wikipedia": "Q52",
    "english-wikipedia": "Q328",
}


@pytest.fixture(scope="module")
def data() -> Graph:
    return Graph().parse(DATA_FILE, format="turtle")


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return Graph().parse(ONTOLOGY_FILE, format="turtle")


def factual_properties(ontology: Graph) -> set[Node]:
    return set(ontology.subjects(RDF.type, PAL.FactualProperty))


def claims(data: Graph) -> set[Node]:
    return set(data.subjects(RDF.type, PAL.Claim))


def claim_of(data: Graph, s: Node, p: Node, o: Node) -> Node:
    """The one claim node describing (s, p, o)."""
    found = [
        c
        for c in data.subjects(RDF.subject, s)
        if (c, RDF.predicate, p) in data and (c, RDF.object, o) in data
    ]
    assert len(found) == 1, f"{len(found)} claim nodes describe ({s}, {p}, {o})"
    return found[0]


def reference_numbers(data: Graph, claim: Node) -> set[int]:
    return {
        int(literal(n).toPython())
        for source in data.objects(claim, PROV.wasDerivedFrom)
        for n in data.objects(source, PAL.referenceNumber)
    }


def one(data: Graph, s: Node, p: Node) -> Node:
    values = list(data.objects(s, p))
    assert len(values) == 1, f"{s} {p}: {values}"
    return values[0]


def literal(term: Node) -> Literal:
    assert isinstance(term, Literal), f"{term} is not a literal"
    return term


def value(data: Graph, s: Node, p: Node) -> object:
    return literal(one(data, s, p)).toPython()


# ---------------------------------------------------------------------------------------------
# Well formed


def test_ontology_and_data_load_with_the_project_loader() -> None:
    loaded = load()
    assert set(loaded.graphs) == {str(GRAPH["ontology"]), str(GRAPH["data"])}
    assert len(loaded.store) > 1000


def test_data_has_no_blank_nodes(data: Graph) -> None:
    assert not [t for triple in data for t in triple if isinstance(t, BNode)]


def test_every_claim_iri_is_derived_from_the_triple_it_describes(data: Graph) -> None:
    statements = set(data.subjects(RDF.type, RDF.Statement))
    assert claims(data) <= statements
    for node in statements:
        s, p, o = (one(data, node, part) for part in (RDF.subject, RDF.predicate, RDF.object))
        assert node == claim_iri(s, p, o)
        assert str(node).startswith(str(CLAIM))


def test_no_triple_is_described_by_two_claim_nodes(data: Graph) -> None:
    described = Counter(
        (one(data, c, RDF.subject), one(data, c, RDF.predicate), one(data, c, RDF.object))
        for c in data.subjects(RDF.type, RDF.Statement)
    )
    assert [t for t, n in described.items() if n > 1] == []


def test_factual_triples_and_claims_match_one_to_one(data: Graph, ontology: Graph) -> None:
    factual = factual_properties(ontology)
    assert len(factual) >= 20
    plain = {(s, p, o) for s, p, o in data if p in factual}
    described = {
        (one(data, c, RDF.subject), one(data, c, RDF.predicate), one(data, c, RDF.object))
        for c in claims(data)
    }
    assert plain - described == set(), "facts without a claim node"
    assert described - plain == set(), "claim nodes without their plain triple"


def test_qualifiers_are_not_facts(ontology: Graph) -> None:
    qualifiers = {PAL.accordingTo, PAL.role, PAL.side, PAL.pointInTime, PAL.unit}
    assert qualifiers & factual_properties(ontology) == set()


def test_every_claim_names_at_least_one_source(data: Graph) -> None:
    for claim in claims(data):
        sources = set(data.objects(claim, PROV.wasDerivedFrom))
        assert sources, f"{claim} has no source"
        assert all(
            (s, RDF.type, PAL.Reference) in data or s == SOURCE["wikipedia-article"]
            for s in sources
        )


def test_every_entity_has_one_english_label(data: Graph, ontology: Graph) -> None:
    entity_classes = set(ontology.transitive_subjects(RDFS.subClassOf, PAL.Entity))
    entities = {s for c in entity_classes for s in data.subjects(RDF.type, c)}
    assert len(entities) > 50
    for entity in entities:
        labels = list(data.objects(entity, RDFS.label))
        assert len(labels) == 1 and literal(labels[0]).language == "en", entity
        assert str(entity).startswith(str(ID))


# ---------------------------------------------------------------------------------------------
# The ontology


def pal_terms_used(data: Graph) -> set[Node]:
    """Our terms the data uses: predicates, classes, and individuals (measures, fates)."""
    used: set[Node] = set()
    for _, p, o in data:
        used.add(p)
        if p == RDF.type or (isinstance(o, URIRef) and str(o).startswith(str(PAL))):
            used.add(o)
    return {t for t in used if str(t).startswith(str(PAL))}


def test_every_term_the_data_uses_is_declared_labelled_and_commented(
    data: Graph, ontology: Graph
) -> None:
    used = pal_terms_used(data)
    assert {PAL.Claim, PAL.Figure, PAL.Killed, PAL.WoundedInAction, PAL.casualties} <= used
    for term in used:
        assert (term, RDF.type, None) in ontology, f"{term} is not declared"
        for annotation in (RDFS.label, RDFS.comment):
            texts = [t for t in ontology.objects(term, annotation) if isinstance(t, Literal)]
            assert any(t.language == "en" for t in texts), f"{term} lacks an English {annotation}"


def test_every_class_and_property_the_data_uses_is_aligned_outside_our_vocabulary(
    data: Graph, ontology: Graph
) -> None:
    individuals = set(ontology.subjects(RDF.type, OWL.NamedIndividual))
    for term in pal_terms_used(data) - individuals:
        targets = {
            o
            for p, o in ontology.predicate_objects(term)
            if p in ALIGNMENTS and not str(o).startswith(str(PAL))
        }
        assert targets, f"{term} has no alignment to another vocabulary"


def test_ontology_declares_the_required_alignments(ontology: Graph) -> None:
    expected = [
        (PAL.Event, RDFS.subClassOf, URIRef("http://semanticweb.cs.vu.nl/2009/11/sem/Event")),
        (PAL.Person, RDFS.subClassOf, SCHEMA.Person),
        (PAL.Source, RDFS.subClassOf, PROV.Entity),
        (PAL.accordingTo, RDFS.subPropertyOf, PROV.wasAttributedTo),
        (PAL.Claim, RDFS.subClassOf, RDF.Statement),
        (PAL.startDate, OWL.equivalentProperty, URIRef("http://www.wikidata.org/prop/direct/P580")),
        (PAL.MilitaryOffensive, SKOS.exactMatch, WD.Q2001676),
        (PAL.Killed, SKOS.closeMatch, URIRef("http://www.wikidata.org/prop/direct/P1120")),
        (
            PAL.KilledAndWounded,
            SKOS.closeMatch,
            URIRef("http://www.wikidata.org/prop/direct/P1590"),
        ),
    ]
    assert [t for t in expected if t not in ontology] == []
    assert (URIRef("https://w3id.org/palmyra/ontology"), RDF.type, OWL.Ontology) in ontology


def test_ontology_uses_only_checked_wikidata_identifiers(ontology: Graph, shared_dir: Path) -> None:
    checked = {row.split("\t")[2] for row in wikidata_rows(shared_dir)}
    used = {
        re.sub(r"^.*/", "", str(o))
        for o in ontology.objects()
        if isinstance(o, URIRef) and str(o).startswith("http://www.wikidata.org/")
    }
    assert used and used <= checked


# ---------------------------------------------------------------------------------------------
# Wikidata links


def wikidata_rows(shared_dir: Path) -> list[str]:
    lines = (shared_dir / "wikidata.tsv").read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line and not line.startswith("#")]


def test_same_as_links_are_exactly_the_checked_items_the_contract_lists(
    data: Graph, shared_dir: Path
) -> None:
    checked_items = {r.split("\t")[2] for r in wikidata_rows(shared_dir) if r.startswith("item")}
    links = {(s, o) for s, o in data.subject_objects(OWL.sameAs)}
    assert links == {(ID[slug], WD[q]) for slug, q in SAME_AS.items()}
    assert {str(o).removeprefix(str(WD)) for _, o in links} <= checked_items


def test_every_same_as_link_has_its_mapping_node(data: Graph) -> None:
    for s, o in data.subject_objects(OWL.sameAs):
        mapping = claim_iri(s, OWL.sameAs, o)
        assert (mapping, RDF.type, PAL.Mapping) in data
        assert (mapping, RDF.type, RDF.Statement) in data
        assert (mapping, PAL.mappingJustification, MANUAL_CURATION) in data
        assert value(data, mapping, DCTERMS.date) == date(2026, 11, 26)
        assert "wikidata.tsv" in str(one(data, mapping, RDFS.comment))
    assert len(set(data.subjects(RDF.type, PAL.Mapping))) == len(SAME_AS)


# ---------------------------------------------------------------------------------------------
# Facts, checked by hand against the article


def test_start_and_end_dates_rest_on_references_3_and_4(data: Graph) -> None:
    start = Literal("2017-01-13", datatype=XSD.date)
    end = Literal("2017-03-02", datatype=XSD.date)
    assert one(data, OFFENSIVE, PAL.startDate) == start
    assert one(data, OFFENSIVE, PAL.endDate) == end
    assert reference_numbers(data, claim_of(data, OFFENSIVE, PAL.startDate, start)) == {3, 4}
    assert reference_numbers(data, claim_of(data, OFFENSIVE, PAL.endDate, end)) == {3, 4}
    assert str(one(data, OFFENSIVE, PAL.duration)) == "1 month, 2 weeks and 3 days"


def test_sohr_figure_is_a_lower_bound_of_killed_per_sohr_on_reference_26(data: Graph) -> None:
    figure = FIGURE["killed-isil-per-sohr"]
    assert value(data, figure, PAL.amount) == 283
    assert value(data, figure, PAL.isLowerBound) is True
    assert one(data, figure, PAL.measure) == PAL.Killed
    claim = claim_of(data, OFFENSIVE, PAL.casualties, figure)
    assert one(data, claim, PAL.accordingTo) == ID.sohr
    assert reference_numbers(data, claim) == {26}


def test_russian_mod_figure_counts_killed_and_wounded_on_three_references(data: Graph) -> None:
    figure = FIGURE["killed-and-wounded-isil-per-russian-mod"]
    assert value(data, figure, PAL.amount) == 1000
    assert value(data, figure, PAL.isLowerBound) is True
    assert one(data, figure, PAL.measure) == PAL.KilledAndWounded
    claim = claim_of(data, OFFENSIVE, PAL.casualties, figure)
    assert one(data, claim, PAL.accordingTo) == ID["russian-ministry-of-defence"]
    assert reference_numbers(data, claim) == {5, 27, 28}


def test_the_contested_isil_figures_are_separate_claims(data: Graph) -> None:
    isil_figures = {
        f
        for f in data.objects(OFFENSIVE, PAL.casualties)
        if (f, PAL.party, ID["side-isil"]) in data
    }
    claimants = {
        one(data, claim_of(data, OFFENSIVE, PAL.casualties, f), PAL.accordingTo)
        for f in isil_figures
    }
    assert claimants == {ID.sohr, ID["russian-ministry-of-defence"]}


def test_russian_dead_break_down_into_10_soldiers_and_8_pmc(data: Graph) -> None:
    total = FIGURE["killed-russia"]
    assert value(data, total, PAL.amount) == 18
    parts = {value(data, p, PAL.amount) for p in data.objects(total, PAL.hasPart)}
    assert parts == {10, 8}
    assert sum(int(str(p)) for p in parts) == value(data, total, PAL.amount)
    assert reference_numbers(data, claim_of(data, OFFENSIVE, PAL.casualties, total)) == {24}
    syria = FIGURE["killed-syria"]
    assert (value(data, syria, PAL.amount), one(data, syria, PAL.party)) == (115, ID.syria)


def test_strength_and_reinforcements(data: Graph) -> None:
    strength = FIGURE["strength-pro-government"]
    assert (value(data, strength, PAL.amount), value(data, strength, PAL.isLowerBound)) == (
        4900,
        True,
    )
    claim = claim_of(data, OFFENSIVE, PAL.strength, strength)
    assert reference_numbers(data, claim) == {21, 22, 23}
    latakia = FIGURE["reinforcements-from-latakia"]
    assert value(data, latakia, PAL.amount) == 1000
    assert value(data, latakia, PAL.isLowerBound) is False
    assert one(data, latakia, PAL.origin) == ID.latakia
    assert value(data, latakia, PAL.since) == date(2017, 2, 11)
    shield = FIGURE["reinforcements-military-shield"]
    assert (value(data, shield, PAL.amount), value(data, shield, PAL.isLowerBound)) == (900, True)
    assert one(data, shield, PAL.unit) == ID["military-shield"]
    assert value(data, shield, PAL.since) == date(2017, 2, 23)
    assert reference_numbers(data, claim_of(data, OFFENSIVE, PAL.reinforcement, latakia)) == {23}
    assert reference_numbers(data, claim_of(data, OFFENSIVE, PAL.reinforcement, shield)) == {21}


def test_isil_strength_is_stated_as_unknown(data: Graph) -> None:
    for slug, measure in (
        ("strength-isil", PAL.Soldiers),
        ("armoured-vehicles-isil", PAL.ArmouredVehicles),
    ):
        figure = FIGURE[slug]
        assert (OFFENSIVE, PAL.strength, figure) in data
        assert value(data, figure, PAL.amountUnknown) is True
        assert (figure, PAL.amount, None) not in data
        assert one(data, figure, PAL.measure) == measure


def test_commanders_with_roles_ranks_and_fate(data: Graph) -> None:
    expected = {
        "suheil-al-hassan": ("Operations chief commander", "Maj. Gen.", {8}),
        "mohammed-hassan-sultan": ("5th Corps commander", "Maj. Gen.", {9}),
        "andrey-kartapolov": ("Russian forces commander", "Col. Gen.", set()),
        "pyotr-milyukhin": (None, "Maj. Gen.", {10}),
        "abu-shaher-al-hassan": ("ISIL emir", None, {11}),
    }
    assert set(data.objects(OFFENSIVE, PAL.commander)) == {ID[s] for s in expected}
    for slug, (role, rank, refs) in expected.items():
        claim = claim_of(data, OFFENSIVE, PAL.commander, ID[slug])
        assert [str(r) for r in data.objects(claim, PAL.role)] == ([role] if role else [])
        assert [str(r) for r in data.objects(ID[slug], PAL.militaryRank)] == (
            [rank] if rank else []
        )
        assert reference_numbers(data, claim) == refs
    fate = claim_of(data, ID["pyotr-milyukhin"], PAL.fate, PAL.WoundedInAction)
    assert reference_numbers(data, fate) == {10}


def test_russias_flag_before_two_commanders_and_the_russian_units(data: Graph) -> None:
    # Infobox: "Russia Col. Gen. Andrey Kartapolov", "Russia Maj. Gen. Pyotr Milyukhin (WIA)[10]",
    # "Russia Russian Armed Forces and PMC allies"; no other line prints a flag.
    expected = {
        "andrey-kartapolov": set(),
        "pyotr-milyukhin": {10},
        "russian-armed-forces": set(),
        "russian-pmc-allies": set(),
    }
    flagged = {
        s: reference_numbers(data, claim_of(data, s, PAL.allegiance, o))
        for s, o in data.subject_objects(PAL.allegiance)
        if o == ID.russia
    }
    assert flagged == {ID[slug]: refs for slug, refs in expected.items()}
    assert set(data.objects(None, PAL.allegiance)) == {ID.russia}


def test_a_units_figures_are_under_its_flag(data: Graph) -> None:
    # pal:party names the flagged state, as pal:allegiance does: "8 PMC" under Russia's flag
    checked = 0
    for figure, unit in data.subject_objects(PAL.unit):
        for state in data.objects(unit, PAL.allegiance):
            assert one(data, figure, PAL.party) == state, figure
            checked += 1
    assert checked == 2  # 10 soldiers (Russian Armed Forces) and 8 PMC (PMC allies)


def test_facts_without_a_marker_are_derived_from_the_article(data: Graph) -> None:
    for s, p, o in [
        (OFFENSIVE, PAL.result, Literal("Syrian government victory", lang="en")),
        (OFFENSIVE, PAL.commander, ID["andrey-kartapolov"]),
        (ID["andrey-kartapolov"], PAL.allegiance, ID.russia),
        (ID["russian-pmc-allies"], PAL.allegiance, ID.russia),
        (OFFENSIVE, PAL.follows, ID["palmyra-offensive-december-2016"]),
        (ID["palmyra-offensive-december-2016"], PAL.follows, ID["palmyra-offensive-march-2016"]),
    ]:
        claim = claim_of(data, s, p, o)
        assert set(data.objects(claim, PROV.wasDerivedFrom)) == {SOURCE["wikipedia-article"]}


def test_background_events(data: Graph) -> None:
    december = ID["palmyra-offensive-december-2016"]
    assert value(data, december, PAL.startDate) == date(2016, 12, 8)
    assert value(data, december, PAL.endDate) == date(2016, 12, 11)
    assert one(data, december, PAL.capturedBy) == ID.isil
    march = ID["palmyra-offensive-march-2016"]
    assert one(data, march, PAL.expelled) == ID.isil
    assert set(data.objects(march, PAL.capturedBy)) == {ID.syria, ID["russian-armed-forces"]}
    recapture = claim_of(data, OFFENSIVE, PAL.capturedBy, ID["russian-armed-forces"])
    assert str(one(data, recapture, PAL.role)) == "Russian reinforcement"
    assert value(data, recapture, PAL.pointInTime) == date(2017, 3, 2)


def test_who_supports_whom(data: Graph) -> None:
    supporters = {
        s: reference_numbers(data, claim_of(data, s, PAL.supports, ID.syria))
        for s in data.subjects(PAL.supports, ID.syria)
    }
    assert supporters == {ID.hezbollah: set(), ID["liwa-zainebiyoun"]: {1}, ID["cjtf-oir"]: {2}}


# ---------------------------------------------------------------------------------------------
# Sources


def references(data: Graph) -> dict[int, Node]:
    return {
        int(literal(n).toPython()): s
        for s in data.subjects(RDF.type, PAL.Reference)
        for n in data.objects(s, PAL.referenceNumber)
    }


def test_28_references_numbered_1_to_28_each_with_one_title(data: Graph) -> None:
    refs = references(data)
    assert sorted(refs) == list(range(1, 29))
    for n, source in refs.items():
        assert source == SOURCE[str(n)]
        assert literal(one(data, source, SCHEMA.headline)).language == "en"


@pytest.mark.parametrize(
    ("n", "published", "archived", "retrieved"),
    [
        (1, date(2017, 3, 2), date(2017, 3, 2), date(2017, 3, 2)),
        (3, date(2016, 1, 12), date(2017, 1, 13), date(2016, 1, 14)),
        (7, date(2017, 3, 2), date(2022, 5, 24), None),
        (12, date(2016, 12, 24), None, date(2016, 12, 25)),
        (15, None, date(2017, 4, 3), None),
        (21, date(2016, 2, 23), date(2017, 2, 23), None),
        (22, date(2016, 12, 20), date(2016, 12, 22), date(2017, 2, 12)),
        (28, date(2017, 3, 4), None, None),
    ],
)
def test_reference_dates_as_printed(
    data: Graph, n: int, published: date | None, archived: date | None, retrieved: date | None
) -> None:
    source = SOURCE[str(n)]
    for predicate, expected in (
        (SCHEMA.datePublished, published),
        (PAL.archivedOn, archived),
        (PAV.retrievedOn, retrieved),
    ):
        assert [literal(v).toPython() for v in data.objects(source, predicate)] == (
            [expected] if expected else []
        )


def test_reference_authors_publishers_and_backlinks(data: Graph) -> None:
    expected = {
        1: ("Tomson, Chris", "al-masdar-news", 4),
        2: (None, "the-washington-post", 1),
        10: ("O'Leary, Abigail", "the-mirror", 1),
        12: ("Aymenn Jawad Al-Tamimi", "syria-comment", 6),
        21: ("Leith Fadel", "al-masdar-news", 3),
        27: ("Fadel, Leith", None, 1),
    }
    for n, (author, publisher, cited) in expected.items():
        source = SOURCE[str(n)]
        assert [str(a) for a in data.objects(source, PAL.authorString)] == (
            [author] if author else []
        )
        assert list(data.objects(source, SCHEMA.publisher)) == (
            [ID[publisher]] if publisher else []
        )
        assert value(data, source, PAL.citedTimes) == cited
    assert not list(data.objects(None, SCHEMA.url)) or set(data.subjects(SCHEMA.url, None)) == {
        SOURCE["wikipedia-article"]
    }


def test_unquoted_titles_are_marked(data: Graph) -> None:
    unquoted = {n for n, s in references(data).items() if value(data, s, PAL.titleQuoted) is False}
    assert unquoted == {4, 8, 19, 24, 26}


def seed_references(shared_dir: Path) -> dict[int, tuple[int, str]]:
    """Number -> (backlink letters, text) of each reference line of the seed."""
    text = (shared_dir / "seed" / "palmyra-offensive-2017.txt").read_text(encoding="utf-8")
    found = re.findall(r"^\s+(\d+)\. \^ ((?:[a-z] )*)(.*)$", text, flags=re.MULTILINE)
    return {int(n): (len(letters.split()), line.rstrip()) for n, letters, line in found}


def test_citation_texts_titles_and_backlinks_match_the_seed(data: Graph, shared_dir: Path) -> None:
    seed = seed_references(shared_dir)
    assert sorted(seed) == list(range(1, 29))
    for n, source in references(data).items():
        letters, line = seed[n]
        assert str(one(data, source, PAL.citationText)) == line
        assert str(one(data, source, SCHEMA.headline)) in line
        assert value(data, source, PAL.citedTimes) == max(1, letters)


def test_dataset_metadata(data: Graph) -> None:
    dataset = URIRef(DATASET)
    assert one(data, dataset, DCTERMS.license) == URIRef(
        "https://creativecommons.org/licenses/by-sa/4.0/"
    )
    assert one(data, dataset, PROV.wasDerivedFrom) == ARTICLE
    assert value(data, dataset, DCTERMS.created) == date(2026, 11, 26)
    assert one(data, SOURCE["wikipedia-article"], SCHEMA.url) == ARTICLE
