"""Benchmark: this endpoint against Oxigraph's own server and rdflib-endpoint, on the same data.

    python bench/run.py [--duration 5] [--triples 1000000] [--out DIR]

Each dataset (the bundled graph; the bundled graph plus a synthetic graph of about
``--triples`` triples from ``bench/generate.py``) is served five ways, one at a time on a free
loopback port: ``palmyra-graph serve`` with 1 and with 2 workers (granian); Oxigraph's own Rust
server, the ceiling for this engine, twice: ``oxigraph serve-read-only`` on an on-disk store
(RocksDB) and ``oxigraph serve`` in memory (as our store is; loaded over the Graph Store
Protocol); and ``rdflib-endpoint serve`` (uvicorn + rdflib: the Python peer). Each is driven
by the same closed-loop client (``bench/loadgen.py``: wrk when installed) with each query of
the mix. Before timing, every server must give the
same number of answers to every query, so the servers are compared on the same work.

Printed and written to ``DIR/results.md`` and ``DIR/results.json`` (and ``DIR/throughput.png``
when matplotlib is present): requests per second, median and p99 latency, the resident memory
(PSS) of each server after loading, and the ratios of this endpoint to both peers.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "src"))

import loadgen  # noqa: E402

from palmyra_graph.graph.resources import default_data_files  # noqa: E402
from palmyra_graph.testing import free_port  # noqa: E402

BIN = Path(sys.executable).parent
#: Oxigraph's own server and CLI, from the `oxigraph` package (the dev extra).
OXIGRAPH = str(BIN / "oxigraph")
ENTITY = "https://w3id.org/palmyra/id/palmyra-offensive-2017"
PREFIXES = """PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX pal: <https://w3id.org/palmyra/ontology#>
"""
#: The query mix: name -> (query, heavy?). Heavy queries scan the whole graph.
QUERIES: dict[str, tuple[str, bool]] = {
    "entity lookup": (f"SELECT ?p ?o WHERE {{ <{ENTITY}> ?p ?o }}", False),
    "provenance join": (
        PREFIXES
        + f"""SELECT ?p ?o ?source ?number WHERE {{
  ?claim rdf:subject <{ENTITY}> ; rdf:predicate ?p ; rdf:object ?o ;
         prov:wasDerivedFrom ?source .
  OPTIONAL {{ ?source pal:referenceNumber ?number }}
}}""",
        False,
    ),
    "aggregate": (
        PREFIXES
        + """SELECT ?source (COUNT(?claim) AS ?claims) WHERE {
  ?claim a rdf:Statement ; prov:wasDerivedFrom ?source .
} GROUP BY ?source ORDER BY DESC(?claims) ?source LIMIT 10""",
        True,
    ),
}


@dataclass
class Server:
    """A server to benchmark: how to start it and where its SPARQL endpoint is."""

    name: str
    command: list[str]
    url: str
    port: int
    #: Loads the data once the server is up (for servers that load over HTTP).
    load: Callable[[], None] | None = field(default=None, repr=False)


def palmyra(files: list[Path], workers: int) -> Server:
    port = free_port()
    command = [str(BIN / "palmyra-graph"), "serve", "--port", str(port), "--workers", str(workers)]
    for path in files:
        command += ["--data", str(path)]
    return Server(
        f"palmyra ({workers} worker{'s' * (workers > 1)})",
        command,
        f"http://127.0.0.1:{port}/sparql",
        port,
    )


def oxigraph(files: list[Path], location: Path) -> Server:
    for path in files:
        subprocess.run(
            [OXIGRAPH, "load", "--location", str(location), "--file", str(path)],
            check=True,
            capture_output=True,
        )
    port = free_port()
    command = [
        OXIGRAPH,
        "serve-read-only",
        "--location",
        str(location),
        "--bind",
        f"127.0.0.1:{port}",
    ]
    return Server("oxigraph read-only", command, f"http://127.0.0.1:{port}/query", port)


def oxigraph_memory(files: list[Path]) -> Server:
    port = free_port()
    command = [OXIGRAPH, "serve", "--bind", f"127.0.0.1:{port}"]

    def load() -> None:
        for path in files:
            media = "application/n-triples" if path.suffix == ".nt" else "text/turtle"
            with path.open("rb") as body:
                requests.post(
                    f"http://127.0.0.1:{port}/store?default",
                    data=body,
                    timeout=600,
                    headers={"Content-Type": media},
                ).raise_for_status()

    return Server("oxigraph in-memory", command, f"http://127.0.0.1:{port}/query", port, load)


def rdflib_endpoint(files: list[Path]) -> Server:
    port = free_port()
    command = [
        str(BIN / "rdflib-endpoint"),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        *map(str, files),
    ]
    return Server("rdflib-endpoint", command, f"http://127.0.0.1:{port}/", port)


@contextmanager
def running(server: Server, log: Path, *, timeout: float = 600.0) -> Iterator[float]:
    """Start ``server``, wait until it answers ASK and is warm, yield its memory (MB); stop it
    after."""
    with log.open("w") as out:
        process = subprocess.Popen(
            server.command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        _wait_ready(server, process, timeout)
        if server.load is not None:
            server.load()
        _warm(server, timeout)
        yield _memory_mb(process.pid)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _warm(server: Server, timeout: float) -> None:
    """Send concurrent trivial queries until every one is answered within a second: a server
    that starts helpers on first use (palmyra's query worker processes, one pool per server
    process) has then started them all, outside the timed runs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = loadgen.run(server.url, "ASK {}", duration=1.0, max_wait=timeout, use_wrk=False)
        # Requests still in flight when the run ends are always counted unfinished in a
        # closed loop; what matters is that every finished one was quick.
        if result.completed and max(result.latencies) < 1.0:
            return
    raise RuntimeError(f"{server.name} did not settle within {timeout} s")


def _wait_ready(server: Server, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{server.name} exited with {process.returncode}")
        try:
            answer = requests.get(
                server.url,
                params={"query": "ASK {}"},
                timeout=5,
                headers={"Accept": "application/sparql-results+json"},
            )
            if answer.ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{server.name} not ready within {timeout} s")


def _memory_mb(pid: int) -> float:
    """Proportional set size of the server's processes: memory shared by forked workers
    (the parent's pages after a fork) is counted once, not once per process as RSS would."""
    try:
        import psutil
    except ImportError:
        return float("nan")
    parent = psutil.Process(pid)
    total = 0
    for process in [parent, *parent.children(recursive=True)]:
        try:
            total += process.memory_full_info().pss
        except psutil.NoSuchProcess:  # a query worker that retired meanwhile
            continue
    return total / 2**20


def answer_count(server: Server, query: str, timeout: float) -> int | None:
    """How many solutions ``server`` gives to ``query`` (to check that all agree), or None
    when it does not answer within ``timeout`` seconds."""
    try:
        response = requests.get(
            server.url,
            params={"query": query},
            timeout=timeout,
            headers={"Accept": "application/sparql-results+json"},
        )
    except requests.Timeout:
        return None
    response.raise_for_status()
    return len(response.json()["results"]["bindings"])


def bench_server(server: Server, log: Path, args: argparse.Namespace) -> dict[str, object]:
    """Every query of the mix against one server: counts, throughput, latency, memory."""
    print(f"  {server.name}: starting", flush=True)
    with running(server, log) as memory:
        row: dict[str, object] = {"server": server.name, "pss_mb": round(memory, 1), "queries": {}}
        for name, (query, heavy) in QUERIES.items():
            started = time.perf_counter()
            count = answer_count(server, query, args.max_wait)
            single = time.perf_counter() - started  # one request alone, nothing else running
            if count is None:  # slower than the bound: one unanswered request, not timed
                row["queries"][name] = _timed_out(time.perf_counter() - started, heavy)  # type: ignore[index]
                print(f"    {name:16} no answer within {args.max_wait} s", flush=True)
                continue
            loadgen.run(
                server.url,
                query,
                connections=args.connections,
                duration=0.5,
                max_wait=args.max_wait,
            )  # warm-up
            result = loadgen.run(
                server.url,
                query,
                connections=args.connections,
                duration=args.duration,
                max_wait=args.max_wait,
            )
            row["queries"][name] = _summary(result, count, heavy, single)  # type: ignore[index]
            print(f"    {name:16} {_line(row['queries'][name])}", flush=True)  # type: ignore[index]
    return row


def _summary(
    result: loadgen.RunResult, count: int, heavy: bool, single: float
) -> dict[str, object]:
    median, p99 = result.percentile(0.5), result.percentile(0.99)
    return {
        "answers": count,
        "single_ms": round(single * 1000, 1),
        "heavy": heavy,
        "requests": result.completed,
        "errors": result.errors,
        "unfinished": result.unfinished,
        "client": result.client,
        "seconds": round(result.elapsed, 2),
        "rps": round(result.throughput, 1),
        "median_ms": round(median * 1000, 2) if median is not None else None,
        "p99_ms": round(p99 * 1000, 2) if p99 is not None else None,
    }


def _timed_out(seconds: float, heavy: bool) -> dict[str, object]:
    return {
        "answers": None,
        "single_ms": None,
        "heavy": heavy,
        "requests": 0,
        "errors": 0,
        "unfinished": 1,
        "client": f"no answer in {seconds:.0f} s",
        "seconds": round(seconds, 1),
        "rps": 0.0,
        "median_ms": None,
        "p99_ms": None,
        "timed_out": True,
    }


def _line(summary: dict[str, object]) -> str:
    return (
        f"{summary['rps']:>9} req/s  median {summary['median_ms']} ms  p99 "
        f"{summary['p99_ms']} ms  ({summary['requests']} ok, {summary['errors']} errors, "
        f"{summary['answers']} answers)"
    )


def bench_dataset(
    label: str, files: list[Path], work: Path, args: argparse.Namespace
) -> dict[str, object]:
    """Serve one dataset four ways; check the answers agree; return every measurement."""
    print(f"\n== {label}", flush=True)
    servers = [
        palmyra(files, 1),
        palmyra(files, 2),
        oxigraph(files, work / f"oxigraph-{label.split()[0]}"),
        oxigraph_memory(files),
    ]
    if not args.skip_rdflib:
        servers.append(rdflib_endpoint(files))
    rows = [bench_server(s, work / f"{s.name.split()[0]}-{s.port}.log", args) for s in servers]
    for name in QUERIES:
        counts = {row["server"]: row["queries"][name]["answers"] for row in rows}  # type: ignore[index]
        if len({c for c in counts.values() if c is not None}) != 1:
            raise SystemExit(f"servers disagree on {name!r}: {counts}")
    return {"dataset": label, "triples": _triples(files), "servers": rows}


def _triples(files: list[Path]) -> int:
    import pyoxigraph as ox

    from palmyra_graph.graph.loader import rdf_format

    return sum(sum(1 for _ in ox.parse(path=str(p), format=rdf_format(p))) for p in files)


def ratios(dataset: dict[str, object]) -> list[dict[str, object]]:
    """Per query: the best palmyra variant against each peer (throughput and median latency)."""
    rows = {row["server"]: row for row in dataset["servers"]}  # type: ignore[attr-defined]
    out = []
    for name in QUERIES:
        ours = max(
            (r for n, r in rows.items() if n.startswith("palmyra")),
            key=lambda r: r["queries"][name]["rps"],
        )
        entry: dict[str, object] = {"query": name, "palmyra": ours["server"]}
        for peer in PEERS:
            if peer not in rows:
                continue
            mine, theirs = ours["queries"][name], rows[peer]["queries"][name]
            if not theirs.get("timed_out") and not theirs["requests"]:
                # no answer under load within the bound: one process answers at most one
                # query per single-request time (it holds the GIL), so that bounds its rate
                bound = mine["rps"] * theirs["single_ms"] / 1000
                entry[f"rps_vs_{peer}"] = f">= {bound:.0f}"
                entry[f"median_vs_{peer}"] = f"<= {mine['median_ms'] / theirs['single_ms']:.3f}"
                continue
            if theirs.get("timed_out"):  # the peer gave no answer within `seconds`: bounds
                entry[f"rps_vs_{peer}"] = f"> {mine['rps'] * theirs['seconds']:.0f}"
                entry[f"median_vs_{peer}"] = (
                    f"< {mine['median_ms'] / (theirs['seconds'] * 1000):.3f}"
                )
                continue
            entry[f"rps_vs_{peer}"] = _ratio(mine["rps"], theirs["rps"])
            entry[f"median_vs_{peer}"] = _ratio(mine["median_ms"], theirs["median_ms"])
        out.append(entry)
    return out


PEERS = ("oxigraph in-memory", "oxigraph read-only", "rdflib-endpoint")


def _ratio(a: object, b: object) -> float | None:
    if not isinstance(a, int | float) or not isinstance(b, int | float) or not b:
        return None
    return round(a / b, 2)


def report(results: list[dict[str, object]]) -> str:
    """The results as Markdown tables."""
    lines = ["# Benchmark results", ""]
    for dataset in results:
        lines += [
            f"## {dataset['dataset']} ({dataset['triples']:,} triples)",
            "",
            "| server | query | req/s | median ms | p99 ms | alone ms | ok | client | PSS MB |",
            "|---|---|---:|---:|---:|---:|---:|---|---:|",
        ]
        for row in dataset["servers"]:  # type: ignore[attr-defined]
            for name, s in row["queries"].items():
                lines.append(
                    f"| {row['server']} | {name} | {s['rps']} | {s['median_ms']} | "
                    f"{s['p99_ms']} | {s['single_ms']} | {s['requests']} | {s['client']} | "
                    f"{row['pss_mb']} |"
                )
        lines += [
            "",
            "Ratios, best palmyra variant ÷ peer (req/s: higher is better; median "
            "latency: lower is better):",
            "",
            "| query | best palmyra | "
            + " | ".join(f"req/s ÷ {p} | median ÷ {p}" for p in PEERS)
            + " |",
            "|---|---|" + "---:|---:|" * len(PEERS),
        ]
        for r in ratios(dataset):
            cells = [f"{r.get(f'rps_vs_{p}')} | {r.get(f'median_vs_{p}')}" for p in PEERS]
            lines.append(f"| {r['query']} | {r['palmyra']} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def chart(results: list[dict[str, object]], path: Path) -> None:
    """A bar chart of throughput per server and query (skipped without matplotlib)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    fig, axes = plt.subplots(1, len(results), figsize=(6 * len(results), 4), squeeze=False)
    for axis, dataset in zip(axes[0], results, strict=True):
        servers = dataset["servers"]  # type: ignore[assignment]
        width = 0.8 / len(servers)  # type: ignore[arg-type]
        for i, row in enumerate(servers):  # type: ignore[arg-type]
            values = [row["queries"][q]["rps"] for q in QUERIES]
            axis.bar(
                [x + i * width for x in range(len(QUERIES))], values, width, label=row["server"]
            )
        axis.set_xticks([x + 0.4 - width / 2 for x in range(len(QUERIES))], list(QUERIES))
        axis.set_yscale("log")
        axis.set_ylabel("requests/s (log)")
        axis.set_title(f"{dataset['dataset']} ({dataset['triples']:,} triples)")
        axis.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=4.0, help="seconds per run")
    parser.add_argument("--connections", type=int, default=8, help="concurrent connections")
    parser.add_argument(
        "--max-wait", type=float, default=60.0, help="longest wait for a slow server's first answer"
    )
    parser.add_argument("--triples", type=int, default=1_000_000, help="synthetic graph size")
    parser.add_argument("--skip-rdflib", action="store_true", help="leave rdflib-endpoint out")
    parser.add_argument("--out", type=Path, default=HERE / "results", help="results folder")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    bundled = default_data_files()
    with tempfile.TemporaryDirectory(prefix="palmyra-bench-") as tmp:
        work = Path(tmp)
        synthetic = work / "synthetic.nt"
        subprocess.run(
            [
                sys.executable,
                str(HERE / "generate.py"),
                "--triples",
                str(args.triples),
                "-o",
                str(synthetic),
            ],
            check=True,
        )
        results = [bench_dataset("bundled graph", bundled, work, args)]
        results.append(bench_dataset("synthetic graph", [*bundled, synthetic], work, args))
        for log in work.glob("*.log"):
            shutil.copy(log, args.out / log.name)
    (args.out / "results.json").write_text(json.dumps(results, indent=2))
    text = report(results)
    (args.out / "results.md").write_text(text)
    chart(results, args.out / "throughput.png")
    print("\n" + text)


if __name__ == "__main__":
    main()
