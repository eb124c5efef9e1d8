"""``palmyra-graph query``: input from argument, file or stdin; every output format parsed back;
exit codes; and ``--endpoint`` against a real server giving the same output as a local run."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from palmyra_graph.cli import main
from palmyra_graph.testing import LiveServer, free_port

from .conftest import DATA, VOCABULARY
from .helpers import graph, reference_graph, rows, same_graph, sorted_rows, value_rows

PREFIXES = """PREFIX pal: <https://w3id.org/palmyra/ontology#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
"""
SELECT = PREFIXES + "SELECT ?claim ?source WHERE { ?claim prov:wasDerivedFrom ?source }"
CONSTRUCT = PREFIXES + "CONSTRUCT { ?s pal:startDate ?d } WHERE { ?s pal:startDate ?d }"
REFERENCE = reference_graph(DATA, VOCABULARY)
DATA_ARGS = ["--data", str(DATA), "--data", str(VOCABULARY)]


def run(runner: CliRunner, *args: str, stdin: str | None = None) -> Result:
    return runner.invoke(main, ["query", *args], input=stdin)


def table_rows(output: str) -> list[dict[str, str]]:
    """Parse the aligned table (header, dashes, rows, '(N rows)') at the dashes' offsets."""
    lines = output.rstrip("\n").split("\n")
    assert re.fullmatch(r"\((\d+) rows?\)", lines[-1])
    starts = [m.start() for m in re.finditer(r"-+", lines[1])]

    def cut(line: str) -> list[str]:
        bounds = [*starts, len(line) + 1]
        return [line[a:b].strip() for a, b in itertools.pairwise(bounds)]

    names = cut(lines[0])
    return [dict(zip(names, cut(line), strict=True)) for line in lines[2:-1]]


def expected_prefixed_rows() -> list[tuple[tuple[str, str], ...]]:
    def short(iri: str) -> str:
        for prefix in ("claim", "source"):
            namespace = f"https://w3id.org/palmyra/{prefix}/"
            if iri.startswith(namespace):
                return f"{prefix}:{iri[len(namespace) :]}"
        return iri

    expected = value_rows(REFERENCE.query(SELECT))
    return sorted_rows([{k: short(v) for k, v in row.items()} for row in expected])


def test_table_is_aligned_with_prefixed_names(runner: CliRunner) -> None:
    result = run(runner, *DATA_ARGS, SELECT)
    assert result.exit_code == 0, result.output
    # cells are cut at the offsets of the dashes: they parse only if every row is aligned
    assert sorted_rows(table_rows(result.output)) == expected_prefixed_rows()


@pytest.mark.parametrize(
    ("name", "media"),
    [
        ("json", "application/sparql-results+json"),
        ("xml", "application/sparql-results+xml"),
        ("csv", "text/csv"),
        ("tsv", "text/tab-separated-values"),
    ],
)
def test_tabular_formats_parse_to_the_same_rows(runner: CliRunner, name: str, media: str) -> None:
    result = run(runner, *DATA_ARGS, "--format", name, SELECT)
    assert result.exit_code == 0, result.output
    got = rows(result.stdout_bytes, media)
    assert sorted_rows(got) == sorted_rows(value_rows(REFERENCE.query(SELECT)))


@pytest.mark.parametrize(
    ("name", "media"),
    [
        (None, "text/turtle"),
        ("turtle", "text/turtle"),
        ("nt", "application/n-triples"),
        ("jsonld", "application/ld+json"),
    ],
)
def test_graph_formats_parse_to_the_same_graph(
    runner: CliRunner, name: str | None, media: str
) -> None:
    result = run(runner, *DATA_ARGS, *(["--format", name] if name else []), CONSTRUCT)
    assert result.exit_code == 0, result.output
    expected = REFERENCE.query(CONSTRUCT).graph
    assert expected is not None
    assert same_graph(graph(result.stdout_bytes, media), expected)


def test_query_from_stdin_and_from_file(runner: CliRunner, tmp_path: Path) -> None:
    from_stdin = run(runner, *DATA_ARGS, stdin=SELECT)
    path = tmp_path / "q.rq"
    path.write_text(SELECT, encoding="utf-8")
    from_file = run(runner, *DATA_ARGS, "-f", str(path))
    assert from_stdin.exit_code == from_file.exit_code == 0
    assert sorted_rows(table_rows(from_stdin.output)) == expected_prefixed_rows()
    assert from_file.output == from_stdin.output


def test_ask_prints_true_or_false(runner: CliRunner) -> None:
    yes = run(runner, *DATA_ARGS, PREFIXES + "ASK { ?s pal:startDate ?d }")
    no = run(runner, *DATA_ARGS, PREFIXES + "ASK { ?s pal:noSuchProperty ?d }")
    assert (yes.output, no.output) == ("true\n", "false\n")


def test_bad_query_exits_1_with_the_parser_message(runner: CliRunner) -> None:
    result = run(runner, *DATA_ARGS, "SELECT * WHERE {\n ?s ?p")
    assert result.exit_code == 1
    assert "syntax error" in result.stderr
    assert "2:" in result.stderr


def test_update_exits_1_and_changes_nothing(runner: CliRunner) -> None:
    result = run(runner, *DATA_ARGS, "CLEAR ALL")
    assert result.exit_code == 1
    assert "read-only" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["--format", "nt", SELECT],
        ["--format", "csv", CONSTRUCT],
        ["--format", "csv", "ASK {}"],
        ["-f", "/nonexistent/q.rq"],
        ["--data", "/nonexistent/data.ttl", SELECT],
        ["--endpoint", "http://127.0.0.1:9/sparql", "--data", str(DATA), SELECT],
    ],
)
def test_usage_errors_exit_2(runner: CliRunner, args: list[str]) -> None:
    result = run(runner, *(DATA_ARGS if "--data" not in args else []), *args)
    assert result.exit_code == 2, result.output


def test_endpoint_gives_the_same_output_as_a_local_run(
    runner: CliRunner, fixture_server: LiveServer
) -> None:
    endpoint = ["--endpoint", f"{fixture_server.url}/sparql"]
    for args in ([SELECT], ["--format", "csv", SELECT], ["--format", "nt", CONSTRUCT]):
        local = run(runner, *DATA_ARGS, *args)
        remote = run(runner, *endpoint, *args)
        assert remote.exit_code == 0, remote.output
        if "--format" in args:
            media = "text/csv" if "csv" in args else "application/n-triples"
            if media == "text/csv":
                assert sorted_rows(rows(remote.stdout_bytes, media)) == sorted_rows(
                    rows(local.stdout_bytes, media)
                )
            else:
                assert same_graph(
                    graph(remote.stdout_bytes, media), graph(local.stdout_bytes, media)
                )
        else:
            assert sorted_rows(table_rows(remote.output)) == sorted_rows(table_rows(local.output))


def test_endpoint_errors_exit_1_with_the_cause(
    runner: CliRunner, fixture_server: LiveServer
) -> None:
    bad = run(runner, "--endpoint", f"{fixture_server.url}/sparql", "SELECT * WHERE {")
    assert bad.exit_code == 1
    assert "400" in bad.stderr and "syntax error" in bad.stderr
    unreachable = run(runner, "--endpoint", f"http://127.0.0.1:{free_port()}/sparql", SELECT)
    assert unreachable.exit_code == 1
    assert "cannot reach" in unreachable.stderr
