"""The figures under a failed check and a block: its worst entries, a heat map of the
error over a parameter (pooled down when large), and the table of dimensions."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from typing import Any

HEAT_MAX_CELLS = 48  # per side; larger maps are pooled (max) down to this
HEAT_CELL = 10
Grid = list[list[float | None]]  # an error map: rows of relative errors (None: not checked)


def number_text(value: float | None) -> str:
    if value is None:
        return "n/a"
    if value == 0:
        return "0"
    return f"{value:.1e}" if abs(value) < 1e-2 or abs(value) >= 1e4 else f"{value:.3g}"


WORST_COLUMN = {"rel": "rel. error", "abs": "abs. error", "se": "SE off"}


def worst_table(worst: Sequence[dict[str, Any]], measure: str = "rel") -> str:
    if not worst:
        return ""
    rows = []
    for entry in worst:
        index = ", ".join(str(i) for i in entry.get("index", []))
        key = f"{entry['key']}" if entry.get("key") else ""
        rows.append(
            f"<tr><td>{escape(key)}[{escape(index)}]</td><td>{number_text(entry.get('stated'))}</td>"
            f"<td>{number_text(entry.get('numerical'))}</td><td>{number_text(entry.get('rel_err'))}</td></tr>"
        )
    return (
        '<table class="sg-worst"><caption>Worst entries</caption>'
        f"<thead><tr><th>entry</th><th>stated</th><th>numerical</th>"
        f"<th>{escape(WORST_COLUMN.get(measure, 'error'))}</th></tr>"
        "</thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def pool_grid(grid: Grid, limit: int = HEAT_MAX_CELLS) -> Grid:
    """Shrink a large grid by taking the worst value of each tile."""
    rows, cols = len(grid), max(len(r) for r in grid)
    step_r, step_c = math.ceil(rows / limit), math.ceil(cols / limit)
    if step_r == 1 and step_c == 1:
        return grid
    pooled = []
    for r0 in range(0, rows, step_r):
        row = []
        for c0 in range(0, cols, step_c):
            tile = [
                v
                for r in grid[r0 : r0 + step_r]
                for v in r[c0 : c0 + step_c]
                if v is not None
            ]
            row.append(max(tile) if tile else None)
        pooled.append(row)
    return pooled


def heat_map(grid: Grid | None, tolerance: float | None) -> str:
    """An inline SVG: one cell per entry, darker red the further past the tolerance, so a
    wrong row or column, or a transposition, shows as a pattern."""
    if not grid or not any(grid):
        return ""
    grid = pool_grid(grid)
    tol = tolerance or 1e-5
    rows, cols = len(grid), max(len(r) for r in grid)
    # small maps get bigger cells, so a 3×1 gradient is still visible
    cell = max(HEAT_CELL, min(28, 240 // max(rows, cols)))
    width, height = cols * cell, rows * cell
    cells = []
    for r, row in enumerate(grid):
        for c, value in enumerate(row):
            if value is None:
                css, opacity = "sg-heat-na", 1.0
            elif value <= tol:
                css, opacity = "sg-heat-ok", 1.0
            else:
                # one decade past the tolerance is faint, six or more is full red
                decades = math.log10(max(value, tol) / tol)
                css, opacity = "sg-heat-bad", round(min(1.0, 0.25 + decades / 8), 2)
            cells.append(
                f'<rect x="{c * cell}" y="{r * cell}" width="{cell}" '
                f'height="{cell}" class="{css}" fill-opacity="{opacity}"/>'
            )
    label = f"Relative error per entry ({rows}×{cols}); red entries exceed the tolerance"
    return (
        f'<figure class="sg-heat"><svg xmlns="http://www.w3.org/2000/svg" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
        f"<title>{escape(label)}</title>{''.join(cells)}</svg>"
        f"<figcaption>Error per entry: red is past the tolerance.</figcaption></figure>"
    )


def dims_table(arrays: Sequence[dict[str, Any]], traces: Sequence[str]) -> str:
    if not arrays and not traces:
        return ""
    html = ['<div class="sg-dims">']
    if arrays:
        html.append('<table class="sg-dims-table"><thead><tr><th>array</th><th>shape</th>'
                    "<th>size</th></tr></thead><tbody>")
        for array in arrays:
            numbers = "×".join(str(d) for d in array["shape"]) or "scalar"
            html.append(
                f"<tr><td><code>{escape(array['name'])}</code></td>"
                f"<td>{escape(array['named'])}</td><td>{escape(numbers)}</td></tr>"
            )
        html.append("</tbody></table>")
    for trace in traces:
        html.append(f'<p class="sg-trace"><code>{escape(trace)}</code></p>')
    html.append("</div>")
    return "".join(html)
