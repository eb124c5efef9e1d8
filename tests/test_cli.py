"""The command line's shared behaviour: version, help, and errors mapped to exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from palmyra_graph import __version__
from palmyra_graph.cli import main


def test_version(runner: CliRunner) -> None:
    result = runner.invoke(main, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


def test_python_dash_m_runs_the_same_cli() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "palmyra_graph", "--help"], capture_output=True, text=True
    )
    assert done.returncode == 0
    assert "serve" in done.stdout


def _serve(*options: str) -> subprocess.CompletedProcess[str]:
    """``serve`` with ``options`` on port 9, expected to refuse to start."""
    return subprocess.run(
        [sys.executable, "-m", "palmyra_graph", "serve", *options, "--port", "9"],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_serve_refuses_a_file_that_does_not_parse_with_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text("@prefix e: <http://e/> .\ne:a e:b\n", encoding="utf-8")
    done = _serve("--data", str(bad))
    assert done.returncode == 2
    assert f"{bad}:3: does not parse as Turtle" in done.stderr


def test_serve_refuses_a_store_directory_that_holds_no_store_with_exit_2(tmp_path: Path) -> None:
    # Each query worker opens the store for itself; the broker opens it first, so that the
    # start fails with the reason instead of every worker failing as it starts.
    missing = tmp_path / "no-store"
    done = _serve("--store", str(missing))
    assert done.returncode == 2
    assert f"{missing}: holds no Oxigraph store" in done.stderr
    assert "serving on" not in done.stdout and "query worker" not in done.stderr
