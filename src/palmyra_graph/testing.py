"""Helpers for tests (ours and a user's): a real server on a free loopback port, granian on a
Unix socket with the connection gate in front of it, and pages parsed into element trees (the
standard library's tokenizer, no browser) so tests assert on elements, not on strings."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from palmyra_graph.server.gate import GateSettings, gate_arguments


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(
    ready: Callable[[], bool],
    *,
    what: str,
    timeout: float = 30.0,
    process: subprocess.Popen[Any] | None = None,
    interval: float = 0.05,
) -> None:
    """Poll ``ready()`` until it is true; connection errors count as not yet.

    Raises:
        RuntimeError: ``process`` exited first (its output, if it was piped, in the message),
            or ``timeout`` seconds passed; the message names ``what`` was awaited.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            raise RuntimeError(f"{what}: the process exited with {process.returncode}\n{output}")
        try:
            if ready():
                return
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(interval)
    raise RuntimeError(f"{what}: not within {timeout} s")


def port_answers(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something accepts TCP connections on ``host``:``port``."""
    with socket.create_connection((host, port), timeout=0.5):
        return True


def http_status(port: int, method: str, path: str, host: str = "127.0.0.1") -> int:
    """The status a server on ``host``:``port`` answers to one request."""
    connection = http.client.HTTPConnection(host, port, timeout=5)
    try:
        connection.request(method, path)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


class LiveServer:
    """``palmyra-graph serve`` on a free loopback port, with more options ``args``, variables
    ``env``, another installation's ``python`` and ``cwd``, ``timeout`` seconds to answer."""

    def __init__(
        self,
        *args: str,
        env: dict[str, str] | None = None,
        python: str = sys.executable,
        cwd: Path | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [python, "-m", "palmyra_graph", "serve", "--port", str(self.port)]
        self.process = subprocess.Popen(
            [*command, *args],
            env={**os.environ, **(env or {})},
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._wait_until_listening(timeout)

    def _wait_until_listening(self, timeout: float) -> None:
        # Ready means the app answering, not a bound socket (granian binds before its workers
        # run, and a SIGTERM in that window can be lost): a static file, the app's own answer
        # whatever its engine (a remote one may be down); the gate answers 503 until then.
        try:
            wait_until(
                lambda: http_status(self.port, "HEAD", "/static/favicon.svg") == 200,
                what=f"palmyra-graph serve on {self.url}",
                timeout=timeout,
                process=self.process,
                interval=0.1,
            )
        except RuntimeError:
            self.stop()
            raise

    def stop(self) -> int:
        """Send SIGTERM, wait for a clean exit; returns the exit status."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout:
            self.process.stdout.close()
        return self.process.returncode


#: What a :class:`CountingListener` answers: one solution, ``?x = "remote"``.
REMOTE_RESULTS = (
    b'{"head":{"vars":["x"]},"results":{"bindings":[{"x":{"type":"literal","value":"remote"}}]}}'
)


class CountingListener:
    """A TCP listener on loopback that counts every connection made to it (``connections``,
    counted as soon as it is accepted, before anything is read) and every HTTP request it
    answers (``hits``), each with :data:`REMOTE_RESULTS` as SPARQL JSON: a stand-in for any
    host a query might be turned against. Counting connections, not well-formed requests,
    catches a call however it is made.

    Args:
        path: the path of :attr:`url` (``"/sparql"``; ``""`` for the root, ``…:PORT/``).
    """

    def __init__(self, path: str = "/sparql") -> None:
        self.connections = 0
        self.hits = 0
        self._lock = threading.Lock()
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._server.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"
        threading.Thread(target=self._accept, daemon=True, name="counting-listener").start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            try:
                if _read_request(conn):
                    with self._lock:
                        self.hits += 1
                    conn.sendall(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/sparql-results+json\r\n"
                        + f"Content-Length: {len(REMOTE_RESULTS)}\r\n".encode()
                        + b"Connection: close\r\n\r\n"
                        + REMOTE_RESULTS
                    )
            except OSError:
                pass

    def close(self) -> None:
        self._server.close()


def _read_request(conn: socket.socket) -> bool:
    """Read one request (head and Content-Length body); whether one came whole."""
    request = b""
    while b"\r\n\r\n" not in request:
        data = conn.recv(65536)
        if not data or len(request) > 1 << 20:
            return False
        request += data
    head, _, body = request.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    while len(body) < length:
        data = conn.recv(65536)
        if not data:
            return False
        body += data
    return True


def unix_request(path: str | Path, raw: bytes, *, timeout: float = 5.0) -> bytes:
    """Send ``raw`` on a new connection to the Unix socket ``path``; everything it answers
    until it closes or ``timeout`` passes with nothing more."""
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(timeout)
        sock.connect(str(path))
        sock.sendall(raw)
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except TimeoutError:
            pass
        return answer


class GranianOnSocket:
    """granian serving a WSGI ``target`` on the Unix socket ``path``, in a child process: the
    server the gate fronts. Ready when it answers HTTP there."""

    def __init__(
        self,
        target: str,
        path: str | Path,
        *,
        factory: bool = False,
        options: Sequence[str] = (),
        env: dict[str, str] | None = None,
    ) -> None:
        self.path = Path(path)
        command = [sys.executable, "-m", "granian", "--interface", "wsgi", "--uds", str(path)]
        command += ["--no-ws", "--http", "1", "--log-level", "warning", "--no-access-log"]
        command += ["--factory"] if factory else []
        # Its output goes where ours does (a pipe nobody reads would fill and stop it).
        self.process = subprocess.Popen(
            [*command, *options, target], env={**os.environ, **(env or {})}, text=True
        )
        self._wait_until_answering()

    def _wait_until_answering(self, timeout: float = 60.0) -> None:
        head = b"HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        try:
            wait_until(
                lambda: unix_request(self.path, head).startswith(b"HTTP/1.1 "),
                what=f"granian on {self.path}",
                timeout=timeout,
                process=self.process,
                interval=0.1,
            )
        except RuntimeError:
            self.stop()
            raise

    def stop(self) -> int:
        """:func:`stop_process`."""
        return stop_process(self.process)


class GateProcess:
    """The connection gate (``python -m palmyra_graph.server.gate``) on a free port of ``host``
    in front of the Unix socket ``upstream``, started as ``serve`` starts it (the bound socket
    passed by descriptor)."""

    def __init__(
        self, upstream: str | Path, settings: GateSettings | None = None, *, host: str = "127.0.0.1"
    ) -> None:
        self.settings = settings or GateSettings()
        listen = socket.create_server((host, 0), backlog=socket.SOMAXCONN)
        self.host, self.port = host, int(listen.getsockname()[1])
        self.url = f"http://{host}:{self.port}"
        command = [sys.executable, "-m", "palmyra_graph.server.gate"]
        command += ["--listen-fd", str(listen.fileno())]
        command += ["--upstream", str(upstream), *gate_arguments(self.settings)]
        self.process = subprocess.Popen(command, pass_fds=[listen.fileno()], text=True)
        listen.close()  # the child's copy is the only one: it closes when the gate stops

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> int:
        """:func:`stop_process`."""
        return stop_process(self.process)


def stop_process(process: subprocess.Popen[Any], timeout: float = 15.0) -> int:
    """SIGTERM, then SIGKILL after ``timeout`` s; its pipes closed; returns the exit status."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    for stream in (process.stdout, process.stderr):
        if stream:
            stream.close()
    return process.returncode


#: Elements that never have content or an end tag (HTML Living Standard, "void elements").
VOID_ELEMENTS = frozenset(
    "area base br col embed hr img input link meta source track wbr".split()  # noqa: SIM905
)


@dataclass
class Element:
    """An element of a parsed page: its tag, attributes and content (elements and text)."""

    tag: str
    attrs: dict[str, str]
    content: list[Element | str] = field(default_factory=list)

    @property
    def children(self) -> list[Element]:
        """The child elements, without the text between them."""
        return [c for c in self.content if isinstance(c, Element)]

    @property
    def text(self) -> str:
        """The text content, whitespace collapsed."""
        inner = "".join(c if isinstance(c, str) else c._raw_text() for c in self.content)
        return " ".join(inner.split())

    def _raw_text(self) -> str:
        return "".join(c if isinstance(c, str) else c._raw_text() for c in self.content)

    def iter(self, tag: str | None = None, cls: str | None = None) -> list[Element]:
        """Every descendant, in document order, with that tag and that class if given."""
        found = []
        for child in self.children:
            if (tag is None or child.tag == tag) and (
                cls is None or cls in child.attrs.get("class", "").split()
            ):
                found.append(child)
            found.extend(child.iter(tag, cls))
        return found

    def find_all(self, tag: str | None = None, **attrs: str) -> list[Element]:
        """Descendants with the tag whose attributes match ``attrs`` (``class_`` is one class)."""
        wanted = {k.rstrip("_"): v for k, v in attrs.items()}
        return [
            e
            for e in self.iter(tag)
            if all(
                (v in e.attrs.get(k, "").split()) if k == "class" else e.attrs.get(k) == v
                for k, v in wanted.items()
            )
        ]

    def find(self, tag: str | None = None, **attrs: str) -> Element:
        """The first of :meth:`find_all`; an AssertionError when there is none."""
        found = self.find_all(tag, **attrs)
        assert found, f"no <{tag}> with {attrs}"
        return found[0]

    def by_id(self, ident: str) -> Element:
        """The element with that id."""
        return self.find(None, id=ident)


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].content.append(element)
        if tag not in VOID_ELEMENTS:
            self.stack.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].content.append(Element(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].content.append(data)


def parse_html(markup: bytes | str) -> Element:
    """A page as a tree of elements under a ``#document`` root."""
    builder = _TreeBuilder()
    builder.feed(markup.decode("utf-8") if isinstance(markup, bytes) else markup)
    builder.close()
    return builder.root
