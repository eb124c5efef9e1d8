"""The example questions of ``queries/``: each ``NAME.rq`` file, labelled by its first
``# Question: …`` comment line. Read at request time, so a new file shows without a restart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_QUESTION = re.compile(r"^\s*#\s*question:\s*(.*?)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Example:
    """One example query: its file stem, its question and its text."""

    name: str
    question: str
    sparql: str


def load_examples(directory: Path) -> list[Example]:
    """Every ``*.rq`` directly in ``directory``, sorted by name (none when it is missing).

    Files that cannot be read as UTF-8 are skipped rather than breaking the page.
    """
    if not directory.is_dir():
        return []
    examples = []
    for path in sorted(directory.glob("*.rq")):
        try:
            sparql = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        examples.append(Example(path.stem, question_of(sparql) or path.stem, sparql))
    return examples


def question_of(sparql: str) -> str | None:
    """The text after the first ``# Question:`` comment line (case-insensitive), if any."""
    for line in sparql.splitlines():
        match = _QUESTION.match(line)
        if match:
            return match.group(1) or None
    return None


def find(examples: list[Example], name: str | None) -> Example | None:
    """The example called ``name``, or None."""
    return next((e for e in examples if e.name == name), None)
