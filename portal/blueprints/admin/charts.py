"""Bar charts drawn on the server: the geometry of an inline SVG, computed from weekly series.

The template draws the rectangles and text it is given (no JavaScript, no style attributes: the CSP allows
neither); colours come from the stylesheet through each bar's series class.
"""

from dataclasses import dataclass, field

WIDTH, HEIGHT = 640, 270
# Room for the value axis on the left, and below for two lines of week labels (day, then month) at any letter size.
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 12, 58
PLOT_WIDTH, PLOT_HEIGHT = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
GROUP_SHARE = 0.72  # of each week's width taken by its bars; the rest is the gap between weeks


@dataclass(frozen=True)
class Series:
    """One coloured set of bars: its name (already in the reader's language) and a value per week."""

    name: str
    values: list[int]

    @property
    def total(self) -> int:
        return sum(self.values)


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    series: int
    value: int
    week: int


@dataclass
class Chart:
    """Everything the template draws: bars, value-axis ticks and week labels, in SVG user units."""

    series: list[Series]
    stacked: bool
    bars: list[Bar] = field(default_factory=list)
    ticks: list[tuple[float, int]] = field(default_factory=list)
    labels: list[tuple[float, float, int]] = field(default_factory=list)  # (middle, start, week) of each week
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    baseline: int = TOP + PLOT_HEIGHT

    @property
    def empty(self) -> bool:
        return not any(s.total for s in self.series)

    @property
    def totals(self) -> list[int]:
        """Each week's sum over the series (what a stack adds up to)."""
        return [sum(week) for week in zip(*(s.values for s in self.series), strict=True)]


def nice_scale(largest: int, most_ticks: int = 5) -> tuple[int, int]:
    """(top, step) of a value axis for counts: whole steps of 1, 2 or 5 × 10ⁿ, at most `most_ticks` of them."""
    if largest <= 0:
        return 1, 1
    step = 1
    while True:
        for factor in (1, 2, 5):
            candidate = step * factor
            if -(-largest // candidate) <= most_ticks:
                return candidate * -(-largest // candidate), candidate
        step *= 10


def bar_chart(series: list[Series], stacked: bool = False) -> Chart:
    """The geometry of a bar chart with one group (or stack) of bars per week."""
    chart = Chart(series, stacked)
    weeks = len(series[0].values)
    largest = max(chart.totals if stacked else (max(s.values) for s in series), default=0)
    top, step = nice_scale(largest)
    chart.ticks = [(chart.baseline - PLOT_HEIGHT * value / top, value) for value in range(0, top + 1, step)]
    slot = PLOT_WIDTH / weeks
    group = slot * GROUP_SHARE
    width = group if stacked else group / len(series)
    for week in range(weeks):
        start = LEFT + slot * week + (slot - group) / 2
        chart.labels.append((round(LEFT + slot * (week + 0.5), 2), round(start, 2), week))
        below = chart.baseline
        for index, one in enumerate(series):
            value = one.values[week]
            if not value:
                continue
            # A bar of one is always visible, however tall the tallest one.
            height = max(PLOT_HEIGHT * value / top, 1.5)
            x = start if stacked else start + width * index
            place = (round(x, 2), round(below - height, 2), round(width, 2), round(height, 2))
            chart.bars.append(Bar(*place, series=index, value=value, week=week))
            if stacked:
                below -= height
    return chart
