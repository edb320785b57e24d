"""The A/B verdict: SciPy's Welch t-test and the pooled two-proportion z-test, a winner only
at p < 0.05 on quality, and nothing while a side has too few calls."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import t as student_t

from streams.voicebot.ab import AbVerdict, ab_verdict, two_proportion_p_value, welch_p_value

A = [0.62, 0.70, 0.58, 0.66, 0.61, 0.69, 0.64, 0.60]
B = [0.78, 0.81, 0.74, 0.85, 0.80, 0.77, 0.83, 0.79]


def test_a_clear_difference_names_the_higher_mean_and_a_swap_names_the_other() -> None:
    verdict = ab_verdict(A, B, [True] * 3 + [False] * 5, [True] + [False] * 7)
    assert verdict.winner == "B"
    assert verdict.quality_p_value is not None and verdict.quality_p_value < 1e-5
    assert ab_verdict(B, A, [], []).winner == "A"


def test_welch_is_the_unequal_variance_t_test() -> None:
    # t and the Welch-Satterthwaite degrees of freedom by hand; Student's pooled test differs.
    a, b = [1.0, 2.0, 3.0, 4.0], [2.0, 4.0, 6.0, 8.0, 10.0]
    va, vb = (5 / 3) / 4, 10.0 / 5
    t = (2.5 - 6.0) / math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / 3 + vb**2 / 4)
    p = welch_p_value(a, b)
    assert p == pytest.approx(2 * student_t.sf(abs(t), df), rel=1e-9)
    assert p == pytest.approx(0.0691, abs=1e-4)


def test_the_z_test_uses_the_pooled_proportion_and_is_two_sided() -> None:
    # 30/100 against 45/100: pooled 0.375, z = -0.15 / sqrt(0.375 * 0.625 * 0.02) = -2.1909.
    p = two_proportion_p_value([True] * 30 + [False] * 70, [True] * 45 + [False] * 55)
    z = 0.15 / math.sqrt(0.375 * 0.625 * 0.02)
    assert p == pytest.approx(math.erfc(z / math.sqrt(2)), rel=1e-12)
    assert p == pytest.approx(0.02846, abs=1e-5)


def test_no_significance_no_winner() -> None:
    close = ab_verdict([0.6, 0.7, 0.65], [0.62, 0.69, 0.66], [True, False], [False, True])
    assert close.quality_p_value is not None and close.quality_p_value > 0.05
    assert close.winner is None and close.transfer_p_value == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("quality_a", "quality_b", "transferred_a", "transferred_b"),
    [([0.9], B, [True], [False] * 8), (A, [], [True, False], [])],
)
def test_fewer_than_two_calls_on_a_side_give_no_p_value_and_no_winner(
    quality_a: list[float],
    quality_b: list[float],
    transferred_a: list[bool],
    transferred_b: list[bool],
) -> None:
    verdict = ab_verdict(quality_a, quality_b, transferred_a, transferred_b)
    assert verdict == AbVerdict(None, None, None)


def test_undefined_tests_give_no_p_value() -> None:
    # Constant and equal scores: SciPy has no p-value. No transfer anywhere: z is 0/0.
    verdict = ab_verdict([0.5, 0.5], [0.5, 0.5, 0.5], [False, False], [False, False])
    assert verdict == AbVerdict(None, None, None)
    assert two_proportion_p_value([True, True], [True, True, True]) is None


SCORES = st.lists(st.floats(0, 1), max_size=25)
FLAGS = st.lists(st.booleans(), max_size=25)


@given(SCORES, SCORES, FLAGS, FLAGS, st.randoms())
def test_the_verdict_does_not_depend_on_the_order_of_the_samples(
    qa: list[float], qb: list[float], ta: list[bool], tb: list[bool], rnd: random.Random
) -> None:
    verdict = ab_verdict(qa, qb, ta, tb)
    for sample in (qa, qb, ta, tb):
        rnd.shuffle(sample)
    assert ab_verdict(qa, qb, ta, tb) == verdict
    swapped = ab_verdict(qb, qa, tb, ta)
    assert swapped.winner == {"A": "B", "B": "A", None: None}[verdict.winner]
    for mine, theirs in (
        (verdict.quality_p_value, swapped.quality_p_value),
        (verdict.transfer_p_value, swapped.transfer_p_value),
    ):
        assert (mine is None) == (theirs is None)
        if mine is not None and theirs is not None:
            assert mine == pytest.approx(theirs, rel=1e-9, abs=1e-300)
            assert 0.0 <= mine <= 1.0
