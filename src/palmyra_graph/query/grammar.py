"""Oxigraph 0.5's own terminal rules, replayed on a query text from any position.

Oxigraph parses SPARQL with a PEG (rust-peg, ``lib/spargebra/src/parser.rs`` of the 0.5
branch) and has no tokenizer: each rule reads characters from wherever the rule before it
stopped. A keyword is ``i("SERVICE")``, any seven characters equal to ``SERVICE`` ignoring
ASCII case, with no word boundary; ``_`` is whitespace (`` \\t\\n\\r``) and ``#`` comments;
a prefixed name follows PN_PREFIX and PN_LOCAL exactly as written there (which is not quite
the SPARQL 1.1 grammar: one ``.`` group at most in a local name, no characters beyond
U+FFFD). :class:`Terminals` answers "where would this rule stop, starting here?" for the few
rules a ``SERVICE`` clause, a ``PREFIX`` and a ``BASE`` declaration are made of.

Every answer is linear overall, however many positions are asked about: runs of name
characters, comment ends and ``>`` positions are found once and remembered, so a text with
a hundred thousand ``service`` words in one long name is read once, not once per word.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from itertools import accumulate, chain, islice, repeat

#: Character ranges (for a regular expression class) of PN_CHARS_BASE and of PN_CHARS.
PN_CHARS_BASE_RANGES = (
    "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d"
    "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd"
)
_U = PN_CHARS_BASE_RANGES + "_"
PN_CHARS_RANGES = _U + "\\-0-9\u00b7\u0300-\u036f\u203f-\u2040"
_CHARS = PN_CHARS_RANGES
_ESCAPED = "_~.\\-!$&'()*+,;=/?#@%"

PN_CHARS_BASE = re.compile(f"[{PN_CHARS_BASE_RANGES}]")
#: PN_CHARS and dots: a PN_PREFIX is such a run, less its trailing dots.
_PREFIX_RUN = re.compile(f"[{_CHARS}.]*")
_LOCAL_FIRST = re.compile(f"[{_U}:0-9]|%[0-9A-Fa-f]{{2}}|\\\\[{_ESCAPED}]")
_LOCAL_UNIT = re.compile(f"[{_CHARS}:]|%[0-9A-Fa-f]{{2}}|\\\\[{_ESCAPED}]")
_LOCAL_RUN = re.compile(f"(?:[{_CHARS}:]|%[0-9A-Fa-f]{{2}}|\\\\[{_ESCAPED}])*")
_VAR_FIRST = re.compile(f"[{_U}0-9]")
_VAR_RUN = re.compile(f"[{_U}0-9\u00b7\u0300-\u036f\u203f-\u2040]*")
_DOTS = re.compile(r"\.*")
_WS = re.compile(r"[ \t\n\r]*")
_SPACE_STARTS = frozenset(" \t\n\r#")


class _Runs:
    """The end of the run a pattern matches from a position, remembered per run.

    Valid for patterns whose match from any unit boundary inside a run ends where the run
    ends (runs of name characters): an answer covers every later start in the same run.
    """

    def __init__(self, text: str, pattern: re.Pattern[str]) -> None:
        self.text, self.pattern = text, pattern
        self.starts: list[int] = []
        self.ends: list[int] = []

    def end(self, pos: int) -> int:
        i = bisect_right(self.starts, pos) - 1
        if i >= 0 and pos < self.ends[i]:
            return self.ends[i]
        end = self.pattern.match(self.text, pos).end()  # type: ignore[union-attr]
        if end > pos:
            self.starts.insert(i + 1, pos)
            self.ends.insert(i + 1, end)
        return end


def _positions(text: str, char: str) -> list[int]:
    """Every offset of ``char`` in ``text``, found at C speed (split, then running sums)."""
    pieces = text.split(char)
    sums = accumulate(chain.from_iterable(zip(map(len, pieces), repeat(1))))
    return list(islice(sums, 0, 2 * (len(pieces) - 1), 2))


class Terminals:
    """Where Oxigraph's rules ``_``, a keyword, Var, IRIREF, PNAME_NS and PNAME_LN stop.

    Each method takes a start offset and returns the end offset of what the rule reads
    there, or None when the rule does not match. Semantic checks (does the prefix exist, is
    the IRI valid) are not made: they can only make the engine reject more.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self._eols: list[int] | None = None
        self._gts: list[int] | None = None
        self._after_comments: dict[int, int] = {}
        self._prefix_runs = _Runs(text, _PREFIX_RUN)
        self._local_runs = _Runs(text, _LOCAL_RUN)
        self._var_runs = _Runs(text, _VAR_RUN)
        self._prefix_ends: dict[int, int] = {}
        self._local_ends: dict[int, int] = {}

    def space(self, pos: int) -> int:
        """``_``: whitespace and ``#`` comments (a comment ends before ``\\r`` or ``\\n``)."""
        text = self.text
        if text[pos : pos + 1] not in _SPACE_STARTS:  # the common case: nothing to skip
            return pos
        visited = []
        while True:
            pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
            if not text.startswith("#", pos):
                break
            eol = self._eol(pos)
            known = self._after_comments.get(eol)
            if known is not None:
                pos = known
                break
            visited.append(eol)
            pos = eol
        for eol in visited:
            self._after_comments[eol] = pos
        return pos

    def _eol(self, pos: int) -> int:
        if self._eols is None:
            self._eols = _positions(self.text.replace("\r", "\n"), "\n")
        i = bisect_left(self._eols, pos)
        return self._eols[i] if i < len(self._eols) else len(self.text)

    def keyword(self, pos: int, pattern: re.Pattern[str]) -> int | None:
        """``i("WORD")`` for a compiled ASCII-case-insensitive ``pattern`` of the word."""
        match = pattern.match(self.text, pos)
        return match.end() if match else None

    def var(self, pos: int) -> int | None:
        """VAR1 or VAR2: ``?`` or ``$`` and a VARNAME."""
        text = self.text
        if text[pos : pos + 1] not in ("?", "$") or not _VAR_FIRST.match(text, pos + 1):
            return None
        return self._var_runs.end(pos + 1)

    def iriref(self, pos: int) -> int | None:
        """IRIREF as Oxigraph reads it: ``<``, anything but ``>``, then ``>``."""
        if not self.text.startswith("<", pos):
            return None
        if self._gts is None:
            self._gts = _positions(self.text, ">")
        i = bisect_left(self._gts, pos)
        return self._gts[i] + 1 if i < len(self._gts) else None

    def pname_ns(self, pos: int) -> int | None:
        """PNAME_NS: an optional PN_PREFIX, then ``:`` (the end is after the colon)."""
        text = self.text
        if text.startswith(":", pos):
            return pos + 1
        if not PN_CHARS_BASE.match(text, pos):
            return None
        end = self._prefix_end(pos)
        return end + 1 if text.startswith(":", end) else None

    def _prefix_end(self, pos: int) -> int:
        run_end = self._prefix_runs.end(pos)
        end = self._prefix_ends.get(run_end)
        if end is None:
            end = run_end
            while end > pos and self.text[end - 1] == ".":  # trailing dots end no PN_PREFIX
                end -= 1
            self._prefix_ends[run_end] = end
        return max(end, pos + 1)

    def pn_local(self, pos: int) -> int | None:
        """PN_LOCAL from ``pos`` (just after a PNAME_NS), or None when it reads nothing."""
        if not _LOCAL_FIRST.match(self.text, pos):
            return None
        first_run = self._local_runs.end(pos)
        end = self._local_ends.get(first_run)
        if end is None:
            end = first_run
            dots = _DOTS.match(self.text, first_run).end()  # type: ignore[union-attr]
            if dots > first_run and _LOCAL_UNIT.match(self.text, dots):
                end = self._local_runs.end(dots)
            self._local_ends[first_run] = end
        return end

    def var_or_iri_ends(self, pos: int) -> list[int]:
        """Every end VarOrIri can have from ``pos``: Var, IRIREF, PNAME_LN, PNAME_NS.

        Oxigraph tries PNAME_LN before PNAME_NS and falls back on a failed prefix lookup,
        so both ends are possible.
        """
        first = self.text[pos : pos + 1]
        if first in ("?", "$", "<"):
            end = self.var(pos) if first != "<" else self.iriref(pos)
            return [end] if end is not None else []
        namespace_end = self.pname_ns(pos)
        if namespace_end is None:
            return []
        local_end = self.pn_local(namespace_end)
        return [namespace_end] if local_end is None else [local_end, namespace_end]
