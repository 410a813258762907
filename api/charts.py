"""Charts drawn on the server as SVG geometry for the templates: no script, no CDN."""

from __future__ import annotations

from dataclasses import dataclass

from domain.money import format_amount, format_money
from services.operations import DriftPoint

WIDTH, HEIGHT, PAD = 720, 240, 40


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    polyline: str  # the `points` attribute
    dots: list[Dot]
    zero_y: float  # where 0 cents is
    top_label: str
    bottom_label: str
    first_label: str
    last_label: str


def _money(cents: int, currency: str | None) -> str:
    """Signed, by the currency's exponent (two decimals when the currency is not known)."""
    return format_amount(cents, currency or "", signed=True)


def drift_chart(points: list[DriftPoint]) -> Chart | None:
    """Charged minus estimated over time, one dot per applied upgrade (oldest left)."""
    if not points:
        return None
    low = min(0, *(p.cents for p in points))
    high = max(0, *(p.cents for p in points))
    span = (high - low) or 1
    # The axis is labeled in the points' currency when they share one.
    currencies = {p.currency for p in points}
    axis = currencies.pop() if len(currencies) == 1 else None
    start = points[0].at.timestamp()
    duration = (points[-1].at.timestamp() - start) or 1.0

    def x(index: int) -> float:
        if len(points) == 1:
            return WIDTH / 2
        return PAD + (points[index].at.timestamp() - start) / duration * (WIDTH - 2 * PAD)

    def y(cents: int) -> float:
        return PAD + (high - cents) / span * (HEIGHT - 2 * PAD)

    dots = [
        Dot(
            round(x(i), 1),
            round(y(p.cents), 1),
            f"{p.at:%Y-%m-%d %H:%M} {p.subject}: "
            f"{format_money(p.cents, p.currency or '', signed=True)}",
        )
        for i, p in enumerate(points)
    ]
    return Chart(
        WIDTH,
        HEIGHT,
        " ".join(f"{d.x},{d.y}" for d in dots),
        dots,
        round(y(0), 1),
        _money(high, axis),
        _money(low, axis),
        f"{points[0].at:%Y-%m-%d %H:%M}",
        f"{points[-1].at:%Y-%m-%d %H:%M}",
    )
