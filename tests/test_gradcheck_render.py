"""HTML of checks, tables, heat maps and badges (built from result dicts)."""

from __future__ import annotations

import re

from sitegen_plugins.gradcheck.coverage import Coverage
from sitegen_plugins.gradcheck.render import (
    block_results,
    check_row,
    equation_badges,
    heat_map,
    summary_badge,
)

PASS = {
    "status": "pass", "name": "∂L/∂W", "eq": "eq:w", "message": "within tolerance",
    "max_rel_err": 2e-11, "tolerance": 1e-5, "n_checked": 6, "n_total": 6,
}
FAIL = dict(
    PASS, status="fail", message="1 of 6 entries differ", hint="transposed?",
    max_rel_err=0.5, worst=[{"index": [1, 0], "stated": 2.0, "numerical": 1.0, "rel_err": 0.5}],
    error_map=[[1e-12, 0.5], [1e-12, 1e-12], [None, 1e-12]],
)


def test_check_row_follows_the_html_contract():
    html = check_row(PASS, 3, eq_known=True)
    assert html.startswith('<div class="sg-check" data-status="pass" id="sg-check-3">')
    assert "2.0e-11" in html and "1.0e-05" in html and "all 6 entries" in html
    assert 'href="#sg-eq-eq-w"' in html
    assert 'href="#sg-eq' not in check_row(PASS, 3, eq_known=False)


def test_failed_check_has_message_hint_worst_entries_and_heat_map():
    html = check_row(FAIL, 1, eq_known=False)
    assert 'data-status="fail"' in html
    assert "Hint: transposed?" in html and "<td>[1, 0]</td>" in html
    assert html.count('class="sg-heat-bad"') == 1 and html.count('class="sg-heat-na"') == 1


def test_heat_map_pools_large_grids():
    grid = [[1.0 if (r, c) == (0, 99) else 0.0 for c in range(100)] for r in range(2)]
    svg = heat_map(grid, 1e-5)
    assert svg.count("<rect") == 2 * 34  # 100 columns pooled three at a time
    assert svg.count("sg-heat-bad") == 1  # the one bad entry survives pooling
    assert heat_map(None, 1e-5) == ""


def test_block_results_pending_error_and_skipped():
    assert 'data-status="pending"' in block_results(None, 1, set(), pending=True)
    assert "Not run" in block_results(None, 1, set(), pending=False)
    block = {"checks": [], "arrays": [], "output": "", "error": "the code called sys.exit(3)",
             "error_kind": "exit", "error_line": 12}
    html = block_results(block, 1, set(), pending=False)
    assert re.search(r'class="sg-check" data-status="error".*sys\.exit\(3\) \(line 12\)', html)


def test_equation_and_summary_badges():
    badges = equation_badges([("eq:w", PASS, 2)], unverified=True, shape_problems=["W is 1×3"])
    assert 'href="#sg-check-2"' in badges and "not verified" in badges
    assert 'title="W is 1×3"' in badges
    assert equation_badges([], False, []) == ""
    assert "✓ 5 of 5 stated gradients" in summary_badge([PASS], 0, Coverage(5, 5), False)
    assert "sg-badge-partial" in summary_badge([PASS], 0, Coverage(6, 5), False)
    assert "1 of 2 checks failed" in summary_badge([PASS, FAIL], 0, Coverage(2, 1), False)
    assert "sg-badge-error" in summary_badge([PASS], 1, Coverage(), False)
    assert "verifying" in summary_badge([], 0, Coverage(), True)


def test_monte_carlo_check_is_judged_in_standard_errors():
    row = dict(PASS, stderr=0.02, max_rel_err=1.3, tolerance=4.0, name="∇θ J")
    html = check_row(row, 1, eq_known=False)
    assert "off by 1.3 standard errors (allowed 4; SE 0.02)" in html


def test_an_error_names_its_line_once():
    from sitegen_plugins.gradcheck.render import block_error

    timed_out = block_error({"error": "timed out: the time limit is 3 s (stopped at line 6)",
                             "error_kind": "timeout", "error_line": 6})
    assert timed_out.count("line 6") == 1
    crashed = block_error({"error": "exited with status 3", "error_kind": "exit",
                           "error_line": 9})
    assert "exited with status 3 (line 9)" in crashed
