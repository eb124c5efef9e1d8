"""The SPARQL 1.1 Protocol endpoint (https://www.w3.org/TR/sparql11-protocol/), read-only.

- §2.1 query operation: GET with ``query=``; POST ``application/x-www-form-urlencoded`` with
  ``query=``; POST ``application/sparql-query`` with the query as the UTF-8 body. Exactly one
  query; ``default-graph-uri``/``named-graph-uri`` (repeatable) replace the query's dataset.
- §2.2 update operation: refused with 403 (``update=``, ``application/sparql-update``, or an
  update sent as a query); nothing changes.
- §2.1.6 responses: SELECT/ASK as SPARQL JSON, XML (and CSV/TSV for SELECT), CONSTRUCT and
  DESCRIBE as Turtle, N-Triples, JSON-LD or RDF/XML, negotiated on Accept or chosen by a
  ``format=`` parameter; 406 when nothing offered is acceptable.
- Relative IRIs in a query resolve against the data's base IRI (``BASE_IRI``,
  ``https://w3id.org/palmyra/``) unless the query declares a BASE (RFC 3986 §5.1.2: the base
  from the encapsulating entity, here the endpoint's dataset); the service description says so.
- GET without a query: the service description
  (https://www.w3.org/TR/sparql11-service-description/#accessing), for a machine; a browser
  (whose Accept prefers HTML) is sent to the query page instead (303 to ``/query``).
- Errors are plain text with the cause (400 syntax error with position, 403, 405, 406, 413,
  415); CORS headers and the preflight are :mod:`palmyra_graph.web.headers`'.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from urllib.parse import parse_qsl

import pyoxigraph as ox
from flask import Blueprint, Request, Response, current_app, request, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import RequestEntityTooLarge

from palmyra_graph.errors import (
    NotAcceptable,
    QueryError,
    QueryRefused,
    RequestTooLarge,
    UnsupportedMediaType,
)
from palmyra_graph.graph.formats import (
    GRAPH_FORMATS,
    HTML,
    RESULT_FORMATS,
    RESULTS_JSON,
    RESULTS_XML,
    Format,
    by_name,
    negotiate,
)
from palmyra_graph.query.answer import QueryJob, answer_job
from palmyra_graph.query.cache import request_key
from palmyra_graph.query.guard import check_query
from palmyra_graph.query.lookup import answer_lookup, lookup_of
from palmyra_graph.web.context import (
    cache_of,
    client_address,
    engine_of,
    fingerprint_of,
    lookups_of,
    pool_of,
    public_url,
)
from palmyra_graph.web.service_description import service_description

PATH = "/sparql"
bp = Blueprint("sparql", __name__)

#: Formats offered per result kind; the first is the default for ``*/*`` or no Accept.
OFFERED: dict[str, tuple[Format, ...]] = {
    "solutions": RESULT_FORMATS,
    "boolean": (RESULTS_JSON, RESULTS_XML),
    "graph": GRAPH_FORMATS,
}
#: The result kind each query form yields, to negotiate before evaluating.
KIND_OF_FORM = {"SELECT": "solutions", "ASK": "boolean", "CONSTRUCT": "graph", "DESCRIBE": "graph"}

FORM = "application/x-www-form-urlencoded"
QUERY = "application/sparql-query"
UPDATE = "application/sparql-update"


@dataclass(frozen=True)
class SparqlRequest:
    """The protocol operation a request carries: a query (or none) and the dataset."""

    query: str | None
    default_graphs: list[str]
    named_graphs: list[str]
    format: str | None


@bp.route(PATH, methods=["GET", "POST"])
def sparql() -> Response:
    """Answer one protocol request (see the module docstring)."""
    operation = read_request(request, max_length=current_app.config["MAX_CONTENT_LENGTH"])
    if operation.query is None:
        return _service_description(operation)
    base = current_app.config["BASE_IRI"]  # relative IRIs resolve against the data's base
    info = check_query(operation.query, allow=current_app.config["ALLOW_SERVICE"], base=base)
    job = _job(replace(operation, query=info.text), form=info.form, base=base)  # guarded text
    return _answer(job, federated=info.federated)


_VARY = {"Vary": "Accept"}


def _answer(job: QueryJob, *, federated: bool) -> Response:
    """The answer to a checked query: from the answer cache, else evaluated and stored once
    written whole. The graph does not change while it is served, so GET answers carry an
    ETag (the graph's fingerprint and the request) and may be cached by anyone for a while;
    a client that has the answer already gets 304 before anything is evaluated."""
    key = request_key(
        job.query, job.base, job.default_graphs, job.named_graphs, job.formats, job.refusals
    )
    fingerprint, cache = fingerprint_of(current_app), cache_of(current_app)
    headers = dict(_VARY)
    if fingerprint and request.method in ("GET", "HEAD"):
        etag = request_key(fingerprint, key)[:32]
        headers["ETag"] = f'W/"{etag}"'
        headers["Cache-Control"] = f"public, max-age={current_app.config['CACHE_MAX_AGE']}"
        if request.if_none_match.contains_weak(etag):  # RFC 9110 §13.1.2, "*" included
            return Response(status=304, headers=headers)
    hit = cache.get(key)  # an empty cache where the graph may change (no fingerprint)
    if hit is not None:
        return _sent(hit.content_type, [hit.body], headers)
    content_type, chunks, close = _evaluate(job, federated=federated)
    return _sent(content_type, cache.keeping(key, content_type, chunks), headers, close=close)


def _evaluate(
    job: QueryJob, *, federated: bool
) -> tuple[str, Iterable[bytes], Callable[[], None] | None]:
    """Evaluate in a killable worker within QUERY_TIMEOUT (503 past it), the body in chunks
    (429 past the client's limits); a lookup of one triple pattern with few solutions in the
    request thread from the read-only store (:mod:`palmyra_graph.query.lookup`); with
    QUERY_WORKERS = 0 in the request thread, with no time budget. Returns the content type,
    the chunks and what stops them early."""
    pool = pool_of(current_app)
    if pool is None:
        content_type, write = answer_job(engine_of(current_app), job)
        buffer = io.BytesIO()
        write(buffer)
        return content_type, [buffer.getvalue()], None
    answered = _looked_up(job)
    if answered is not None:
        return answered[0], [answered[1]], None
    answer = pool.run(answer_job, job, client=client_address(), federated=federated)
    return answer.meta, answer.chunks, answer.close


def _looked_up(job: QueryJob) -> tuple[str, bytes] | None:
    """The answer to a one-pattern lookup from the read-only store, or None when the query
    is not one, the store is not written yet, or it has too many solutions."""
    lookups = lookups_of(current_app)
    if lookups is None or job.default_graphs or job.named_graphs:
        return None
    lookup = lookup_of(job.query)
    if lookup is None:
        return None
    store = lookups.store()
    return None if store is None else answer_lookup(store, lookup, job)


def _sent(
    content_type: str,
    chunks: Iterable[bytes],
    headers: dict[str, str],
    *,
    close: Callable[[], None] | None = None,
) -> Response:
    if request.method == "HEAD":  # the length of the body GET would send, never the body
        length = sum(len(chunk) for chunk in chunks)
        return Response(
            iter(()), content_type=content_type, headers={**headers, "Content-Length": str(length)}
        )
    response = Response(chunks, content_type=content_type, headers=headers)
    if close is not None:
        response.call_on_close(close)
    return response


def _job(operation: SparqlRequest, *, form: str | None, base: str) -> QueryJob:
    """The query with the format chosen for each result kind, or why none is acceptable.

    Raises:
        NotAcceptable: nothing is acceptable for the kind the query's form gives (406 before
            any evaluation).
    """
    assert operation.query is not None
    formats, refusals = {}, {}
    for kind in OFFERED:
        try:
            formats[kind] = choose_format(kind, operation).media_type
        except NotAcceptable as refusal:
            refusals[kind] = refusal.message
    form_kind = KIND_OF_FORM.get(form or "")
    if form_kind in refusals:
        raise NotAcceptable(refusals[form_kind])
    return QueryJob(
        operation.query,
        default_graphs=tuple(operation.default_graphs),
        named_graphs=tuple(operation.named_graphs),
        base=base,
        formats=formats,
        refusals=refusals,
    )


def read_request(req: Request, *, max_length: int | None = None) -> SparqlRequest:
    """Read the protocol parameters of a GET or POST request.

    Raises:
        RequestTooLarge: the body exceeds ``max_length`` bytes (413).
        UnsupportedMediaType: a POST body that is neither a form nor a query (415).
        QueryRefused: the request is an update (403).
        QueryError: no query in a POST, or more than one query (400).
    """
    if max_length is not None and (req.content_length or 0) > max_length:
        raise RequestTooLarge(f"request body over the limit of {max_length} bytes")
    params, body_query = _params(req, max_length)
    if "update" in params or req.mimetype == UPDATE:
        raise QueryRefused("this endpoint is read-only: SPARQL updates are refused")
    queries = params.getlist("query") + ([body_query] if body_query is not None else [])
    if len(queries) > 1:
        raise QueryError(f"{len(queries)} queries in one request: send exactly one 'query'")
    if not queries and req.method == "POST":
        raise QueryError("missing 'query': send it as a form field or as the request body")
    if not queries and ("default-graph-uri" in params or "named-graph-uri" in params):
        raise QueryError("missing 'query' parameter")
    return SparqlRequest(
        query=queries[0] if queries else None,
        default_graphs=params.getlist("default-graph-uri"),
        named_graphs=params.getlist("named-graph-uri"),
        format=params.get("format"),
    )


def _params(req: Request, limit: int | None) -> tuple[MultiDict[str, str], str | None]:
    """The parameters (URL and form) and the query sent as a direct POST body, if any."""
    params: MultiDict[str, str] = MultiDict(req.args)
    if req.method != "POST" or req.mimetype == UPDATE:
        return params, None
    if req.mimetype == FORM:
        params.update(_form_fields(_body(req, limit)))
        return params, None
    if req.mimetype == QUERY:
        charset = req.mimetype_params.get("charset", "utf-8").lower()
        if charset not in ("utf-8", "utf8"):
            raise UnsupportedMediaType(f"a {QUERY} body must be UTF-8, not {charset}")
        return params, _utf8(_body(req, limit), "the query")
    given = req.mimetype or "no content type"
    raise UnsupportedMediaType(
        f"unsupported request content type ({given}): POST a query as {FORM} or {QUERY}"
    )


#: Form fields read at most (the protocol has four kinds; Flask's own parser allows 1000).
MAX_FORM_FIELDS = 1000


def _body(req: Request, limit: int | None) -> bytes:
    """The whole request body, refused (nothing evaluated) when it is over ``limit`` bytes,
    also when it comes chunked, without a Content-Length: it is never cut to the limit."""
    if limit is None:
        return req.get_data(cache=False)
    if req.content_length is not None:
        try:
            return req.get_data(cache=False)
        except RequestEntityTooLarge as exc:
            raise RequestTooLarge(f"request body over the limit of {limit} bytes") from exc
    data = req.environ["wsgi.input"].read(limit + 1)
    if len(data) > limit:
        raise RequestTooLarge(f"request body over the limit of {limit} bytes")
    return data


def _form_fields(data: bytes) -> list[tuple[str, str]]:
    try:
        return parse_qsl(
            _utf8(data, "the form"),
            keep_blank_values=True,
            strict_parsing=False,
            errors="strict",
            max_num_fields=MAX_FORM_FIELDS,
        )
    except UnicodeDecodeError as exc:
        raise QueryError(f"a form field is not valid UTF-8 once decoded ({exc.reason})") from exc
    except ValueError as exc:
        raise QueryError(f"the form has more than {MAX_FORM_FIELDS} fields") from exc


def _utf8(data: bytes, what: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise QueryError(f"{what} is not valid UTF-8 (byte {exc.start})") from exc


def choose_format(kind: str, operation: SparqlRequest) -> Format:
    """The format for a result kind: the ``format=`` parameter, else Accept negotiation.

    Raises:
        NotAcceptable: the named format is not offered for this kind, or nothing offered
            matches Accept (406, the message lists what is offered).
    """
    offered = OFFERED[kind]
    if operation.format:
        fmt = by_name(operation.format, offered)
        if fmt is None:
            raise NotAcceptable(f"format={operation.format!r} is not offered; {_menu(offered)}")
        return fmt
    fmt = negotiate(request.headers.get("Accept"), offered)
    if fmt is None:
        raise NotAcceptable(f"nothing acceptable in Accept; {_menu(offered)}")
    return fmt


def _menu(offered: tuple[Format, ...]) -> str:
    return "offered: " + ", ".join(f"{f.media_type} (format={f.names[0]})" for f in offered)


def _service_description(operation: SparqlRequest) -> Response:
    """The service description, or a redirect to the query page for a browser."""
    if not operation.format and _prefers_html():
        page = url_for("pages.query")  # relative: never built from the Host header
        return Response(
            f"the query page of this endpoint is {page}\n",
            status=303,
            mimetype="text/plain",
            headers={"Location": page, **_VARY},
        )
    fmt = choose_format("graph", operation)
    allow = current_app.config["ALLOW_SERVICE"]
    endpoint = public_url(current_app, "sparql.sparql")  # never the Host header
    triples = service_description(
        endpoint, engine_of(current_app), federated=bool(allow), base=current_app.config["BASE_IRI"]
    )
    data = ox.serialize(triples, format=fmt.oxigraph)  # type: ignore[arg-type]
    return Response(data, content_type=fmt.content_type, headers=_VARY)


def _prefers_html() -> bool:
    """Whether Accept ranks HTML above every RDF format (a browser's does; ``*/*`` does not)."""
    return negotiate(request.headers.get("Accept"), (*GRAPH_FORMATS, HTML)) == HTML
