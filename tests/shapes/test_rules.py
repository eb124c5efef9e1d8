"""Each shape rule trips on its broken fixture, with exactly the expected results, and on
nothing else; the valid base trips nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from rdflib import URIRef

from palmyra_graph.graph.namespaces import CLAIM, FIGURE, ID, SOURCE
from palmyra_graph.graph.validate import SHAPES, Report, Result

V, W = "Violation", "Warning"
OFFENSIVE = ID["palmyra-offensive-2017"]
START_CLAIM = CLAIM["palmyra-offensive-2017_startDate_2017-01-13"]
END_CLAIM = CLAIM["palmyra-offensive-2017_endDate_2017-03-02"]
TASS_LINK = CLAIM["tass-links-to-wikidata"]

Key = tuple[str, URIRef, URIRef, URIRef | None]

#: fixture -> every result it must give: (severity, focus node, source shape, named constraint)
EXPECTED: dict[str, set[Key]] = {
    "broken-claim-without-source.ttl": {(V, END_CLAIM, SHAPES.ClaimHasSourceShape, None)},
    "broken-claim-cites-a-publisher.ttl": {(V, END_CLAIM, SHAPES.ClaimSourceIsSourceShape, None)},
    "broken-claim-without-object.ttl": {(V, END_CLAIM, SHAPES.ClaimObjectShape, None)},
    "broken-claim-with-two-predicates.ttl": {
        (V, START_CLAIM, SHAPES.ClaimPredicateShape, None),
        (V, START_CLAIM, SHAPES.StatementShape, SHAPES.ClaimDescribesAFactConstraint),
    },
    "broken-claim-describes-no-fact.ttl": {
        (V, END_CLAIM, SHAPES.StatementShape, SHAPES.ClaimDescribesAFactConstraint)
    },
    "broken-fact-without-claim.ttl": {
        (V, OFFENSIVE, SHAPES.FactHasClaimShape, SHAPES.FactHasClaimConstraint)
    },
    "broken-fact-with-two-claims.ttl": {
        (V, OFFENSIVE, SHAPES.FactHasClaimShape, SHAPES.FactHasOneClaimConstraint)
    },
    "broken-date-as-string.ttl": {(V, OFFENSIVE, SHAPES.EndDateShape, None)},
    "broken-date-ill-formed.ttl": {(V, OFFENSIVE, SHAPES.EndDateShape, None)},
    "broken-amount-negative.ttl": {(V, FIGURE["syria-killed"], SHAPES.AmountShape, None)},
    "broken-amount-as-printed.ttl": {
        (V, FIGURE["pro-government-soldiers"], SHAPES.AmountShape, None)
    },
    "broken-entity-label-untagged.ttl": {
        (V, ID.palmyra, SHAPES.EntityLabelIsTaggedShape, None),
        (V, ID.palmyra, SHAPES.EntityEnglishLabelShape, None),
    },
    "broken-entity-two-english-labels.ttl": {(V, ID.tass, SHAPES.EntityEnglishLabelShape, None)},
    "broken-entity-without-class.ttl": {(V, ID.palmyra, SHAPES.EntityShape, None)},
    "broken-reference-without-title.ttl": {(V, SOURCE["6"], SHAPES.ReferenceTitleShape, None)},
    "broken-reference-without-number.ttl": {(V, SOURCE["6"], SHAPES.ReferenceNumberShape, None)},
    "broken-reference-number-twice.ttl": {
        (V, SOURCE["5"], SHAPES.ReferenceShape, SHAPES.ReferenceNumberIsUniqueConstraint),
        (V, SOURCE["6"], SHAPES.ReferenceShape, SHAPES.ReferenceNumberIsUniqueConstraint),
    },
    "broken-reference-number-twice-in-an-article.ttl": {
        (V, SOURCE["other-1"], SHAPES.ReferenceShape, SHAPES.ReferenceNumberIsUniqueConstraint),
        (V, SOURCE["other-2"], SHAPES.ReferenceShape, SHAPES.ReferenceNumberIsUniqueConstraint),
    },
    "broken-reference-in-two-articles.ttl": {(V, SOURCE["5"], SHAPES.ReferenceArticleShape, None)},
    "broken-sameas-not-wikidata.ttl": {
        (V, ID.tass, SHAPES.SameAsShape, None),
        (V, ID.tass, SHAPES.SameAsHasMappingShape, SHAPES.SameAsHasMappingConstraint),
    },
    "broken-sameas-without-mapping.ttl": {
        (V, ID.reuters, SHAPES.SameAsHasMappingShape, SHAPES.SameAsHasMappingConstraint)
    },
    "broken-sameas-with-two-mappings.ttl": {
        (V, ID.tass, SHAPES.SameAsHasMappingShape, SHAPES.SameAsHasOneMappingConstraint)
    },
    "broken-statement-neither-claim-nor-mapping.ttl": {
        (V, TASS_LINK, SHAPES.StatementShape, SHAPES.StatementIsClaimOrMappingConstraint)
    },
    "broken-source-published-long-before.ttl": {
        (W, SOURCE["3"], SHAPES.PublishedLongBeforeShape, None)
    },
    "broken-source-published-after-retrieval.ttl": {
        (W, SOURCE["9"], SHAPES.PublishedAfterRetrievalShape, None),
        (W, SOURCE["22"], SHAPES.PublishedAfterRetrievalShape, None),
    },
    "broken-same-work.ttl": {
        (W, SOURCE["1"], SHAPES.SameWorkShape, None),
        (W, SOURCE["20"], SHAPES.SameWorkShape, None),
    },
    "broken-uncited-reference.ttl": {(W, SOURCE["6"], SHAPES.UncitedReferenceShape, None)},
}


def key(result: Result) -> Key:
    constraint = result.constraint if isinstance(result.constraint, URIRef) else None
    assert isinstance(result.focus, URIRef) and isinstance(result.shape, URIRef)
    return (result.severity, result.focus, result.shape, constraint)


def test_the_valid_base_trips_nothing(fixture_report: Callable[[str | None], Report]) -> None:
    report = fixture_report(None)
    assert report.results == []
    assert report.conforms


def test_every_broken_fixture_is_in_the_table(fixtures_dir: Path) -> None:
    on_disk = {path.name for path in fixtures_dir.glob("broken-*.ttl")}
    assert on_disk == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_broken_fixture_trips_exactly_its_rule(
    name: str, fixture_report: Callable[[str | None], Report]
) -> None:
    report = fixture_report(name)
    assert {key(result) for result in report.results} == EXPECTED[name]
    violations = any(severity == V for severity, *_ in EXPECTED[name])
    assert report.conforms is not violations


DATE_PROPERTIES = [
    ("https://w3id.org/palmyra/ontology#startDate", SHAPES.StartDateShape),
    ("https://w3id.org/palmyra/ontology#endDate", SHAPES.EndDateShape),
    ("https://w3id.org/palmyra/ontology#since", SHAPES.SinceShape),
    ("https://w3id.org/palmyra/ontology#pointInTime", SHAPES.PointInTimeShape),
    ("https://schema.org/datePublished", SHAPES.DatePublishedShape),
    ("https://w3id.org/palmyra/ontology#archivedOn", SHAPES.ArchivedOnShape),
    ("http://purl.org/pav/retrievedOn", SHAPES.RetrievedOnShape),
]


@pytest.mark.parametrize(("prop", "shape"), DATE_PROPERTIES)
def test_every_date_property_must_be_an_xsd_date(
    prop: str,
    shape: URIRef,
    tmp_path: Path,
    fixture_files: Callable[[str | None], list[Path]],
) -> None:
    from palmyra_graph.graph.validate import validate

    node = FIGURE["reinforcements-from-latakia"]
    broken = tmp_path / "date.ttl"
    broken.write_text(f'<{node}> <{prop}> "11 February" .\n', encoding="utf-8")
    report = validate([*fixture_files(None), broken], ontology=False)
    assert (V, node, shape, None) in {key(result) for result in report.results}


def test_a_date_printed_without_its_day_must_be_a_gyearmonth(
    tmp_path: Path, fixture_files: Callable[[str | None], list[Path]]
) -> None:
    from palmyra_graph.graph.validate import validate

    event = ID["palmyra-offensive-march-2016"]
    broken = tmp_path / "month.ttl"
    broken.write_text(
        f'<{event}> <https://w3id.org/palmyra/ontology#month> "March 2016" .\n',
        encoding="utf-8",
    )
    report = validate([*fixture_files(None), broken], ontology=False)
    assert (V, event, SHAPES.MonthShape, None) in {key(result) for result in report.results}


def test_two_articles_each_have_a_reference_4(
    tmp_path: Path, fixture_files: Callable[[str | None], list[Path]]
) -> None:
    from palmyra_graph.graph.validate import validate

    pal = "https://w3id.org/palmyra/ontology#"
    lines = [f"<{SOURCE[article]}> a <{pal}Source> ." for article in ("a", "b")]
    for article in ("a", "b"):
        ref = SOURCE[f"{article}-4"]
        lines += [
            f"<{ref}> a <{pal}Reference> ; <{pal}referenceNumber> 4 ;",
            f'    <{pal}inArticle> <{SOURCE[article]}> ; <https://schema.org/headline> "{ref}" .',
        ]
    articles = tmp_path / "articles.ttl"
    articles.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = validate([*fixture_files(None), articles], ontology=False)
    assert report.conforms, [result.message for result in report.of(V)]
    uncited = {r.focus for r in report.of(W) if r.shape == SHAPES.UncitedReferenceShape}
    assert uncited == {SOURCE["a-4"], SOURCE["b-4"]}  # the rules still see both references


def test_a_source_24_days_before_the_start_is_under_the_threshold(
    fixture_report: Callable[[str | None], Report],
) -> None:
    report = fixture_report("broken-source-published-long-before.ttl")
    flagged = {result.focus for result in report.of(W)}
    assert SOURCE["3"] in flagged
    assert SOURCE["22"] not in flagged


def test_the_long_before_warning_names_the_source_and_the_dates(
    fixture_report: Callable[[str | None], Report],
) -> None:
    (result,) = fixture_report("broken-source-published-long-before.ttl").of(W)
    title = "ISIS security chief killed in Syrian army attack near Homs"
    for part in ("Reference 3", title, "2016-01-12", "2017-01-13", "367 days"):
        assert part in result.message
    assert result.value == START_CLAIM
    assert [(s.iri, s.number, s.title) for s in result.sources] == [(str(SOURCE["3"]), 3, title)]


def test_the_retrieval_warning_names_which_date_it_is_after(
    fixture_report: Callable[[str | None], Report],
) -> None:
    results = fixture_report("broken-source-published-after-retrieval.ttl").of(W)
    by_focus = {result.focus: result for result in results}
    assert "2017-03-25" in by_focus[SOURCE["9"]].message
    assert "retrieval date 2017-03-23" in by_focus[SOURCE["9"]].message
    assert "archive date 2016-12-20" in by_focus[SOURCE["22"]].message


def test_a_claim_result_lists_the_claims_sources_and_the_focus_label(
    fixture_report: Callable[[str | None], Report],
) -> None:
    (result,) = fixture_report("broken-claim-without-object.ttl").results
    assert [source.number for source in result.sources] == [4]
    (entity_result,) = fixture_report("broken-entity-two-english-labels.ttl").results
    assert entity_result.focus_label in {"TASS", "TASS news agency"}
