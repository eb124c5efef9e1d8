"""Load test of the public endpoint under attack: valid clients beside hostile ones.

    python bench/load.py [--duration 20] [--clients 12] [--timeout 3] [--hostile 1000]

Starts ``palmyra-graph serve`` on a free loopback port with a short query time budget, then
for ``--duration`` seconds drives it with closed-loop clients (``bench/loadgen.py``), each kind
from its own loopback address (127.0.0.x), as a real attack comes from its own hosts:

- valid: the query mix of ``bench/run.py`` (entity lookup, provenance join, aggregate), and
  two clients asking for the whole graph (large results);
- flood: one address sending runaway queries on 8 connections at once (stopped at the
  budget with 503, or refused with 429 past the per-client limits);
- malformed queries (400/403), queries nested deeper than the guard allows (400), chunked
  bodies over the size limit (413);
- ``--hostile`` connections that never finish their request head (slowloris, one byte every
  few seconds) and as many that connect and send nothing, from two more addresses.

Reports per kind the requests answered and their statuses; for the valid clients the
requests per second, p50 and p99 latency and the errors (any non-200 on a valid query fails
the run, exit 1); the peak memory (PSS, psutil) of the server with all its processes.
Results go to ``bench/results/load.{json,md}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from loadgen import closed_loop, get_request, post_request  # noqa: E402
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
    "PREFIX : <http://127.0.0.1:1/> SELECT * WHERE { SERVICE:x { ?s ?p ?o } }",
]
#: Past the guard's nesting limit: it crashed the engine before the guard counted.
DEEP = "SELECT * WHERE " + "{" * 10_000 + " ?s ?p ?o " + "}" * 10_000
#: Cut at the 1 MB limit this would still be a valid query.
OVERSIZE = b"ASK { ?s ?p ?o } #" + b"x" * 1_100_000
JSON = "application/sparql-results+json"
#: Each kind of hostile client comes from its own loopback address; each valid client has
#: one of its own (127.0.1.x), as distinct users do.
ADDRESSES = {
    "flood": "127.0.0.2",
    "malformed": "127.0.0.4",
    "deep": "127.0.0.5",
    "oversize": "127.0.0.6",
    "slowloris": "127.0.0.7",
    "idle": "127.0.0.8",
}


@dataclass
class Tally:
    """Statuses and latencies of one kind of client."""

    statuses: dict[int, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    #: what each kind of error said, and how often
    errors: dict[str, int] = field(default_factory=dict)

    def add(self, status: int, seconds: float, said: bytes) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1
        self.latencies.append(seconds)
        if said:
            reason = f"{status} {said.decode('utf-8', 'replace').strip()[:80]}"
            self.errors[reason] = self.errors.get(reason, 0) + 1


async def hold(host: str, port: int, address: str, stop_at: float, *, slow: bool) -> int:
    """One hostile connection kept open until ``stop_at``: it connects again whenever the
    server closes it (after a second, when that came at once, as a refusal does); slow ones
    dribble a request head that never ends. Returns how many times the server closed it."""
    closed = 0
    while time.perf_counter() < stop_at:
        opened = time.perf_counter()
        if closed:
            await asyncio.sleep(max(0.0, 1.0 - (time.perf_counter() - opened)))
        try:
            reader, writer = await asyncio.open_connection(host, port, local_addr=(address, 0))
        except OSError:
            closed += 1
            continue
        try:
            if slow:
                writer.write(b"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: x\r\n")
            while time.perf_counter() < stop_at and not reader.at_eof():
                if slow:
                    writer.write(b"X")
                    await writer.drain()
                try:
                    await asyncio.wait_for(reader.read(1024), timeout=3.0)
                except asyncio.TimeoutError:
                    continue
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()
        closed += 1
    return closed


async def drive(url: str, clients: int, duration: float, *, calm: bool) -> dict[str, Tally]:
    """Every client for ``duration`` seconds (see the module doc)."""
    kinds = ("valid", "large", "flood", "malformed", "deep", "oversize")
    tallies = {kind: Tally() for kind in kinds}
    host, port, _ = get_request(url, "ASK {}", JSON)
    stop_at = time.perf_counter() + duration

    def loop(kind: str, requests: list[bytes], address: str | None = None) -> object:
        local = (address or ADDRESSES[kind], 0)
        return closed_loop(host, port, requests, stop_at, tallies[kind].add, local_addr=local)

    valid = [get_request(url, q, JSON)[2] for q, _heavy in QUERIES.values()]
    tasks = [loop("valid", valid, f"127.0.1.{i + 1}") for i in range(clients)]
    large = [get_request(url, LARGE, JSON)[2]]
    tasks += [loop("large", large, f"127.0.2.{i + 1}") for i in range(2)]
    if calm:
        await asyncio.gather(*tasks, return_exceptions=True)
        return tallies
    tasks += [loop("flood", [get_request(url, RUNAWAY, JSON)[2]]) for _ in range(8)]
    tasks.append(loop("malformed", [get_request(url, q, JSON)[2] for q in MALFORMED]))
    tasks.append(loop("deep", [post_request(url, DEEP.encode(), JSON)]))
    tasks.append(loop("oversize", [post_request(url, OVERSIZE, JSON, chunked=True)]))
    await asyncio.gather(*tasks, return_exceptions=True)
    return tallies


def hold_many(url: str, hostile: int, duration: float) -> None:
    """The slowloris and idle connections, in a process of their own: their event loop must
    not slow the valid clients' down, or the measure would be of the load generator."""
    host, port, _ = get_request(url, "ASK {}", JSON)
    stop_at = time.perf_counter() + duration

    async def everyone() -> None:
        holders = [
            hold(host, port, ADDRESSES[kind], stop_at, slow=kind == "slowloris")
            for kind in ("slowloris", "idle")
            for _ in range(hostile)
        ]
        await asyncio.gather(*holders, return_exceptions=True)

    asyncio.run(everyone())


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
    if len(values) < 2:
        return values[0] if values else float("nan")
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
        "valid_error_reasons": {**tallies["valid"].errors, **tallies["large"].errors},
        "valid_rps": round(sum(valid.statuses.values()) / duration, 1),
        "valid_p50_ms": round(percentile(valid.latencies, 0.5) * 1000, 2),
        "valid_p99_ms": round(percentile(valid.latencies, 0.99) * 1000, 2),
        "large_p50_ms": round(percentile(tallies["large"].latencies, 0.5) * 1000, 2),
        "flood_p50_s": round(percentile(tallies["flood"].latencies, 0.5), 3),
        "peak_memory_mb": round(peak_mb, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=12, help="valid clients")
    parser.add_argument("--hostile", type=int, default=1000, help="slowloris and idle, each")
    parser.add_argument("--timeout", type=float, default=3.0, help="the server's query budget")
    parser.add_argument("--calm", action="store_true", help="the valid clients alone")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args()
    if args.calm:
        args.hostile = 0

    server = LiveServer("--query-timeout", str(args.timeout))
    monitor = PeakMemory(server.process.pid)
    monitor.start()
    url = f"{server.url}/sparql"
    holders = multiprocessing.get_context("spawn").Process(
        target=hold_many, args=(url, args.hostile, args.duration + 2)
    )
    holders.start()
    try:
        time.sleep(2.0)  # the hostile connections are open before the clients start
        tallies = asyncio.run(drive(url, args.clients, args.duration, calm=args.calm))
    finally:
        monitor.running = False
        holders.join(timeout=10)
        server.stop()
    result = summary(tallies, args.duration, monitor.peak_mb)
    args.out.mkdir(parents=True, exist_ok=True)
    name = "load-calm" if args.calm else "load"
    (args.out / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    lines = ["| measure | value |", "|---|---|"] + [f"| {k} | {v} |" for k, v in result.items()]
    (args.out / f"{name}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    if result["valid_errors"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
