"""The package as a user installs it: the wheel built from this checkout, installed into a
fresh virtual environment outside it, run from another folder. Regression for issue 14: the
bundled ontology, data, shapes and queries existed only in a checkout, so an installed
``query`` could not read the ontology, ``validate`` found no shapes and ``serve`` never
answered.

The fresh environment takes the dependencies from this one (a ``.pth`` file), so the test
needs no network; ``.ci/run`` also installs the wheel with its dependencies from PyPI.
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import venv
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from palmyra_graph.graph import resources
from palmyra_graph.testing import LiveServer, parse_html

pytestmark = pytest.mark.installed

CHECKOUT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Installation:
    """A fresh virtual environment with the wheel installed, and a folder to run it from."""

    python: Path
    command: Path
    elsewhere: Path

    def run(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [str(self.command), *args], cwd=self.elsewhere, capture_output=True, timeout=120
        )


def _wheel(into: Path) -> Path:
    build = [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(into)]
    subprocess.run([*build, str(CHECKOUT)], check=True, capture_output=True, timeout=120)
    (wheel,) = into.glob("palmyra_graph-*.whl")
    return wheel


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installation:
    root = tmp_path_factory.mktemp("installed")
    wheel = _wheel(root / "dist")
    environment = root / "venv"
    venv.EnvBuilder(with_pip=False).create(environment)
    python = environment / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    # The dependencies, from this environment; palmyra_graph itself only from the wheel.
    (Path(purelib) / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps"]
    subprocess.run([*pip, "--no-index", str(wheel)], check=True, capture_output=True, timeout=120)
    elsewhere = root / "elsewhere"
    elsewhere.mkdir()
    return Installation(python, environment / "bin" / "palmyra-graph", elsewhere)


def test_the_wheel_carries_every_bundled_file(installed: Installation) -> None:
    where = subprocess.run(
        [
            str(installed.python),
            "-c",
            "from palmyra_graph.graph import resources as r; print(r.BUNDLED)",
        ],
        cwd=installed.elsewhere,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    bundled = Path(where)
    assert bundled.is_relative_to(installed.python.parent.parent)  # not the checkout's
    for folder in ("ontology", "data", "shapes", "queries"):
        source = CHECKOUT / folder
        shipped = {p.relative_to(source) for p in source.rglob("*") if p.is_file()}
        assert shipped == {
            p.relative_to(bundled / folder) for p in (bundled / folder).rglob("*") if p.is_file()
        }, folder


def test_installed_query_validate_and_export_run_from_another_folder(
    installed: Installation,
) -> None:
    asked = installed.run("query", "ASK { ?s ?p ?o }")
    assert (asked.returncode, asked.stdout.strip()) == (0, b"true"), asked.stderr
    validated = installed.run("validate")
    assert validated.returncode == 0, validated.stderr
    assert b"0 violations" in validated.stdout
    exported = installed.run("export", "--format", "nt")
    assert exported.returncode == 0, exported.stderr
    here = subprocess.run(
        [sys.executable, "-m", "palmyra_graph", "export", "--format", "nt"],
        check=True,
        capture_output=True,
    )
    assert exported.stdout == here.stdout  # the same graph, byte for byte


def test_installed_reconcile_refuses_to_rewrite_the_installed_data(
    installed: Installation,
) -> None:
    done = installed.run("wikidata", "reconcile", "--accept", "palmyra=Q1", "--no-cache")
    assert done.returncode == 2
    assert b"installed package's copy of the data" in done.stderr


def test_installed_serve_answers_and_stops_cleanly(installed: Installation) -> None:
    server = LiveServer(python=str(installed.python), cwd=installed.elsewhere)
    try:
        answer = requests.get(
            server.url + "/sparql",
            params={"query": "ASK { ?s ?p ?o }"},
            headers={"Accept": "application/sparql-results+json"},
            timeout=30,
        )
        assert answer.json()["boolean"] is True
        page = parse_html(requests.get(server.url + "/query", timeout=30).content)
        examples = {o.attrs.get("value") for o in page.find_all("option")}
        assert {q.stem for q in resources.QUERIES_DIR.glob("*.rq")} <= examples
        context = requests.get(server.url + "/context.jsonld", timeout=30)
        assert context.content == resources.CONTEXT_FILE.read_bytes()
    finally:
        assert server.stop() == 0
