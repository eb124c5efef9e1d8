"""One protocol query answered in a worker process: evaluate, pick the format, stream.

The request thread negotiates before evaluation (the result kind is known from the query
form only after parsing), so the job carries the chosen format for every kind, or the
406 message for a kind nothing acceptable exists for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import IO, Any

from palmyra_graph.errors import NotAcceptable, QueryError
from palmyra_graph.graph.formats import DUMP_FORMATS, RESULT_FORMATS, by_name


@dataclass(frozen=True)
class QueryJob:
    """What a worker needs to answer one query."""

    query: str
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    #: the IRI relative IRIs resolve against when the query declares no BASE
    base: str | None = None
    #: result kind -> the media type to answer in
    formats: dict[str, str] = field(default_factory=dict)
    #: result kind -> why nothing is acceptable for it (answered 406)
    refusals: dict[str, str] = field(default_factory=dict)


def answer_job(engine: Any, job: QueryJob) -> tuple[str, Any]:
    """Evaluate ``job.query``; returns ``(content type, write)``, in a pool worker or in the
    request thread alike.

    Raises:
        QueryError: the query does not parse or fails.
        NotAcceptable: no acceptable format for the kind of result the query gives.
    """
    result = engine.query(
        job.query,
        default_graphs=job.default_graphs,
        named_graphs=job.named_graphs,
        base=job.base,
    )
    media_type = job.formats.get(result.kind)
    if media_type is None:
        raise NotAcceptable(job.refusals.get(result.kind, f"no format for {result.kind}"))
    fmt = by_name(media_type, RESULT_FORMATS + DUMP_FORMATS)
    assert fmt is not None and fmt.oxigraph is not None

    def write(output: IO[bytes]) -> None:
        try:
            result.serialize(output, fmt.oxigraph)
        except (OSError, ValueError, RuntimeError) as exc:
            raise QueryError(f"query failed: {exc}") from exc

    return fmt.content_type, write
