"""The messages between the HTTP side, the query broker and its workers.

Every connection is an ``AF_UNIX`` ``SOCK_SEQPACKET`` socket: each ``send`` is one message,
delivered whole or not at all, so a worker killed in the middle of an answer never leaves half
a message behind, and the broker can still add its own last word (why the answer stopped).

A message is one byte of kind and its body:

=====  ===============  ==================================================================
kind   from → to        body
=====  ===============  ==================================================================
``Q``  client → broker  a query: pickled :class:`Order` (who asks, which workers, the job)
``S``  client → broker  a service request (``"stats"``); the answer is ``S`` + pickled value
``J``  client → worker  the next piece of a large pickled job (``CHUNK_SIZE`` at most)
``M``  worker → client  the answer's meta (status, content type…), before its first chunk
``C``  worker → client  a chunk of the answer's body
``E``  worker → client  the end of the body
``W``  worker → client  a whole answer in one message: pickled ``(meta, body)``
``X``  any → client     an error: pickled ``(class name in errors, message, where)``
``R``  broker → client  refused for now: pickled ``(message, retry after in seconds)``
=====  ===============  ==================================================================

Between the broker and a worker, over their own socket pair: ``D`` (broker → worker, with the
client's connection as ``SCM_RIGHTS``) gives a job; ``r`` (ready), ``d`` (done, sent after
the worker's last message to the client), ``x`` (done, and leaving: the worker has copied
enough of the shared graph, see :mod:`palmyra_graph.workers.worker`) and ``a`` (abandoned:
the client went away) answer.

A connection that ended an answer cleanly (``W`` or ``E``) may carry the client's next ``Q``:
each server thread keeps one, which saves a connection per query.
"""

from __future__ import annotations

import array
import contextlib
import pickle
import socket
from dataclasses import dataclass
from typing import Any

from palmyra_graph import errors
from palmyra_graph.errors import PalmyraError

CHUNK_SIZE = 64 * 1024
#: The largest message anyone reads: a chunk and its kind byte, or a small pickle.
MAX_MESSAGE = CHUNK_SIZE + 1024

QUERY, SERVICE, JOB = b"Q", b"S", b"J"
META, CHUNK, END, WHOLE, ERROR, REFUSED = b"M", b"C", b"E", b"W", b"X", b"R"
DISPATCH, READY, DONE, ABANDONED, RETIRING = b"D", b"r", b"d", b"a", b"x"


@dataclass(frozen=True)
class Order:
    """What the broker needs to know of a query before a worker takes it, and the pickled
    job itself when it is small (``inline``; else ``size`` bytes follow in ``J`` messages)."""

    client: str
    federated: bool
    size: int
    inline: bytes | None = None


#: Jobs up to this size travel inside their ``Q`` message (and the broker's ``D``).
INLINE_JOB = 48 * 1024


def seqpacket() -> socket.socket:
    """A new unconnected ``AF_UNIX`` ``SOCK_SEQPACKET`` socket."""
    return socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)


def pack(kind: bytes, value: Any) -> bytes:
    """A message of ``kind`` whose body is ``value`` pickled."""
    return kind + pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def unpack(message: bytes) -> Any:
    """The pickled body of a message."""
    return pickle.loads(message[1:])


def error_message(error: PalmyraError) -> bytes:
    """An ``X`` message that rebuilds ``error`` on the other side."""
    return pack(ERROR, (type(error).__name__, error.message, error.where))


def rebuild(message: bytes) -> PalmyraError:
    """The error an ``X`` message carries, as its own class when that is one of ours."""
    name, text, where = unpack(message)
    cls = getattr(errors, name, PalmyraError)
    if not (isinstance(cls, type) and issubclass(cls, PalmyraError)):
        cls = PalmyraError
    return cls(text, where=where)


def send_job(conn: socket.socket, job: bytes) -> None:
    """Send a pickled job in pieces no larger than a chunk."""
    for start in range(0, len(job), CHUNK_SIZE):
        conn.send(JOB + job[start : start + CHUNK_SIZE])


def receive_job(conn: socket.socket, size: int) -> bytes:
    """Read the ``size`` bytes of a job sent by :func:`send_job`.

    Raises:
        ConnectionError: the client closed the connection before the whole job arrived.
    """
    parts, received = [], 0
    while received < size:
        message = conn.recv(MAX_MESSAGE)
        if not message or message[:1] != JOB:
            raise ConnectionError("the client went away before sending the whole job")
        parts.append(message[1:])
        received += len(message) - 1
    return b"".join(parts)


def send_with_fd(channel: socket.socket, message: bytes, fd: int) -> None:
    """Send ``message`` and a file descriptor (``SCM_RIGHTS``)."""
    channel.sendmsg([message], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]))])


def receive_with_fd(channel: socket.socket) -> tuple[bytes, int | None]:
    """A message and the descriptor that came with it, if any."""
    fds = array.array("i")
    message, ancillary, _, _ = channel.recvmsg(MAX_MESSAGE, socket.CMSG_LEN(fds.itemsize))
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[: len(data) - (len(data) % fds.itemsize)])
    return message, (fds[0] if fds else None)


def send_last(conn: socket.socket, message: bytes) -> None:
    """Send a last message and hang up without making it unreadable: a Unix socket closed
    with unread data resets its peer, which would lose the message, so the rest of the job
    is refused (SHUT_RD) and what was already sent is read away first."""
    conn.setblocking(False)
    with contextlib.suppress(OSError):
        conn.send(message)
    with contextlib.suppress(OSError):
        conn.shutdown(socket.SHUT_RD)
        while conn.recv(MAX_MESSAGE):
            pass
    conn.close()


def has_message(channel: socket.socket) -> bool:
    """Whether a message waits on ``channel``, without taking it."""
    try:
        return bool(channel.recv(16, socket.MSG_PEEK | socket.MSG_DONTWAIT))
    except (BlockingIOError, InterruptedError):
        return False
    except OSError:
        return True  # an error waits: reading it is the worker's death, handled there
