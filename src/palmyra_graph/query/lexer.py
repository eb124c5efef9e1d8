"""A SPARQL text read once into code and regions, and rewritten so the regions hide nothing.

:func:`lex` reads the text left to right into code and the regions that can hide a keyword
or a bracket: comments, the four string forms and IRI references
(https://www.w3.org/TR/sparql11-query/#terminals). That reading is a best guess, not the
engine's: Oxigraph has no tokenizer, and a ``<`` is an IRI or "less than" depending on the
rule that reaches it. So the text the engine is given is rewritten to make a wrong guess
harmless, with the same meaning:

- in a string, the first letter of ``service``, ``prefix`` and ``base`` becomes a
  ``\\uXXXX`` escape (the same string value); in a comment it becomes ``x`` (``X``). Had the
  guess been wrong, the engine reads ``\\u0073ervice`` or ``xervice``, never a keyword;
- in an IRI that could be an expression instead (after an operand, inside parentheses, as
  in ``FILTER(1<2)#>``), ``#`` and ``'`` become escapes (the same IRI), so the engine cannot
  start a comment or a string where this module saw none, and the two readings stay in step.

One regular expression finds the regions (each alternative is linear, and the search skips
code in C); the Python loop runs once per region.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_NOT_IRI = r'[^<>"{}|^`\\\x00-\x20]'
_UCHAR = r"\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}"
#: The regions, tried at every position of code in this order; the kind of a match is its
#: first character. A backslash takes the next character with it (``\\#``, ``\\'`` belong
#: to a prefixed name); a quote that opens no string and a ``<`` that opens no IRI are code.
#: Loops are unrolled (``a*(?:b a*)*``) and the alternatives have no groups, so that the
#: search skips code at C speed and a failed string costs one scan.
REGION = re.compile(
    "|".join(
        (
            r"\\[\s\S]",
            r"\#[^\r\n]*(?:[ \t\r\n]*\#[^\r\n]*)*",
            r"'''[^'\\]*(?:(?:\\[\s\S]|'(?!''))[^'\\]*)*'''",
            r'"""[^"\\]*(?:(?:\\[\s\S]|"(?!""))[^"\\]*)*"""',
            r"'[^'\\\n\r]*(?:\\.[^'\\\n\r]*)*'",
            r'"[^"\\\n\r]*(?:\\.[^"\\\n\r]*)*"',
            f"<{_NOT_IRI}*(?:(?:{_UCHAR}){_NOT_IRI}*)*>",
        )
    )
)

_WORDS = "[sS][eE][rR][vV][iI][cC][eE]|[pP][rR][eE][fF][iI][xX]|[bB][aA][sS][eE]"
_KEYWORD = re.compile(_WORDS)
_STRING_UNIT = re.compile(r"(\\(?:u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|[\s\S]))|" + f"(?={_WORDS}).")
_REST = "(?=[eE][rR][vV][iI][cC][eE]|[rR][eE][fF][iI][xX]|[aA][sS][eE])"
_COMMENT_LOWER = re.compile("[spb]" + _REST)
_COMMENT_UPPER = re.compile("[SPB]" + _REST)
_NOT_BRACKET = re.compile(r"[^()\[\]{}]+")
_IRI_NOT_STRUCTURE = re.compile(r"[^(\[+\-*/!&=|^]")
#: Last characters of code after which ``<`` cannot be "less than" (no operand before it).
_NO_OPERAND_BEFORE = frozenset("(,{[;.=!<>&|+-*/^")


@dataclass(frozen=True)
class _Rewrite:
    start: int
    end: int
    text: str
    scan_text: str


@dataclass
class Lexed:
    """A query text read once: the source, its rewritten forms and their skeleton.

    ``text`` is what the engine is given. ``scan_text`` is the same before IRIs are
    rewritten: an IRI rewrite only ever removes a way to read ``SERVICE``, so the guard
    looks for them there. ``skeleton`` is ``text`` offset for offset, with comments blanked
    and strings, IRIs and escapes filled with ``"`` (an operand), except the brackets and
    operators of IRIs the engine could read as code.
    """

    source: str
    text: str
    scan_text: str
    skeleton: str
    rewrites: list[_Rewrite] = field(default_factory=list)

    def line_column(self, offset: int, *, scan: bool = False) -> tuple[int, int]:
        """Line and column (from 1) in the source of an offset of ``text`` (or ``scan_text``)."""
        position = self.source_offset(offset, scan=scan)
        line_start = self.source.rfind("\n", 0, position) + 1
        return self.source.count("\n", 0, position) + 1, position - line_start + 1

    def source_offset(self, offset: int, *, scan: bool = False) -> int:
        """The offset in the source of an offset of ``text`` (or ``scan_text``)."""
        shift = 0  # how much longer the rewritten text is, before the rewrite at hand
        for rewrite in self.rewrites:
            start, length = rewrite.start + shift, len(rewrite.scan_text if scan else rewrite.text)
            if offset < start:
                break
            if offset < start + length:  # inside a rewritten region: where it starts, or in it
                return rewrite.start + min(offset - start, rewrite.end - rewrite.start - 1)
            shift += length - (rewrite.end - rewrite.start)
        return offset - shift


class _Brackets:
    """The innermost open bracket of the skeleton so far, worked out only when asked."""

    def __init__(self) -> None:
        self.read = 0  # pieces of the skeleton already read
        self.stack: list[str] = []
        #: An IRI the engine may read as code had brackets: the stack is not to be trusted.
        self.unknown = False

    def innermost(self, skeleton: list[str]) -> str | None:
        for piece in skeleton[self.read :]:
            for char in _NOT_BRACKET.sub("", piece):
                if char in "([{":
                    self.stack.append(char)
                elif self.stack:
                    self.stack.pop()
        self.read = len(skeleton)
        return "(" if self.unknown else (self.stack[-1] if self.stack else None)


def _after_operand(skeleton: list[str]) -> bool:
    """Whether the skeleton so far ends with an operand (``"`` marks a string or an IRI)."""
    for piece in reversed(skeleton):
        tail = piece.rstrip(" \t\r\n")
        if tail:
            return tail[-1] not in _NO_OPERAND_BEFORE
    return False


def lex(source: str) -> Lexed:
    """Read ``source`` once into regions and rewrite it (see the module docstring)."""
    lowered = source.lower()  # may find more than ASCII case does (K for k), never less
    keywords = "service" in lowered or "prefix" in lowered or "base" in lowered
    skeleton: list[str] = []
    rewrites: list[_Rewrite] = []
    brackets = _Brackets()
    last = 0
    for match in REGION.finditer(source):
        start, end = match.span()
        if start > last:
            skeleton.append(source[last:start])
        last = end
        kind = source[start]
        if kind == "#":
            if keywords and _KEYWORD.search(body := match.group()):
                body = _COMMENT_UPPER.sub("X", _COMMENT_LOWER.sub("x", body))
                rewrites.append(_Rewrite(start, end, body, body))
            skeleton.append(" " * (end - start))
        elif kind == "<":
            skeleton.append(_iri(match, skeleton, brackets, rewrites))
        elif kind == "\\":  # a character of a prefixed name (\#, \'): part of an operand
            skeleton.append('""')
        elif keywords and _KEYWORD.search(body := match.group()):  # a string
            body = _STRING_UNIT.sub(_escape_first_letter, body)
            rewrites.append(_Rewrite(start, end, body, body))
            skeleton.append('"' * len(body))
        else:
            skeleton.append('"' * (end - start))
    skeleton.append(source[last:])
    if not rewrites:
        return Lexed(source, source, source, "".join(skeleton))
    return Lexed(
        source,
        _apply(source, rewrites, scan=False),
        _apply(source, rewrites, scan=True),
        "".join(skeleton),
        rewrites,
    )


def _iri(
    match: re.Match[str], skeleton: list[str], brackets: _Brackets, rewrites: list[_Rewrite]
) -> str:
    """The skeleton of an IRI, rewritten when the engine might read it as an expression."""
    body = match.group()
    if not any(char in body for char in "#'([") or not _after_operand(skeleton):
        return '"' * len(body)
    if brackets.innermost(skeleton) != "(":  # "<" is "less than" only in parentheses
        return '"' * len(body)
    brackets.unknown |= any(char in body for char in "()[")
    body = body.replace("#", "\\u0023").replace("'", "\\u0027")
    if body != match.group():
        rewrites.append(_Rewrite(match.start(), match.end(), body, match.group()))
    return _IRI_NOT_STRUCTURE.sub('"', body)


def _apply(source: str, rewrites: list[_Rewrite], *, scan: bool) -> str:
    pieces, last = [], 0
    for rewrite in rewrites:
        pieces.append(source[last : rewrite.start])
        pieces.append(rewrite.scan_text if scan else rewrite.text)
        last = rewrite.end
    pieces.append(source[last:])
    return "".join(pieces)


def _escape_first_letter(match: re.Match[str]) -> str:
    if match.group(1):  # an escape sequence: left as it is
        return match.group(1)
    return f"\\u{ord(match.group()):04X}"
