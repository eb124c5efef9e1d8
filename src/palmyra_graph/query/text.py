"""What a SPARQL text says about itself, read before any engine sees it.

:func:`inspect` reads the prologue (as Oxigraph's ``Prologue`` rule does), the query form,
the dataset clause and the targets of a ``DESCRIBE`` from the head of the text, as
:func:`palmyra_graph.query.lexer.lex` has rewritten it; the rest of the text is not walked.
Nothing is cached: every call reads its text again, in time linear in its length.

It reads a text as Oxigraph does: codepoint escapes (``\\u0041``) count only inside strings
and IRI references (Oxigraph does not undo them across the whole text as §19.2 suggests, so
an escaped keyword is a syntax error there, and must not hide a real keyword here).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from palmyra_graph.query import iri as rfc3986
from palmyra_graph.query.grammar import Terminals
from palmyra_graph.query.lexer import REGION, Lexed, lex

#: The first keyword of a SPARQL 1.1 Update operation (§3 of SPARQL 1.1 Update).
UPDATE_KEYWORDS = frozenset(
    {"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH"}
)
QUERY_FORMS = frozenset({"SELECT", "CONSTRUCT", "ASK", "DESCRIBE"})

_FORM = re.compile(
    r"SELECT|CONSTRUCT|DESCRIBE|ASK|INSERT|DELETE|LOAD|CLEAR|DROP|CREATE|ADD|MOVE|COPY|WITH",
    re.IGNORECASE | re.ASCII,
)
_BASE_KEYWORD = re.compile("BASE", re.IGNORECASE | re.ASCII)
_PREFIX_KEYWORD = re.compile("PREFIX", re.IGNORECASE | re.ASCII)
_CODEPOINT = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
#: FROM as the engine reads it (no word boundary), but not inside a name or a variable.
_FROM = re.compile(r"(?<![\w?$:\\])[Ff][Rr][Oo][Mm](?![\w:\-])")
_BRACE = re.compile(r"[{}]")
_VARIABLE = re.compile(r"[?$][^\W]\w*")
_VARIABLES = re.compile(r"(?:\s+|[?$][^\W]\w*(?![\w:]))*")
_HEAD_TOKEN = re.compile(
    r"""(?P<space>\s+)|(?P<var>[?$][^\W]\w*)|(?P<word>(?:[^\W\d]|:)(?:[\w.\-:%\u00b7]|\\.)*)
      |(?P<number>\d[\w.]*)|(?P<other>.)""",
    re.VERBOSE | re.DOTALL,
)


@dataclass
class QueryText:
    """What a query text says about itself, before it is parsed for real.

    ``text`` is the rewritten text (the one to evaluate); offsets are offsets of it.
    ``services`` and ``federated`` are filled in by
    :func:`palmyra_graph.query.guard.check_query`.
    """

    text: str
    form: str | None = None
    form_start: int = 0
    base: str | None = None
    prefixes: dict[str, str] = field(default_factory=dict)
    has_dataset_clause: bool = False
    #: The IRIs of ``FROM`` and of ``FROM NAMED``, when every one of them could be read.
    dataset: tuple[list[str], list[str]] | None = None
    services: list[str] = field(default_factory=list)
    federated: bool = False
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
    """Replace ``\\uXXXX`` and ``\\UXXXXXXXX`` escapes by their characters (in an IRI).

    Raises:
        ValueError: an escape names no character, or a backslash starts no escape
            (Oxigraph's ``unescape_iriref`` refuses both).
    """
    if "\\" not in text:
        return text

    def char(match: re.Match[str]) -> str:
        code = int(match.group(1) or match.group(2), 16)
        if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            raise ValueError(f"{match.group()} is not a character")
        return chr(code)

    unescaped = _CODEPOINT.sub(char, text)
    if "\\" in _CODEPOINT.sub("", text):
        raise ValueError("an IRI may only contain the escapes \\uXXXX and \\UXXXXXXXX")
    return unescaped


def inspect(sparql: str, *, base: str | None = None) -> QueryText:
    """Read the prologue, form, dataset clause and DESCRIBE targets of a query text.

    ``base`` is the base IRI the engine is given (RFC 3986 §5.1.2, from the encapsulating
    entity): relative IRIs, a relative ``BASE`` too, resolve against it as they do there.
    """
    return read_head(lex(sparql), base=base)


def read_head(lexed: Lexed, *, base: str | None = None) -> QueryText:
    """What the head of a lexed query says: prologue, form, dataset clause, DESCRIBE targets;
    IRIs resolved against ``base`` where the query declares no BASE of its own."""
    info = QueryText(text=lexed.text, base=base)
    terminals = Terminals(lexed.text)
    pos = _read_prologue(terminals, info)
    form = _FORM.match(lexed.text, pos)
    if form is None:
        return info
    info.form, info.form_start = form.group().upper(), pos
    if info.form == "DESCRIBE":
        _read_describe_targets(lexed, form.end(), info)
    elif info.form == "CONSTRUCT":
        _read_dataset_clause(lexed, _after_template(lexed.skeleton, form.end()), info)
    elif info.form in QUERY_FORMS:
        _read_dataset_clause(lexed, form.end(), info)
    return info


@dataclass(frozen=True)
class Declaration:
    """A BASE or PREFIX declaration: where, the prefix name (no colon) and the IRI as written."""

    keyword: str
    offset: int
    name: str | None
    reference: str


def prologue(terminals: Terminals) -> tuple[list[Declaration], int]:
    """The declarations of the prologue as Oxigraph's ``Prologue`` rule reads them, and
    where the prologue ends.

    The rule has no alternative way to read a declaration: one found by walking from the
    start of the text is read by the engine too, or the query does not parse.
    """
    pos = terminals.space(0)
    declarations: list[Declaration] = []
    while True:
        declaration, end = _declaration(terminals, pos)
        if declaration is None:
            return declarations, pos
        declarations.append(declaration)
        pos = terminals.space(end)


def _declaration(terminals: Terminals, pos: int) -> tuple[Declaration | None, int]:
    """``BASE _ IRIREF`` or ``PREFIX _ PNAME_NS _ IRIREF`` at ``pos``, and its end."""
    text, name = terminals.text, None
    after = terminals.keyword(pos, _BASE_KEYWORD)
    if after is None:
        after = terminals.keyword(pos, _PREFIX_KEYWORD)
        name_start = terminals.space(after) if after is not None else pos
        name_end = terminals.pname_ns(name_start) if after is not None else None
        if name_end is None:
            return None, pos
        name, after = text[name_start : name_end - 1], name_end
    start = terminals.space(after)
    end = terminals.iriref(start)
    if end is None:
        return None, pos
    keyword = "BASE" if name is None else "PREFIX"
    return Declaration(keyword, pos, name, text[start + 1 : end - 1]), end


def _read_prologue(terminals: Terminals, info: QueryText) -> int:
    declarations, end = prologue(terminals)
    for declaration in declarations:
        iri = _resolved(declaration.reference, info.base)
        if declaration.name is None:
            info.base = iri
        else:
            info.prefixes[declaration.name] = iri or ""
    return end


def _resolved(reference: str, base: str | None) -> str | None:
    try:
        iri = unescape_codepoints(reference)
    except ValueError:
        return None
    if rfc3986.is_absolute(iri) or base is None:
        return iri
    if not rfc3986.is_absolute(base):  # a relative BASE with nothing to resolve it against
        return None
    return rfc3986.resolve(iri, base)


class _Token(NamedTuple):
    kind: str
    text: str
    start: int


def _head_tokens(text: str, pos: int) -> Iterator[_Token]:
    """The significant tokens of ``text`` from ``pos``; a string or an IRI is one token."""
    while pos < len(text):
        region = REGION.match(text, pos)
        if region is not None:  # a comment, a string, an IRI or a backslash escape
            if text[pos] in "'\"<":
                yield _Token("iri" if text[pos] == "<" else "string", region.group(), pos)
            pos = region.end()
            continue
        match = _HEAD_TOKEN.match(text, pos)
        assert match is not None
        if match.lastgroup != "space":
            yield _Token(match.lastgroup or "other", match.group(), pos)
        pos = match.end()


def _read_describe_targets(lexed: Lexed, pos: int, info: QueryText) -> None:
    text = lexed.text
    info.describe_end = len(text)
    while pos < len(text):
        run = _VARIABLES.match(text, pos)  # a run of variables and spaces, read at C speed
        assert run is not None
        info.describe_variables.extend(_VARIABLE.findall(text, pos, run.end()))
        token = next(_head_tokens(text, run.end()), None)
        if token is None:
            return
        if token.kind == "var":
            info.describe_variables.append(token.text)
        elif token.text == "*":
            info.describe_all = True
        elif token.kind in ("iri", "word") and not _is_keyword(token):
            iri = _term_iri(token, info)
            if iri:
                info.describe_constants.append(iri)
        else:
            info.describe_end = token.start
            _read_dataset_clause(lexed, token.start, info)
            return
        pos = token.start + len(token.text)


def _is_keyword(token: _Token) -> bool:
    return token.kind == "word" and ":" not in token.text


def _read_dataset_clause(lexed: Lexed, start: int, info: QueryText) -> None:
    """Whether a dataset clause comes before the WHERE group, and its IRIs when each
    ``FROM`` and ``FROM NAMED`` is followed by an IRI this module can read."""
    words = _from_words(lexed.skeleton, start)
    info.has_dataset_clause = bool(words)
    defaults: list[str] = []
    named: list[str] = []
    for end in words:
        tokens = _head_tokens(lexed.text, end)
        token = next(tokens, None)
        into = defaults
        if token is not None and token.kind == "word" and token.text.upper() == "NAMED":
            token, into = next(tokens, None), named
        iri = _term_iri(token, info) if token is not None and token.kind in _TERMS else None
        if iri is None or not rfc3986.is_absolute(iri):
            return
        into.append(iri)
    if words:
        info.dataset = (defaults, named)


_TERMS = ("iri", "word")


def _from_words(skeleton: str, start: int) -> list[int]:
    """Where each ``FROM`` that comes, outside parentheses, between ``start`` and the WHERE
    group ends.

    Read on the skeleton (strings, IRIs and comments blanked), with running counts of
    parentheses, so a long projection costs no Python loop per token.
    """
    end, depth, pos = _first_group(skeleton, start), 0, start
    found = []
    for word in _FROM.finditer(skeleton, start, end):
        depth += skeleton.count("(", pos, word.start()) - skeleton.count(")", pos, word.start())
        pos = word.start()
        if depth <= 0:
            found.append(word.end())
    return found


def _first_group(skeleton: str, start: int) -> int:
    """The offset of the first ``{`` outside parentheses from ``start``, or the end."""
    depth, pos = 0, start
    brace = skeleton.find("{", start)
    while brace >= 0:
        depth += skeleton.count("(", pos, brace) - skeleton.count(")", pos, brace)
        if depth <= 0:
            return brace
        pos, brace = brace, skeleton.find("{", brace + 1)
    return len(skeleton)


def _after_template(skeleton: str, start: int) -> int:
    """Where a CONSTRUCT template ``{ … }`` ends (``start`` itself in ``CONSTRUCT WHERE``)."""
    first = len(skeleton) - len(skeleton[start:].lstrip())
    if not skeleton.startswith("{", first):
        return start
    depth = 0
    for brace in _BRACE.finditer(skeleton, first):
        depth += 1 if brace.group() == "{" else -1
        if depth == 0:
            return brace.end()
    return len(skeleton)


def _term_iri(token: _Token, info: QueryText) -> str | None:
    """The IRI an IRI reference or prefixed name token stands for, else None."""
    if token.kind == "iri":
        return _resolved(token.text[1:-1], info.base)
    prefix, colon, local = token.text.partition(":")
    namespace = info.prefixes.get(prefix)
    if not colon or namespace is None:
        return None
    return namespace + local.replace("\\", "")
