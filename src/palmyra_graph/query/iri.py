"""IRI references resolved against a base, as RFC 3986 §5.2 defines it.

https://www.rfc-editor.org/rfc/rfc3986#section-5.2: split both references into their five
components (§3, the regular expression of Appendix B), merge the paths (§5.2.3), remove dot
segments (§5.2.4) and recompose (§5.3). Components are compared and copied as strings, never
normalised (no case folding, no percent-decoding), which is what Oxigraph does too.
"""

from __future__ import annotations

import re
from typing import NamedTuple

#: RFC 3986 Appendix B: scheme, authority, path, query and fragment of any reference.
_SPLIT = re.compile(
    r"^(?:([^:/?#]+):)?(?://([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?\Z", re.DOTALL
)
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*\Z")


class Reference(NamedTuple):
    """The five components of a URI reference; None where the component is absent."""

    scheme: str | None
    authority: str | None
    path: str
    query: str | None
    fragment: str | None

    def __str__(self) -> str:
        """Recompose the reference (RFC 3986 §5.3)."""
        parts = []
        if self.scheme is not None:
            parts.append(self.scheme + ":")
        if self.authority is not None:
            parts.append("//" + self.authority)
        parts.append(self.path)
        if self.query is not None:
            parts.append("?" + self.query)
        if self.fragment is not None:
            parts.append("#" + self.fragment)
        return "".join(parts)


def split(reference: str) -> Reference:
    """The components of ``reference`` (RFC 3986 Appendix B; every string matches)."""
    scheme, authority, path, query, fragment = _groups(reference)
    if scheme is not None and not _SCHEME.match(scheme):
        # "1a:b" has no scheme (§3.1): read it as a relative path, colon and all.
        scheme, authority, path, query, fragment = _groups("./" + reference)
        path = path[2:]
    return Reference(scheme, authority, path, query, fragment)


def _groups(reference: str) -> tuple[str | None, str | None, str, str | None, str | None]:
    match = _SPLIT.match(reference)
    assert match is not None  # every component is optional
    scheme, authority, path, query, fragment = match.groups()
    return scheme, authority, path, query, fragment


def is_absolute(iri: str) -> bool:
    """Whether ``iri`` has a scheme (RFC 3986 §4.3)."""
    return split(iri).scheme is not None


def resolve(reference: str, base: str) -> str:
    """The target IRI of ``reference`` against the absolute ``base`` (RFC 3986 §5.2.2).

    Raises:
        ValueError: ``base`` has no scheme.
    """
    ref, bas = split(reference), split(base)
    if bas.scheme is None:
        raise ValueError(f"not an absolute base IRI: {base!r}")
    if ref.scheme is not None:
        target = ref._replace(path=remove_dot_segments(ref.path))
    elif ref.authority is not None:
        target = ref._replace(scheme=bas.scheme, path=remove_dot_segments(ref.path))
    elif ref.path == "":
        query = ref.query if ref.query is not None else bas.query
        target = Reference(bas.scheme, bas.authority, bas.path, query, ref.fragment)
    else:
        path = ref.path if ref.path.startswith("/") else _merge(bas, ref.path)
        target = Reference(
            bas.scheme, bas.authority, remove_dot_segments(path), ref.query, ref.fragment
        )
    return str(target)


def _merge(base: Reference, path: str) -> str:
    """RFC 3986 §5.2.3."""
    if base.authority is not None and base.path == "":
        return "/" + path
    return base.path[: base.path.rfind("/") + 1] + path


def remove_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4, step by step on the input buffer."""
    output: list[str] = []
    rest = path
    while rest:
        if rest.startswith("../"):
            rest = rest[3:]
        elif rest.startswith(("./", "/./")):
            rest = rest[2:]
        elif rest == "/.":
            rest = "/"
        elif rest.startswith("/../"):
            rest = rest[3:]
            _drop_last(output)
        elif rest == "/..":
            rest = "/"
            _drop_last(output)
        elif rest in (".", ".."):
            rest = ""
        else:
            cut = rest.find("/", 1)
            cut = len(rest) if cut < 0 else cut
            output.append(rest[:cut])
            rest = rest[cut:]
    return "".join(output)


def _drop_last(output: list[str]) -> None:
    if output:
        output.pop()
