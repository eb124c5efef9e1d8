"""How deep a query may nest and how long a list it may hold at one level, checked first.

Oxigraph parses, optimises and evaluates a query by recursion, so a deep or long enough
query overflows the thread's stack and kills the process (SIGSEGV), whatever the time
budget. The first size that crashed pyoxigraph 0.5.13 on this project's machine:

=====================================  ===========  ============
shape                                  8 MB stack   256 MB stack
=====================================  ===========  ============
nested ``{``                           2,208        70,656
nested ``(``                           4,672        > 102,400
nested ``CONCAT(``                     928          29,696
nested ``FILTER EXISTS {``             848          27,136
``MINUS`` at one level                 2,624        198,656
``UNION``, ``+`` at one level          6,656-6,912
groups ``{…} {…}``, triples ``… .``    8,192
``FILTER``, ``&&``, ``!`` in a row     9,344-9,472
``,`` ``;`` ``BIND`` ``(… AS ?v)``     < 10,000
``,`` (a 1 MB object list)                          331,776
=====================================  ===========  ============

The query workers evaluate on a thread with a 256 MB stack, where these limits keep a
margin of 27 or more; on an 8 MB stack nested ``EXISTS`` and ``CONCAT`` crash below
``MAX_NESTING`` and several lists below ``MAX_CHAIN``. Both limits are counted on the code
of the query (not its strings, comments or IRIs, except IRIs the engine could read as code)
and over-count rather than miss:

- ``MAX_NESTING``: ``{``, ``(`` and ``[`` open at once, all kinds together;
- ``MAX_CHAIN``: items directly inside one bracket, or at the top level: the operators
  ``+ - * / | ^ ! & = < >`` (``&&`` counts two), the separators ``.``, ``;`` and ``,``, the
  keywords ``UNION``, ``MINUS``, ``OPTIONAL``, ``FILTER``, ``AS``, ``GRAPH``, ``SERVICE``
  and ``VALUES`` (found without word boundaries, as the engine does), and each ``{``.

The counts run at C speed on the ASCII bytes of the code (``bytes.translate``, running sums);
only a text with more than ``MAX_CHAIN`` candidate items is walked bracket by bracket.
"""

from __future__ import annotations

import re
from collections import Counter
from itertools import accumulate, compress, islice

from palmyra_graph.errors import QueryTooComplex
from palmyra_graph.query.lexer import Lexed

MAX_NESTING = 1000
MAX_CHAIN = 10000

_OPENERS, _CLOSERS = b"({[", b")}]"
#: Items that no name, number or datatype marker holds, and items that some may (``ex:a-b``,
#: ``1.5``, ``"1"^^xsd:int``, ``?class``; ``+`` only in ``1e+5``, not counted there as
#: sure): the latter are counted again without names when they make a list look too long.
_SURE_ITEMS, _UNSURE_ITEMS = b"*/|=<>;,&!+", b"-.^"
_SURE_KEYWORDS = (b"optional", b"service", b"filter", b"values", b"union", b"minus", b"graph")
_ALL_BYTES = bytes(range(256))
_BRACKETS = _OPENERS + _CLOSERS
_NOT_BRACKET = bytes(b for b in _ALL_BYTES if b not in _BRACKETS)
_NOT_SURE_EVENT = bytes(b for b in _ALL_BYTES if b not in _BRACKETS + _SURE_ITEMS)
_NOT_EVENT = bytes(b for b in _ALL_BYTES if b not in _BRACKETS + _SURE_ITEMS + _UNSURE_ITEMS)
_DEPTH_STEP = [0] * 256
for _b in _OPENERS:
    _DEPTH_STEP[_b] = 1
for _b in _CLOSERS:
    _DEPTH_STEP[_b] = -1
_IS_ITEM = [b in _SURE_ITEMS + _UNSURE_ITEMS for b in range(256)]
_BRACKET = re.compile(r"[(){}\[\]]")

# Names and numbers, blanked before a long list is counted again. Each is linear: a
# prefixed name is matched from its first character only (the lookbehind).
_NOT_ITEMS = (
    re.compile(rb"[?$]\w+"),  # variables
    re.compile(rb"(?<![\w\-.:%])[\w\-.]*:[\w\-.:%]*"),  # prefixed names
    re.compile(rb"(?:\d+(?:\.\d+)?|\.\d+)(?:e[+\-]?\d+)?"),  # numbers (lower case)
    re.compile(rb"@[a-z]+(?:-[a-z0-9]+)*"),  # language tags (lower case)
    re.compile(rb"\^\^"),  # datatype markers
)


def check_limits(lexed: Lexed) -> None:
    """Refuse a query that nests deeper than MAX_NESTING or lists more than MAX_CHAIN.

    Raises:
        QueryTooComplex: what was too deep or too long, where, and the limit (400).
    """
    code = lexed.skeleton.encode("ascii", "ignore")  # no bracket or item is outside ASCII
    _check_nesting(lexed, code)
    _check_chains(lexed, code)


def _check_nesting(lexed: Lexed, code: bytes) -> None:
    if sum(code.count(opener) for opener in (b"(", b"{", b"[")) <= MAX_NESTING:
        return
    brackets = code.translate(None, _NOT_BRACKET)
    if max(accumulate(map(_DEPTH_STEP.__getitem__, brackets))) <= MAX_NESTING:
        return
    depth = 0
    for match in _BRACKET.finditer(lexed.skeleton):
        depth += 1 if match.group() in "({[" else -1
        if depth > MAX_NESTING:
            line, column = lexed.line_column(match.start())
            raise QueryTooComplex(
                f"brackets {{ ( [ nest more than {MAX_NESTING} deep at line {line}, "
                f"column {column}: this endpoint allows at most {MAX_NESTING} (MAX_NESTING, "
                "so that the engine does not run out of stack)"
            )


def _check_chains(lexed: Lexed, code: bytes) -> None:
    code = code.lower()
    items = sum(code.count(item) for item in _SURE_ITEMS + _UNSURE_ITEMS + b"{")
    if items + sum(code.count(word) for word in (*_SURE_KEYWORDS, b"as")) <= MAX_CHAIN:
        return
    opener = _first_long_group(_events(code, sure=True))
    unsure = sum(code.count(item) for item in (b"-", b".", b"^", b"as", b"e+"))
    if opener is None and unsure and _first_long_group(_events(code, sure=False)) is not None:
        for pattern in _NOT_ITEMS:  # long at first sight: count again without names
            code = pattern.sub(b" ", code)
        opener = _first_long_group(_events(code, sure=False))
    if opener is None:
        return
    where = "at the top level of the query"
    if opener >= 0:
        match = next(islice(_BRACKET.finditer(lexed.skeleton), opener, None))
        line, column = lexed.line_column(match.start())
        where = f"in the group that opens at line {line}, column {column}"
    raise QueryTooComplex(
        f"more than {MAX_CHAIN} operators, separators, UNION, MINUS, OPTIONAL, FILTER, AS "
        f"or groups at one level, {where}: this endpoint allows at most {MAX_CHAIN} "
        "(MAX_CHAIN, so that the engine does not run out of stack)"
    )


def _events(code: bytes, *, sure: bool) -> bytes:
    """Brackets and items of lower-cased ``code`` (only the sure items, with ``sure``).

    Keywords become ``!`` (or ``^`` for ``as``), and ``{`` an item before its bracket.
    """
    for keyword in _SURE_KEYWORDS:
        code = code.replace(keyword, b"!")
    # The sign of an exponent (or of ?e+1) is not sure; AS is not, being in so many names.
    code = code.replace(b"e+", b"e ") if sure else code.replace(b"as", b"^")
    code = code.replace(b"{", b"!{")
    return code.translate(None, _NOT_SURE_EVENT if sure else _NOT_EVENT)


def _first_long_group(events: bytes) -> int | None:
    """The first group with more than MAX_CHAIN items, or None.

    ``events`` holds only brackets and items. The group is given as the index of its
    opening bracket among the brackets, or -1 for the top level.
    """
    if sum(map(_IS_ITEM.__getitem__, events)) <= MAX_CHAIN:
        return None
    found = _walk(events[: 4 * MAX_CHAIN])  # a long list usually shows early: look there first
    if found is not None:
        return found
    # Items per depth bound items per group: counted in C, walked only if that is too many.
    depths = accumulate(map(_DEPTH_STEP.__getitem__, events))
    items = map(_IS_ITEM.__getitem__, events)
    if max(Counter(compress(depths, items)).values()) <= MAX_CHAIN:
        return None
    return _walk(events)


def _walk(events: bytes) -> int | None:
    counts, openers, brackets = [0], [-1], 0
    for byte in events:
        if _IS_ITEM[byte]:
            counts[-1] += 1
            if counts[-1] > MAX_CHAIN:
                return openers[-1]
        step = _DEPTH_STEP[byte]
        if step > 0:
            counts.append(0)
            openers.append(brackets)
        elif step < 0 and len(counts) > 1:
            counts.pop()
            openers.pop()
        brackets += step != 0
    return None
