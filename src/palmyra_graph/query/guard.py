"""Refuse what a read-only public endpoint must not run, before the engine sees the query.

pyoxigraph evaluates a ``SERVICE`` clause (https://www.w3.org/TR/sparql11-federated-query/)
by sending an HTTP request to whatever IRI the query names: on a public endpoint that is a
server-side request forgery hole. So every ``SERVICE`` endpoint must be in an allow-list
(the app's ``ALLOW_SERVICE`` setting, empty by default); a variable endpoint
(``SERVICE ?x``) is always refused, since its value is only known during evaluation.
Updates (``INSERT``, ``LOAD``, ``CLEAR``, …) are refused too: the service is read-only, and
queries past the limits of :mod:`palmyra_graph.query.limits` are refused before they crash
the engine.

No lexer agrees with Oxigraph's backtracking parser everywhere (``SERVICE:x``,
``1SERVICE:x``, ``FILTER(1<2)SERVICE:x#>``), so the guard does not trust one. It reads
the text the engine will be given (:func:`palmyra_graph.query.text.lex`: ``service`` in a
string or a comment no longer spells a keyword there), and at every ``service``, whatever
surrounds it, replays the engine's rule ``SERVICE _ SILENT? _ VarOrIri _ {`` with both
alternatives and every extent a name can have (:mod:`palmyra_graph.query.grammar`).
Whatever matches is a clause the engine could read; its endpoint must resolve, through
prefix and BASE declarations read the same way, to exactly one IRI on the allow-list.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import pyoxigraph as ox

from palmyra_graph.errors import QueryError, QueryRefused
from palmyra_graph.query import iri as rfc3986
from palmyra_graph.query.grammar import PN_CHARS_BASE_RANGES, PN_CHARS_RANGES, Terminals
from palmyra_graph.query.lexer import Lexed, lex
from palmyra_graph.query.limits import check_limits
from palmyra_graph.query.text import (
    UPDATE_KEYWORDS,
    QueryText,
    prologue,
    read_head,
    unescape_codepoints,
)

_SERVICE = re.compile("SERVICE", re.IGNORECASE | re.ASCII)
_SERVICE_WORD = "[sS][eE][rR][vV][iI][cC][eE]"
_SILENT_WORD = "[sS][iI][lL][eE][nN][tT]"
_NAME = f"[{PN_CHARS_RANGES}.]"
#: A ``service`` that may start a clause: what follows it can begin ``_``, SILENT or a
#: VarOrIri other than a prefixed name glued to it (found by _GLUED_PREFIX). Checked in C
#: so that a text full of ``service`` words is not replayed word by word in Python.
_MAY_CALL = re.compile(
    f"{_SERVICE_WORD}(?=[#?$<:]|{_SILENT_WORD}"
    f"|[ \t\r\n]+(?:[#?$<:]|{_SILENT_WORD}|[{PN_CHARS_BASE_RANGES}]{_NAME}*:))"
)
#: The last ``service`` in a name that a colon ends: ``SERVICEe:x`` is SERVICE ``e:x``, and
#: so may every ``service`` earlier in that name be. Linear: each ``service`` looks ahead
#: only as far as the next one, and only the last one reads the rest of the name.
_GLUED_PREFIX = re.compile(f"{_SERVICE_WORD}(?!{_NAME}*?{_SERVICE_WORD}){_NAME}*:")
_NAME_RUN = re.compile(f"{_NAME}*")
_SILENT = re.compile("SILENT", re.IGNORECASE | re.ASCII)
_PREFIX = re.compile("PREFIX", re.IGNORECASE | re.ASCII)
_BASE = re.compile("BASE", re.IGNORECASE | re.ASCII)
_CODEPOINT = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


@dataclass(frozen=True)
class ServiceCall:
    """A ``SERVICE`` clause the engine could read: where, as written, and its endpoint."""

    offset: int
    spelling: str
    endpoint: str | None
    why: str = ""


def check_query(sparql: str, *, allow: Iterable[str] = (), base: str | None = None) -> QueryText:
    """Check a query before evaluation; returns what the text says about itself.

    The returned ``text`` is the text to evaluate (strings and comments rewritten so that
    they cannot hide a keyword from this check, with the same meaning).

    Args:
        sparql: the query text.
        allow: endpoint IRIs a ``SERVICE`` clause may call: absolute http(s) IRIs,
            compared as exact strings with the endpoint after resolving prefixes and BASE.
        base: the base IRI the engine will be given, used when the query declares none.

    Raises:
        QueryRefused: the text is an update (403).
        QueryTooComplex: the query nests or chains past the documented limits (400).
        QueryError: a ``SERVICE`` endpoint is not allowed, is a variable or cannot be read
            (400, the message names the endpoint, its line and column).
        ValueError: ``allow`` holds something else than absolute http(s) IRIs, or ``base``
            is not absolute.
    """
    allowed = allow_list(allow)
    if base is not None and not rfc3986.is_absolute(base):
        raise ValueError(f"not an absolute base IRI: {base!r}")
    unescapes = _engine_unescapes_codepoints()
    lexed = lex(_unescaped_as_engine_does(sparql) if unescapes else sparql)
    info = read_head(lexed, base=base)
    if info.form in UPDATE_KEYWORDS:
        raise QueryRefused(
            f"this endpoint is read-only: {info.form} is a SPARQL update, and updates are refused"
        )
    check_limits(lexed)
    calls = []
    for call in service_calls(lexed, base=base):
        _refuse_unless_allowed(call, lexed, allowed)
        calls.append(call)
    info.services = list(dict.fromkeys(call.endpoint for call in calls if call.endpoint))
    info.federated = bool(calls)
    if unescapes:  # the engine undoes \u escapes first: protect every backslash from it
        info.text = info.text.replace("\\", "\\u005C")
    return info


def allow_list(entries: Iterable[str]) -> frozenset[str]:
    """The allow-list as a set, once each entry is checked to be an absolute http(s) IRI.

    Raises:
        ValueError: an entry is not an absolute http or https IRI with a host.
    """
    allowed = frozenset(entries)
    for entry in allowed:
        parts = rfc3986.split(entry)
        if (parts.scheme or "").lower() not in ("http", "https") or not parts.authority:
            raise ValueError(f"SERVICE allow-list entries must be absolute http(s) IRIs: {entry!r}")
    return allowed


def _refuse_unless_allowed(call: ServiceCall, lexed: Lexed, allowed: frozenset[str]) -> None:
    line, column = lexed.line_column(call.offset, scan=True)
    where = f"at line {line}, column {column}"
    if call.endpoint is None:
        raise QueryError(
            f"SERVICE {call.spelling} {where} has a variable or unreadable endpoint "
            f"({call.why}) and is refused: name the endpoint IRI explicitly"
        )
    if call.endpoint not in allowed:
        listed = ", ".join(sorted(allowed)) or "none"
        raise QueryError(
            f"SERVICE <{call.endpoint}> {where} is not allowed on this endpoint (allowed: {listed})"
        )


def service_calls(lexed: Lexed, *, base: str | None = None) -> Iterator[ServiceCall]:
    """Every ``SERVICE`` clause the engine could read in ``lexed``, with its endpoint, in order.

    Args:
        lexed: the lexed query; its ``scan_text`` is read.
        base: the base IRI the engine is given, for a query that declares none.
    """
    text = lexed.scan_text
    terminals = Terminals(text)
    declarations = _Declarations(terminals, base)
    for offset in _service_words(text):
        for start, end in _endpoints(terminals, offset + len("SERVICE")):
            spelling = text[start:end]
            endpoint, why = declarations.endpoint(spelling, offset)
            yield ServiceCall(offset, spelling, endpoint, why)


def _service_words(text: str) -> list[int]:
    """Offsets of the ``service`` words (any case) that may start a SERVICE clause, in order.

    Every other ``service`` is followed by something no VarOrIri, ``_`` or SILENT can start
    with, or glued to a name that no colon follows.
    """
    if "service" not in text.lower():  # lower() may add matches (K for k), never lose one
        return []
    offsets = {match.start() for match in _MAY_CALL.finditer(text)}
    reversed_text = None
    for glued in _GLUED_PREFIX.finditer(text):
        reversed_text = reversed_text or text[::-1]  # the name's start is its end there
        before = _NAME_RUN.match(reversed_text, len(text) - glued.start())
        assert before is not None  # it matches the empty string
        name_start = glued.start() - (before.end() - before.start())
        offsets.update(m.start() for m in _SERVICE.finditer(text, name_start, glued.end()))
    return sorted(offsets)


def _endpoints(terminals: Terminals, pos: int) -> Iterator[tuple[int, int]]:
    """Where VarOrIri starts and ends in ``_ SILENT? _ VarOrIri _ {`` from ``pos`` (both ways)."""
    text = terminals.text
    start = terminals.space(pos)
    starts = [start]
    after_silent = terminals.keyword(start, _SILENT)
    if after_silent is not None:
        starts.append(terminals.space(after_silent))
    for begin in starts:
        for end in terminals.var_or_iri_ends(begin):
            if text.startswith("{", terminals.space(end)):
                yield begin, end


class _Declarations:
    """BASE and PREFIX declarations, read at every ``base`` and ``prefix`` of the text.

    Like ``SERVICE``, a declaration is read wherever the words are, not only where this
    module thinks the prologue is. A name or a relative IRI resolves only when exactly one
    IRI can be meant; otherwise the clause using it is refused.
    """

    def __init__(self, terminals: Terminals, default_base: str | None) -> None:
        self.terminals = terminals
        self.default_base = default_base
        self._bases: list[tuple[int, str | None]] | None = None
        self._prefixes: dict[str, list[tuple[int, str]]] | None = None
        self._certain_base: int | None = None

    def endpoint(self, spelling: str, offset: int) -> tuple[str | None, str]:
        """The IRI a VarOrIri spelling names at ``offset``, or None and why not."""
        if spelling[0] in "?$":
            return None, f"{spelling} is a variable, bound only during evaluation"
        if spelling[0] == "<":
            return self._reference(spelling[1:-1], offset)
        prefix, _, local = spelling.partition(":")
        namespace, why = self._namespace(prefix)
        if namespace is None:
            return None, why
        return namespace + local.replace("\\", ""), ""

    def _reference(self, reference: str, offset: int) -> tuple[str | None, str]:
        try:
            iri = unescape_codepoints(reference)
        except ValueError as exc:
            return None, f"<{reference}> is not an IRI: {exc}"
        if rfc3986.is_absolute(iri):  # Oxigraph keeps it as written, base or not
            return iri, ""
        base, why = self._base_at(offset)
        if base is None:
            return None, f"<{iri}> is relative and {why}"
        resolved = _resolve_as_oxigraph(iri, base)
        if resolved is None:
            return None, f"<{iri}> against the base <{base}> may resolve otherwise in the engine"
        return resolved, ""

    def _namespace(self, prefix: str) -> tuple[str | None, str]:
        declared = self._prefix_declarations().get(prefix, [])
        iris = set()
        for offset, reference in declared:
            iri, why = self._reference(reference, offset)
            if iri is None:
                return None, f"the prefix {prefix}: is declared as {why}"
            iris.add(iri)
        if len(iris) != 1:
            found = "is not declared" if not iris else "is declared with several IRIs"
            return None, f"the prefix {prefix}: {found}"
        return iris.pop(), ""

    def _base_at(self, offset: int) -> tuple[str | None, str]:
        """The one base IRI that can apply at ``offset``, or None and why."""
        bases = {iri for at, iri in self._base_declarations() if at < offset}
        if self.default_base is not None and not self._declared_before(offset):
            bases.add(self.default_base)
        if None in bases:
            return None, "a BASE declaration before it cannot be read"
        if len(bases) != 1:
            return None, "no BASE applies" if not bases else "several BASE declarations apply"
        (base,) = bases
        assert base is not None
        return base, ""

    def _declared_before(self, offset: int) -> bool:
        """Whether the engine's own prologue surely declares a BASE before ``offset``."""
        if self._certain_base is None:
            declarations, _ = prologue(self.terminals)
            bases = [d.offset for d in declarations if d.name is None]
            self._certain_base = bases[0] if bases else len(self.terminals.text)
        return self._certain_base < offset

    def _base_declarations(self) -> list[tuple[int, str | None]]:
        if self._bases is None:
            self._bases = []
            for offset, _, reference in _declared(self.terminals, _BASE, with_name=False):
                try:
                    iri: str | None = unescape_codepoints(reference)
                except ValueError:
                    iri = None
                if iri is not None and not rfc3986.is_absolute(iri):
                    iri = None  # a relative BASE: only one absolute base is trusted
                self._bases.append((offset, iri))
        return self._bases

    def _prefix_declarations(self) -> dict[str, list[tuple[int, str]]]:
        if self._prefixes is None:
            self._prefixes = {}
            for offset, name, reference in _declared(self.terminals, _PREFIX, with_name=True):
                self._prefixes.setdefault(name, []).append((offset, reference))
        return self._prefixes


def _declared(
    terminals: Terminals, keyword: re.Pattern[str], *, with_name: bool
) -> Iterator[tuple[int, str, str]]:
    """``keyword _ (PNAME_NS _)? IRIREF`` at every occurrence of the keyword: the offset,
    the prefix name (empty without one) and the IRI reference as written."""
    text = terminals.text
    for match in keyword.finditer(text):
        start, name = terminals.space(match.end()), ""
        if with_name:
            name_end = terminals.pname_ns(start)
            if name_end is None:
                continue
            name, start = text[start : name_end - 1], terminals.space(name_end)
        end = terminals.iriref(start)
        if end is not None:
            yield match.start(), name, text[start + 1 : end - 1]


def _resolve_as_oxigraph(reference: str, base: str) -> str | None:
    """RFC 3986 resolution where Oxigraph's agrees with it, else None.

    Checked against pyoxigraph 0.5 (tests/sparql/test_iri.py): Oxigraph keeps an absolute
    reference as written and leaves the dot segments of a network-path reference and of the
    base path, and resolves against a base without authority (``urn:a:b``) unlike §5.2.
    """
    base_parts, parts = rfc3986.split(base), rfc3986.split(reference)
    if parts.scheme is not None:
        return reference
    if base_parts.authority is None or _has_dot_segments(base_parts.path):
        return None
    if parts.authority is not None and _has_dot_segments(parts.path):
        return None
    return rfc3986.resolve(reference, base)


def _has_dot_segments(path: str) -> bool:
    segments = path.split("/")
    return "." in segments or ".." in segments


@functools.cache
def _engine_unescapes_codepoints() -> bool:
    """Whether this pyoxigraph build undoes ``\\uXXXX`` across the whole query text.

    Oxigraph does so only when built with ``standard-unicode-escaping`` (SPARQL 1.1 §19.2);
    0.5.13 from PyPI is not. Then ``\\u0053ERVICE`` would be a keyword, so the guard reads
    the text as unescaped, and hands the engine a text whose backslashes survive it.
    """
    try:
        ox.Store().query("ASK { FILTER(\\u0074rue) }")
    except SyntaxError:
        return False
    return True


def _unescaped_as_engine_does(text: str) -> str:
    """The text after Oxigraph's ``unescape_unicode_codepoints`` (invalid escapes stay)."""

    def char(match: re.Match[str]) -> str:
        code = int(match.group(1) or match.group(2), 16)
        valid = code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF
        return chr(code) if valid else match.group()

    return _CODEPOINT.sub(char, text)
