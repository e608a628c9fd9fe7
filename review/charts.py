"""Bar charts as inline SVG, drawn on the server: no script, nothing fetched, labels escaped.

    >>> svg = bar_chart([("2026-11-30", 97), ("<b>", 3)], unit="%")
    >>> svg.count("<rect"), "&lt;b&gt;" in svg
    (2, True)
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from markupsafe import Markup, escape

WIDTH, ROW, LABEL = 520, 22, 150


def bar_chart(data: Sequence[tuple[str, int | Decimal]], unit: str = "", title: str = "") -> Markup:
    """Horizontal bars, one per (label, value); values ≥ 0."""
    top = max((Decimal(v) for _, v in data), default=Decimal(0)) or Decimal(1)
    height = ROW * max(len(data), 1) + 8
    parts = [f'<svg class="chart" role="img" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}"'
             f' viewBox="0 0 {WIDTH} {height}"><title>{escape(title)}</title>']
    for row, (label, value) in enumerate(data):
        y = 4 + row * ROW
        length = max(int((Decimal(value) / top) * (WIDTH - LABEL - 70)), 1)
        parts.append(f'<text x="0" y="{y + 15}" class="label">{escape(label)}</text>'
                     f'<rect x="{LABEL}" y="{y + 3}" width="{length if value else 0}" height="{ROW - 6}" class="bar"/>'
                     f'<text x="{LABEL + length + 6}" y="{y + 15}" class="value">{escape(str(value))}{escape(unit)}'
                     f'</text>')
    if not data:
        parts.append('<text x="0" y="18" class="label">—</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
