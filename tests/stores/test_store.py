"""The on-disk store: bulk load, refusal rules, read-only opening, and `serve --store`."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from palmyra_graph.cli import main
from palmyra_graph.errors import LoadError, StorageError
from palmyra_graph.graph import resources
from palmyra_graph.query.engine import OxigraphEngine
from palmyra_graph.query.store import is_store, load_store, open_engine
from palmyra_graph.testing import LiveServer

from .helpers import answer

QUERIES = sorted(resources.QUERIES_DIR.glob("*.rq"))


@pytest.fixture(scope="module")
def memory() -> OxigraphEngine:
    return OxigraphEngine.from_files()


@pytest.fixture(scope="module")
def disk_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("store") / "palmyra"
    load_store(directory, resources.default_data_files())
    return directory


def test_load_gives_the_same_graphs_and_counts_as_the_loader(
    disk_dir: Path, memory: OxigraphEngine
) -> None:
    disk = open_engine(disk_dir)
    assert disk.graph_names() == memory.graph_names()
    assert disk.counts() == memory.counts()
    assert disk.counts()["triples"] > 0


@pytest.mark.parametrize("query", QUERIES, ids=[q.stem for q in QUERIES])
def test_every_question_has_the_same_answer_on_disk(
    query: Path, disk_dir: Path, memory: OxigraphEngine
) -> None:
    text = query.read_text(encoding="utf-8")
    assert answer(open_engine(disk_dir).query(text)) == answer(memory.query(text))


def test_the_report_counts_each_file(tmp_path: Path, memory: OxigraphEngine) -> None:
    report = load_store(tmp_path / "s", resources.default_data_files())
    assert report.triples == memory.counts()["triples"]
    assert (
        report.per_file[resources.DATA_FILE]
        == memory.counts()["https://w3id.org/palmyra/graph/data"]
    )


def test_a_store_is_not_overwritten_without_replace(tmp_path: Path) -> None:
    target = tmp_path / "s"
    load_store(target, [resources.ONTOLOGY_FILE])
    with pytest.raises(LoadError, match="--replace"):
        load_store(target, [resources.DATA_FILE])
    assert open_engine(target).graph_names() == ["https://w3id.org/palmyra/graph/ontology"]
    load_store(target, [resources.DATA_FILE], replace=True)
    assert open_engine(target).graph_names() == ["https://w3id.org/palmyra/graph/data"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s"]  # no leftovers


def test_a_file_that_does_not_parse_leaves_the_store_unchanged(tmp_path: Path) -> None:
    target = tmp_path / "s"
    load_store(target, [resources.ONTOLOGY_FILE])
    before = open_engine(target).counts()
    bad = tmp_path / "bad.ttl"
    bad.write_text("@prefix ex: <http://example.org/> .\nex:a ex:b .\n", encoding="utf-8")
    with pytest.raises(LoadError, match=r"bad\.ttl:2"):
        load_store(target, [resources.DATA_FILE, bad], replace=True)
    assert open_engine(target).counts() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.ttl", "s"]


def test_a_directory_that_is_not_a_store_is_never_touched(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(LoadError, match="no Oxigraph store"):
        load_store(tmp_path, [resources.ONTOLOGY_FILE], replace=True)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]
    with pytest.raises(StorageError, match="no Oxigraph store"):
        open_engine(tmp_path)


def test_cli_load_exit_codes(tmp_path: Path) -> None:
    runner = CliRunner()
    target = tmp_path / "s"
    first = runner.invoke(main, ["load", "--store", str(target)])
    assert first.exit_code == 0, first.output
    assert is_store(target)
    again = runner.invoke(main, ["load", "--store", str(target)])
    assert again.exit_code == 2
    assert "--replace" in again.output
    missing = runner.invoke(main, ["load", "--store", str(tmp_path / "t"), "nope.ttl"])
    assert missing.exit_code == 2


@pytest.mark.live
def test_serve_store_answers_from_the_disk(disk_dir: Path, memory: OxigraphEngine) -> None:
    server = LiveServer("--store", str(disk_dir))
    try:
        response = requests.post(
            f"{server.url}/sparql",
            data={"query": "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"},
            headers={"Accept": "application/sparql-results+json"},
            timeout=30,
        )
    finally:
        server.stop()
    assert response.status_code == 200
    count = int(response.json()["results"]["bindings"][0]["n"]["value"])
    assert count == memory.counts()["triples"]
