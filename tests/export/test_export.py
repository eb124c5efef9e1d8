"""Export: every format parses back to the graph the files hold, byte-identical run after run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from click.testing import CliRunner
from rdflib.namespace import XSD

from palmyra_graph.cli import main
from palmyra_graph.graph import formats, resources
from palmyra_graph.graph.export import CONTEXT_FILE, export_files, export_format
from palmyra_graph.graph.loader import graph_name

FIXTURES = Path(__file__).parent / "fixtures"
MINI = (FIXTURES / "mini-ontology.ttl", FIXTURES / "mini-data.ttl")
BLANK_NODES = FIXTURES / "blank-nodes.ttl"
BUNDLED = (resources.ONTOLOGY_FILE, resources.DATA_FILE)
PAL = rdflib.Namespace("https://w3id.org/palmyra/ontology#")
FIGURE = rdflib.Namespace("https://w3id.org/palmyra/figure/")

#: --format name -> rdflib parser name, for the formats that hold one merged graph.
TRIPLE_FORMATS = {"turtle": "turtle", "nt": "nt", "jsonld": "json-ld", "rdfxml": "xml"}
QUAD_FORMATS = {"nq": "nquads", "trig": "trig"}


def _parse(data: bytes, fmt: str) -> rdflib.Graph:
    """Parse with rdflib into one graph (the merge of any graphs the data names)."""
    graph = rdflib.Graph()
    for quad in _parse_quads(data, fmt).quads((None, None, None, None)):
        graph.add(quad[:3])
    return graph


def _parse_quads(data: bytes, fmt: str) -> rdflib.Dataset:
    """Parse into a Dataset; only rdflib runs here, whose parsers warn about its own internals."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        dataset = rdflib.Dataset()
        dataset.parse(data=data, format=fmt)
    return dataset


def isomorphic(first: rdflib.Graph, second: rdflib.Graph) -> bool:
    """Whether two graphs are the same up to blank node labels: the same ground triples, and
    the same canonical form (Oxigraph's). rdflib.compare.isomorphic is not used: it answers
    False for two parses of blank-nodes.ttl about one time in three (its cycles)."""
    ground = [
        {t for t in g if not any(isinstance(n, rdflib.BNode) for n in t)} for g in (first, second)
    ]
    return (
        len(first) == len(second)
        and ground[0] == ground[1]
        and _canonical(first) == _canonical(second)
    )


def _canonical(graph: rdflib.Graph) -> ox.Dataset:
    data = graph.serialize(format="nt", encoding="utf-8")
    dataset = ox.Dataset(ox.Quad(*t) for t in ox.parse(data, format=ox.RdfFormat.N_TRIPLES))
    dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    return dataset


def _reference(paths: tuple[Path, ...]) -> rdflib.Graph:
    graph = rdflib.Graph()
    for path in paths:
        graph.parse(path, format="turtle")
    return graph


@pytest.mark.parametrize("name", sorted(TRIPLE_FORMATS))
def test_triple_formats_parse_back_isomorphic_to_the_files(
    name: str, files: tuple[Path, ...]
) -> None:
    data = export_files(files, export_format(name))
    parsed = _parse(data, TRIPLE_FORMATS[name])
    reference = _reference(files)
    assert len(parsed) == len(reference) > 0
    assert isomorphic(parsed, reference)


@pytest.mark.parametrize("name", sorted(QUAD_FORMATS))
def test_quad_formats_keep_each_file_as_its_named_graph(name: str, files: tuple[Path, ...]) -> None:
    data = export_files(files, export_format(name))
    dataset = _parse_quads(data, QUAD_FORMATS[name])
    for path in files:
        graph = dataset.graph(rdflib.URIRef(graph_name(path)))
        reference = _reference((path,))
        assert len(graph) == len(reference) > 0
        assert isomorphic(graph, reference), path.name


def test_bundled_graphs_are_named_graph_ontology_and_graph_data() -> None:
    quads = ox.parse(export_files(BUNDLED, formats.NQUADS), format=ox.RdfFormat.N_QUADS)
    names = {q.graph_name.value for q in quads if isinstance(q.graph_name, ox.NamedNode)}
    assert names == {
        "https://w3id.org/palmyra/graph/ontology",
        "https://w3id.org/palmyra/graph/data",
    }


def test_jsonld_reads_the_same_in_an_independent_parser(files: tuple[Path, ...]) -> None:
    # Oxigraph's JSON-LD 1.1 parser shares no code with rdflib's writer.
    quads = ox.parse(export_files(files, formats.JSONLD), format=ox.RdfFormat.JSON_LD)
    ntriples = ox.serialize((q.triple for q in quads), format=ox.RdfFormat.N_TRIPLES)
    assert isomorphic(_parse(ntriples or b"", "nt"), _reference(files))


@pytest.mark.parametrize("name", sorted(TRIPLE_FORMATS))
def test_literals_with_unicode_line_breaks_export_whole(name: str, tmp_path: Path) -> None:
    # Canonical N-Triples leaves U+0085, U+2028 and U+2029 unescaped; the JSON-LD writer
    # once split its input at them (str.splitlines) and failed on the broken lines.
    data = tmp_path / "breaks.ttl"
    data.write_text(
        '<https://example.org/s> <https://example.org/p> "one\u2028two\u2029three\u0085four" ;\n'
        '    <https://example.org/q> "five\u2028six"@en .\n',
        encoding="utf-8",
    )
    exported = export_files([data], export_format(name))
    parsed = _parse(exported, TRIPLE_FORMATS[name])
    assert len(parsed) == 2
    assert isomorphic(parsed, _reference((data,)))


def test_export_keeps_the_literal_datatypes_the_store_normalises() -> None:
    # Oxigraph's store turns "283"^^xsd:nonNegativeInteger into xsd:integer (oxigraph#526);
    # the export reads the files, so the datatype the data wrote survives.
    data = export_files(MINI, formats.NTRIPLES)
    graph = _parse(data, "nt")
    amount = graph.value(FIGURE["isil-killed-sohr"], PAL.amount)
    assert isinstance(amount, rdflib.Literal)
    assert amount.datatype == XSD.nonNegativeInteger


@pytest.mark.parametrize("name", ["nt", "nq"])
def test_line_formats_are_sorted(name: str, files: tuple[Path, ...]) -> None:
    lines = export_files(files, export_format(name)).decode("utf-8").splitlines()
    assert lines == sorted(lines)
    assert len(lines) == len(set(lines))


def test_turtle_uses_the_project_prefixes(files: tuple[Path, ...]) -> None:
    graph = rdflib.Graph().parse(data=export_files(files, formats.TURTLE), format="turtle")
    bound = {prefix: str(namespace) for prefix, namespace in graph.namespaces()}
    assert bound["id"] == "https://w3id.org/palmyra/id/"
    assert bound["pal"] == "https://w3id.org/palmyra/ontology#"
    assert bound["claim"] == "https://w3id.org/palmyra/claim/"


def test_jsonld_is_compacted_against_the_context_file(files: tuple[Path, ...]) -> None:
    document = json.loads(export_files(files, formats.JSONLD))
    context = json.loads(CONTEXT_FILE.read_text(encoding="utf-8"))["@context"]
    assert document["@context"] == context
    ids = {node["@id"] for node in document["@graph"]}
    assert "id:palmyra-offensive-2017" in ids
    assert not any(i.startswith("https://w3id.org/palmyra/id/") for i in ids)
    offensive = next(n for n in document["@graph"] if n["@id"] == "id:palmyra-offensive-2017")
    assert offensive["startDate"] == "2017-01-13"  # the context's typed term, compacted


def test_two_exports_in_one_process_are_byte_identical(files: tuple[Path, ...]) -> None:
    for fmt in formats.DUMP_FORMATS:
        assert export_files(files, fmt) == export_files(files, fmt), fmt.names[0]


_HASH_ALL = """
import hashlib, sys
from palmyra_graph.graph import formats
from palmyra_graph.graph import resources
from palmyra_graph.graph.export import export_files
for fmt in formats.DUMP_FORMATS:
    print(fmt.names[0], hashlib.sha256(export_files(sys.argv[1:], fmt)).hexdigest())
"""


def test_exports_in_separate_processes_with_different_hash_seeds_are_byte_identical() -> None:
    files = [str(p) for p in (*MINI, BLANK_NODES)]
    outputs = []
    for seed in ("1", "2"):
        done = subprocess.run(
            [sys.executable, "-c", _HASH_ALL, *files],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        outputs.append(done.stdout.splitlines())
    assert len(outputs[0]) == len(formats.DUMP_FORMATS)
    assert outputs[0] == outputs[1]


def test_blank_node_labels_come_from_the_content_not_from_the_file(tmp_path: Path) -> None:
    # The same graph with other blank node labels, at the same path (the graph's name).
    text = BLANK_NODES.read_text(encoding="utf-8")
    path = tmp_path / "graph.ttl"
    path.write_text(text, encoding="utf-8")
    before = {fmt: export_files([path], fmt) for fmt in formats.DUMP_FORMATS}
    for label in ("first", "second", "third", "loop", "onlyAnObject"):
        text = text.replace(f"_:{label} ", f"_:renamed{label[::-1]} ")
    assert text != BLANK_NODES.read_text(encoding="utf-8")
    path.write_text(text, encoding="utf-8")
    for fmt in formats.DUMP_FORMATS:
        assert export_files([path], fmt) == before[fmt], fmt.names[0]


def test_look_alike_blank_nodes_of_two_files_stay_two_nodes(tmp_path: Path) -> None:
    copies = [tmp_path / "a.ttl", tmp_path / "b.ttl"]
    for copy in copies:
        copy.write_bytes(BLANK_NODES.read_bytes())
    one = _parse(export_files([copies[0]], formats.NTRIPLES), "nt")
    both = _parse(export_files(copies, formats.NTRIPLES), "nt")
    assert _with_blank_nodes(both) == 2 * _with_blank_nodes(one) > 0
    assert isomorphic(both, _reference(tuple(copies)))


def _with_blank_nodes(graph: rdflib.Graph) -> int:
    return sum(1 for t in graph if any(isinstance(n, rdflib.BNode) for n in t))


def test_cli_writes_the_same_bytes_to_a_file_and_to_stdout(tmp_path: Path) -> None:
    runner = CliRunner()
    data_args = [arg for path in MINI for arg in ("--data", str(path))]
    to_stdout = runner.invoke(main, ["export", "--format", "trig", *data_args])
    assert to_stdout.exit_code == 0, to_stdout.output
    target = tmp_path / "graph.trig"
    to_file = runner.invoke(main, ["export", "--format", "trig", "-o", str(target), *data_args])
    assert to_file.exit_code == 0, to_file.output
    assert target.read_bytes() == to_stdout.stdout_bytes == export_files(MINI, formats.TRIG)


def test_cli_refuses_an_unknown_format_with_exit_2() -> None:
    result = CliRunner().invoke(main, ["export", "--format", "n3"])
    assert result.exit_code == 2


def test_cli_on_a_file_that_does_not_parse_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text("@prefix e: <http://e/> .\ne:a e:b\n", encoding="utf-8")
    target = tmp_path / "out.ttl"
    result = CliRunner().invoke(main, ["export", "--data", str(bad), "-o", str(target)])
    assert result.exit_code == 2
    assert f"{bad}:3" in result.output
    assert not target.exists()
    assert list(tmp_path.iterdir()) == [bad]


def test_cli_into_a_missing_directory_exits_2(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "out.ttl"
    result = CliRunner().invoke(main, ["export", "--data", str(MINI[1]), "-o", str(target)])
    assert result.exit_code == 2
    assert "cannot write" in result.output
