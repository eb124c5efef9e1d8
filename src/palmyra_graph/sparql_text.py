"""What a SPARQL text asks for, read from its tokens before any engine sees it.

A small lexer, not a parser: it knows the SPARQL 1.1 terminals that can hide a keyword
(comments, the four string forms, IRI references, prefixed names, variables, language tags,
https://www.w3.org/TR/sparql11-query/#terminals) and reads the prologue, the query form, the
dataset clause, the ``SERVICE`` endpoints and the targets of a ``DESCRIBE``.

It reads a text as Oxigraph does: codepoint escapes (``\\u0041``) count only inside strings
and IRI references (Oxigraph does not undo them across the whole text as §19.2 suggests, so an
escaped keyword is a syntax error there, and must not hide a real keyword here).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urljoin

_CODEPOINT = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")

_PN_LOCAL_ESCAPE = r"\\[_~.\-!$&'()*+,;=/?#@%]"
_TOKEN = re.compile(
    r"""
      (?P<ws>\s+)
    | (?P<comment>\#[^\n\r]*)
    | (?P<string>\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'''(?:[^'\\]|\\.|'(?!''))*'''
                 |"(?:[^"\\\n\r]|\\.)*"|'(?:[^'\\\n\r]|\\.)*')
    | (?P<iri><(?:[^<>"{}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*>)
    | (?P<var>[?$]\w+)
    | (?P<lang>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)
    | (?P<pname>(?:[^\W\d_](?:[\w.\-\u00B7]*[\w\-\u00B7])?)?:
                (?:[\w:%\-]|"""
    + _PN_LOCAL_ESCAPE
    + r"""|\.(?=[\w:%\-\\]))*)
    | (?P<word>[^\W\d]\w*)
    | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)

#: The first keyword of a SPARQL 1.1 Update operation (§3 of SPARQL 1.1 Update).
UPDATE_KEYWORDS = frozenset(
    {"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH"}
)
QUERY_FORMS = frozenset({"SELECT", "CONSTRUCT", "ASK", "DESCRIBE"})


@dataclass(frozen=True)
class Token:
    """One lexical token: its kind (a group name of the lexer), text and offset."""

    kind: str
    text: str
    start: int

    def is_word(self, *words: str) -> bool:
        """Whether this is one of the keywords ``words`` (keywords are case-insensitive)."""
        return self.kind == "word" and self.text.upper() in words


@dataclass
class QueryText:
    """What a query text says about itself, before it is parsed for real."""

    text: str
    form: str | None = None
    form_start: int = 0
    base: str | None = None
    prefixes: dict[str, str] = field(default_factory=dict)
    has_dataset_clause: bool = False
    services: list[str | None] = field(default_factory=list)
    describe_constants: list[str] = field(default_factory=list)
    describe_variables: list[str] = field(default_factory=list)
    describe_all: bool = False
    describe_end: int = 0

    def describe_as_select(self) -> str | None:
        """For ``DESCRIBE ?x … WHERE {…}``: the SELECT that finds what to describe, else None."""
        if not (self.describe_variables or self.describe_all):
            return None
        projection = "*" if self.describe_all else " ".join(self.describe_variables)
        head, tail = self.text[: self.form_start], self.text[self.describe_end :]
        return f"{head}SELECT DISTINCT {projection} {tail}"


def unescape_codepoints(text: str) -> str:
    """Replace ``\\uXXXX`` and ``\\UXXXXXXXX`` escapes by their characters (in an IRI)."""

    def char(match: re.Match[str]) -> str:
        code = int(match.group(1) or match.group(2), 16)
        return chr(code) if code <= 0x10FFFF else match.group(0)

    return _CODEPOINT.sub(char, text) if "\\u" in text or "\\U" in text else text


def tokens(text: str) -> Iterator[Token]:
    """The significant tokens of ``text`` (whitespace and comments dropped)."""
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "other"
        if kind not in ("ws", "comment"):
            yield Token(kind, match.group(), match.start())


@lru_cache(maxsize=512)
def inspect(sparql: str) -> QueryText:
    """Read the prologue, form, dataset clause, SERVICE endpoints and DESCRIBE targets.

    ``services`` holds one entry per ``SERVICE`` keyword: the endpoint IRI, resolved against
    the prologue's BASE and prefixes, or None when it is a variable or cannot be read.
    Texts are cached: the same query text is inspected once.
    """
    text = sparql
    info = QueryText(text=text)
    stream = tokens(text)
    for token in stream:
        if token.is_word("BASE"):
            info.base = _iri(next(stream, None), info)
        elif token.is_word("PREFIX"):
            _read_prefix(stream, info)
        else:
            if token.kind == "word":
                info.form, info.form_start = token.text.upper(), token.start
            break
    if info.form == "DESCRIBE":
        _read_describe_targets(stream, info)
    lowered = text.lower()
    if "service" in lowered or "from" in lowered:
        _read_body(stream, info)
    return info


def _read_prefix(stream: Iterator[Token], info: QueryText) -> None:
    name, target = next(stream, None), next(stream, None)
    if name is None or target is None or target.kind != "iri":
        return
    prefix = name.text[:-1] if name.text.endswith(":") else name.text
    info.prefixes[prefix] = _iri(target, info) or ""


def _read_describe_targets(stream: Iterator[Token], info: QueryText) -> None:
    info.describe_end = len(info.text)
    for token in stream:
        if token.kind == "var":
            info.describe_variables.append(token.text)
        elif token.text == "*":
            info.describe_all = True
        elif token.kind in ("iri", "pname"):
            iri = _iri(token, info)
            if iri:
                info.describe_constants.append(iri)
        else:
            info.describe_end = token.start
            if token.is_word("FROM"):
                info.has_dataset_clause = True
            break


def _read_body(stream: Iterator[Token], info: QueryText) -> None:
    for token in stream:
        if token.is_word("FROM"):
            info.has_dataset_clause = True
        elif token.is_word("SERVICE"):
            endpoint = next(stream, None)
            if endpoint is not None and endpoint.is_word("SILENT"):
                endpoint = next(stream, None)
            info.services.append(_iri(endpoint, info))


def _iri(token: Token | None, info: QueryText) -> str | None:
    """The absolute IRI an IRI reference or prefixed name token stands for, else None."""
    if token is None:
        return None
    if token.kind == "iri":
        return _resolve(unescape_codepoints(token.text[1:-1]), info.base)
    if token.kind == "pname":
        prefix, _, local = token.text.partition(":")
        namespace = info.prefixes.get(prefix)
        if namespace is None:
            return None
        return namespace + re.sub(r"\\(.)", r"\1", local)
    return None


def _resolve(reference: str, base: str | None) -> str:
    return urljoin(base, reference) if base else reference
