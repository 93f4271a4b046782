"""utils.geometry: random directions, overlaps, the Welch bound against known tight frames, packing."""

import math

import numpy as np
import pytest
import torch

from utils import geometry


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_random_unit_vectors_are_unit_and_reproducible():
    U = geometry.random_unit_vectors(500, 7, _gen())
    assert U.shape == (500, 7)
    assert torch.allclose(U.norm(dim=1), torch.ones(500), atol=1e-6)
    assert torch.equal(U, geometry.random_unit_vectors(500, 7, _gen()))
    assert U.mean(0).abs().max() < 0.1


@pytest.mark.parametrize("m", [3, 20, 200])
def test_mean_square_overlap_of_random_vectors_is_one_over_m(m):
    s = geometry.pair_overlaps(m, 20_000, _gen(m))
    assert abs(s.mean().item()) < 4 / math.sqrt(20_000 * m)
    assert m * (s ** 2).mean().item() == pytest.approx(1.0, rel=0.05)
    assert s.std().item() == pytest.approx(m ** -0.5, rel=0.03)


def test_overlap_ratio_is_one_for_random_matrices():
    assert geometry.overlap_ratio(geometry.random_unit_vectors(3000, 50, _gen())) == pytest.approx(1.0, rel=0.03)


def test_mean_square_overlap_matches_the_pairwise_definition():
    V = torch.randn(30, 4, generator=_gen()) * torch.rand(30, 1, generator=_gen(1)) * 3 + 0.01
    U = V / V.norm(dim=1, keepdim=True)
    C = U @ U.T
    direct = ((C ** 2).sum() - 30) / (30 * 29)
    assert geometry.mean_square_overlap(V) == pytest.approx(direct.item(), rel=1e-5)
    pairs = geometry.overlaps(V)
    assert pairs.numel() == 30 * 29 // 2
    assert (pairs ** 2).mean().item() == pytest.approx(direct.item(), rel=1e-5)
    assert geometry.max_overlap(V) == pytest.approx((C - torch.eye(30)).abs().max().item(), rel=1e-5)
    assert geometry.mean_square_overlap(V.numpy()) == pytest.approx(direct.item(), rel=1e-5)


@pytest.mark.parametrize("m", [2, 3, 5, 10])
def test_simplex_is_an_equiangular_tight_frame_on_the_bound(m):
    S = geometry.simplex(m)
    assert S.shape == (m + 1, m)
    assert torch.allclose(S.norm(dim=1), torch.ones(m + 1, dtype=S.dtype))
    bound = geometry.welch_bound(m + 1, m)
    assert bound == pytest.approx(1 / m ** 2)
    assert geometry.mean_square_overlap(S) == pytest.approx(bound, rel=1e-9)
    assert geometry.max_overlap(S) == pytest.approx(math.sqrt(bound), rel=1e-9)
    assert torch.allclose(S.T @ S, (m + 1) / m * torch.eye(m, dtype=S.dtype))  # tight: U^T U = (n/m) I


@pytest.mark.parametrize("m", [2, 4, 16])
def test_orthonormal_basis_meets_the_zero_bound(m):
    assert geometry.welch_bound(m, m) == 0.0
    assert geometry.mean_square_overlap(torch.eye(m)) == 0.0
    assert geometry.max_overlap(torch.eye(m)) == 0.0
    assert geometry.welch_bound(m + 1, m + 5) == 0.0  # n < m: no overlap is forced


@pytest.mark.parametrize("m", [2, 4, 8, 32])
def test_two_unbiased_bases_reach_the_mean_bound(m):
    U = geometry.unbiased_bases(m)
    assert geometry.mean_square_overlap(U) == pytest.approx(geometry.welch_bound(2 * m, m), rel=1e-9)
    assert geometry.mean_square_overlap(U) == pytest.approx(1 / (2 * m - 1), rel=1e-9)


def test_welch_bound_is_a_lower_bound_and_tends_to_one_over_m():
    for n, m in [(10, 3), (50, 10), (400, 20)]:
        U = geometry.random_unit_vectors(n, m, _gen(n))
        bound = geometry.welch_bound(n, m)
        assert geometry.mean_square_overlap(U) >= bound
        assert geometry.max_overlap(U) ** 2 >= bound
    assert geometry.welch_bound(10 ** 7, 64) == pytest.approx(1 / 64, rel=1e-4)


def test_packing_reaches_the_welch_bound_within_one_percent():
    n, m = 60, 12
    packed = geometry.pack(n, m, steps=300, generator=_gen())
    bound = geometry.welch_bound(n, m)
    assert packed.mean_square_overlap <= 1.01 * bound
    assert packed.history[0] > packed.history[-1]
    assert torch.allclose(packed.U.norm(dim=1), torch.ones(n, dtype=packed.U.dtype))
    assert packed.max_overlap >= math.sqrt(bound)
    high = geometry.pack(n, m, steps=300, power=8, generator=_gen())
    assert high.mean_square_overlap <= 1.02 * bound
    assert high.max_overlap < packed.max_overlap  # a higher power pushes the largest overlaps down


def test_concentration_and_greedy_count():
    tails = [geometry.random_tail(m, 0.3, pairs=20_000, generator=_gen(m)) for m in (8, 32, 64)]
    assert tails[0] > tails[1] > tails[2]
    for m, t in zip((8, 32, 64), tails):
        assert t <= 2 * math.exp(-m * 0.3 ** 2 / 2)
    counts = [geometry.greedy_nearly_orthogonal(m, 0.6, candidates=3000, generator=_gen(m)) for m in (4, 8, 12)]
    assert counts[0] < counts[1] < counts[2]
    assert counts[2] > 4 * 12  # far more than m nearly orthogonal directions


def test_gaussian_density_integrates_to_one():
    x = np.linspace(-1, 1, 20_001)
    assert np.trapezoid(geometry.gaussian_overlap_density(50, x), x) == pytest.approx(1.0, rel=1e-4)


@pytest.mark.parametrize("call, message", [
    (lambda: geometry.random_unit_vectors(0, 3), "n must be a positive integer"),
    (lambda: geometry.random_unit_vectors(5, 2.5), "m must be a positive integer"),
    (lambda: geometry.welch_bound(1, 3), "n must be at least 2"),
    (lambda: geometry.welch_bound(10, -1), "m must be a positive integer"),
    (lambda: geometry.mean_square_overlap(torch.ones(5)), "V must have 2 dimensions"),
    (lambda: geometry.mean_square_overlap(torch.ones(1, 3)), "at least 2 rows"),
    (lambda: geometry.mean_square_overlap(torch.tensor([[1.0, 0.0], [0.0, 0.0]])), "zero row"),
    (lambda: geometry.mean_square_overlap(torch.tensor([[1.0, float("nan")], [0.0, 1.0]])), "NaN"),
    (lambda: geometry.random_tail(10, 1.5), "eps must be in"),
    (lambda: geometry.random_tail(10, 0.0), "eps must be in"),
    (lambda: geometry.pack(10, 3, power=3), "even integer"),
    (lambda: geometry.pack(10, 3, lr=-1), "lr must be in"),
    (lambda: geometry.pack(1, 3), "n must be at least 2"),
    (lambda: geometry.unbiased_bases(6), "power of 2"),
    (lambda: geometry.greedy_nearly_orthogonal(5, 2.0), "eps must be in"),
    (lambda: geometry.effective_dimension(torch.zeros(4, 3)), "V must have at least one non-zero row"),
    (lambda: geometry.effective_dimension(np.zeros((0, 3))), "V must have at least one non-zero row"),
    (lambda: geometry.effective_dimension(torch.tensor([[1.0, float("nan")]])), "V contains NaN"),
    (lambda: geometry.effective_dimension(torch.ones(3)), "V must have 2 dimensions"),
])
def test_bad_inputs_get_clear_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()
