"""Dumps written once to files, under a directory keyed by the graph's fingerprint.

Beside them, when ``serve`` has query workers, an on-disk store of the same files
(``store/``), which its server processes open read-only to answer one-pattern lookups
without a worker (:mod:`palmyra_graph.query.lookup`); it too is written once per graph.

A dump is what ``export`` writes for the served files. The first process to want one takes
a lock (``fcntl.flock``, so the server processes of one ``serve`` and any other server on the
same directory wait for each other), exports it and renames a complete file into place;
every later request, in any process, finds the file and streams it from disk. No process
keeps the bytes. A changed file changes the fingerprint, hence the directory: a dump is never
stale, and never rewritten once it exists.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import FrameType

from palmyra_graph.errors import OutputError, PalmyraError
from palmyra_graph.graph.formats import DUMP_FORMATS, Format

#: The file name of every dump, before its suffix.
DUMP_STEM = "palmyra"
#: The directory of the read-only store for lookups, beside the dumps.
LOOKUP_STORE = "store"


def export_files(files: Sequence[Path | str], fmt: Format) -> bytes:
    """:func:`palmyra_graph.graph.export.export_files`, imported on first use: the writer
    ``serve`` starts lowers its priority before it loads rdflib and the exporter."""
    from palmyra_graph.graph.export import export_files as export

    return export(files, fmt)


def default_directory() -> Path:
    """``$XDG_CACHE_HOME/palmyra-graph/dumps`` (``~/.cache/...`` when it is unset)."""
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "palmyra-graph" / "dumps"


def dump_filename(fmt: Format) -> str:
    """The file name of the dump in ``fmt`` (``palmyra.ttl``)."""
    return DUMP_STEM + fmt.suffix


def dump_path(directory: Path, key: str, fmt: Format) -> Path:
    """Where the dump in ``fmt`` of the graph with fingerprint ``key`` is (or will be)."""
    return directory / key[:32] / dump_filename(fmt)


def dump_file(files: Sequence[Path | str], fmt: Format, *, directory: Path, key: str) -> Path:
    """The dump of ``files`` in ``fmt``, exported first if no process has written it yet.

    Args:
        files: the served files (each a named graph).
        fmt: a dump format.
        directory: the dumps directory (created if missing).
        key: the graph's fingerprint (it names the subdirectory).

    Raises:
        LoadError: a file cannot be read or parsed (nothing is written).
        OutputError: the directory cannot be written.
    """
    path = dump_path(directory, key, fmt)
    if path.exists():
        return path
    with _locked(path.parent):
        if not path.exists():
            write_atomically(path, export_files(files, fmt))
    return path


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """Hold the lock of a graph's directory (created if missing): one writer at a time, in
    any process; the others wait, then find what it wrote.

    Raises:
        OutputError: the directory cannot be written.
    """
    try:
        directory.mkdir(parents=True, exist_ok=True)
        lock = os.open(directory / ".lock", os.O_CREAT | os.O_RDWR, 0o644)
    except OSError as exc:
        raise OutputError(f"cannot write dumps: {exc.strerror}", where=str(directory)) from exc
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield
    finally:
        os.close(lock)  # closing releases the lock


def written(directory: Path, key: str, fmt: Format) -> int | None:
    """The size of the dump in ``fmt`` if it has been written, else None."""
    try:
        return dump_path(directory, key, fmt).stat().st_size
    except OSError:
        return None


def store_path(directory: Path, key: str) -> Path:
    """Where the read-only store of the graph with fingerprint ``key`` is (or will be)."""
    return directory / key[:32] / LOOKUP_STORE


def write_store(files: Sequence[Path | str], *, directory: Path, key: str) -> Path:
    """The on-disk store of ``files`` (one named graph per file, as ``load --store``), bulk
    loaded first if no process has written it yet; it appears whole or not at all.

    Raises:
        LoadError: a file cannot be read or parsed (nothing is written).
        OutputError, StorageError: the directory cannot be written.
    """
    from palmyra_graph.query.store import is_store, load_store

    path = store_path(directory, key)
    if is_store(path):
        return path
    with _locked(path.parent):
        if not is_store(path):
            load_store(path, [Path(f) for f in files], replace=True)
    return path


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it over ``path``: the
    file appears complete or not at all. Readable by all (a dump is public; the umask is not
    read because reading it means setting it, under other threads' feet).

    Raises:
        OutputError: the directory cannot be written.
    """
    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    except OSError as exc:
        raise OutputError(f"cannot write: {exc.strerror}", where=str(path)) from exc
    replaced = False
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
        replaced = True
    except OSError as exc:
        raise OutputError(f"cannot write: {exc.strerror}", where=str(path)) from exc
    finally:  # also when stopped by a signal (SystemExit) while writing
        if not replaced:
            Path(temporary).unlink(missing_ok=True)


def write_all(
    files: Sequence[Path | str], *, directory: Path, key: str, store: bool = False
) -> None:
    """Write every dump format of ``files`` that is not written yet, one after another; with
    ``store``, the read-only store for lookups first."""
    if store:
        write_store(files, directory=directory, key=key)
    for fmt in DUMP_FORMATS:
        dump_file(files, fmt, directory=directory, key=key)


def main(argv: Sequence[str]) -> int:
    """``python -m palmyra_graph.graph.dumpfiles [--store] DIRECTORY KEY FILE...``:
    :func:`write_all`, at idle priority (it runs beside a server that is starting)."""
    signal.signal(signal.SIGTERM, _stop)
    _idle()
    store = argv[:1] == ["--store"]
    directory, key, *files = argv[1:] if store else argv
    try:
        write_all(files, directory=Path(directory), key=key, store=store)
    except PalmyraError as exc:  # a request that wants the dump reports it
        print(f"palmyra-graph: dumps not written: {exc}", file=sys.stderr)
        return 1
    return 0


def _idle() -> None:
    """Run only when the CPUs have nothing else to do (SCHED_IDLE on Linux, else nice 19):
    the server starting beside it comes first."""
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        os.nice(19)


def _stop(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
