"""What a trained toy model looks like: row norms, represented fractions, overlaps, loss terms.

Definitions (the notation page of the book states them once):
- row norm ||W_i||: how strongly feature i is stored;
- phi_half: share of features with ||W_i|| > 1/2, the paper's phi_{1/2} (the
  represented ones, its Fig. 3);
- phi_one: share of features with ||W_i|| > 1, the paper's phi_1, its
  "strongly represented" features (arXiv 2505.10465 v4, Eq. 15 and Fig. 16);
- phi_band: share of features with ||W_i|| within `tol` of 1 (this course's own
  statistic, not the paper's; the symbol is phi_band);
- squared cosines (W_i . W_j)^2 / (||W_i||^2 ||W_j||^2) averaged over pairs
  i != j of a set of rows: msq_strong over the strongly represented rows (norm
  > 1: the paper's Fig. 5d, whose Fig. 5c shows their variance var_strong),
  msq_all over all rows (its Fig. 17), msq_represented over rows with norm
  > 1/2 (this course's earlier statistic, `mean_square_overlap`).
"""

from __future__ import annotations

import torch

from . import _validate as check
from . import geometry
from .data import U_SQUARE_MEAN, sample_dense
from .models import forward

REPRESENTED = 0.5  # phi_1/2's threshold
STRONG = 1.0  # phi_1's threshold: the paper's strongly represented rows


def _weights(W) -> torch.Tensor:
    W = W if isinstance(W, torch.Tensor) else torch.as_tensor(W, dtype=torch.float32)
    if W.dim() not in (2, 3):
        raise ValueError(f"W must have shape (n, m) or (K, n, m), got {tuple(W.shape)}")
    if not torch.isfinite(W).all():
        raise ValueError("W contains NaN or infinite values")
    return W.float()


def _one_model(W, b) -> tuple[torch.Tensor, torch.Tensor]:
    """One model's W (n, m) and b (n,) as float tensors, or a ValueError naming what is wrong."""
    W = _weights(W)
    if W.dim() != 2:
        raise ValueError(f"W must be one model's (n, m) matrix, got {tuple(W.shape)}")
    b = torch.as_tensor(b, dtype=torch.float32)
    if b.shape != (W.shape[0],):
        raise ValueError(f"b must have one entry per feature (n={W.shape[0]}), got shape {tuple(b.shape)}")
    return W, b


def row_norms(W) -> torch.Tensor:
    """||W_i|| for every feature i: shape (n,) or (K, n)."""
    return torch.linalg.vector_norm(_weights(W), dim=-1)


def phi_half(W, threshold: float = REPRESENTED) -> torch.Tensor:
    """Share of features with row norm above `threshold` (1/2): the represented fraction."""
    threshold = check.finite_float("threshold", threshold, low=0.0)
    return (row_norms(W) > threshold).float().mean(-1)


def phi_one(W) -> torch.Tensor:
    """Share of features with row norm above 1: the paper's phi_1, its strongly represented features."""
    return (row_norms(W) > STRONG).float().mean(-1)


def phi_band(W, tol: float = 0.1) -> torch.Tensor:
    """Share of features whose row norm lies within `tol` of 1 (this course's band, not the paper's phi_1)."""
    tol = check.finite_float("tol", tol, low=0.0, low_open=True)
    return ((row_norms(W) - 1).abs() <= tol).float().mean(-1)


def overlaps(W, threshold: float = REPRESENTED) -> torch.Tensor:
    """Cosines W_i . W_j / (||W_i|| ||W_j||) between represented rows of one W (n, m)."""
    W = _weights(W)
    if W.dim() != 2:
        raise ValueError(f"W must be one model's (n, m) matrix, got {tuple(W.shape)}")
    norms = torch.linalg.vector_norm(W, dim=1)
    keep = norms > threshold
    U = W[keep] / norms[keep].unsqueeze(1)
    return U @ U.T


def mean_square_overlap(W, threshold: float = REPRESENTED) -> float:
    """Mean over pairs i != j of represented rows of the squared cosine; NaN if fewer than 2 rows."""
    W = _weights(W)
    if W.dim() != 2:
        raise ValueError(f"W must be one model's (n, m) matrix, got {tuple(W.shape)}")
    rows = W[torch.linalg.vector_norm(W, dim=1) > check.finite_float("threshold", threshold, low=0.0)]
    return geometry.mean_square_overlap(rows) if len(rows) >= 2 else float("nan")


def square_cosines(W, low: float = 0.0) -> torch.Tensor:
    """The squared cosines of all pairs i < j of rows of one W (n, m) whose norm exceeds `low`, as a flat tensor."""
    W = _weights(W)
    if W.dim() != 2:
        raise ValueError(f"W must be one model's (n, m) matrix, got {tuple(W.shape)}")
    low = check.finite_float("low", low, low=0.0)
    rows = W[torch.linalg.vector_norm(W, dim=1) > low]
    if len(rows) < 2:
        return torch.zeros(0)
    return geometry.overlaps(rows).pow(2)


def overlap_stats(W) -> dict:
    """The paper's overlap statistics of one W (n, m): squared cosines over three sets of rows.

    n_strong: rows with norm > 1 (phi_1's set); msq_strong and var_strong: the mean and the variance
    of the squared cosines between pairs of those rows (the paper's Fig. 5d and 5c; None when fewer
    than two rows); msq_all over all rows (its Fig. 17); msq_represented over rows with norm > 1/2.
    """
    W = _weights(W)
    strong = square_cosines(W, STRONG).double()
    out = dict(n_strong=int((row_norms(W) > STRONG).sum()),
               msq_strong=float(strong.mean()) if strong.numel() else None,
               var_strong=float(strong.var(correction=0)) if strong.numel() else None)
    for name, low in (("msq_all", 0.0), ("msq_represented", REPRESENTED)):
        rows = W[row_norms(W) > low]
        out[name] = geometry.mean_square_overlap(rows) if len(rows) >= 2 else None
    return out


def group_overlaps(W) -> dict:
    """Mean squared cosine within and between the strongly represented rows (norm > 1) and the others.

    strong: pairs inside the norm > 1 set (msq_strong); weak: pairs inside the norm <= 1 set; cross:
    one row from each (the strong-weak cross term). msq_all is their mix, weighted by the number of
    pairs of each kind. A value is None where its set has too few rows.
    """
    W = _weights(W)
    if W.dim() != 2:
        raise ValueError(f"W must be one model's (n, m) matrix, got {tuple(W.shape)}")
    norms = row_norms(W)
    U = geometry.normalise_rows(W).double()
    strong, weak = U[norms > STRONG], U[norms <= STRONG]

    def inside(V):
        k = len(V)
        return float(((V @ V.T).pow(2).sum() - k) / (k * (k - 1))) if k >= 2 else None

    cross = float((strong @ weak.T).pow(2).mean()) if len(strong) and len(weak) else None
    return dict(strong=inside(strong), weak=inside(weak), cross=cross)


def unrepresented_loss(W, p, threshold: float = REPRESENTED) -> float:
    """Weak-regime prediction of the loss: (1/n) sum over rows with norm <= threshold of p_i E[u^2].

    In the units of torch's MSELoss (mean over features), like every loss in the course.
    """
    W = _weights(W)
    p = check.probabilities("p", p)
    if W.dim() != 2 or p.shape != (W.shape[0],):
        raise ValueError(f"W (n, m) and p (n,) must agree, got {tuple(W.shape)} and {tuple(p.shape)}")
    left_out = row_norms(W) <= threshold
    return (p[left_out].sum() * U_SQUARE_MEAN / W.shape[0]).item()


@torch.no_grad()
def sample_losses(W, b, p, batch: int = 20_000, generator: torch.Generator | None = None) -> torch.Tensor:
    """Loss of each sample of a fresh batch (not seen in training), shape (batch,) or (K, batch).

    In the units of torch's MSELoss: mean over the n features.
    """
    W = _weights(W)
    p = check.probabilities("p", p)
    if p.shape != (W.shape[-2],):
        raise ValueError(f"p must have one entry per feature (n={W.shape[-2]}), got shape {tuple(p.shape)}")
    x = sample_dense(p, batch, generator)
    y = forward(W, b, x)
    return ((y - x) ** 2).mean(dim=-1)


def test_loss(W, b, p, batch: int = 20_000, generator: torch.Generator | None = None) -> torch.Tensor:
    """Loss on a fresh batch of one model (n, m) or a stack (K, n, m): mean over batch and features."""
    return sample_losses(W, b, p, batch, generator).mean(dim=-1)


# ---- chapter 5: strong superposition

def norm_modes(norms, width: float = 0.05, min_height: float = 0.03, max_dip: float = 0.5) -> list[float]:
    """Where the distribution of row norms peaks: the centres of its separate modes, in increasing order.

    The norms are binned (bins of `width`), lightly smoothed with weights 1-2-1, and every local
    maximum at least `min_height` times the highest bin is a candidate. Two neighbouring candidates
    count as separate modes only if the histogram between them dips below `max_dip` times the lower
    of the two peaks; otherwise the lower one is dropped. One value back means one peak.
    """
    v = torch.as_tensor(norms, dtype=torch.float64).flatten()
    if v.numel() < 2 or not torch.isfinite(v).all() or (v < 0).any():
        raise ValueError("norms must hold at least two finite, non-negative values")
    width = check.finite_float("width", width, low=0.0, low_open=True)
    min_height = check.finite_float("min_height", min_height, low=0.0, high=1.0)
    max_dip = check.finite_float("max_dip", max_dip, low=0.0, high=1.0)
    bins = int(float(v.max()) / width) + 2
    counts = torch.histc(v, bins=bins, min=0.0, max=bins * width).tolist()  # bin k: [k width, (k + 1) width)
    padded = [0.0] + counts + [0.0]
    smooth = [(padded[k - 1] + 2 * padded[k] + padded[k + 1]) / 4 for k in range(1, len(padded) - 1)]
    top = max(smooth)
    peaks = [k for k in range(len(smooth))
             if smooth[k] >= min_height * top
             and smooth[k] > (smooth[k - 1] if k else 0.0)
             and smooth[k] >= (smooth[k + 1] if k + 1 < len(smooth) else 0.0)]
    merged = True
    while merged and len(peaks) > 1:
        merged = False
        for a, b in zip(peaks, peaks[1:]):
            if min(smooth[a:b + 1]) > max_dip * min(smooth[a], smooth[b]):
                peaks.remove(a if smooth[a] < smooth[b] else b)
                merged = True
                break
    return [round((k + 0.5) * width, 6) for k in peaks]


def single_feature_outputs(W, b, u: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Every output when one feature alone is active with value u: (pre-activation, output), each (n, n).

    Row j holds the n outputs for the input u e_j: pre[j] = u W W_j + b before the ReLU, post[j] = ReLU(pre[j]).
    Entry (j, j) is feature j's own reconstruction; every other entry of row j is interference from j.
    """
    W, b = _one_model(W, b)
    u = check.finite_float("u", u)
    pre = u * (W @ W.T) + b
    return pre, torch.relu(pre)


def strongest_false_activation(W, b, u: float = 2.0) -> dict:
    """The largest wrong output when one feature is active alone with value u: a 'confident wrong answer'.

    Returns the active feature j and the wrongly lit feature i (0-based indices), i's output, the
    overlap W_i . W_j, its cosine, i's bias, and j's own output (what the model should answer).
    """
    pre, post = single_feature_outputs(W, b, u)
    off = post.clone()
    off.fill_diagonal_(-1.0)
    flat = int(off.argmax())
    j, i = divmod(flat, off.shape[1])
    W = _weights(W)
    overlap = float(W[i] @ W[j])
    cos = overlap / float(torch.linalg.vector_norm(W[i]) * torch.linalg.vector_norm(W[j]))
    return dict(active=j, wrong=i, output=float(post[j, i]), pre_activation=float(pre[j, i]), overlap=overlap,
                cosine=cos, bias=float(torch.as_tensor(b)[i]), target_output=float(post[j, j]), u=u)


def linear_interference_loss(mean_square_overlap: float, n: int, E: float = 1.0) -> float:
    """The interference a model without bias and ReLU would pay, in loss units: E E[u^2] (n - 1)/n times the mean square overlap.

    Each active feature j leaks (W_i . W_j) u_j into the n - 1 other outputs; with unit rows and
    uncorrelated features the squared leaks add up to u_j^2 (n - 1) times the mean square overlap per
    sample, and the loss divides by n. With overlaps of size 1/m this is about E E[u^2]/m.
    """
    msq = check.finite_float("mean_square_overlap", mean_square_overlap, low=0.0)
    n = check.positive_int("n", n)
    E = check.finite_float("E", E, low=0.0)
    return E * U_SQUARE_MEAN * (n - 1) / n * msq


def interference_filtering(W, b, u: float = 1.0) -> dict:
    """How much interference survives each stage, for one feature active alone with value u (averaged over which).

    For every active feature j, the other outputs i != j receive the leak u W_i . W_j. Returned, as means
    over j of the sum over i != j of the squared wrong outputs: `linear` (the leak itself, no bias, no
    ReLU), `relu` (ReLU of the leak, no bias) and `relu_and_bias` (the model's real output
    ReLU(u W_i . W_j + b_i)); and `lit`, the mean number of wrong outputs that stay above zero.
    """
    pre, post = single_feature_outputs(W, b, u)
    n = pre.shape[0]
    off = ~torch.eye(n, dtype=torch.bool)
    leak = (pre - torch.as_tensor(b, dtype=torch.float32))[off]
    return dict(linear=float(leak.pow(2).sum() / n), relu=float(torch.relu(leak).pow(2).sum() / n),
                relu_and_bias=float(post[off].pow(2).sum() / n), lit=float((post[off] > 0).sum() / n))


def crowding(W, top: int, rare_from: int = 300) -> dict:
    """Where a strong model's overlaps sit: m times the mean square overlap (squared cosines) of all
    represented rows, of the `top` most frequent rows and of the rows from rank `rare_from` on; the
    effective dimension of those rarer rows' directions (rows sorted by frequency, most frequent
    first); and `raw`: m times the mean squared dot product W_i . W_j of the represented rows, the
    same overlap without dividing by the row norms."""
    W = _weights(W)
    if W.dim() != 2:
        raise ValueError(f"W must be one model's (n, m) matrix, got {tuple(W.shape)}")
    n, m = W.shape
    top = check.integer("top", top, 2, n, f" (at least two rows, at most n = {n}, to have an overlap)")
    rare_from = check.integer("rare_from", rare_from, 0, n - 2, f" (the rare rows {rare_from}.. must be at "
                                                                f"least two of the n = {n})")
    rows = W[row_norms(W) > REPRESENTED]
    k = len(rows)
    gram = rows @ rows.T
    raw = float(((gram ** 2).sum() - (gram.diagonal() ** 2).sum()) / (k * (k - 1))) if k >= 2 else float("nan")
    rare = geometry.normalise_rows(W[rare_from:])
    return dict(all=m * mean_square_overlap(W), raw=m * raw, top=m * geometry.mean_square_overlap(W[:top]),
                rare=m * geometry.mean_square_overlap(rare), rare_dims=geometry.effective_dimension(rare))


# ---- chapter 4: weak superposition

def represented_ranks(W, threshold: float = REPRESENTED) -> torch.Tensor:
    """Ranks (counting from 1, most frequent first) of the features whose row norm exceeds `threshold`."""
    W = _weights(W)
    if W.dim() != 2:
        raise ValueError(f"W must be one model's (n, m) matrix, got {tuple(W.shape)}")
    threshold = check.finite_float("threshold", threshold, low=0.0)
    return torch.nonzero(row_norms(W) > threshold).flatten() + 1


def suitcase_loss(p, k: int) -> float:
    """Loss of the ideal weak-superposition model that stores the k most frequent features perfectly.

    Every other feature is answered with 0 and costs p_i E[u^2]; in the course's units (mean over the
    n features) the loss is (1/n) E[u^2] sum_{i > k} p_i, with p sorted from the most frequent.
    """
    p = check.probabilities("p", p)
    if p.dim() != 1:
        raise ValueError(f"p must be a vector of n frequencies, got shape {tuple(p.shape)}")
    n = p.shape[0]
    if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k <= n:
        raise ValueError(f"k must be an integer number of stored features in [0, n={n}], got {k!r}")
    return float(p.double().sort(descending=True).values[k:].sum() * U_SQUARE_MEAN / n)


def packed_count(p, m: int, fee: float) -> int:
    """How many features a suitcase of m slots holds when each stored feature costs `fee` (loss units).

    A feature is worth its slot when what it saves, p_i E[u^2] / n, exceeds the fee; the most valuable
    go first and at most m fit: min(m, #{i : p_i E[u^2] / n > fee}).
    """
    p = check.probabilities("p", p)
    if p.dim() != 1:
        raise ValueError(f"p must be a vector of n frequencies, got shape {tuple(p.shape)}")
    m = check.positive_int("m", m)
    fee = check.finite_float("fee", fee, low=0.0)
    worth = int((p.double() * U_SQUARE_MEAN / p.shape[0] > fee).sum())
    return min(m, worth)


def suitcase_exponent(alpha: float, n: int, widths) -> float:
    """alpha_m of the ideal suitcase: minus the log-log slope of suitcase_loss(power law, k = m) over `widths`.

    For alpha > 1 and m << n it tends to alpha - 1; for alpha <= 1 to 0 as n grows; at finite n it lies between.
    """
    from .data import power_law
    from .fits import fit_power_law

    ms = [check.positive_int("width", m) for m in widths]
    if max(ms) >= check.positive_int("n", n):
        raise ValueError(f"every width must be smaller than n={n}, got {max(ms)}")
    p = power_law(n, alpha).double()  # sorted already; one cumulative sum gives every tail
    tails = p.flip(0).cumsum(0).flip(0)  # tails[k] = sum over i > k (1-based) of p_i
    return fit_power_law(ms, [float(tails[m]) * U_SQUARE_MEAN / n for m in ms]).exponent


def dropped_loss(norms, p, threshold: float = REPRESENTED, best_constant: bool = False) -> float:
    """Loss of the features whose row norm is <= threshold, from row norms alone (for sweep records).

    With best_constant=False each dropped feature costs p_i E[u^2] (the model answers 0), which is
    `unrepresented_loss`. With best_constant=True its bias is assumed to answer the feature's mean
    p_i E[u] instead, which costs its variance p_i E[u^2] - (p_i E[u])^2: the difference only matters
    for features active in a large share of the samples. Units: mean over the n features.
    """
    from .data import U_MEAN

    v = torch.as_tensor(norms, dtype=torch.float64).flatten()
    p = check.probabilities("p", p).double().flatten()
    if v.shape != p.shape:
        raise ValueError(f"norms and p must have one entry per feature, got {tuple(v.shape)} and {tuple(p.shape)}")
    threshold = check.finite_float("threshold", threshold, low=0.0)
    cost = p * U_SQUARE_MEAN - (p * U_MEAN) ** 2 if best_constant else p * U_SQUARE_MEAN
    return float(cost[v <= threshold].sum() / p.numel())


def silent_features(W, b, u: float = 2.0) -> torch.Tensor:
    """Features whose own output stays 0 even when they are active alone at value u: ReLU(u ||W_i||^2 + b_i) = 0.

    Such a feature gets no gradient from its own samples, so nothing opposes the weight decay
    shrinking its row: once silent, it stays dropped. Returns a boolean mask (n,).
    """
    W, b = _one_model(W, b)
    u = check.finite_float("u", u, low=0.0, low_open=True)
    return u * row_norms(W) ** 2 + b <= 0


def loss_parts(W, b, p, batch: int = 20_000, generator: torch.Generator | None = None) -> dict:
    """Where one model's loss comes from, on a fresh batch: silenced features against stored ones.

    silent: the features of `silent_features` (their output is 0 whatever their input, so they
    cost what answering 0 costs); silent_mass: the sum of their frequencies p_i. The loss, in the
    usual units (mean over samples and the n features), splits into L_silent (the silent features'
    errors), L_active (stored features' errors on samples where they are active: signal shortfall
    and leaks) and L_wrong (stored features' outputs on samples where they are off: leaks that got
    through the filter). The three add up to the batch's loss.
    """
    W, b = _one_model(W, b)
    p = torch.as_tensor(p, dtype=torch.float32)
    if p.shape != (W.shape[0],):
        raise ValueError(f"p must have one frequency per feature, shape ({W.shape[0]},), got {tuple(p.shape)}")
    quiet = silent_features(W, b)
    x = sample_dense(p, batch=batch, generator=generator)
    err = (forward(W, b, x) - x) ** 2
    on = x > 0
    total = err.numel()
    return dict(silent=int(quiet.sum()), silent_mass=float(p[quiet].sum()),
                L_silent=float(err[:, quiet].sum() / total),
                L_active=float((err * on)[:, ~quiet].sum() / total),
                L_wrong=float((err * ~on)[:, ~quiet].sum() / total))
