"""The query broker: one process that loads the graph once and forks the query workers.

As PostgreSQL's postmaster forks its backends, the broker holds the loaded graph and forks
each worker from itself (copy-on-write): a worker killed past the time budget is replaced by
a fork in milliseconds, not by a reload. Every server process of ``serve`` sends its queries
here, over a Unix socket, so the limits below hold for the whole server:

- **time budget**: a query is stopped (its worker killed) past ``timeout`` seconds, counted
  from the moment a worker takes it; a query that waited ``timeout`` for a worker is refused;
- **fairness**: per client, at most so many queries at once and so many query seconds a
  minute (:mod:`palmyra_graph.workers.fairness`); beyond them, 429 with ``Retry-After``; waiting
  queries are taken round-robin across clients, so one client's flood never starves another;
- **confinement**: workers cannot open network sockets, except the ``federated`` ones that
  serve queries whose SERVICE endpoints the guard found all allow-listed
  (:mod:`palmyra_graph.workers.worker`);
- **crashes**: a worker that dies is replaced, and its client is told why (the engine's
  message, the memory cap, a signal), as :mod:`palmyra_graph.workers.diagnosis` reads it;
- **shutdown**: on SIGTERM, or within a second of the process that started it ending, the
  broker stops taking queries, lets those running finish for up to ``drain`` seconds, stops
  the rest, and exits; its workers die with it (``PR_SET_PDEATHSIG``). The broker watches its
  parent's pid rather than asking for a death signal, which Linux ties to the *thread* that
  started it (a server's request thread may end long before the server).

The broker is single-threaded (one ``epoll`` loop), so forking from it is safe.
"""

from __future__ import annotations

import os
import select
import signal
import socket
import sys
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from palmyra_graph.errors import PalmyraError, QueryTimeout, WorkerError
from palmyra_graph.workers import diagnosis, messages
from palmyra_graph.workers import worker as query_worker
from palmyra_graph.workers.diagnosis import all_busy, stopped
from palmyra_graph.workers.fairness import Fairness
from palmyra_graph.workers.loop import EventLoop
from palmyra_graph.workers.messages import Order
from palmyra_graph.workers.settings import BrokerSettings
from palmyra_graph.workers.worker import Confinement

_RDHUP = getattr(select, "EPOLLRDHUP", 0x2000)
#: How long a new worker may take to be ready before it counts as failed (a store to open).
READY_TIMEOUT = 60.0
#: Seconds before a worker that died before it was ready is replaced, doubling with each
#: such death in a row up to RESPAWN_PAUSE_MAX (a worker that got ready is replaced at once).
RESPAWN_PAUSE, RESPAWN_PAUSE_MAX = 0.01, 1.0


@dataclass(eq=False)
class _Worker:
    pid: int
    control: socket.socket
    stderr: int
    federated: bool
    born: float
    ready: bool = False
    job: _Job | None = None
    retiring: bool = False
    tail: bytearray = field(default_factory=bytearray)


@dataclass(eq=False)
class _Respawn:
    """A worker's place, to be filled by a fork when its timer is due."""

    federated: bool


@dataclass(eq=False)
class _Job:
    conn: socket.socket
    order: Order
    arrived: float
    ticket: int | None = None
    deadline: float = 0.0


class Broker(EventLoop):
    """The loop; ``python -m palmyra_graph.workers`` runs it in its own process."""

    def __init__(self, settings: BrokerSettings, listener: socket.socket, engine: Any) -> None:
        super().__init__()
        self.settings, self.listener, self.engine = settings, listener, engine
        self.workers: dict[int, _Worker] = {}
        self.waiting: OrderedDict[str, deque[_Job]] = OrderedDict()
        self.fairness = Fairness(settings.limits)
        self.stopping: float | None = None
        #: workers that left after a job for a fresh fork (memory they had made their own)
        self.retired = 0
        #: queries admitted (given to a worker or queued for one)
        self.admitted = 0
        #: workers forked, and workers that died in a row before they were ready
        self.forked = 0
        self.unready_deaths = 0
        #: places waiting for their fork (held here: a timer holds its object weakly)
        self.respawns: set[_Respawn] = set()
        self.parent = os.getppid()
        self.watch(listener.fileno(), select.EPOLLIN, self._accept)

    def run(self) -> None:
        """Serve until stopped; returns once every worker is gone."""
        self.catch_stop_signals()
        for federated in [False] * self.settings.workers + [True] * self.settings.federated_workers:
            self._spawn(federated=federated)
        while not self._finished():
            self.turn()
            if self.stopping is not None and time.monotonic() >= self.stopping:
                self._stop_the_rest()
            if self.stopping is None and os.getppid() != self.parent:
                self._begin_shutdown()  # whoever started us is gone (at most a second ago)
        for worker in list(self.workers.values()):
            self._kill(worker)

    def on_timer(self, what: _Job | _Worker | _Respawn, now: float) -> None:
        if isinstance(what, _Job):
            self._job_timer(what, now)
        elif isinstance(what, _Respawn):
            self.respawns.discard(what)
            if self.stopping is None:
                self._spawn(federated=what.federated)
        elif what.pid in self.workers and not what.ready:
            print(f"palmyra-graph: query worker {what.pid} never got ready", file=sys.stderr)
            self._replace(what)

    def on_stop_signal(self) -> None:
        if self.stopping is None:
            self._begin_shutdown()

    def _finished(self) -> bool:
        return self.stopping is not None and not any(w.job for w in self.workers.values())

    # -- clients --------------------------------------------------------------------------

    def _accept(self) -> None:
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        conn.setblocking(False)
        self.watch(conn.fileno(), select.EPOLLIN, partial(self._first_message, conn))

    def _first_message(self, conn: socket.socket) -> None:
        try:
            message = conn.recv(messages.MAX_MESSAGE)
        except BlockingIOError:
            return  # not yet: it stays watched
        except OSError:
            message = b""
        self.unwatch(conn.fileno())
        kind = message[:1]
        if kind == messages.SERVICE:
            self._service(conn, messages.unpack(message))
        elif kind == messages.QUERY and self.stopping is None:
            self._admit(conn, messages.unpack(message))
        elif kind == messages.QUERY:
            self._answer_error(conn, WorkerError("the server is shutting down; try again"))
        else:
            conn.close()

    def _service(self, conn: socket.socket, request: str) -> None:
        reply: Any = None
        if request == "stats":
            reply = {
                "workers": sorted(self.workers),
                "retired": self.retired,
                "admitted": self.admitted,
                "forked": self.forked,
            }
        try:
            conn.setblocking(True)
            conn.send(messages.pack(messages.SERVICE, reply))
        except OSError:
            pass
        conn.close()

    def _admit(self, conn: socket.socket, order: Order) -> None:
        now = time.monotonic()
        refusal = self.fairness.admit(order.client, now)
        if refusal is not None:
            messages.send_last(
                conn, messages.pack(messages.REFUSED, (refusal.message, refusal.retry_after))
            )
            return
        job = _Job(conn=conn, order=order, arrived=now, deadline=now + self.settings.timeout)
        self.admitted += 1
        self.waiting.setdefault(order.client, deque()).append(job)
        self.watch(conn.fileno(), _RDHUP, partial(self._client_left, job))
        self._dispatch()
        if job.ticket is None:  # it waits for a worker (a started job has its own timer)
            self.later(job.deadline, job)

    def _client_left(self, job: _Job) -> None:
        worker = self._worker_of(job)
        if worker is not None and messages.has_message(worker.control):
            self._from_worker(worker)  # it answered whole, then said so: the client read it all
        elif worker is not None:  # stop computing an answer nobody reads
            self._replace(worker)
        elif self._unqueue(job):
            self._end(job)

    def _job_timer(self, job: _Job, now: float) -> None:
        worker = self._worker_of(job)
        if worker is not None and now >= job.deadline:
            self._replace(worker, QueryTimeout(stopped(self.settings.timeout)))
        elif worker is None and self._unqueue(job):
            busy = self.settings.workers + self.settings.federated_workers
            self._end(job, QueryTimeout(all_busy(busy, self.settings.timeout)))

    def _unqueue(self, job: _Job) -> bool:
        queue = self.waiting.get(job.order.client)
        if queue is None or job not in queue:
            return False
        queue.remove(job)
        if not queue:
            del self.waiting[job.order.client]
        return True

    def _end(self, job: _Job, error: PalmyraError | None = None, *, answered: bool = False) -> None:
        """A job is over: count it, tell the client why if it failed; after a whole answer,
        wait for the client's next query on the same connection, else close our copy."""
        self.unwatch(job.conn.fileno())
        self.fairness.finish(job.order.client, job.ticket, time.monotonic())
        if error is not None:
            self._answer_error(job.conn, error)
        elif answered and self.stopping is None:
            self.watch(job.conn.fileno(), select.EPOLLIN, partial(self._first_message, job.conn))
        else:
            job.conn.close()

    def _answer_error(self, conn: socket.socket, error: PalmyraError) -> None:
        messages.send_last(conn, messages.error_message(error))

    # -- dispatch -------------------------------------------------------------------------

    def _dispatch(self) -> None:
        """Give waiting jobs to free workers, one client after another (round-robin)."""
        started = True
        while started:
            started = False
            for client in list(self.waiting):
                queue = self.waiting[client]
                worker = self._free_worker(queue[0].order.federated)
                if worker is None:
                    continue
                job = queue.popleft()
                if queue:
                    self.waiting.move_to_end(client)  # this client goes last
                else:
                    del self.waiting[client]
                self._start(worker, job)
                started = True

    def _free_worker(self, federated: bool) -> _Worker | None:
        for worker in self.workers.values():
            free = worker.ready and worker.job is None and not worker.retiring
            if free and worker.federated == federated:
                return worker
        return None

    def _start(self, worker: _Worker, job: _Job) -> None:
        now = time.monotonic()
        job.ticket = self.fairness.start(job.order.client, now)
        job.deadline = now + self.settings.timeout
        worker.job = job
        order = {"size": job.order.size, "seconds": self.settings.timeout, "job": job.order.inline}
        try:
            dispatch = messages.pack(messages.DISPATCH, order)
            messages.send_with_fd(worker.control, dispatch, job.conn.fileno())
        except OSError:
            self._replace(worker, WorkerError("the query worker could not take the query"))
            return
        self.later(job.deadline, job)

    def _worker_of(self, job: _Job) -> _Worker | None:
        for worker in self.workers.values():
            if worker.job is job:
                return worker
        return None

    # -- workers --------------------------------------------------------------------------

    def _spawn(self, *, federated: bool) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        read_end, write_end = os.pipe()
        confinement = Confinement(
            network=federated, memory=self.settings.memory, recycle=self.settings.recycle
        )
        pid = os.fork()
        if pid == 0:  # the child: keep only its own ends, then work
            try:
                ours.close()
                os.close(read_end)
                os.dup2(write_end, 2)
                os.close(write_end)
                self._close_in_child()
                query_worker.run(theirs, self.engine, confinement)
            finally:
                os._exit(query_worker.EXIT_UNSOUND)
        self.forked += 1
        theirs.close()
        os.close(write_end)
        os.set_blocking(read_end, False)
        worker = _Worker(pid, ours, read_end, federated, time.monotonic())
        self.workers[pid] = worker
        self.watch(ours.fileno(), select.EPOLLIN, partial(self._from_worker, worker))
        self.watch(read_end, select.EPOLLIN, partial(self._worker_stderr, worker))
        self.later(worker.born + READY_TIMEOUT, worker)

    def _close_in_child(self) -> None:
        self.close()  # the loop's descriptors and the connections it watches
        self.listener.close()
        for worker in self.workers.values():
            worker.control.close()
            os.close(worker.stderr)
        for queue in self.waiting.values():
            for job in queue:
                job.conn.close()
        for worker in self.workers.values():
            if worker.job is not None:
                worker.job.conn.close()

    def _from_worker(self, worker: _Worker) -> None:
        try:  # the message may be taken already, by _client_left earlier in this turn
            message = worker.control.recv(16, socket.MSG_DONTWAIT)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            message = b""
        if not message:
            self._died(worker)
        elif message == messages.READY:
            worker.ready = True
            self.unready_deaths = 0
            self._dispatch()
        elif worker.job is not None:  # DONE, RETIRING or ABANDONED
            job, worker.job = worker.job, None
            self._end(job, answered=message != messages.ABANDONED)
            if message == messages.RETIRING:  # it leaves after its last word: a fork now
                worker.retiring = True
                self.retired += 1
                if self.stopping is None:
                    self._spawn(federated=worker.federated)
            self._dispatch()

    def _worker_stderr(self, worker: _Worker) -> None:
        try:
            data = os.read(worker.stderr, 65536)
        except OSError:
            data = b""
        if not data:
            self.unwatch(worker.stderr)
            return
        worker.tail += data
        del worker.tail[: -diagnosis.TAIL_BYTES]

    def _died(self, worker: _Worker) -> None:
        _, status = os.waitpid(worker.pid, 0)
        self._worker_stderr(worker)  # what it said last
        if worker.retiring and worker.job is None and os.WIFEXITED(status):
            self._forget(worker, None, replace=False)  # its successor is forked already
            return
        error = diagnosis.explain(status, bytes(worker.tail), memory=self.settings.memory)
        said = bytes(worker.tail).decode("utf-8", "replace").strip().splitlines()[-1:]
        last = f" (it said: {said[0][:300]})" if said else ""
        print(
            f"palmyra-graph: query worker {worker.pid} died: {error.message}{last}", file=sys.stderr
        )
        self._forget(worker, error)

    def _replace(self, worker: _Worker, error: PalmyraError | None = None) -> None:
        self._kill(worker)
        self._forget(worker, error)

    def _kill(self, worker: _Worker) -> None:
        try:
            os.kill(worker.pid, signal.SIGKILL)
            os.waitpid(worker.pid, 0)
        except ChildProcessError:
            pass
        except ProcessLookupError:
            pass

    def _forget(self, worker: _Worker, error: PalmyraError | None, *, replace: bool = True) -> None:
        self.unwatch(worker.control.fileno())
        self.unwatch(worker.stderr)
        worker.control.close()
        os.close(worker.stderr)
        del self.workers[worker.pid]
        if worker.job is not None:
            self._end(worker.job, error)
            worker.job = None
        if replace and not worker.retiring and self.stopping is None:
            self._replace_later(worker)

    def _replace_later(self, worker: _Worker) -> None:
        """Fork a successor now; for a worker that died before it was ready (its graph does
        not open, say a store removed while served), after a pause that doubles with each
        such death in a row, so that a worker that cannot start is not forked in a loop."""
        if worker.ready:
            self._spawn(federated=worker.federated)
            return
        pause = min(RESPAWN_PAUSE * 2 ** min(self.unready_deaths, 20), RESPAWN_PAUSE_MAX)
        self.unready_deaths += 1
        respawn = _Respawn(worker.federated)
        self.respawns.add(respawn)
        self.later(time.monotonic() + pause, respawn)

    # -- shutdown -------------------------------------------------------------------------

    def _begin_shutdown(self) -> None:
        self.stopping = time.monotonic() + self.settings.drain
        self.unwatch(self.listener.fileno())
        self.listener.close()
        for client in list(self.waiting):
            for job in self.waiting.pop(client):
                self._end(job, WorkerError("the server is shutting down; try again"))
        for worker in list(self.workers.values()):
            if worker.job is None:
                self._kill(worker)
                self._forget(worker, None)

    def _stop_the_rest(self) -> None:
        for worker in list(self.workers.values()):
            error = WorkerError("the server is shutting down: the query was stopped")
            self._replace(worker, error if worker.job else None)
