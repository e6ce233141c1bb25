"""Small inline SVG charts for self-contained reports: no script, no network, readable in print.

Every chart carries a ``<title>`` and an ``aria-label`` summary; the report puts a table of the
same numbers next to it, so nothing is only visible as a picture.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

__all__ = ["BarSeries", "grouped_bars"]


@dataclass(frozen=True)
class BarSeries:
    name: str
    values: Sequence[float]
    css_class: str


def _percent(value: float) -> str:
    return f"{value * 100:.1f}%"


def grouped_bars(
    labels: Sequence[str],
    series: Sequence[BarSeries],
    *,
    title: str,
    summary: str,
    width: int = 720,
    height: int = 240,
    value_format: Callable[[float], str] = _percent,
    axis_labels: Sequence[str] | None = None,
) -> str:
    """Bars side by side per label (one colour per series), with a y axis and a legend.

    ``axis_labels`` (default ``labels``) are the shorter texts under the bars."""
    ticks = labels if axis_labels is None else axis_labels
    shown = [s for s in series if len(s.values) == len(labels)]
    left, right, top, bottom = 48, 8, 22, 46
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max([v for s in shown for v in s.values if v == v] + [0.0]) or 1.0
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(summary)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for tick in range(5):
        value = peak * tick / 4
        y = top + plot_h - plot_h * tick / 4
        parts.append(
            f'<line class="grid" x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="axis" x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(value_format(value))}</text>"
        )
    if labels and shown:
        slot = plot_w / len(labels)
        bar = max(slot * 0.8 / len(shown), 1.0)
        label_every = max(1, round(len(labels) / 8))
        for i, label in enumerate(labels):
            x0 = left + i * slot + slot * 0.1
            for j, s in enumerate(shown):
                value = s.values[i] if s.values[i] == s.values[i] else 0.0
                h = plot_h * value / peak
                parts.append(
                    f'<rect class="{s.css_class}" x="{x0 + j * bar:.1f}" '
                    f'y="{top + plot_h - h:.1f}" width="{max(bar - 1, 0.5):.1f}" '
                    f'height="{h:.1f}"><title>{escape(s.name)} {escape(label)}: '
                    f"{escape(value_format(value))}</title></rect>"
                )
            if i % label_every == 0:
                cx = left + i * slot + slot / 2
                parts.append(
                    f'<text class="axis" x="{cx:.1f}" y="{top + plot_h + 14}" '
                    f'text-anchor="middle">{escape(_clip(ticks[i]))}</text>'
                )
    x = left
    for s in shown:
        parts.append(
            f'<rect class="{s.css_class}" x="{x}" y="{height - 14}" width="10" height="10"/>'
            f'<text class="axis" x="{x + 14}" y="{height - 5}">{escape(s.name)}</text>'
        )
        x += 14 + 8 * len(s.name) + 16
    parts.append(
        f'<line class="axis-line" x1="{left}" x2="{width - right}" '
        f'y1="{top + plot_h}" y2="{top + plot_h}"/></svg>'
    )
    return "".join(parts)


def _clip(text: str, limit: int = 16) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
