"""One error base with a few subclasses; each maps once to an HTTP status and a CLI exit code.

Exit codes (documented in the README): 0 success, 1 the data does not conform or the query
failed, 2 bad usage or unreadable input.
"""

from __future__ import annotations


class PalmyraError(Exception):
    """Base of every error this package raises on purpose."""

    http_status = 500
    exit_code = 2

    def __init__(self, message: str, *, where: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.where = where

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class SettingError(PalmyraError):
    """A setting of the app or a command cannot be used (the message names it and why)."""

    http_status = 500
    exit_code = 2


class LoadError(PalmyraError):
    """A data file cannot be read or parsed (``where`` names the file and line)."""

    http_status = 400
    exit_code = 2


class QueryError(PalmyraError):
    """A query is malformed or failed to evaluate."""

    http_status = 400
    exit_code = 1


class QueryTooComplex(QueryError):
    """A query nests or chains past the documented limits (:mod:`palmyra_graph.query.limits`)."""

    http_status = 400


class QueryRefused(QueryError):
    """A request the read-only service refuses (update, LOAD, SERVICE outside the allow-list)."""

    http_status = 403


class NotAcceptable(PalmyraError):
    """No representation matches what the client accepts."""

    http_status = 406
    exit_code = 2


class UnsupportedMediaType(PalmyraError):
    """The request body's content type is not one the protocol allows."""

    http_status = 415
    exit_code = 2


class RequestTooLarge(PalmyraError):
    """The request (or its result) exceeds a configured limit."""

    http_status = 413
    exit_code = 2


class QueryTimeout(PalmyraError):
    """A query ran past the time budget and was stopped."""

    http_status = 503
    exit_code = 1


class ShapeError(PalmyraError):
    """The shapes themselves cannot be used (not: the data does not conform)."""

    http_status = 500
    exit_code = 2


class LinkError(PalmyraError):
    """A Wikidata link or a call to Wikidata's API went wrong."""

    http_status = 502
    exit_code = 1


class LinkRefused(LinkError):
    """An accepted link cannot be written (bad id, unknown entity, duplicate, wrong item)."""

    exit_code = 2


class StorageError(PalmyraError):
    """The store failed to read or write."""

    http_status = 500
    exit_code = 1


class OutputError(StorageError):
    """An output file (``export -o``) cannot be written: the user's to fix, exit code 2."""

    exit_code = 2


class RemoteError(StorageError):
    """A remote endpoint cannot be reached or answered with an error of its own."""

    http_status = 502


class CountMismatch(PalmyraError):
    """A remote store holds a different number of triples than were pushed to it."""

    http_status = 502
    exit_code = 1


class TooManyRequests(PalmyraError):
    """A client is over its share of the service (concurrency or query seconds a minute)."""

    http_status = 429
    exit_code = 1

    def __init__(self, message: str, *, where: str | None = None, retry_after: int = 1) -> None:
        super().__init__(message, where=where)
        self.retry_after = retry_after


class WorkerError(PalmyraError):
    """A query worker could not answer: it crashed, hit its memory cap, or is shutting down."""

    http_status = 503
    exit_code = 1
