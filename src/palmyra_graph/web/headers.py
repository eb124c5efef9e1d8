"""Headers on every response: CORS, security headers, and a strict CSP on HTML.

- CORS (https://fetch.spec.whatwg.org/#http-cors-protocol): every response of every route,
  errors and redirects included, carries ``Access-Control-Allow-Origin: *``, so a script on
  another site reads the graph, the endpoint's answers and its errors alike (nothing here
  depends on cookies or credentials). A preflight (``OPTIONS``) is answered with the methods
  the route serves, the same list as its ``Allow``, and an empty body with no content type.
- The pages load scripts and styles only from this server's ``/static/``; nothing inline runs
  (CSP Level 3, https://www.w3.org/TR/CSP3/). ``X-Content-Type-Options: nosniff`` goes on
  every response (https://fetch.spec.whatwg.org/#x-content-type-options-header) so a query
  result is never sniffed into HTML.

The connection gate's own answers (400, 408, 413, 414, 429, 431, 501, 502, 503) carry the same
``Access-Control-Allow-Origin`` and ``nosniff`` (:func:`palmyra_graph.server.http1.plain_answer`).
"""

from __future__ import annotations

from flask import Blueprint, Response, request

bp = Blueprint("headers", __name__)

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    )
)
REFERRER_POLICY = "same-origin"

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": (
        "Content-Type, Content-Length, Content-Location, Link, ETag, Retry-After, Vary"
    ),
}
#: Request headers a cross-origin client may send (beyond the CORS-safelisted ones).
ALLOWED_REQUEST_HEADERS = "Accept, Content-Type"
#: How long a browser may keep a preflight's answer, in seconds.
PREFLIGHT_MAX_AGE = "86400"


@bp.after_app_request
def add_headers(response: Response) -> Response:
    """Add CORS and the security headers; a view that set its own keeps them."""
    for name, value in CORS_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.method == "OPTIONS" and response.allow:
        response.headers["Access-Control-Allow-Methods"] = ", ".join(sorted(response.allow))
        response.headers["Access-Control-Allow-Headers"] = ALLOWED_REQUEST_HEADERS
        response.headers["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Referrer-Policy", REFERRER_POLICY)
    return response
