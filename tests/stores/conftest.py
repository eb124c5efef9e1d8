"""Real triple stores on loopback for the store tests: an Oxigraph server (the ``oxigraph``
package's binary) and, where Debian's ``virtuoso-opensource`` is installed, Virtuoso."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from palmyra_graph.testing import free_port, port_answers, stop_process, wait_until

OXIGRAPH = Path(sys.executable).parent / "oxigraph"
VIRTUOSO = shutil.which("virtuoso-t")
VIRTUOSO_INI = Path("/etc/virtuoso-opensource-7/virtuoso.ini")


@dataclass
class Server:
    """A store's HTTP endpoints."""

    base: str
    query: str
    store: str


def _wait(process: subprocess.Popen[bytes], port: int, timeout: float) -> None:
    wait_until(
        lambda: port_answers(port), what=f"a store on port {port}", timeout=timeout, process=process
    )


@contextmanager
def oxigraph(location: Path, *, union: bool = True) -> Iterator[Server]:
    """An Oxigraph server on a free loopback port: with ``union``, its default graph is the
    union of its named graphs (``--union-default-graph``), else its own default graph."""
    port = free_port()
    command = [str(OXIGRAPH), "serve", "--location", str(location)]
    command += ["--bind", f"127.0.0.1:{port}"] + (["--union-default-graph"] if union else [])
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait(process, port, timeout=30)
        base = f"http://127.0.0.1:{port}"
        yield Server(base=base, query=f"{base}/query", store=f"{base}/store")
    finally:
        stop_process(process)


@pytest.fixture
def oxigraph_server(tmp_path: Path) -> Iterator[Server]:
    """A fresh, empty Oxigraph server."""
    with oxigraph(tmp_path / "oxigraph") as server:
        yield server


@pytest.fixture(params=[True, False], ids=["union-default-graph", "own-default-graph"])
def oxigraph_either_way(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    """A fresh, empty Oxigraph server, started with and without ``--union-default-graph``."""
    with oxigraph(tmp_path / "oxigraph", union=request.param) as server:
        yield server


#: Starts of Virtuoso tried before its tests fail: it exits (255) now and then on start when
#: the machine is busy, or when a port chosen free was taken meanwhile.
VIRTUOSO_STARTS = 3


@pytest.fixture(scope="session")
def virtuoso_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Virtuoso 7 from Debian, in a scratch database; skipped when it is not installed."""
    if not VIRTUOSO or not VIRTUOSO_INI.is_file():
        pytest.skip("virtuoso-opensource is not installed (apt-get install virtuoso-opensource)")
    failures = []
    for _ in range(VIRTUOSO_STARTS):
        directory = tmp_path_factory.mktemp("virtuoso")
        http_port = free_port()
        process = _start_virtuoso(directory, http_port)
        try:
            _wait(process, http_port, timeout=60)
        except RuntimeError as failure:
            stop_process(process)
            log = directory / "virtuoso.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            failures.append(f"{failure}\n{tail}")
            continue
        try:
            base = f"http://127.0.0.1:{http_port}"
            yield Server(base=base, query=f"{base}/sparql", store=f"{base}/sparql-graph-crud-auth")
        finally:
            stop_process(process)
        return
    raise RuntimeError(
        f"Virtuoso did not start in {VIRTUOSO_STARTS} tries:\n" + "\n".join(failures)
    )


def _start_virtuoso(directory: Path, http_port: int) -> subprocess.Popen[bytes]:
    """Virtuoso on ``http_port`` (and a free SQL port) with its database in ``directory``."""
    ini = VIRTUOSO_INI.read_text(encoding="utf-8")
    ini = ini.replace("/var/lib/virtuoso-opensource-7/db/", f"{directory}/")
    ini = ini.replace("ServerPort               = 1111", f"ServerPort = {free_port()}")
    ini = ini.replace("ServerPort                  = 8890", f"ServerPort = {http_port}")
    (directory / "virtuoso.ini").write_text(ini, encoding="utf-8")
    command = [VIRTUOSO, "+configfile", str(directory / "virtuoso.ini"), "+foreground"]
    return subprocess.Popen(
        command, cwd=directory, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
