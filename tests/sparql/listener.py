"""A loopback TCP listener that counts every connection made to it.

It accepts, counts, reads one HTTP request and answers it with one SPARQL JSON solution, so
a query whose SERVICE clause reaches it gets an answer and goes on. Counting connections
rather than well-formed requests catches a call however it is made.
"""

from __future__ import annotations

import socket
import threading

ANSWER = b'{"head":{"vars":["x"]},"results":{"bindings":[{"x":{"type":"literal","value":"r"}}]}}'
RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/sparql-results+json\r\n"
    b"Connection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(ANSWER), ANSWER)
)


class ConnectionCounter:
    """Listens on a free loopback port; ``connections`` counts the accepted connections."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        self.connections = 0
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            self.connections += 1  # before answering: the caller cannot go on before this
            threading.Thread(target=self._answer, args=(connection,), daemon=True).start()

    @staticmethod
    def _answer(connection: socket.socket) -> None:
        with connection:
            connection.settimeout(5)
            try:
                request = b""
                while b"\r\n\r\n" not in request:
                    chunk = connection.recv(65536)
                    if not chunk:
                        return
                    request += chunk
                head, _, body = request.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                while len(body) < length:
                    chunk = connection.recv(65536)
                    if not chunk:
                        break
                    body += chunk
                connection.sendall(RESPONSE)
            except OSError:
                pass

    def close(self) -> None:
        self._closed = True
        self.socket.close()
