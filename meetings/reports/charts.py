"""Server-side SVG charts for the dashboard: no JavaScript, readable without colour.

Every chart is an ``<svg role="img">`` with a ``<title>`` and a ``<desc>`` (and the same title
as ``aria-label``), writes its numbers as text next to or inside the marks, and fills each
series with a colour *and* a pattern, repeated in the legend, so that colour is never the only
cue. The table behind each chart is on the page and downloadable, which is what assistive
technology reads. Ids inside a chart start with the chart's ``prefix`` so several charts can sit
on one page.
"""

import math
from collections.abc import Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999")
# Marks drawn over the colour in an 8 by 8 tile, one per series.
PATTERNS = (
    "",
    '<path d="M-2,2 l4,-4 M0,8 l8,-8 M6,10 l4,-4"/>',
    '<circle cx="4" cy="4" r="1.6" stroke="none" fill="#000" fill-opacity=".45"/>',
    '<path d="M0,4 h8"/>',
    '<path d="M4,0 v8"/>',
    '<path d="M0,4 h8 M4,0 v8"/>',
    '<path d="M-2,6 l4,4 M0,0 l8,8 M6,-2 l4,4"/>',
    '<path d="M0,0 l8,8 M8,0 l-8,8"/>',
)
FONT = 'font-family="system-ui, sans-serif" font-size="12"'
LABEL_CHARS = 34


def _number(value: float) -> str:
    return f"{value:g}"


def _short(label: str, limit: int = LABEL_CHARS) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _fill(prefix: str, index: int) -> tuple[str, str]:
    """The ``<pattern>`` for series ``index`` and the ``fill`` that uses it."""
    colour = PALETTE[index % len(PALETTE)]
    marks = PATTERNS[index % len(PATTERNS)]
    pattern_id = f"{prefix}-fill-{index}"
    definition = (
        f'<pattern id="{pattern_id}" width="8" height="8" patternUnits="userSpaceOnUse">'
        f'<rect width="8" height="8" fill="{colour}"/>'
        f'<g stroke="#000" stroke-opacity=".45" stroke-width="1.2" fill="none">{marks}</g>'
        f"</pattern>"
    )
    return definition, f"url(#{pattern_id})"


def _svg(prefix: str, title: str, desc: str, width: int, height: int, defs: str, body: str):
    return mark_safe(  # noqa: S308 - every text that goes in is escaped above
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}" '
        f'aria-describedby="{prefix}-desc" class="report-chart" '
        f'style="max-width: 100%; height: auto;" {FONT}>'
        f'<title id="{prefix}-title">{escape(title)}</title>'
        f'<desc id="{prefix}-desc">{escape(desc)}</desc>'
        f"<defs>{defs}</defs>{body}</svg>"
    )


def _legend(labels: Sequence[str], fills: Sequence[str], y: int, limit: int, x0: int = 10):
    """One row of swatches and labels; returns the markup and the height used."""
    parts, x, row = [], x0, 0
    for label, fill in zip(labels, fills, strict=True):
        width = 40 + 7 * len(label)
        if x + width > limit and x > x0:
            x, row = x0, row + 1
        top = y + row * 20
        parts.append(
            f'<g class="legend-item"><rect x="{x}" y="{top}" width="14" height="14" '
            f'fill="{fill}" stroke="currentColor" stroke-opacity=".4"/>'
            f'<text x="{x + 20}" y="{top + 11}" fill="currentColor">{escape(label)}</text></g>'
        )
        x += width
    return "".join(parts), (row + 1) * 20


def _nice_step(maximum: float, ticks: int = 5) -> float:
    if maximum <= 0:
        return 1
    raw = maximum / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * magnitude:
            return max(1, factor * magnitude)
    return 10 * magnitude


def stacked_columns(
    *,
    prefix: str,
    title: str,
    desc: str,
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[int]]],
    total_label: str,
) -> SafeString:
    """Vertical stacked bars: one column per category, one segment per series, the value in
    each segment tall enough to hold it and the total above each column."""
    fills = [_fill(prefix, i) for i in range(len(series))]
    left, plot_height, column = 44, 260, 56
    width = max(640, left + column * len(categories) + 20)
    legend, legend_height = _legend([s[0] for s in series], [f[1] for f in fills], 8, width)
    totals = [sum(values[i] for _, values in series) for i in range(len(categories))]
    step = _nice_step(max(totals, default=0))
    top_value = step * max(1, math.ceil(max(totals, default=0) / step))
    top = legend_height + 28
    height = top + plot_height + 48
    scale = plot_height / top_value
    base = top + plot_height

    body = [f'<g class="legend">{legend}</g>', '<g class="axis">']
    tick = 0.0
    while tick <= top_value:
        y = base - tick * scale
        body.append(
            f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="currentColor" stroke-opacity=".15"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="currentColor">'
            f"{_number(tick)}</text>"
        )
        tick += step
    body.append("</g>")
    for i, category in enumerate(categories):
        x = left + 8 + i * column
        y = base
        body.append(f'<g class="column" data-category="{escape(category)}">')
        for (label, values), (_, fill) in zip(series, fills, strict=True):
            value = values[i]
            if not value:
                continue
            h = value * scale
            y -= h
            body.append(
                f'<rect x="{x}" y="{y:.1f}" width="{column - 16}" height="{h:.1f}" fill="{fill}" '
                f'stroke="#fff" stroke-width=".5"><title>{escape(label)}: {value}</title></rect>'
            )
            if h >= 15:
                body.append(
                    f'<text x="{x + (column - 16) / 2}" y="{y + h / 2 + 4:.1f}" '
                    f'text-anchor="middle" fill="#000" stroke="#fff" stroke-width="3" '
                    f'paint-order="stroke" font-size="11">{value}</text>'
                )
        body.append(
            f'<text x="{x + (column - 16) / 2}" y="{y - 5:.1f}" text-anchor="middle" '
            f'font-weight="bold" fill="currentColor" class="total" '
            f'aria-label="{escape(total_label)}: {totals[i]}">{totals[i]}</text>'
            f'<text x="{x + (column - 16) / 2}" y="{base + 16}" text-anchor="middle" '
            f'fill="currentColor" font-size="11">{escape(category)}</text></g>'
        )
    return _svg(prefix, title, desc, width, height, "".join(f[0] for f in fills), "".join(body))


def horizontal_bars(
    *,
    prefix: str,
    title: str,
    desc: str,
    rows: Sequence[tuple[str, Sequence[tuple[float | None, str]]]],
    series: Sequence[str],
    maximum: float,
) -> SafeString:
    """Grouped horizontal bars: one group per row (an organisation, an owner), one bar per
    series, each followed by its value as text; a missing value reads "—"."""
    fills = [_fill(prefix, i) for i in range(len(series))]
    label_width, bar_width, bar_height, gap = 250, 420, 14, 10
    left = label_width + 10
    width = left + bar_width + 190
    legend, legend_height = _legend(list(series), [f[1] for f in fills], 8, width)
    top = legend_height + 16
    group_height = len(series) * (bar_height + 2) + gap
    height = top + max(1, len(rows)) * group_height + 10
    maximum = maximum or 1

    body = [f'<g class="legend">{legend}</g>']
    for r, (label, values) in enumerate(rows):
        y0 = top + r * group_height
        body.append(
            f'<g class="row" data-label="{escape(label)}"><title>{escape(label)}</title>'
            f'<text x="{label_width}" y="{y0 + bar_height + 2}" text-anchor="end" '
            f'fill="currentColor">{escape(_short(label))}</text>'
        )
        for s, ((value, text), (_, fill)) in enumerate(zip(values, fills, strict=True)):
            y = y0 + s * (bar_height + 2)
            length = 0 if value is None else max(0.0, value) / maximum * bar_width
            body.append(
                f'<rect x="{left}" y="{y}" width="{bar_width}" height="{bar_height}" '
                f'fill="currentColor" fill-opacity=".06"/>'
                f'<rect x="{left}" y="{y}" width="{length:.1f}" height="{bar_height}" '
                f'fill="{fill}"><title>{escape(series[s])}: {escape(text)}</title></rect>'
                f'<text x="{left + length + 6:.1f}" y="{y + bar_height - 3}" fill="currentColor" '
                f'font-size="11">{escape(series[s])}: {escape(text)}</text>'
            )
        body.append("</g>")
    return _svg(prefix, title, desc, width, height, "".join(f[0] for f in fills), "".join(body))


def heatmap(
    *,
    prefix: str,
    title: str,
    desc: str,
    rows: Sequence[str],
    columns: Sequence[str],
    values: Sequence[Sequence[int]],
    legend: str,
) -> SafeString:
    """A table of counts shaded by size; every cell also shows its number."""
    label_width, cell_width, cell_height = 190, 64, 26
    top = 50
    width = label_width + cell_width * max(1, len(columns)) + 20
    height = top + cell_height * max(1, len(rows)) + 10
    peak = max((v for row in values for v in row), default=0) or 1

    body = [
        f'<text x="10" y="18" fill="currentColor" font-size="11" class="legend">'
        f"{escape(legend)}</text>"
    ]
    for c, column in enumerate(columns):
        x = label_width + c * cell_width + cell_width / 2
        body.append(
            f'<text x="{x}" y="{top - 8}" text-anchor="middle" fill="currentColor" '
            f'font-size="11">{escape(column)}</text>'
        )
    for r, (label, counts) in enumerate(zip(rows, values, strict=True)):
        y = top + r * cell_height
        body.append(
            f'<g class="row" data-label="{escape(label)}">'
            f'<text x="{label_width - 8}" y="{y + 17}" text-anchor="end" fill="currentColor">'
            f"{escape(_short(label, 26))}</text>"
        )
        for c, count in enumerate(counts):
            share = count / peak
            # From a pale to a deep blue; the number in the cell carries the value.
            red = round(239 - (239 - 30) * share)
            green = round(246 - (246 - 58) * share)
            blue = round(255 - (255 - 138) * share)
            ink = "#fff" if share > 0.5 else "#111"
            weight = ' font-weight="bold"' if count else ""
            x = label_width + c * cell_width
            body.append(
                f'<rect x="{x + 1}" y="{y + 1}" width="{cell_width - 2}" '
                f'height="{cell_height - 2}" fill="rgb({red},{green},{blue})">'
                f"<title>{escape(label)}, {escape(columns[c])}: {count}</title></rect>"
                f'<text x="{x + cell_width / 2}" y="{y + 17}" text-anchor="middle" '
                f'fill="{ink}"{weight}>{count}</text>'
            )
        body.append("</g>")
    return _svg(prefix, title, desc, width, height, "", "".join(body))
