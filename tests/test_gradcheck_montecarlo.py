"""Monte Carlo estimates (plugins/gradcheck/montecarlo.py): a rule valid however the
entries correlate, that still catches a bias of 8 standard errors, and a row, table and
heat map that agree with the verdict."""

from __future__ import annotations

import math

import numpy as np
import pytest
from gradcheck_cases import reinforce

from plugins.gradcheck import figures, render
from plugins.gradcheck.checker import check_grad
from plugins.gradcheck.montecarlo import chi2_threshold, entry_threshold


def test_thresholds():
    assert entry_threshold(6, 4.0) == 4.0  # Bonferroni at 1e-3 over 6 entries is 3.76
    assert 4.85 < entry_threshold(1000, 4.0) < 4.95
    # the chi-square quantile grows with the degrees of freedom, above k
    assert 6 < chi2_threshold(6, 4.0) < chi2_threshold(60, 4.0)


def test_correlated_unbiased_estimates_pass_and_are_correlated():
    rng = np.random.default_rng(5)
    estimates = []
    for _ in range(40):
        J, theta, g, se, cov, true = reinforce(rng)
        estimates.append(g)
        assert check_grad(J, theta, g, stderr=se).status == "pass"
        assert check_grad(J, theta, g, stderr=se, cov=cov).status == "pass"
    corr = np.corrcoef(np.array(estimates), rowvar=False)
    assert abs(corr[0, 1]) > 0.6  # the case is about strongly correlated entries


def test_the_issue_case_every_entry_near_2_8_se_passes():
    # all six entries 2.8 SE off in the direction they are correlated in: a chi-square
    # that assumes independence sums 6·2.8² = 47 and rejects; this rule does not
    J, theta, _, se, cov, true = reinforce(np.random.default_rng(1))
    g = true + 2.8 * se * np.sign(true)
    assert check_grad(J, theta, g, stderr=se).status == "pass"


@pytest.mark.parametrize("with_cov", [False, True])
def test_a_bias_of_8_standard_errors_fails(with_cov):
    rng = np.random.default_rng(9)
    for _ in range(10):
        J, theta, g, se, cov, _ = reinforce(rng)
        extra = {"cov": cov} if with_cov else {}
        biased = g.copy()
        biased[2] += 8 * se[2]  # one entry
        assert check_grad(J, theta, biased, stderr=se, **extra).status == "fail"
        assert check_grad(J, theta, g + 8 * se, stderr=se, **extra).status == "fail"


def test_a_bias_spread_thinly_is_seen_through_the_covariance():
    J, theta, _, se, cov, true = reinforce(np.random.default_rng(2))
    # 3 SE in every entry, against the correlation: no entry alone exceeds 4 SE
    signs = np.array([1, -1, 1, 1, -1, 1.0])
    g = true + 3 * se * signs
    assert check_grad(J, theta, g, stderr=se).status == "pass"
    res = check_grad(J, theta, g, stderr=se, cov=cov)
    assert res.status == "fail" and "Mahalanobis" in res.message


def test_the_row_table_and_map_read_in_standard_errors_and_agree_with_the_verdict():
    J, theta, g, se, cov, _ = reinforce(np.random.default_rng(4))
    biased = g.copy()
    biased[1] += 10 * se[1]
    res = check_grad(J, theta, biased, stderr=se)
    assert res.status == "fail" and res.measure == "se"
    assert res.tolerance == 4.0 and 5 < res.max_rel_err < 15  # in SE, not relative
    row = res.to_dict()
    html = render.check_row(row, 1, False)
    assert "standard errors" in html and "max rel. error" not in html
    assert "SE off" in html  # the worst-entries column
    assert res.worst[0].index == (1,) and res.worst[0].rel_err > 4
    # the heat map: red exactly where the verdict is
    cells = np.asarray(res.error_map).reshape(-1)
    assert cells[1] > res.tolerance and np.all(np.delete(cells, 1) <= res.tolerance)
    assert 'class="sg-heat-bad"' in figures.heat_map(row["error_map"], row["tolerance"])


def test_cov_of_the_wrong_size_is_an_error():
    J, theta, g, se, cov, _ = reinforce(np.random.default_rng(4))
    res = check_grad(J, theta, g, stderr=se, cov=cov[:3, :3])
    assert res.status == "error" and "cov must be 6×6" in res.message


def test_cov_that_is_no_covariance_is_an_error():
    J, theta, g, se, cov, _ = reinforce(np.random.default_rng(4))
    flipped = cov.copy()
    flipped[0, 1] = flipped[1, 0] = 2 * np.sqrt(cov[0, 0] * cov[1, 1])  # |correlation| > 1
    res = check_grad(J, theta, g, stderr=se, cov=flipped)
    assert res.status == "error" and "not positive semi-definite" in res.message
    assert check_grad(J, theta, g, stderr=se, cov=cov).status == "pass"


def test_cov_alone_gives_the_standard_errors():
    J, theta, g, se, cov, _ = reinforce(np.random.default_rng(6))
    res = check_grad(J, theta, g, cov=cov)
    assert res.status == "pass" and math.isclose(res.stderr, float(se.max()))


def test_a_joint_failure_shows_red_in_the_map():
    J, theta, _, se, cov, true = reinforce(np.random.default_rng(2))
    g = true + 3 * se * np.array([1, -1, 1, 1, -1, 1.0])
    res = check_grad(J, theta, g, stderr=se, cov=cov)
    assert res.status == "fail"
    cells = np.asarray(res.error_map).reshape(-1)
    assert np.max(cells) > res.tolerance  # not all green on a failure
