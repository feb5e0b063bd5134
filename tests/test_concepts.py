"""Solution concepts on utility matrices (optimizer.engine.concepts) against direct brute force."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer.engine.concepts import (
    egalitarian,
    ideal_point,
    kalai_smorodinsky,
    nash,
    solution_concepts,
    utilitarian,
)

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))


def test_known_points() -> None:
    # A classic frontier: sums 10, 12, 12, 11, 10; products 0, 32, 36, 18, 0.
    U = np.array([[0, 10], [4, 8], [6, 6], [9, 2], [10, 0]], dtype=float)
    assert utilitarian(U) == 2  # (4, 8) and (6, 6) tie on 12: the larger smallest gain wins
    assert egalitarian(U) == 2
    assert nash(U) == 2  # 36 beats 32, 18
    d = np.array([3.0, 0.0])
    assert egalitarian(U, d) == 2  # gains (3,6) min 3 beats (1,8)
    assert nash(U, d) == 2  # gains products: (1*8)=8, (3*6)=18, (6*2)=12
    # Ideal (10, 10): normalised gains min(u/10) -> (6, 6) is on the diagonal.
    assert kalai_smorodinsky(U) == 2
    assert solution_concepts(U) == {
        "utilitarian": 2,
        "egalitarian": 2,
        "nash": 2,
        "kalai_smorodinsky": 2,
    }


def test_kalai_smorodinsky_uses_the_ideal_point() -> None:
    # Party 1's best is 4, party 0's best is 10: KS balances the shares of each one's best.
    U = np.array([[10, 0], [8, 1], [6, 2], [4, 3], [0, 4]], dtype=float)
    assert np.allclose(ideal_point(U), [10, 4])
    # shares: (1,0) (.8,.25) (.6,.5) (.4,.75) (0,1): max-min is 0.5 at row 2
    assert kalai_smorodinsky(U) == 2
    # egalitarian on raw gains prefers (4, 3) (min 3) over (6, 2) (min 2)
    assert egalitarian(U) == 3


def test_kalai_smorodinsky_ties_go_to_the_larger_total_gain() -> None:
    """Issue 11: the documented rule (larger total gain), not the larger sum of normalised gains.

    Ideal (100, 50): rows 2 and 3 tie on the smallest normalised gain (0.5); row 2 has the larger
    normalised sum (0.5 + 0.9 = 1.4 against 0.8 + 0.5 = 1.3), row 3 the larger total (105 > 95)."""
    U = np.array([[100, 0], [0, 50], [50, 45], [80, 25]], dtype=float)
    assert kalai_smorodinsky(U) == 3
    assert kalai_smorodinsky(U[[0, 1, 3, 2]]) == 2  # the same point, wherever it sits


def test_undefined_concepts() -> None:
    assert utilitarian(np.zeros((0, 2))) is None
    assert solution_concepts(np.zeros((0, 3))) == {}
    # No point gives both parties a gain over d: Nash is undefined, the others are not.
    U = np.array([[5.0, 1.0], [1.0, 5.0]])
    d = np.array([2.0, 2.0])
    assert nash(U, d) is None
    assert set(solution_concepts(U, d)) == {"utilitarian", "egalitarian", "kalai_smorodinsky"}


def test_bad_shapes_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="n_points, n_parties"):
        utilitarian(np.zeros(3))
    with pytest.raises(ValueError, match="one value per party"):
        egalitarian(np.zeros((2, 2)), np.zeros(3))


matrices = st.integers(2, 3).flatmap(
    lambda m: st.tuples(
        st.lists(st.lists(st.integers(0, 12), min_size=m, max_size=m), min_size=1, max_size=25),
        st.lists(st.integers(0, 6), min_size=m, max_size=m),
    )
)


@SETTINGS
@given(matrices)
def test_concepts_maximise_their_criterion(data) -> None:
    rows, d_list = data
    U = np.array(rows, dtype=float) / 3.0  # thirds: float noise, exact ties
    d = np.array(d_list, dtype=float) / 3.0
    gains = U - d

    k = utilitarian(U, d)
    assert U[k].sum() >= U.sum(axis=1).max() - 1e-9

    k = egalitarian(U, d)
    assert gains[k].min() >= gains.min(axis=1).max() - 1e-9

    positive = np.all(gains > 1e-9, axis=1)
    k = nash(U, d)
    if positive.any():
        best = np.prod(gains[positive], axis=1).max()
        assert k is not None and positive[k]
        assert np.prod(gains[k]) >= best * (1 - 1e-9)
    else:
        assert k is None

    k = kalai_smorodinsky(U, d)
    span = U.max(axis=0) - d
    use = span > 1e-9
    if use.any():
        norm = (U[:, use] - d[use]) / span[use]
        assert norm[k].min() >= norm.min(axis=1).max() - 1e-9
