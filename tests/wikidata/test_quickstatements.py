"""``wikidata quickstatements``: V1 commands parsed back and checked against the claims."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner, Result
from rdflib import Graph, Literal, URIRef
from rdflib.term import Node

from palmyra_graph.cli import main
from palmyra_graph.graph.namespaces import (
    FIGURE,
    ID,
    OWL,
    PAL,
    PAV,
    PROV,
    RDF,
    SCHEMA,
    SOURCE,
    WD,
    WDT,
)
from palmyra_graph.graph.resources import DATA_FILE, ONTOLOGY_FILE
from palmyra_graph.wikidata.links import load_graph
from palmyra_graph.wikidata.quickstatements import quickstatements

from .conftest import FIXTURES, FakeWikidata


@dataclass(frozen=True)
class Command:
    item: str
    prop: str
    value: str
    qualifiers: tuple[tuple[str, str], ...]
    reference: tuple[tuple[str, str], ...]


def parse_v1(text: str) -> list[Command]:
    """Read QuickStatements V1 lines: item, property, value, then P…/S… pairs."""
    commands = []
    for line in text.splitlines():
        item, prop, value, *rest = line.split("\t")
        assert item.startswith("Q") and prop.startswith("P") and len(rest) % 2 == 0, line
        pairs = list(zip(rest[::2], rest[1::2], strict=True))
        commands.append(
            Command(
                item,
                prop,
                value,
                tuple(p for p in pairs if p[0].startswith("P")),
                tuple(p for p in pairs if p[0].startswith("S")),
            )
        )
    return commands


def _time(value: str) -> str:
    assert value.startswith("+") and value.endswith("T00:00:00Z/11"), value
    return value[1:11]


def _subjects(graph: Graph, qid: str) -> set[URIRef]:
    return {s for s in graph.subjects(OWL.sameAs, WD[qid]) if isinstance(s, URIRef)}


def _matches(graph: Graph, node: Node | None, value: str) -> bool:
    if value.startswith("Q"):
        return (node, OWL.sameAs, WD[value]) in graph
    if value.startswith("+"):
        return isinstance(node, Literal) and str(node) == _time(value)
    return isinstance(node, Literal) and f'"{node}"' in value


def _gives_nothing(graph: Graph, source: Node) -> bool:
    """A reference with no linked publisher, URL, retrieval date or quoted title."""
    publisher = graph.value(source, SCHEMA.publisher)
    return (
        (publisher is None or not any(graph.objects(publisher, OWL.sameAs)))
        and graph.value(source, SCHEMA.url) is None
        and graph.value(source, PAV.retrievedOn) is None
        and graph.value(source, PAL.titleQuoted) == Literal(False)
    )


def _source_fits(graph: Graph, source: Node, reference: dict[str, str]) -> bool:
    if "S143" in reference:  # the article, or a reference known only through it
        article = SOURCE["wikipedia-article"]
        url = f'"{graph.value(article, SCHEMA.url)}"'
        stands = source == article or _gives_nothing(graph, source)
        return reference == {"S143": "Q328", "S854": url} and stands
    publisher = graph.value(source, SCHEMA.publisher)
    title = graph.value(source, SCHEMA.headline)
    retrieved = graph.value(source, PAV.retrievedOn)
    url = graph.value(source, SCHEMA.url)
    return (
        ("S248" not in reference or (publisher, OWL.sameAs, WD[reference["S248"]]) in graph)
        and ("S1476" not in reference or reference["S1476"] == f'en:"{title}"')
        and ("S813" not in reference or _time(reference["S813"]) == str(retrieved))
        and ("S854" not in reference or reference["S854"] == f'"{url}"')
    )


def check_against_graph(graph: Graph, commands: list[Command]) -> set[URIRef]:
    """Each command states a claim of the graph with one of its sources; returns the claims."""
    used: set[URIRef] = set()
    for command in commands:
        prop = WDT[command.prop]
        candidates = [
            c
            for s in _subjects(graph, command.item)
            for c in graph.subjects(RDF.subject, s)
            if (graph.value(c, RDF.predicate), OWL.equivalentProperty, prop) in graph
            and _matches(graph, graph.value(c, RDF.object), command.value)
        ]
        assert len(candidates) == 1, command
        claim = candidates[0]
        assert isinstance(claim, URIRef)
        reference = dict(command.reference)
        sources = list(graph.objects(claim, PROV.wasDerivedFrom))
        assert any(_source_fits(graph, s, reference) for s in sources), command
        used.add(claim)
    return used


def test_bundled_data_has_no_exportable_claim_and_says_why(runner: CliRunner) -> None:
    result = runner.invoke(main, ["wikidata", "quickstatements"])
    assert result.exit_code == 0
    assert result.stdout == ""
    skipped = [line for line in result.stderr.splitlines() if line.startswith("skipped claim:")]
    assert "skipped claim:hezbollah_supports_syria: property supports has no Wikidata" in "\n".join(
        skipped
    )
    assert any("palmyra-offensive-2017_startDate" in line for line in skipped)
    assert "0 claims written" in result.stderr


URL = '"https://en.wikipedia.org/wiki/Palmyra_offensive_(2017)"'
#: source:wikipedia-article: imported from English Wikipedia (Q328), with the article's URL.
ARTICLE = f"S143\tQ328\tS854\t{URL}"
#: [3]: ARA News is not linked and the article prints no URL; "Retrieved 14 January 2016", and
#: its title in quotation marks.
REF_3 = (
    "S813\t+2016-01-14T00:00:00Z/11\t"
    'S1476\ten:"ISIS security chief killed in Syrian army attack near Homs"'
)
#: [1]: al-Masdar News is not linked; "Retrieved 2 March 2017", its title in quotation marks.
REF_1 = (
    "S813\t+2017-03-02T00:00:00Z/11\t"
    'S1476\ten:"Islamic State retreats from Palmyra amid stunning Syrian Army offensive"'
)
OFFENSIVE = "Q9990000003"  # FAKE test items (fixtures/items.json, fixtures/linked-offensive.ttl)
KARTAPOLOV = "Q9990000006"
#: What the fixture gives, checked by hand against the article: part of the Syrian civil war and
#: of the Russian intervention (no marker); 13 January – 2 March 2017 on [3][4] ([4] prints no
#: publisher, date, URL, nor a quoted title, so it stands as imported from the article); the
#: belligerents' linked members Syria, Russia (Kartapolov under Russia's flag), Hezbollah (also a
#: unit involved, [1]) and ISIL, all listed without a marker.
EXPECTED = [
    f"{OFFENSIVE}\tP361\tQ178810\t{ARTICLE}",
    f"{OFFENSIVE}\tP361\tQ21032720\t{ARTICLE}",
    f"{OFFENSIVE}\tP580\t+2017-01-13T00:00:00Z/11\t{REF_3}",
    f"{OFFENSIVE}\tP580\t+2017-01-13T00:00:00Z/11\t{ARTICLE}",
    f"{OFFENSIVE}\tP582\t+2017-03-02T00:00:00Z/11\t{REF_3}",
    f"{OFFENSIVE}\tP582\t+2017-03-02T00:00:00Z/11\t{ARTICLE}",
    f"{OFFENSIVE}\tP710\tQ159\tP4791\t{KARTAPOLOV}\t{ARTICLE}",
    f"{OFFENSIVE}\tP710\tQ2429253\t{ARTICLE}",
    f"{OFFENSIVE}\tP710\tQ41053\t{REF_1}",
    f"{OFFENSIVE}\tP710\tQ41053\t{ARTICLE}",
    f"{OFFENSIVE}\tP710\tQ858\t{ARTICLE}",
]


def _linked_copy(tmp_path: Path) -> Path:
    """The bundled data with fixtures/linked-offensive.ttl appended, as --accept leaves a file."""
    data = DATA_FILE.read_text(encoding="utf-8")
    copy = tmp_path / "palmyra.ttl"
    copy.write_text(data + "\n" + (FIXTURES / "linked-offensive.ttl").read_text("utf-8"), "utf-8")
    return copy


def _run(runner: CliRunner, data: Path) -> Result:
    result = runner.invoke(main, ["wikidata", "quickstatements", "--data", str(data)])
    assert result.exit_code == 0, result.stderr
    return result


def test_quickstatements_of_a_linked_offensive_are_exactly_these(
    runner: CliRunner, tmp_path: Path
) -> None:
    result = _run(runner, _linked_copy(tmp_path))
    assert result.stdout.splitlines() == EXPECTED
    parse_v1(result.stdout)  # every line is a V1 command: the skips stay on stderr
    statements = {tuple(line.split("\t")[:3]) for line in EXPECTED}  # item, property, value
    written = f"written as {len(statements)} statements in {len(EXPECTED)} lines"
    assert f"13 claims {written}" in result.stderr


def test_a_fact_cited_twice_gets_both_references_one_group_each(
    runner: CliRunner, tmp_path: Path
) -> None:
    result = _run(runner, _linked_copy(tmp_path))
    start = [c for c in parse_v1(result.stdout) if c.prop == "P580"]
    assert [dict(c.reference).get("S1476", "") for c in start] == [
        'en:"ISIS security chief killed in Syrian army attack near Homs"',  # [3]
        "",  # [4], standing as imported from the article
    ]
    assert dict(start[1].reference) == {"S143": "Q328", "S854": URL}
    assert "P580 +2017-01-13T00:00:00Z/11: reference [4] prints no publisher item" in result.stderr


def test_unmarked_facts_are_imported_from_english_wikipedia_with_the_article_url(
    runner: CliRunner, tmp_path: Path
) -> None:
    commands = parse_v1(_run(runner, _linked_copy(tmp_path)).stdout)
    wiki = [c for c in commands if ("S143", "Q328") in c.reference]
    assert wiki and all(c.reference == (("S143", "Q328"), ("S854", URL)) for c in wiki)
    assert not any(("S248", "Q328") in c.reference for c in commands)  # not "stated in"
    part_of = {c.value for c in commands if c.prop == "P361"}
    assert part_of == {"Q178810", "Q21032720"}


def test_participants_with_their_commanders_as_qualifiers(
    runner: CliRunner, tmp_path: Path
) -> None:
    result = _run(runner, _linked_copy(tmp_path))
    commands = parse_v1(result.stdout)
    participants = {c.value: c.qualifiers for c in commands if c.prop == "P710"}
    assert set(participants) == {"Q858", "Q159", "Q41053", "Q2429253"}
    assert participants["Q159"] == (("P4791", KARTAPOLOV),)  # Russia's flag before his line
    assert participants["Q858"] == participants["Q41053"] == ()
    # Suheil al-Hassan is linked, but no flag says which of his side's participants he led.
    assert (
        "skipped claim:palmyra-offensive-2017_commander_suheil-al-hassan: commander Suheil "
        "al-Hassan: Pro-government side has 3 participants (Hezbollah, Russia, Syria)"
    ) in result.stderr
    assert "participant Liwa Zainebiyoun is not linked to Wikidata" in result.stderr
    assert "value Eastern Homs Governorate is not linked to Wikidata" in result.stderr  # P276


def test_casualty_figures_are_skipped_with_what_wikidata_would_need(
    runner: CliRunner, tmp_path: Path
) -> None:
    result = _run(runner, _linked_copy(tmp_path))
    assert not any(c.prop in ("P1120", "P1590") for c in parse_v1(result.stdout))
    prefix = "skipped claim:palmyra-offensive-2017_casualties_"
    reasons = {
        line.split(": ", 1)[0].removeprefix(prefix): line
        for line in result.stderr.splitlines()
        if line.startswith(prefix)
    }
    assert set(reasons) == {
        "killed-syria",
        "killed-russia",
        "killed-isil-per-sohr",
        "killed-and-wounded-isil-per-russian-mod",
    }
    assert "whose losses (Syria)" in reasons["killed-syria"]
    sohr = reasons["killed-isil-per-sohr"]
    assert "'at least' ('283+ killed (per SOHR)' is a lower bound" in sohr
    assert "who claims it (Syrian Observatory for Human Rights)" in sohr
    mod = reasons["killed-and-wounded-isil-per-russian-mod"]
    assert "who claims it (Russian Ministry of Defence)" in mod
    assert "whose losses (ISIL side)" in mod


def test_a_figure_without_its_party_would_be_written_as_number_of_deaths(tmp_path: Path) -> None:
    # The article prints Syria's flag before "115 killed"[26]; without it (pal:party) the same
    # figure is the event's deaths, P1120 (pal:Killed's closeMatch), its [26] giving Wikidata
    # nothing of its own (no publisher, URL or date, an unquoted title).
    graph = load_graph([ONTOLOGY_FILE, _linked_copy(tmp_path)])
    graph.remove((FIGURE["killed-syria"], PAL.party, None))
    export = quickstatements(graph)
    assert f"{OFFENSIVE}\tP1120\t115\t{ARTICLE}" in export.lines
    assert not any("\tP1590\t" in line for line in export.lines)


def test_claims_of_a_linked_offensive_round_trip(
    runner: CliRunner, data_copy: Path, graph_files: list[Path], fake_wikidata: FakeWikidata
) -> None:
    accept = ["wikidata", "reconcile", "--data", str(data_copy), "--api", fake_wikidata.api_url]
    accept += ["--no-cache", "--accept", "palmyra-offensive-2017=Q9990000003"]
    assert runner.invoke(main, accept).exit_code == 0
    result = _run(runner, data_copy)
    commands = parse_v1(result.stdout)
    graph = load_graph(graph_files)
    exported = check_against_graph(graph, [c for c in commands if c.prop != "P710"])
    assert all(
        str(c).startswith("https://w3id.org/palmyra/claim/palmyra-offensive-2017_")
        for c in exported
    )
    # As the fixture, less the commander the fixture links: no P4791 on Russia.
    assert result.stdout.splitlines() == [
        line.replace(f"\tP4791\t{KARTAPOLOV}", "") for line in EXPECTED
    ]
    assert (ID["palmyra-offensive-2017"], OWL.sameAs, WD.Q9990000003) in graph
    assert SOURCE["3"] in set(graph.objects(None, PROV.wasDerivedFrom))
