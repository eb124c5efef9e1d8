"""The parts of a candidate's score, table-driven."""

from __future__ import annotations

import pytest

from palmyra_graph.wikidata.matching import description_fit, name_similarity, normalise, type_fit


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("The Washington Post", "washington post"),
        ("Syrian Civil War", "syrian civil war"),
        (
            "Combined Joint Task Force – Operation Inherent Resolve",
            "combined joint task force operation inherent resolve",
        ),
        ("Zaman al Wasl", "zaman al wasl"),
        ("Pyotr Milyukhin", "pyotr milyukhin"),
    ],
)
def test_normalise(text: str, normal: str) -> None:
    assert normalise(text) == normal


def test_same_name_in_other_case_and_punctuation_is_a_full_match() -> None:
    assert name_similarity(["Syrian Civil War"], ["Syrian civil war"]) == 1.0
    assert name_similarity(["ISIL", "Islamic State"], ["Islamic State (ISIL)", "ISIL"]) == 1.0


def test_different_names_score_low() -> None:
    assert name_similarity(["Hezbollah"], ["Suheil al-Hassan"]) < 0.5


@pytest.mark.parametrize(
    ("expected", "classes", "fit"),
    [
        ({"Q5"}, {"Q5"}, "compatible"),
        ({"Q5"}, {"Q9990000101"}, "incompatible"),
        ({"Q180684"}, {"Q9990000100", "Q180684"}, "compatible"),
        (set(), {"Q5"}, "incompatible"),  # a human for an entity that is not a person
        (set(), {"Q9990000101"}, "unknown"),
        (set(), set(), "unknown"),
    ],
)
def test_type_fit(expected: set[str], classes: set[str], fit: str) -> None:
    assert type_fit(expected, classes) == fit


@pytest.mark.parametrize(
    ("description", "score"),
    [
        ("military offensive in Syria", 1.0),
        ("an offensive", 0.5),
        ("a village", 0.0),
        ("", 0.0),
    ],
)
def test_description_fit(description: str, score: float) -> None:
    assert description_fit(description, {"military", "offensive", "syria"}) == score
