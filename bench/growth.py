"""How cost grows with size: load time, size on disk, peak memory and query latency.

For each size (synthetic offensives from ``generate.py`` added to the bundled ontology and
data, so the ``queries/*.rq`` questions keep their answers), three back ends:

- ``memory``: the in-memory store (``loader.load``), as ``serve --data`` uses it;
- ``disk``: ``load --store`` (bulk load), then opened read-only as ``serve --store`` does;
  also the time until ``serve --store`` listens (start-up should not grow with size);
- ``server``: an Oxigraph server on loopback, filled by ``push`` (GSP), queried over HTTP;
- ``server-bulk`` (not by default): the same server on a store filled by its own bulk loader
  (``oxigraph load``), for sizes where ``push``'s one transaction takes too long (10^7).

Each back end runs in its own process; peak memory is the largest resident set and the
largest proportional set size (PSS: shared pages divided among the processes that map them;
psutil, sampled every 20 ms and 200 ms) of that process (and, for ``server``, of the Oxigraph
server). Latency: each question's median over REPEATS runs, then the median of those and the
95th percentile of every run of every question.
Results go to ``bench/results/growth.{json,md,png}``.

And ``validate`` (every bundled shape) on the same files, in a process of its own: seconds
in pySHACL, seconds in all (load included), peak memory, and the violations it found
(``bench/results/growth-validation.{json,md}``; ``--validation-only`` for these alone).

    python bench/growth.py                      # 10^4, 10^5, 10^6
    python bench/growth.py --sizes 10000 --sizes 10000000
    python bench/growth.py --validation-only --sizes 1000000
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
sys.path.insert(0, str(HERE))

from generate import cached_file  # noqa: E402
from run import OXIGRAPH  # noqa: E402

from palmyra_graph.graph import resources  # noqa: E402
from palmyra_graph.testing import LiveServer, free_port, port_answers, wait_until  # noqa: E402

BACKENDS = ("memory", "disk", "server")
#: Runs of each question after its warm-up: with 5, a sub-millisecond question's median
#: moved by 20-40 % between runs at 10^6 and 10^7 (publishers 0.36-0.52 ms), past the
#: margin the 2x rule leaves; each run is a millisecond or two, so 25 cost little.
REPEATS = 25


def query_files() -> list[Path]:
    """The questions to time, less those named in GROWTH_SKIP (``--skip``; passed to the
    per-back-end processes through the environment)."""
    skip = set(filter(None, os.environ.get("GROWTH_SKIP", "").split(",")))
    return [p for p in sorted(resources.QUERIES_DIR.glob("*.rq")) if p.stem not in skip]


def latencies(run: Callable[[str], object]) -> dict[str, Any]:
    """Median milliseconds of each ``queries/*.rq`` over REPEATS runs (after one warm-up), and
    the 95th percentile of all those runs together."""
    result: dict[str, float] = {}
    every: list[float] = []
    for path in query_files():
        text = path.read_text(encoding="utf-8")
        run(text)
        times = []
        for _ in range(REPEATS):
            started = time.perf_counter()
            run(text)
            times.append((time.perf_counter() - started) * 1000)
        result[path.stem] = statistics.median(times)
        every.extend(times)
    p95 = statistics.quantiles(every, n=20)[-1] if len(every) > 1 else sum(every)
    return {"latency_ms": result, "p95_ms": p95}


def _drain(raw: Any) -> object:
    """Consume a result fully, as a server would when it writes the answer out."""
    return raw if isinstance(raw, bool) else list(raw) if hasattr(raw, "__iter__") else raw


# --- one back end, in a child process ------------------------------------------------


def run_memory(files: list[Path]) -> dict[str, Any]:
    from palmyra_graph.query.engine import OxigraphEngine

    started = time.perf_counter()
    engine = OxigraphEngine.from_files(files)
    load = time.perf_counter() - started
    lat = latencies(lambda q: _drain(engine.query(q).raw))
    return {"load_s": load, "disk_mb": 0.0, **lat}


def run_disk(files: list[Path]) -> dict[str, Any]:
    from palmyra_graph.query.store import load_store, open_engine, size_on_disk

    with tempfile.TemporaryDirectory(prefix="growth-") as tmp:
        directory = Path(tmp) / "store"
        report = load_store(directory, files)
        started = time.perf_counter()
        engine = open_engine(directory)
        opened = time.perf_counter() - started
        lat = latencies(lambda q: _drain(engine.query(q).raw))
        return {
            "load_s": report.seconds,
            "open_s": opened,
            "disk_mb": size_on_disk(directory) / 1e6,
            **lat,
            "startup_s": serve_startup(directory),
        }


def serve_startup(directory: Path) -> float:
    """Seconds from launching ``serve --store DIR`` until it accepts connections."""
    started = time.perf_counter()
    server = LiveServer("--store", str(directory), env={"PALMYRA_WORKERS": "1"}, timeout=600)
    elapsed = time.perf_counter() - started
    server.stop()
    return elapsed


def run_server(files: list[Path]) -> dict[str, Any]:
    from palmyra_graph.query.push import push, staged

    def fill(base: str) -> None:
        with staged(files) as parts:
            push(parts, to=f"{base}/store")

    with tempfile.TemporaryDirectory(prefix="growth-server-") as tmp:
        return _on_oxigraph_server("serve", tmp, fill)


def run_server_bulk(files: list[Path]) -> dict[str, Any]:
    """Oxigraph's server on a store its own bulk loader filled (``oxigraph load``, each file
    into the graph ``push`` would name, as a user of the peer would load a large dump), then
    queried over HTTP like ``server``; peak memory is the server's, while it answers."""
    from palmyra_graph.graph.loader import graph_name

    with tempfile.TemporaryDirectory(prefix="growth-server-bulk-") as tmp:
        started = time.perf_counter()
        for path in files:
            load = [OXIGRAPH, "load", "--location", tmp, "--file", str(path)]
            subprocess.run([*load, "--graph", graph_name(path)], check=True, capture_output=True)
        loaded = time.perf_counter() - started
        return {**_on_oxigraph_server("serve-read-only", tmp, None), "load_s": loaded}


def _on_oxigraph_server(
    mode: str, location: str, fill: Callable[[str], None] | None
) -> dict[str, Any]:
    """``oxigraph MODE`` on ``location``: filled through its base URL by ``fill`` (timed, as
    ``load_s``), then each question timed over HTTP; the server's own peak memory."""
    from palmyra_graph.query.remote import RemoteEngine
    from palmyra_graph.query.store import size_on_disk

    port = free_port()
    server = subprocess.Popen(
        [OXIGRAPH, mode, "--location", location, "--bind", f"127.0.0.1:{port}",
         "--union-default-graph"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    sampler = PeakSampler(server.pid).start()
    try:
        _wait_for_port(port)
        base = f"http://127.0.0.1:{port}"
        started = time.perf_counter()
        if fill is not None:
            fill(base)
        load = time.perf_counter() - started
        engine = RemoteEngine(f"{base}/query", timeout=600)
        lat = latencies(lambda q: _drain(engine.query(q).raw))
        disk = size_on_disk(Path(location)) / 1e6
    finally:
        server.terminate()
        server.wait(timeout=30)
        sampler.stop()
    return {
        "load_s": load,
        "disk_mb": disk,
        **lat,
        "server_peak_mb": sampler.peak_mb,
        "server_pss_mb": sampler.pss_mb,
    }


def _wait_for_port(port: int, timeout: float = 30) -> None:
    wait_until(lambda: port_answers(port), what=f"oxigraph on port {port}", timeout=timeout)


RUNNERS = {
    "memory": run_memory,
    "disk": run_disk,
    "server": run_server,
    "server-bulk": run_server_bulk,
}


# --- validation time per size -------------------------------------------------------

DEFAULT_SIZES = [10**4, 10**5, 10**6]


def run_validate(files: list[Path]) -> dict[str, Any]:
    """``validate`` on ``files`` (in the child process, as a back end is)."""
    from palmyra_graph.graph.validate import validate

    started = time.perf_counter()
    report = validate(files)
    total = time.perf_counter() - started
    counts = report.to_dict()["counts"]
    return {"validate_s": report.seconds, "total_s": total, "violations": counts["Violation"]}


RUNNERS["validate"] = run_validate


def report_validation(sizes: list[int]) -> None:
    """Validate the bundled data plus each size of synthetic data; write and print a table."""
    rows = []
    for size in sizes:
        row = measure("validate", size)
        row["triples"] = _line_count(cached_file(size)) + _bundled_triples()
        rows.append(row)
    lines = [
        "| triples | SHACL s | validate() s, load and report included | peak MB | violations |",
        "|---:|---:|---:|---:|---:|",
        *(
            f"| {r['triples']:,} | {r['validate_s']:.1f} | {r['total_s']:.1f} "
            f"| {r['peak_mb']:.0f} | {r['violations']:,} |"
            for r in rows
        ),
    ]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "growth-validation.json").write_text(json.dumps(rows, indent=2), encoding="utf-8")
    (RESULTS / "growth-validation.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


# --- the driver -----------------------------------------------------------------------


class PeakSampler:
    """Samples the resident set size of one process (not its children) every 20 ms, and its
    proportional set size every 200 ms (reading smaps costs more); keeps each peak."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.peak = 0
        self.pss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> PeakSampler:
        self._thread.start()
        return self

    def _run(self) -> None:
        ticks = 0
        while not self._stop.wait(0.02):
            with contextlib.suppress(psutil.Error):
                self.peak = max(self.peak, self.process.memory_info().rss)
                if ticks % 10 == 0:
                    self.pss = max(self.pss, self.process.memory_full_info().pss)
            ticks += 1

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak_mb(self) -> float:
        return self.peak / 1e6

    @property
    def pss_mb(self) -> float:
        return self.pss / 1e6


def measure(backend: str, size: int) -> dict[str, Any]:
    """Run one back end on one size in a child process; returns its figures."""
    synthetic = cached_file(size)
    files = [str(p) for p in [*resources.default_data_files(), synthetic]]
    command = [sys.executable, __file__, "--one", backend, *files]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    sampler = PeakSampler(child.pid).start()
    out, _ = child.communicate()
    sampler.stop()
    if child.returncode != 0:
        raise RuntimeError(f"{backend} at {size} failed with exit {child.returncode}")
    figures: dict[str, Any] = json.loads(out)
    figures.update(backend=backend, size=size, peak_mb=sampler.peak_mb, pss_mb=sampler.pss_mb)
    if backend.startswith("server"):  # the client's memory is not the store's: the server's
        figures["client_peak_mb"] = figures["peak_mb"]
        figures["peak_mb"] = figures.pop("server_peak_mb")
        figures["pss_mb"] = figures.pop("server_pss_mb")
    return figures


def table(rows: list[dict[str, Any]]) -> str:
    """A Markdown table of the figures."""
    lines = [
        "| triples | back end | load s | open s | serve start s | disk MB | peak MB | peak PSS MB "
        "| median query ms | p95 query ms | slowest query ms |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lat = row["latency_ms"]
        slowest = max(lat, key=lat.get) if lat else "-"
        lines.append(
            f"| {row['triples']:,} | {row['backend']} | {row['load_s']:.2f} "
            f"| {_opt(row, 'open_s', '.3f')} | {_opt(row, 'startup_s', '.2f')} "
            f"| {row['disk_mb']:.1f} | {row['peak_mb']:.0f} | {row.get('pss_mb', 0):.0f} "
            f"| {statistics.median(lat.values()):.2f} | {row.get('p95_ms', 0):.2f} "
            f"| {lat.get(slowest, 0):.1f} ({slowest}) |"
        )
    return "\n".join(lines)


def _opt(row: dict[str, Any], key: str, fmt: str) -> str:
    return format(row[key], fmt) if key in row else "-"


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    """Four log-log panels (load, disk, memory, latency) against triples, one line per back end."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [
        ("load_s", "load time (s)"),
        ("disk_mb", "size on disk (MB)"),
        ("peak_mb", "peak memory (MB)"),
        ("median_ms", "median query latency (ms)"),
    ]
    fig, axes = plt.subplots(2, 2, figsize=(11, 8))
    for ax, (key, title) in zip(axes.flat, panels, strict=True):
        for backend in dict.fromkeys(r["backend"] for r in rows):
            points = [
                (r["triples"], r[key]) for r in rows if r["backend"] == backend and r[key] > 0
            ]
            if points:
                ax.plot(*zip(*points, strict=True), marker="o", label=backend)
        ax.set(xscale="log", yscale="log", title=title, xlabel="triples")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    fig.suptitle("palmyra-graph: growth with synthetic offensives (2 cores)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, action="append", help="synthetic triples")
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument(
        "--skip", action="append", default=[], help="a question of queries/ not to time"
    )
    parser.add_argument("--validation-only", action="store_true", help="time validate alone")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("files", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.skip:
        os.environ["GROWTH_SKIP"] = ",".join(args.skip)
    if args.one:
        print(json.dumps(RUNNERS[args.one]([Path(f) for f in args.files])))
        return 0
    if args.validation_only:
        report_validation(args.sizes or DEFAULT_SIZES)
        return 0
    rows = []
    for size in args.sizes or [10**4, 10**5, 10**6]:
        for backend in args.backends.split(","):
            row = measure(backend, size)
            row["triples"] = _line_count(cached_file(size)) + _bundled_triples()
            row["median_ms"] = statistics.median(row["latency_ms"].values())
            rows.append(row)
            print(table([row]).splitlines()[-1], file=sys.stderr, flush=True)
            _write(rows)  # after every row: a long run that fails later keeps what it measured
    plot(rows, RESULTS / "growth.png")
    print(table(rows))
    print(f"\nwritten: {RESULTS}/growth.{{json,md,png}}")
    report_validation(args.sizes or DEFAULT_SIZES)
    return 0


def _write(rows: list[dict[str, Any]]) -> None:
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "growth.json").write_text(json.dumps(rows, indent=2), encoding="utf-8")
    (RESULTS / "growth.md").write_text(table(rows) + "\n", encoding="utf-8")


def _line_count(path: Path) -> int:
    with path.open("rb") as stream:
        return sum(1 for _ in stream)


def _bundled_triples() -> int:
    from palmyra_graph.graph.loader import load

    return len(load().store)


if __name__ == "__main__":
    sys.exit(main())
