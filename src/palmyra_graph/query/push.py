"""Push files into any SPARQL 1.1 store over the Graph Store HTTP Protocol, then check counts.

Each file becomes one named graph, the one the local loader gives it
(``loader.graph_name``), replaced with ``PUT ?graph=IRI``
(https://www.w3.org/TR/sparql11-http-rdf-update/#http-put); an N-Quads or TriG file is split
into its own graphs (``?default`` for its default graph,
https://www.w3.org/TR/sparql11-http-rdf-update/#direct-graph-identification).

Every file is parsed here first, with the base IRI the loader uses, into N-Triples staging
files: a file that does not parse stops the push before anything is sent, and the remote
receives plain N-Triples, which every store reads. Afterwards each graph's triple count on
the remote (a SPARQL COUNT on the query endpoint) must equal the number of distinct triples
sent.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import pyoxigraph as ox
import requests

from palmyra_graph.errors import CountMismatch, LoadError, RemoteError
from palmyra_graph.graph.loader import graph_name, rdf_format
from palmyra_graph.query.remote import RemoteEngine, failure_reason, raise_for_remote

#: The part name of a quad file's default graph (sent with ``?default``).
DEFAULT_GRAPH = ""

ProgressCallback = Callable[[int], None]


@dataclass(frozen=True)
class Credentials:
    """How to authenticate: HTTP Basic (or Digest) with user and password, or a bearer token."""

    user: str | None = None
    password: str | None = None
    token: str | None = None
    digest: bool = False

    def session(self) -> requests.Session:
        """A requests session that sends these credentials with every request."""
        session = requests.Session()
        if self.token:
            session.headers["Authorization"] = f"Bearer {self.token}"
        elif self.user is not None:
            auth = requests.auth.HTTPDigestAuth if self.digest else requests.auth.HTTPBasicAuth
            session.auth = auth(self.user, self.password or "")
        return session


@dataclass
class Part:
    """One graph to send: its name, its staged N-Triples file and distinct triple count."""

    source: Path
    graph: str
    staged: Path
    triples: int = 0

    @property
    def size(self) -> int:
        """Bytes to upload."""
        return self.staged.stat().st_size


@dataclass
class PushReport:
    """Triples sent and found on the remote, per graph."""

    sent: dict[str, int] = field(default_factory=dict)
    found: dict[str, int] = field(default_factory=dict)


def default_query_endpoint(gsp_url: str) -> str:
    """Oxigraph's layout: the query endpoint ``/query`` beside the graph store ``/store``."""
    base = gsp_url.split("?", 1)[0].rstrip("/")
    return base.rsplit("/", 1)[0] + "/query"


@contextmanager
def staged(files: Sequence[Path]) -> Iterator[list[Part]]:
    """Parse every file into per-graph N-Triples staging files (removed afterwards).

    Raises:
        LoadError: a file is missing, of unknown format or does not parse (file:line).
    """
    with tempfile.TemporaryDirectory(prefix="palmyra-push-") as tmp:
        parts: list[Part] = []
        for path in files:
            parts.extend(_stage_file(path, Path(tmp), first=len(parts)))
        yield parts


def _stage_file(path: Path, tmp: Path, *, first: int) -> list[Part]:
    fmt = rdf_format(path)
    parts: dict[str, Part] = {}
    seen: dict[str, set[int]] = {}
    outputs: dict[str, IO[str]] = {}
    try:
        for quad in ox.parse(path=str(path), format=fmt, base_iri=path.resolve().as_uri()):
            name = _graph_of(quad, path)
            if name not in parts:
                staged_path = tmp / f"{first + len(parts)}.nt"
                parts[name] = Part(source=path, graph=name, staged=staged_path)
                seen[name] = set()
                outputs[name] = staged_path.open("w", encoding="utf-8")
            line = f"{quad.triple} .\n"
            outputs[name].write(line)
            seen[name].add(hash(line))
    except SyntaxError as exc:
        where = f"{path}:{exc.lineno}" if exc.lineno else str(path)
        raise LoadError(f"does not parse as {fmt.name}: {exc.msg}", where=where) from exc
    except OSError as exc:
        raise LoadError(f"cannot read file: {exc.strerror or exc}", where=str(path)) from exc
    finally:
        for output in outputs.values():
            output.close()
    for name, part in parts.items():
        part.triples = len(seen[name])
    return list(parts.values())


def _graph_of(quad: ox.Quad, path: Path) -> str:
    if isinstance(quad.graph_name, ox.NamedNode):
        return quad.graph_name.value
    if isinstance(quad.graph_name, ox.DefaultGraph):
        fmt = rdf_format(path)
        return (
            DEFAULT_GRAPH if fmt in (ox.RdfFormat.N_QUADS, ox.RdfFormat.TRIG) else graph_name(path)
        )
    raise LoadError("a graph named by a blank node cannot be pushed", where=str(path))


class _ProgressReader:
    """A file object that reports how many bytes requests has read from it."""

    def __init__(self, path: Path, on_bytes: ProgressCallback | None) -> None:
        self.file = path.open("rb")
        self.length = path.stat().st_size
        self.on_bytes = on_bytes

    def __len__(self) -> int:
        return self.length

    def read(self, size: int = -1) -> bytes:
        chunk = self.file.read(size)
        if self.on_bytes and chunk:
            self.on_bytes(len(chunk))
        return chunk

    def close(self) -> None:
        self.file.close()


def put_graph(
    session: requests.Session,
    gsp_url: str,
    part: Part,
    *,
    timeout: float = 600.0,
    on_bytes: ProgressCallback | None = None,
) -> None:
    """Replace one graph on the remote with ``part``'s triples (GSP PUT).

    Raises:
        RemoteError: the host cannot be reached, refused the credentials or answered non-2xx.
    """
    params = {"default": ""} if part.graph == DEFAULT_GRAPH else {"graph": part.graph}
    body = _ProgressReader(part.staged, on_bytes)
    try:
        response = session.put(
            gsp_url,
            params=params,
            data=body,
            headers={"Content-Type": "application/n-triples"},
            timeout=timeout,
        )
    except requests.RequestException as exc:
        raise RemoteError(
            f"cannot reach the graph store: {failure_reason(exc)}", where=gsp_url
        ) from exc
    finally:
        body.close()
    if response.status_code == 400:  # the store's parse error, not a query of ours
        raise RemoteError(
            f"the graph store rejected the data: {response.text[:500]}", where=gsp_url
        )
    raise_for_remote(response, gsp_url)


def _digest_handshake(session: requests.Session, gsp_url: str) -> None:
    """Get a Digest nonce with a body-less request first.

    Digest answers the first request with a challenge and expects it sent again; a streamed
    upload cannot be sent again, so the PUTs must carry the Authorization header from the start.
    """
    try:
        response = session.head(gsp_url, timeout=30)
    except requests.RequestException as exc:
        raise RemoteError(
            f"cannot reach the graph store: {failure_reason(exc)}", where=gsp_url
        ) from exc
    if response.status_code in (401, 403):
        raise_for_remote(response, gsp_url)


def remote_count(engine: RemoteEngine, graph: str) -> int:
    """Triples in one graph of the remote (``""`` for the default graph)."""
    pattern = "?s ?p ?o" if graph == DEFAULT_GRAPH else f"GRAPH <{graph}> {{ ?s ?p ?o }}"
    result = engine.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ {pattern} }}")
    if result.kind != "solutions":
        raise RemoteError("a COUNT query did not answer solutions", where=engine.endpoint)
    rows = list(result.solutions())
    literal = rows[0]["n"] if rows else None
    return int(literal.value) if isinstance(literal, ox.Literal) else 0


def push(
    parts: Sequence[Part],
    *,
    to: str,
    query_endpoint: str | None = None,
    credentials: Credentials | None = None,
    on_bytes: ProgressCallback | None = None,
) -> PushReport:
    """PUT each staged part as its graph on ``to``, then compare remote counts with ours.

    Raises:
        RemoteError: a request failed (unreachable, credentials refused, non-2xx).
        CountMismatch: a graph on the remote does not hold the triples that were sent.
    """
    session = (credentials or Credentials()).session()
    engine = RemoteEngine(query_endpoint or default_query_endpoint(to), session=session)
    if credentials and credentials.digest:
        _digest_handshake(session, to)
    report = PushReport()
    for part in parts:
        put_graph(session, to, part, on_bytes=on_bytes)
        report.sent[part.graph] = part.triples
    for graph in report.sent:
        report.found[graph] = remote_count(engine, graph)
    wrong = {g: (n, report.found[g]) for g, n in report.sent.items() if report.found[g] != n}
    if wrong:
        detail = "; ".join(f"<{g}>: sent {s}, found {f}" for g, (s, f) in wrong.items())
        raise CountMismatch(f"the remote's triple counts differ: {detail}", where=to)
    return report
