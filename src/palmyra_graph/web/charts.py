"""Geometry of the home page's two SVG drawings: the timeline and the casualty chart.

Only numbers and strings are computed here; ``templates/charts.html`` draws them, so every
data-derived string passes through Jinja's autoescaping. Both drawings use a fixed viewBox
and scale to the page width (https://www.w3.org/TR/SVG2/coords.html#ViewBoxAttribute).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from palmyra_graph.web.figures import DatedClaim, FigureFact
from palmyra_graph.web.home import Source, local_name

WIDTH = 760
MARGIN = 20
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")  # fmt: skip


def long_date(iso: str) -> str:
    """``2017-01-13`` as ``13 January 2017``; anything that is not a date is returned as is."""
    try:
        day = dt.date.fromisoformat(iso)
    except ValueError:
        return iso
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


# --- timeline -----------------------------------------------------------------------------


@dataclass
class Mark:
    """One dated claim on the timeline."""

    x: float
    date: str
    text: str
    claim: str
    sources: list[Source]


@dataclass
class Lane:
    """One row of the timeline: an event (its start and end) or a single dated claim."""

    y: float
    label: str
    href: str
    marks: list[Mark]
    label_x: float = 0.0
    anchor: str = "start"

    @property
    def span(self) -> tuple[float, float] | None:
        """The bar from the first to the last mark, when the lane has more than one."""
        xs = [m.x for m in self.marks]
        return (min(xs), max(xs)) if len(xs) > 1 else None

    @property
    def sources(self) -> list[Source]:
        """The sources of every mark in the lane, each once, in reference order."""
        unique = {s.iri: s for m in self.marks for s in m.sources}
        return sorted(unique.values(), key=lambda s: (s.number is None, s.number or 0, s.iri))


@dataclass
class Tick:
    x: float
    label: str


@dataclass
class Timeline:
    width: int
    height: int
    axis_y: float
    lanes: list[Lane]
    ticks: list[Tick]
    left: float = MARGIN


_LANE_HEIGHT = 46
_AXIS_Y = 28


def timeline(claims: Sequence[DatedClaim]) -> Timeline | None:
    """Lay out dated claims: one lane per event (start to end) or per other dated claim.

    Returns None when nothing in the graph carries a date.
    """
    if not claims:
        return None
    days = [dt.date.fromisoformat(c.date) for c in claims]
    first, last = min(days), max(days)
    pad = dt.timedelta(days=max(4, (last - first).days // 25))
    scale = _TimeScale(first - pad, last + pad, MARGIN, WIDTH - MARGIN)
    lanes: dict[str, Lane] = {}
    for claim, day in zip(claims, days, strict=True):
        key, label, href = _lane_of(claim)
        lane = lanes.setdefault(key, Lane(0.0, label, href, []))
        lane.marks.append(Mark(scale(day), claim.date, _mark_text(claim), claim.claim,
                               claim.sources))  # fmt: skip
    ordered = sorted(lanes.values(), key=lambda lane: min(m.date for m in lane.marks))
    for index, lane in enumerate(ordered):
        lane.y = _AXIS_Y + 30 + index * _LANE_HEIGHT
        _place_label(lane)
    height = int(_AXIS_Y + 30 + len(ordered) * _LANE_HEIGHT)
    return Timeline(WIDTH, height, _AXIS_Y, ordered, scale.month_ticks())


def _lane_of(claim: DatedClaim) -> tuple[str, str, str]:
    """Which lane a claim goes in: its subject's for dates, its own otherwise."""
    if claim.kind == "date":
        return claim.subject.value, claim.subject.label, claim.subject.value
    if claim.kind == "since":
        return claim.object.value, claim.object.label, claim.object.value
    label = f"{claim.subject.label}: {claim.predicate.label} {claim.object.label}"
    return claim.claim, label, claim.claim


def _mark_text(claim: DatedClaim) -> str:
    what = claim.predicate.label if claim.kind == "date" else claim.object.label
    if claim.kind == "since":
        what = f"{claim.object.label} (since)"
    return f"{long_date(claim.date)}: {what}"


def _place_label(lane: Lane) -> None:
    """Put the lane's label at its first mark, or end it at its last when it would overflow."""
    first = min(m.x for m in lane.marks)
    last = max(m.x for m in lane.marks)
    if first < WIDTH * 0.55:
        lane.label_x, lane.anchor = first, "start"
    else:
        lane.label_x, lane.anchor = last, "end"


class _TimeScale:
    """Linear map from dates to x positions."""

    def __init__(self, start: dt.date, end: dt.date, left: float, right: float) -> None:
        self.start, self.end, self.left, self.right = start, end, left, right
        self.days = max((end - start).days, 1)

    def __call__(self, day: dt.date) -> float:
        return round(self.left + (day - self.start).days / self.days * (self.right - self.left), 1)

    def month_ticks(self, most: int = 8) -> list[Tick]:
        """The first of each month in range, thinned to at most ``most`` labels."""
        months = []
        year, month = self.start.year, self.start.month
        while True:
            month, year = (1, year + 1) if month == 12 else (month + 1, year)
            day = dt.date(year, month, 1)
            if day > self.end:
                break
            months.append(day)
        step = max(1, math.ceil(len(months) / most))
        return [Tick(self(d), f"{_MONTHS[d.month - 1][:3]} {d.year}") for d in months[::step]]


# --- casualty chart ---------------------------------------------------------------------------


@dataclass
class Segment:
    """A breakdown part drawn inside its figure's bar."""

    x: float
    width: float
    label: str
    href: str


@dataclass
class Bar:
    """One casualty claim: its text line and its bar."""

    y: float
    width: float
    text: str
    claimant: str | None
    claim: str
    figure: str
    sources: list[Source]
    measure: str
    measure_class: str
    lower_bound: bool
    known: bool
    segments: list[Segment] = field(default_factory=list)


@dataclass
class Group:
    """The claims about one party's losses, side by side."""

    y: float
    label: str
    href: str | None


@dataclass
class BarChart:
    width: int
    height: int
    left: float
    groups: list[Group]
    bars: list[Bar]
    ticks: list[Tick]
    axis_y: float
    legend: list[tuple[str, str]]


_BAR_ROW = 52
_GROUP_GAP = 30
_BAR_MAX = WIDTH - 2 * MARGIN - 40


def casualty_chart(items: Sequence[FigureFact]) -> BarChart | None:
    """Casualty figures grouped by the party counted, bars to one scale, by claimant.

    Returns None when the graph has no casualty figures.
    """
    if not items:
        return None
    largest = max((i.figure.amount or 0 for i in items), default=0) or 1
    step = _nice_step(largest)
    top = step * math.ceil(largest / step)
    groups: list[Group] = []
    bars: list[Bar] = []
    y = 10.0
    for party, members in _by_party(items):
        y += _GROUP_GAP
        groups.append(Group(y, party[0], party[1]))
        for item in members:
            y += _BAR_ROW
            bars.append(_bar(item, y, top))
    axis_y = y + 24
    ticks = [
        Tick(MARGIN + _BAR_MAX * k * step / top, _number(k * step))
        for k in range(round(top / step) + 1)
    ]
    legend = sorted({(b.measure_class, b.measure) for b in bars})
    return BarChart(WIDTH, int(axis_y + 40), MARGIN, groups, bars, ticks, axis_y, legend)


def _by_party(items: Sequence[FigureFact]) -> list[tuple[tuple[str, str | None], list[FigureFact]]]:
    grouped: dict[tuple[str, str | None], list[FigureFact]] = {}
    for item in items:
        party = item.figure.party
        key = (party.label, party.value) if party else ("Party not stated", None)
        grouped.setdefault(key, []).append(item)
    return sorted(grouped.items(), key=lambda kv: kv[0][0].lower())


def _bar(item: FigureFact, y: float, top: float) -> Bar:
    figure, fact = item.figure, item.fact
    width = _BAR_MAX * (figure.amount or 0) / top
    measure = figure.measure.label if figure.measure else "not stated"
    measure_key = local_name(figure.measure.value).lower() if figure.measure else "unknown"
    return Bar(
        y=y,
        width=round(width, 1),
        text=figure.label,
        claimant=fact.claimant.label if fact.claimant else None,
        claim=fact.claim or figure.iri,
        figure=figure.iri,
        sources=fact.sources,
        measure=measure,
        measure_class="measure-" + "".join(ch for ch in measure_key if ch.isalnum()),
        lower_bound=figure.lower_bound,
        known=figure.amount is not None,
        segments=_segments(item, width),
    )


def _segments(item: FigureFact, width: float) -> list[Segment]:
    """Breakdown parts as consecutive slices of the bar, when their amounts add up to it."""
    parts = item.figure.parts
    total = item.figure.amount
    if not parts or not total or sum(p.amount or 0 for p in parts) != total:
        return []
    segments, x = [], float(MARGIN)
    for part in parts:
        share = width * (part.amount or 0) / total
        segments.append(Segment(round(x, 1), round(share, 1), part.label, part.iri))
        x += share
    return segments


def _number(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"


def _nice_step(largest: float) -> float:
    """A round tick step (1, 2 or 5 × 10^n) giving about four ticks up to ``largest``."""
    raw = largest / 4
    power = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * power:
            return factor * power
    return 10 * power
