"""``wikidata reconcile``: ranked candidates, and ``--accept`` writing a link safely."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from rdflib import Literal, URIRef
from rdflib.namespace import XSD

from palmyra_graph.cli import main
from palmyra_graph.errors import LinkRefused, StorageError
from palmyra_graph.graph.namespaces import ID, OWL, PAL, RDF, WD
from palmyra_graph.wikidata import writer
from palmyra_graph.wikidata.api import WikidataClient
from palmyra_graph.wikidata.links import CONFIDENCE, link_of, load_graph
from palmyra_graph.wikidata.reconcile import Reconciler, accept

from .conftest import FakeWikidata

LEXICAL = URIRef("https://w3id.org/semapv/vocab/LexicalMatching")


def reconciler(graph_files: list[Path], fake: FakeWikidata) -> Reconciler:
    return Reconciler(load_graph(graph_files), WikidataClient(fake.api_url))


def test_a_person_ranks_the_human_above_a_namesake_of_another_type(
    graph_files: list[Path], fake_wikidata: FakeWikidata
) -> None:
    rec = reconciler(graph_files, fake_wikidata)
    (link,) = rec.unlinked(["suheil-al-hassan"])
    fits = rec.candidates(link).fits
    assert [f.qid for f in fits] == ["Q9990000001", "Q9990000002"]
    human, village = fits
    assert human.type == "compatible" and village.type == "incompatible"
    assert human.name == village.name == 1.0
    assert human.score > village.score


def test_unlinked_lists_only_entities_without_an_item(
    graph_files: list[Path], fake_wikidata: FakeWikidata
) -> None:
    rec = reconciler(graph_files, fake_wikidata)
    unlinked = {link.slug for link in rec.unlinked()}
    assert "suheil-al-hassan" in unlinked and "latakia" in unlinked
    assert "syria" not in unlinked and "palmyra" not in unlinked


def test_cli_prints_candidates_with_scores_and_never_writes(
    runner: CliRunner, data_copy: Path, fake_wikidata: FakeWikidata, tmp_path: Path
) -> None:
    before = data_copy.read_bytes()
    args = ["wikidata", "reconcile", "--data", str(data_copy), "--api", fake_wikidata.api_url]
    args += ["--cache-dir", str(tmp_path / "cache"), "--entity", "palmyra-offensive-2017"]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("id:palmyra-offensive-2017")
    score, qid = lines[1].split()[:2]
    assert qid == "Q9990000003" and 0.8 < float(score) <= 1.0
    assert data_copy.read_bytes() == before


def test_the_api_url_can_come_from_the_environment(
    runner: CliRunner, data_copy: Path, fake_wikidata: FakeWikidata
) -> None:
    args = ["wikidata", "reconcile", "--data", str(data_copy), "--no-cache"]
    args += ["--entity", "suheil-al-hassan"]
    result = runner.invoke(main, args, env={"PALMYRA_WIKIDATA_API": fake_wikidata.api_url})
    assert result.exit_code == 0, result.output
    assert "Q9990000001" in result.output
    assert fake_wikidata.requests


def test_accept_writes_the_link_and_its_mapping_node(
    runner: CliRunner, graph_files: list[Path], data_copy: Path, fake_wikidata: FakeWikidata
) -> None:
    before = data_copy.read_text(encoding="utf-8")
    args = ["wikidata", "reconcile", "--data", str(data_copy), "--api", fake_wikidata.api_url]
    args += ["--no-cache", "--accept", "suheil-al-hassan=Q9990000001", "--reviewer", "A. Tester"]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    after = data_copy.read_text(encoding="utf-8")
    assert after.startswith(before)  # the hand-edited file is only appended to
    graph = load_graph(graph_files)
    entity = ID["suheil-al-hassan"]
    assert (entity, OWL.sameAs, WD.Q9990000001) in graph
    link = link_of(graph, entity)
    assert link.mapping is not None
    node = link.mapping.node
    assert (node, RDF.type, PAL.Mapping) in graph and (node, RDF.type, RDF.Statement) in graph
    assert (node, RDF.object, WD.Q9990000001) in graph
    assert link.mapping.justification == LEXICAL
    assert link.mapping.reviewer == "A. Tester"
    assert graph.value(node, CONFIDENCE).datatype == XSD.double  # type: ignore[union-attr]
    assert 0.8 < (link.mapping.confidence or 0) <= 1.0
    assert Literal(link.mapping.date, datatype=XSD.date).value is not None


REFUSALS = [
    ("suheil-al-hassan=Q12x", "not a Wikidata item id"),
    ("suheil-al-hassan", "ENTITY=QID"),
    ("no-such-entity=Q9990000001", "no entity"),
    ("syria=Q858", "already linked to Q858"),
    ("syria=Q9990000001", "already linked to Q858"),
    ("latakia=Q858", "already the item of syria"),
    ("suheil-al-hassan=Q9990000005", "does not exist"),
    ("palmyra-offensive-2017=Q9990000004", "redirects to Q9990000003"),
    ("palmyra-offensive-2017=Q9990000001", "not of a type that fits"),
]


@pytest.mark.parametrize(("acceptance", "message"), REFUSALS)
def test_accept_refuses_and_changes_nothing(
    runner: CliRunner,
    data_copy: Path,
    fake_wikidata: FakeWikidata,
    acceptance: str,
    message: str,
) -> None:
    before = data_copy.read_bytes()
    args = ["wikidata", "reconcile", "--data", str(data_copy), "--api", fake_wikidata.api_url]
    result = runner.invoke(main, [*args, "--no-cache", "--accept", acceptance])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert data_copy.read_bytes() == before


def test_accepting_twice_never_duplicates_the_link(
    graph_files: list[Path], data_copy: Path, fake_wikidata: FakeWikidata
) -> None:
    accept(reconciler(graph_files, fake_wikidata), data_copy, "suheil-al-hassan", "Q9990000001")
    once = data_copy.read_bytes()
    with pytest.raises(LinkRefused, match="already linked"):
        accept(reconciler(graph_files, fake_wikidata), data_copy, "suheil-al-hassan", "Q9990000001")
    assert data_copy.read_bytes() == once
    graph = load_graph(graph_files)
    assert len(list(graph.objects(ID["suheil-al-hassan"], OWL.sameAs))) == 1


def test_a_write_that_does_not_parse_is_rolled_back(
    graph_files: list[Path],
    data_copy: Path,
    fake_wikidata: FakeWikidata,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = data_copy.read_bytes()
    monkeypatch.setattr(writer, "link_block", lambda *args, **kwargs: "\nid:broken owl:sameAs .\n")
    with pytest.raises(StorageError, match="file left as it was"):
        accept(reconciler(graph_files, fake_wikidata), data_copy, "suheil-al-hassan", "Q9990000001")
    assert data_copy.read_bytes() == before
    assert sorted(p.name for p in data_copy.parent.iterdir()) == ["palmyra.ttl"]
