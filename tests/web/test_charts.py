"""The SVG geometry on its own: dates, the time scale and lanes, the casualty scale."""

from __future__ import annotations

from palmyra_graph.web import charts
from palmyra_graph.web.figures import DatedClaim, Figure, FigureFact
from palmyra_graph.web.home import ShownTerm, Source, SourcedFact


def dated(date: str, subject: str, predicate: str, kind: str = "date") -> DatedClaim:
    return DatedClaim(
        date=date,
        claim=f"claim-{subject}-{predicate}",
        subject=ShownTerm(subject, subject, is_iri=True),
        predicate=ShownTerm(predicate, predicate, is_iri=True),
        object=ShownTerm(date, date),
        kind=kind,
        sources=[Source("s", 3, "t")],
    )


def test_long_date() -> None:
    assert charts.long_date("2017-01-13") == "13 January 2017"
    assert charts.long_date("March 2016") == "March 2016"


def test_timeline_puts_an_events_dates_in_one_lane_in_time_order() -> None:
    claims = [dated("2016-12-08", "dec", "start"), dated("2016-12-11", "dec", "end"),
              dated("2017-01-13", "jan", "start")]  # fmt: skip
    drawn = charts.timeline(claims)
    assert drawn is not None
    assert [lane.label for lane in drawn.lanes] == ["dec", "jan"]
    first, second = drawn.lanes
    assert first.span is not None and second.span is None
    assert first.marks[0].x < first.marks[1].x < second.marks[0].x
    assert first.marks[0].x >= charts.MARGIN and second.marks[0].x <= drawn.width - charts.MARGIN
    assert [t.label for t in drawn.ticks] == ["Jan 2017"]


def test_no_dates_no_timeline() -> None:
    assert charts.timeline([]) is None
    assert charts.casualty_chart([]) is None


def casualty(amount: int | None, parts: list[Figure] | None = None) -> FigureFact:
    figure = Figure(f"f{amount}", f"{amount} killed", amount, False, None,
                    ShownTerm("p", "Party", is_iri=True), parts=parts or [])  # fmt: skip
    return FigureFact(
        SourcedFact("o", "casualties", ShownTerm(figure.iri, figure.label, True)), figure
    )


def test_segments_only_when_the_parts_add_up() -> None:
    parts = [Figure("a", "10", 10, False, None, None), Figure("b", "8", 8, False, None, None)]
    chart = charts.casualty_chart([casualty(18, parts), casualty(20, parts), casualty(None)])
    assert chart is not None
    whole, mismatched, unknown = chart.bars
    assert [s.label for s in whole.segments] == ["10", "8"]
    assert sum(s.width for s in whole.segments) == whole.width
    assert mismatched.segments == []
    assert not unknown.known and unknown.width == 0
    assert [t.label for t in chart.ticks] == ["0", "5", "10", "15", "20"]
