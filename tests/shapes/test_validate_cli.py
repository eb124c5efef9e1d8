"""``palmyra-graph validate``: exit codes 0/1/2, and the three formats parse."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import rdflib
from click.testing import CliRunner
from rdflib.namespace import RDF, SH

from palmyra_graph.cli import main
from palmyra_graph.graph import resources
from palmyra_graph.graph.namespaces import ID

Files = Callable[[str | None], list[Path]]


def run(runner: CliRunner, *args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(main, ["validate", *map(str, args)])
    return result.exit_code, result.stdout, result.stderr


def test_the_bundled_data_exits_0_and_prints_its_warnings(runner: CliRunner) -> None:
    code, out, _ = run(runner)
    assert code == 0
    assert "Warnings (" in out
    assert "Violations (" not in out
    assert out.rstrip().splitlines()[-1].startswith("conforms: 0 violations")


def test_a_broken_fixture_exits_1_and_names_the_focus_node(
    runner: CliRunner, fixture_files: Files
) -> None:
    code, out, _ = run(runner, *fixture_files("broken-fact-without-claim.ttl"), "--no-ontology")
    assert code == 1
    assert "Violations (1)" in out
    assert "id:palmyra-offensive-2017  Palmyra offensive (2017)" in out
    assert out.rstrip().splitlines()[-1].startswith("does not conform: 1 violations")


def test_a_data_file_alone_is_validated_with_the_bundled_ontology(runner: CliRunner) -> None:
    code, _, _ = run(runner, resources.DATA_FILE)
    assert code == 0


def test_without_the_ontology_the_data_alone_does_not_conform(runner: CliRunner) -> None:
    # No class hierarchy: no entity is an instance of a pal:Entity subclass.
    code, out, _ = run(runner, resources.DATA_FILE, "--no-ontology", "--format", "json")
    assert code == 1
    focus = {r["focusNode"]["iri"] for r in json.loads(out)["results"]["Violation"]}
    assert str(ID.syria) in focus


def test_a_file_that_does_not_parse_exits_2_with_file_and_line(
    runner: CliRunner, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text("@prefix e: <http://e/> .\ne:a e:b e:c ;\n  e:d .\n", encoding="utf-8")
    code, out, err = run(runner, bad)
    assert code == 2
    assert out == ""
    assert f"{bad}:3" in err


def test_a_missing_file_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    code, _, err = run(runner, tmp_path / "absent.ttl")
    assert code == 2
    assert "absent.ttl" in err


def test_shapes_that_are_not_valid_shacl_exit_2(runner: CliRunner, tmp_path: Path) -> None:
    shapes = tmp_path / "shapes.ttl"
    shapes.write_text(
        "@prefix sh: <http://www.w3.org/ns/shacl#> .\n"
        "@prefix pal: <https://w3id.org/palmyra/ontology#> .\n"
        "<http://e/S> a sh:NodeShape ; sh:targetClass pal:Reference ;\n"
        '  sh:sparql [ sh:select "SELECT $this WHERE { VALUES ?x { 1 } }" ] .\n',
        encoding="utf-8",
    )
    code, _, err = run(runner, "--shapes", shapes)
    assert code == 2
    assert "shapes cannot be used" in err


@pytest.mark.parametrize(("fixture", "conforms"), [(None, True), ("broken-same-work.ttl", True)])
def test_turtle_is_the_shacl_validation_report(
    runner: CliRunner, fixture_files: Files, fixture: str | None, conforms: bool
) -> None:
    code, out, _ = run(runner, *fixture_files(fixture), "--no-ontology", "--format", "turtle")
    assert code == 0
    graph = rdflib.Graph().parse(data=out, format="turtle")
    (report,) = graph.subjects(RDF.type, SH.ValidationReport)
    assert graph.value(report, SH.conforms) == rdflib.Literal(conforms)
    results = list(graph.objects(report, SH.result))
    assert len(results) == (0 if fixture is None else 2)
    severities = {graph.value(result, SH.resultSeverity) for result in results}
    assert severities <= {SH.Warning}


def test_turtle_of_a_broken_fixture_says_it_does_not_conform(
    runner: CliRunner, fixture_files: Files
) -> None:
    files = fixture_files("broken-claim-without-source.ttl")
    code, out, _ = run(runner, *files, "--no-ontology", "--format", "turtle")
    assert code == 1
    graph = rdflib.Graph().parse(data=out, format="turtle")
    (report,) = graph.subjects(RDF.type, SH.ValidationReport)
    assert graph.value(report, SH.conforms) == rdflib.Literal(False)
    (result,) = graph.objects(report, SH.result)
    assert graph.value(result, SH.resultSeverity) == SH.Violation
    assert graph.value(result, SH.resultPath) == rdflib.URIRef(
        "http://www.w3.org/ns/prov#wasDerivedFrom"
    )


def test_json_has_the_documented_structure(runner: CliRunner) -> None:
    code, out, _ = run(runner, "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["conforms"] is True
    assert set(data["results"]) == {"Violation", "Warning", "Info"}
    assert data["counts"] == {k: len(v) for k, v in data["results"].items()}
    assert data["counts"]["Violation"] == 0
    warning = data["results"]["Warning"][0]
    assert set(warning) == {
        "severity",
        "focusNode",
        "message",
        "sourceShape",
        "constraintComponent",
        "sourceConstraint",
        "resultPath",
        "value",
        "sources",
    }
    assert warning["severity"] == "Warning"
    assert warning["focusNode"]["iri"] in {s["iri"] for s in warning["sources"]}
    numbers = [s["number"] for s in warning["sources"]]
    assert all(isinstance(n, int) for n in numbers)
    assert data["files"] == [str(resources.ONTOLOGY_FILE), str(resources.DATA_FILE)]
