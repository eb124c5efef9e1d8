"""``serve``'s process tree, started and stopped from the one process that supervises it.

This process (granian's supervisor) binds the public socket and hands it to the connection
gate (:mod:`palmyra_graph.server.gate`: per-address and total connection limits, header and
idle timeouts, size limits), which forwards checked requests to granian's server processes
on a private Unix socket; they send every /sparql query to the query broker
(:mod:`palmyra_graph.workers.broker`), which forks the workers that evaluate them. Every child
dies with its parent; SIGTERM drains: light queries in flight finish, runaways are stopped,
exit 0.

The app's settings reach the server processes whole, as one JSON value in
``PALMYRA_SERVE_SETTINGS`` that :func:`palmyra_graph.web.served_app` hands to ``create_app``;
the graph is loaded here first, so a file that does not parse stops start-up (exit 2) before
anything starts.
"""

from __future__ import annotations

import gc
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import FrameType
from typing import Any

from palmyra_graph.errors import QueryTimeout, RemoteError, SettingError
from palmyra_graph.query.engine import Engine
from palmyra_graph.query.remote import RemoteEngine
from palmyra_graph.server.addresses import server_url
from palmyra_graph.server.gate import GateSettings, gate_arguments
from palmyra_graph.web import SETTINGS_VARIABLE, create_app
from palmyra_graph.web.app import query_pool
from palmyra_graph.web.app import settings as app_settings
from palmyra_graph.web.context import engine_of
from palmyra_graph.web.dumps import lookup_directory, writer_command
from palmyra_graph.web.findings import Quality, quality_for
from palmyra_graph.workers.engine import BrokerEngine
from palmyra_graph.workers.pool import BrokerProcess

#: Seconds granian waits for a server process to stop before it kills it: one signalled while
#: it still starts can hang in granian's shutdown (seen: 9 of 20 SIGTERMs sent right after the
#: socket was bound).
WORKERS_KILL_TIMEOUT = 5


@dataclass(frozen=True)
class ServeSettings:
    """Everything ``serve`` is told: where to listen, granian's processes and threads, the
    gate's limits and the app's settings (``create_app`` overrides)."""

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 2
    threads: int = 4
    gate: GateSettings = field(default_factory=GateSettings)
    app: Mapping[str, Any] = field(default_factory=dict)


def serve(settings: ServeSettings, *, say: Any = print) -> None:
    """Run the server until SIGTERM or SIGINT; ``say`` prints the start-up lines.

    Raises:
        LoadError: a data file does not parse (nothing has started).
        SettingError: a setting cannot be used, the address cannot be bound, or the remote
            endpoint holds none of the graphs it is to serve.
        WorkerError: the query broker did not start.
    """
    signal.signal(signal.SIGTERM, _stop)  # while the graph loads, a clean stop too
    config = app_settings(settings.app)
    gate = replace(settings.gate, max_body_bytes=int(config["MAX_CONTENT_LENGTH"]))
    listen = _bind(settings.host, settings.port)
    pool = query_pool(config)
    broker = None
    if pool is not None:
        broker = BrokerProcess(pool.settings())
        broker.start()  # the one load of the graph, here checked: LoadError when it fails
        engine: Engine = BrokerEngine(replace(pool, address=broker.address))
    else:  # no workers, or a remote store: each server process has its own engine
        engine = engine_of(create_app(settings.app))  # loaded as a server process will
    # what a remote endpoint serves, checked before anything says it is served
    served = remote_summary(engine) if isinstance(engine, RemoteEngine) else ""
    say(f"palmyra-graph: serving on http://{settings.host}:{settings.port}/ (SPARQL at /sparql)")
    if served:
        say(f"palmyra-graph: {served}")
    elif not config["STORE"]:
        # before granian forks the server processes: they inherit the report; the graph is
        # counted only up to the size that is validated
        say(f"palmyra-graph: {shapes_summary(quality_for(config, engine))}")
    _run(settings, config, gate, listen, broker)


def _run(
    settings: ServeSettings,
    config: Mapping[str, Any],
    gate: GateSettings,
    listen: socket.socket,
    broker: BrokerProcess | None,
) -> None:
    served = {**settings.app, "BEHIND_GATE": True}
    served["SERVER_URL"] = server_url(settings.host, settings.port)
    if broker is not None:
        served["QUERY_SERVICE"] = broker.address
    lookups = lookup_directory(config)
    if lookups is not None:
        served["LOOKUPS"] = str(lookups)
    os.environ[SETTINGS_VARIABLE] = json.dumps(served)
    with tempfile.TemporaryDirectory(prefix="palmyra-serve-") as private:
        upstream = Path(private) / "http.sock"
        front = _start_gate(gate, listen, upstream)
        # Every dump written once, now, rather than by the first request that wants it.
        writer = subprocess.Popen(writer_command(config))
        children = [front, writer] + ([broker.process] if broker and broker.process else [])
        # What is loaded so far is the server processes' too, shared until written: frozen,
        # the collector never walks it, so their collections do not copy its pages (at 10^6
        # after the light mix: 30.7 against 39.6 MB PSS here, 104 against 112 in each of them).
        gc.freeze()
        try:
            _run_granian(settings, gate, upstream, children)
        finally:
            _stop_child(writer)
            _stop_child(front)
            if broker is not None:
                broker.close()


def _bind(host: str, port: int) -> socket.socket:
    """The public socket, bound here so that a port in use is a clear error before anything
    starts; the gate gets it."""
    try:
        return socket.create_server((host, port), backlog=socket.SOMAXCONN)
    except OSError as exc:
        raise SettingError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc


def _start_gate(
    settings: GateSettings, listen: socket.socket, upstream: Path
) -> subprocess.Popen[bytes]:
    """The connection gate on the public socket, in front of the server processes' Unix
    socket; this process keeps no copy of the public socket."""
    command = [sys.executable, "-m", "palmyra_graph.server.gate"]
    command += ["--listen-fd", str(listen.fileno()), "--upstream", str(upstream)]
    try:
        return subprocess.Popen([*command, *gate_arguments(settings)], pass_fds=[listen.fileno()])
    finally:
        listen.close()


def _stop_child(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=GateSettings.shutdown_timeout + 5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _run_granian(
    settings: ServeSettings,
    gate: GateSettings,
    upstream: Path,
    children: list[subprocess.Popen[Any]],
) -> None:
    from granian.constants import Interfaces
    from granian.http import HTTP1Settings

    _draining_granian(children)(
        "palmyra_graph.web:served_app",
        uds=upstream,
        interface=Interfaces.WSGI,
        workers=settings.workers,
        blocking_threads=settings.threads,
        # The gate holds the clients; granian holds a permit per connection it opens.
        backpressure=gate.max_connections,
        websockets=False,
        # The gate has checked every head (at most max_head_bytes) and adds a header or two.
        http1_settings=HTTP1Settings(
            header_read_timeout=10_000, max_buffer_size=gate.max_head_bytes + 4096
        ),
        factory=True,
        log_access=False,
        workers_kill_timeout=WORKERS_KILL_TIMEOUT,
    ).serve()


def _draining_granian(children: list[subprocess.Popen[Any]]) -> Any:
    """granian's server class, telling the gate and the broker to drain as soon as the stop
    signal arrives, so that runaway queries are stopped while light ones finish."""
    from granian import Granian

    class Server(Granian):  # type: ignore[misc,valid-type]
        def signal_handler_interrupt(self, *args: object, **kwargs: object) -> None:
            for child in children:
                if child.poll() is None:
                    child.terminate()
            super().signal_handler_interrupt(*args, **kwargs)

    return Server


def _stop(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def shapes_summary(quality: Quality) -> str:
    """One line about shape violations: users serve their own data, so it is served anyway."""
    if not quality.available:
        return f"not validated at start-up: {quality.reason}"
    counts = quality.counts()
    verdict = "conforms" if quality.conforms else "does NOT conform (serving anyway)"
    return (
        f"data {verdict} to the shapes: {counts['Violation']} violations, "
        f"{counts['Warning']} warnings, validated in {quality.seconds:.2f} s "
        "(the report at /quality)"
    )


def remote_summary(engine: RemoteEngine) -> str:
    """What the remote endpoint serves of the graphs it is to serve, in one line.

    Raises:
        SettingError: the remote answers but holds none of the triples of some of them (they
            were not pushed there): nothing would be found in them.
    """
    try:
        missing = engine.missing_graphs()
    except (RemoteError, QueryTimeout) as exc:  # it may come up later: 502 until then
        return f"the remote endpoint does not answer now ({exc}); serving anyway"
    if missing:
        names = ", ".join(f"<{g}>" for g in missing)
        raise SettingError(
            f"the remote endpoint {engine.endpoint} holds no triple in {names}: push the data "
            "there first (palmyra-graph push --to GRAPH-STORE-URL [FILE…]), and name the same "
            "files with --data"
        )
    graphs = ", ".join(f"<{g}>" for g in engine.graphs or ())
    return f"the remote endpoint {engine.endpoint} serves {graphs}"
