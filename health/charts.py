"""The release page's chart as plain SVG geometry: one stacked bar per step (healthy, errored, abnormal, crashed
sessions), drawn by the template with CSS classes (no inline style or script: the pages keep a strict CSP)."""

from dataclasses import dataclass
from datetime import datetime

from health.summary import HealthTotals

WIDTH, HEIGHT, GAP = 600, 120, 1
KINDS = ("healthy", "errored", "abnormal", "crashed")


@dataclass
class Segment:
    kind: str
    x: float
    y: float
    width: float
    height: float
    count: int


@dataclass
class Bar:
    start: datetime
    totals: HealthTotals
    segments: list[Segment]


def session_bars(series: list[tuple[datetime, HealthTotals]]) -> tuple[list[Bar], int]:
    """The bars of a series (oldest first), and the largest step's sessions (the chart's scale)."""
    peak = max((totals.sessions for _, totals in series), default=0)
    if not series:
        return [], 0
    step = WIDTH / len(series)
    bars = []
    for i, (start, totals) in enumerate(series):
        y = float(HEIGHT)
        segments = []
        for kind in KINDS:
            count = getattr(totals, kind)
            if not count or not peak:
                continue
            height = HEIGHT * count / peak
            y -= height
            segments.append(
                Segment(kind, round(i * step, 2), round(y, 2), round(max(step - GAP, 0.5), 2), round(height, 2), count)
            )
        bars.append(Bar(start, totals, segments))
    return bars, peak
