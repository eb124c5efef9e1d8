"""Load test of the public endpoint: many clients, runaway and malformed queries among them.

    python bench/load.py [--duration 20] [--clients 16] [--timeout 3]

Starts ``palmyra-graph serve`` on a free loopback port with a short query time budget, then
for ``--duration`` seconds drives it with closed-loop clients (``bench/loadgen.py``'s raw
HTTP/1.1 client): most send the valid query mix of ``bench/run.py`` (entity lookup,
provenance join, aggregate), one sends runaway queries (stopped at the budget: 503), one
sends malformed queries (400), two ask for the whole graph (large results). Reports
requests served per kind, statuses, errors on valid and large queries (must be zero),
p50/p99 latency of the valid ones, and the peak memory (PSS, psutil) of the server with all
its processes. Results go to ``bench/results/load.{json,md}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from loadgen import _read_response as read_response  # noqa: E402
from loadgen import get_request  # noqa: E402
from run import QUERIES  # noqa: E402

from palmyra_graph.testing import LiveServer  # noqa: E402

#: The whole graph, about 200 KB as JSON: a flood of these must not grow memory without bound.
LARGE = "SELECT * WHERE { ?s ?p ?o }"
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?x . ?b ?q ?y . ?c ?r ?z . ?d ?t ?w }"
MALFORMED = [
    "SELECT * WHERE { ?s ?p ",
    "ASK { ?s <http://e/p> }",
    "INSERT DATA { <http://e/a> <http://e/b> <http://e/c> }",
    "SELECT * WHERE { SERVICE <http://127.0.0.1:1/> { ?s ?p ?o } }",
]


@dataclass
class Tally:
    """Statuses and latencies of one kind of client."""

    statuses: dict[int, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)

    def add(self, status: int, seconds: float) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1
        self.latencies.append(seconds)


async def client(url: str, queries: list[str], stop_at: float, tally: Tally) -> None:
    """One keep-alive connection sending ``queries`` in turn until ``stop_at``."""
    requests = [get_request(url, q, "application/sparql-results+json") for q in queries]
    host, port, _ = requests[0]
    reader, writer = await asyncio.open_connection(host, port)
    sent = 0
    try:
        while time.perf_counter() < stop_at:
            raw = requests[sent % len(requests)][2]
            sent += 1
            started = time.perf_counter()
            writer.write(raw)
            status, keep = await read_response(reader)
            tally.add(status, time.perf_counter() - started)
            if not keep:
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
    finally:
        writer.close()


async def drive(url: str, clients: int, duration: float) -> dict[str, Tally]:
    """Run every client for ``duration`` seconds: one runaway, one malformed, two asking for
    large results, the rest the valid mix."""
    tallies = {"valid": Tally(), "runaway": Tally(), "malformed": Tally(), "large": Tally()}
    stop_at = time.perf_counter() + duration
    valid = [query for query, _heavy in QUERIES.values()]
    tasks = [client(url, valid, stop_at, tallies["valid"]) for _ in range(clients - 4)]
    tasks += [client(url, [LARGE], stop_at, tallies["large"]) for _ in range(2)]
    tasks.append(client(url, [RUNAWAY], stop_at, tallies["runaway"]))
    tasks.append(client(url, MALFORMED, stop_at, tallies["malformed"]))
    await asyncio.gather(*tasks)
    return tallies


class PeakMemory(threading.Thread):
    """Samples the PSS of a process and all its descendants every 100 ms."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.root = psutil.Process(pid)
        self.peak_mb = 0.0
        self.running = True

    def run(self) -> None:
        while self.running:
            total = 0
            for process in [self.root, *self.root.children(recursive=True)]:
                try:
                    total += process.memory_full_info().pss
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
            self.peak_mb = max(self.peak_mb, total / 2**20)
            time.sleep(0.1)


def percentile(values: list[float], fraction: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(fraction * 100) - 1]


def summary(tallies: dict[str, Tally], duration: float, peak_mb: float) -> dict[str, object]:
    valid = tallies["valid"]
    errors = sum(
        n
        for kind in ("valid", "large")
        for status, n in tallies[kind].statuses.items()
        if status != 200
    )
    return {
        "duration_s": duration,
        "requests": {kind: sum(t.statuses.values()) for kind, t in tallies.items()},
        "statuses": {kind: t.statuses for kind, t in tallies.items()},
        "valid_errors": errors,
        "valid_rps": round(sum(valid.statuses.values()) / duration, 1),
        "valid_p50_ms": round(percentile(valid.latencies, 0.5) * 1000, 2),
        "valid_p99_ms": round(percentile(valid.latencies, 0.99) * 1000, 2),
        "large_p50_ms": round(percentile(tallies["large"].latencies, 0.5) * 1000, 2),
        "runaway_p50_s": round(statistics.median(tallies["runaway"].latencies), 2),
        "peak_memory_mb": round(peak_mb, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--timeout", type=float, default=3.0, help="the server's query budget")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args()

    server = LiveServer("--query-timeout", str(args.timeout))
    monitor = PeakMemory(server.process.pid)
    monitor.start()
    try:
        tallies = asyncio.run(drive(f"{server.url}/sparql", args.clients, args.duration))
    finally:
        monitor.running = False
        server.stop()
    result = summary(tallies, args.duration, monitor.peak_mb)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "load.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    lines = ["| measure | value |", "|---|---|"] + [f"| {k} | {v} |" for k, v in result.items()]
    (args.out / "load.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    if result["valid_errors"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
