"""A prompt A/B test's verdict: is prompt B's quality different from prompt A's?

Two tests from `scipy.stats`, never hand-written:

- **Quality: Welch's t-test** (`ttest_ind(a, b, equal_var=False)`, two-sided) on the
  `quality_score` of each variant's calls that have one. It assumes the calls are independent
  of each other, within and between the variants, and that each variant's mean score is
  approximately normally distributed (true of the scores themselves, or of large enough
  samples by the central limit theorem); it does *not* assume equal variances. Where both
  variants' scores are constant SciPy answers 0 if they differ and no p-value if they do not.
- **Transfers: the two-proportion z-test** with the pooled proportion, two-sided
  (`2 * norm.sf(|z|)`), on whether each variant's calls were transferred to an operator. It
  assumes independent calls and samples large enough for the normal approximation of the
  binomial (as a rule, at least 5 transferred and 5 not transferred calls per variant); with
  fewer its p-value is only indicative. If no call or every call was transferred the test is
  undefined and there is no p-value.

A p-value is None while a variant has fewer than 2 calls (with a score, for quality). The
winner is "A" or "B" only when the quality p-value is below 0.05: the variant with the higher
mean score; otherwise None, so the verdict stays null until the data supports one. Samples are
sorted before testing, so the verdict depends on the calls, never on the order they came in.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from scipy.stats import norm, ttest_ind

SIGNIFICANCE = 0.05
MIN_CALLS = 2

Variant = Literal["A", "B"]


@dataclass(frozen=True, slots=True)
class AbVerdict:
    quality_p_value: float | None
    transfer_p_value: float | None
    winner: Variant | None


def ab_verdict(
    quality_a: Iterable[float],
    quality_b: Iterable[float],
    transferred_a: Iterable[bool],
    transferred_b: Iterable[bool],
) -> AbVerdict:
    """The verdict from each variant's quality scores and each call's transferred flag."""
    a, b = sorted(quality_a), sorted(quality_b)
    quality_p = welch_p_value(a, b)
    winner: Variant | None = None
    if quality_p is not None and quality_p < SIGNIFICANCE:
        mean_a, mean_b = sum(a) / len(a), sum(b) / len(b)
        if mean_a != mean_b:
            winner = "A" if mean_a > mean_b else "B"
    return AbVerdict(
        quality_p_value=quality_p,
        transfer_p_value=two_proportion_p_value(list(transferred_a), list(transferred_b)),
        winner=winner,
    )


def welch_p_value(a: list[float], b: list[float]) -> float | None:
    """Welch's two-sided t-test p-value, or None (too few values, or SciPy has none)."""
    if len(a) < MIN_CALLS or len(b) < MIN_CALLS:
        return None
    with warnings.catch_warnings():
        # Nearly constant samples make SciPy warn of precision loss; its answer still stands.
        warnings.simplefilter("ignore", RuntimeWarning)
        p = float(ttest_ind(sorted(a), sorted(b), equal_var=False).pvalue)
    return p if math.isfinite(p) else None


def two_proportion_p_value(a: list[bool], b: list[bool]) -> float | None:
    """The pooled two-proportion z-test's two-sided p-value, or None where it is undefined."""
    n_a, n_b = len(a), len(b)
    if n_a < MIN_CALLS or n_b < MIN_CALLS:
        return None
    x_a, x_b = sum(a), sum(b)
    pooled = (x_a + x_b) / (n_a + n_b)
    variance = pooled * (1 - pooled) * (1 / n_a + 1 / n_b)
    if variance <= 0:
        return None
    z = (x_a / n_a - x_b / n_b) / math.sqrt(variance)
    return float(2 * norm.sf(abs(z)))
