"""Every self-check passes the reference and explains typical wrong answers."""

import re

import pytest
import torch

from utils import checks


# --- reference answers, written the way a learner would
def power_law_ok(n, alpha, E):
    p = torch.arange(1, n + 1, dtype=torch.float32) ** (-alpha)
    return p / p.sum() * E


def sample_ok(p, batch, generator):
    on = torch.rand(batch, p.numel(), generator=generator) < p
    return on.float() * torch.rand(batch, p.numel(), generator=generator) * 2


def forward_ok(W, b, x):
    return torch.relu(x @ W @ W.T + b)


def decay_ok(W, gamma, lr):
    if gamma >= 0:
        return W * (1 - lr * gamma)
    return W + lr * gamma * W * (1 - 1 / W.norm(dim=1, keepdim=True))


def phi_ok(W):
    return (W.norm(dim=1) > 0.5).float().mean().item()


@pytest.mark.parametrize("check, fn", [
    (checks.check_power_law, power_law_ok),
    (checks.check_sample_batch, sample_ok),
    (checks.check_forward, forward_ok),
    (checks.check_signed_decay, decay_ok),
    (checks.check_phi_half, phi_ok),
])
def test_reference_answers_pass(check, fn, capsys):
    check(fn)
    assert "\u2714" in capsys.readouterr().out


def _stub(*args):
    raise NotImplementedError()


WRONG = [
    (checks.check_power_law, lambda n, a, E: torch.arange(1, n + 1.0) ** (-a), "normalise"),
    (checks.check_power_law, lambda n, a, E: (lambda p: p / p.sum() * E)(torch.arange(1, n + 1.0) ** a), "grow"),
    (checks.check_power_law, lambda n, a, E: (lambda p: p / p.sum() * E)(torch.arange(0, n + 0.0) ** -a), "i = 1"),
    (checks.check_sample_batch, lambda p, B, g: (torch.rand(B, p.numel(), generator=g) < p).float(), "Uniform(0, 2)"),
    (checks.check_sample_batch,
     lambda p, B, g: (torch.rand(B, p.numel(), generator=g) < p).float() * torch.rand(B, p.numel(), generator=g),
     "Uniform(0, 1)"),
    (checks.check_sample_batch,
     lambda p, B, g: (torch.rand(B, p.numel(), generator=g) > p).float() * 2 * torch.rand(B, p.numel(), generator=g),
     "reversed"),
    (checks.check_forward, lambda W, b, x: x @ W @ W.T + b, "ReLU"),
    (checks.check_forward, lambda W, b, x: torch.relu(x @ W @ W.T), "bias"),
    (checks.check_forward, lambda W, b, x: torch.relu(x @ W @ W.T) + b, "after the ReLU"),
    (checks.check_forward, lambda W, b, x: torch.relu(x @ W), "shape"),
    (checks.check_signed_decay, lambda W, g, lr: W * (1 - lr * g), "unit norm"),
    (checks.check_signed_decay,
     lambda W, g, lr: W * (1 - lr * g) if g >= 0 else W + lr * g * W * (1 - 1 / W.norm(dim=0, keepdim=True)),
     "column norms"),
    (checks.check_signed_decay, lambda W, g, lr: W, "unchanged"),
    (checks.check_phi_half, lambda W: (W.norm(dim=1) > 0.5).sum().item(), "count"),
    (checks.check_phi_half, lambda W: (W.norm(dim=0) > 0.5).float().mean().item(), "column norms"),
]


@pytest.mark.parametrize("check, fn, message", WRONG)
def test_typical_mistakes_get_targeted_messages(check, fn, message):
    with pytest.raises(AssertionError, match=re.escape(message)):
        check(fn)


@pytest.mark.parametrize("check", [checks.check_power_law, checks.check_sample_batch, checks.check_forward,
                                   checks.check_signed_decay, checks.check_phi_half])
def test_unsolved_stub_says_not_implemented(check):
    with pytest.raises(AssertionError, match="not implemented yet"):
        check(_stub)


def test_crashing_answer_is_reported_briefly():
    with pytest.raises(AssertionError, match="ZeroDivisionError"):
        checks.check_forward(lambda W, b, x: 1 / 0)


# --- chapters 1 and 2: reference answers, written the way a learner would
import numpy as np  # noqa: E402


def cosine_ok(a, b):
    return a @ b / (np.linalg.norm(a) * np.linalg.norm(b))


def _scores(vectors, target):
    return vectors @ target / (np.linalg.norm(vectors, axis=1) * np.linalg.norm(target))


def neighbours_ok(vectors, words, word, k):
    i = words.index(word)
    s = _scores(vectors, vectors[i])
    s[i] = -np.inf
    return [words[j] for j in np.argsort(-s)[:k]]


def analogy_ok(vectors, words, a, b, c):
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    ia, ib, ic = (words.index(w) for w in (a, b, c))
    s = _scores(vectors, unit[ib] - unit[ia] + unit[ic])
    s[[ia, ib, ic]] = -np.inf
    return words[int(np.argmax(s))]


def zipf_ok(freq):
    return -np.polyfit(np.log(np.arange(1, len(freq) + 1)), np.log(freq), 1)[0]


def unit_ok(n, m, generator):
    g = torch.randn(n, m, generator=generator)
    return g / g.norm(dim=1, keepdim=True)


def msq_ok(U):
    U = U / U.norm(dim=1, keepdim=True)
    C = U @ U.T
    n = len(U)
    return (((C ** 2).sum() - n) / (n * (n - 1))).item()


def welch_ok(n, m):
    return max(n - m, 0) / (m * (n - 1))


def pack_ok(n, m, steps, generator):
    V = torch.randn(n, m, generator=generator, requires_grad=True)
    opt = torch.optim.Adam([V], lr=0.02)
    for _ in range(steps):
        U = V / V.norm(dim=1, keepdim=True)
        cost = ((U @ U.T) ** 2).sum()
        opt.zero_grad()
        cost.backward()
        opt.step()
    return (V / V.norm(dim=1, keepdim=True)).detach()


@pytest.mark.parametrize("check, fn", [
    (checks.check_cosine, cosine_ok),
    (checks.check_neighbours, neighbours_ok),
    (checks.check_analogy, analogy_ok),
    (checks.check_zipf_exponent, zipf_ok),
    (checks.check_unit_vectors, unit_ok),
    (checks.check_mean_square_overlap, msq_ok),
    (checks.check_welch_bound, welch_ok),
    (checks.check_packing, pack_ok),
])
def test_reference_answers_pass_chapters_1_2(check, fn, capsys):
    check(fn)
    assert "\u2714" in capsys.readouterr().out


def _neighbours_by(score, order=-1, keep_self=False):
    def fn(vectors, words, word, k):
        i = words.index(word)
        s = score(vectors, vectors[i]).astype(float)
        if not keep_self:
            s[i] = -np.inf if order == -1 else np.inf
        return [words[j] for j in np.argsort(order * s)[:k]]
    return fn


def _analogy_with(sign=1, exclude=True, cosine=True):
    def fn(vectors, words, a, b, c):
        unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        ia, ib, ic = (words.index(w) for w in (a, b, c))
        target = sign * (unit[ib] - unit[ia]) + unit[ic]
        s = _scores(vectors, target) if cosine else vectors @ target
        if exclude:
            s[[ia, ib, ic]] = -np.inf
        return words[int(np.argmax(s))]
    return fn


def _msq_variant(normalise=True, diagonal=False, square=True, denominator="pairs"):
    def fn(U):
        V = U / U.norm(dim=1, keepdim=True) if normalise else U
        C = V @ V.T
        C = C ** 2 if square else C
        n = len(U)
        if diagonal:
            return C.mean().item()
        off = C.sum() - torch.diagonal(C).sum()
        return (off / (n * (n - 1) if denominator == "pairs" else n * n)).item()
    return fn


def _pack_variant(steps_used=None, normalise_result=True):
    def fn(n, m, steps, generator):
        U = pack_ok(n, m, steps if steps_used is None else steps_used, generator)
        return U if normalise_result else U * 2
    return fn


WRONG_1_2 = [
    (checks.check_cosine, lambda a, b: a @ b, "dot product"),
    (checks.check_cosine, lambda a, b: a @ b / np.linalg.norm(a), "only one length"),
    (checks.check_cosine, lambda a, b: a @ b / (a @ a * (b @ b)), "squared lengths"),
    (checks.check_cosine, lambda a, b: 1 - cosine_ok(a, b), "distance"),
    (checks.check_neighbours, _neighbours_by(_scores, keep_self=True), "itself"),
    (checks.check_neighbours, _neighbours_by(lambda V, t: V @ t), "dot product"),
    (checks.check_neighbours, _neighbours_by(_scores, order=1), "least"),
    (checks.check_neighbours, lambda V, words, w, k: list(range(k)), "strings"),
    (checks.check_neighbours, lambda V, words, w, k: neighbours_ok(V, words, w, k + 1), "k = 5"),
    (checks.check_analogy, _analogy_with(exclude=False), "leave a, b and c out"),
    (checks.check_analogy, _analogy_with(sign=-1), "wrong way"),
    (checks.check_analogy, _analogy_with(cosine=False), "dot product"),
    (checks.check_zipf_exponent, lambda f: -zipf_ok(f), "minus the slope"),
    (checks.check_zipf_exponent, lambda f: -np.polyfit(np.log(np.arange(len(f))), np.log(f), 1)[0], "from 1"),
    (checks.check_zipf_exponent, lambda f: -np.polyfit(np.log(f), np.log(np.arange(1, len(f) + 1)), 1)[0],
     "horizontal axis"),
    (checks.check_zipf_exponent, lambda f: -np.polyfit(np.arange(1, len(f) + 1), f, 1)[0], "logarithms"),
    (checks.check_unit_vectors, lambda n, m, g: torch.randn(n, m, generator=g), "length 1"),
    (checks.check_unit_vectors, lambda n, m, g: (lambda x: x / x.norm(dim=0, keepdim=True))(
        torch.randn(n, m, generator=g)), "columns"),
    (checks.check_unit_vectors, lambda n, m, g: unit_ok(n, m, None), "generator"),
    (checks.check_unit_vectors, lambda n, m, g: (lambda x: x / x.norm(dim=1, keepdim=True))(
        torch.rand(n, m, generator=g)), "torch.randn"),
    (checks.check_unit_vectors, lambda n, m, g: (lambda x: x / x.norm(dim=1, keepdim=True))(
        2 * torch.rand(n, m, generator=g) - 1), "corners of a cube"),
    (checks.check_mean_square_overlap, _msq_variant(diagonal=True), "diagonal"),
    (checks.check_mean_square_overlap, _msq_variant(denominator="n^2"), "n (n - 1) pairs"),
    (checks.check_mean_square_overlap, _msq_variant(normalise=False), "not normalised"),
    (checks.check_mean_square_overlap, _msq_variant(square=False), "square them"),
    (checks.check_welch_bound, lambda n, m: (n - m) / (m * (n - 1)), "bound is 0"),
    (checks.check_welch_bound, lambda n, m: np.sqrt(welch_ok(n, m)), "square root"),
    (checks.check_welch_bound, lambda n, m: max(n - m, 0) / (m * n), "m (n - 1), not m n"),
    (checks.check_welch_bound, lambda n, m: max(m - n, 0) / (n * (m - 1)) if n < m else (n - m) / (n * (m - 1)),
     "swapped"),
    (checks.check_packing, _pack_variant(steps_used=0), "did the vectors move"),
    (checks.check_packing, _pack_variant(steps_used=3), "not yet within 1%"),
    (checks.check_packing, _pack_variant(normalise_result=False), "unit vectors"),
]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # some wrong answers take log(0) on purpose
@pytest.mark.parametrize("check, fn, message", WRONG_1_2)
def test_typical_mistakes_get_targeted_messages_chapters_1_2(check, fn, message):
    with pytest.raises(AssertionError, match=re.escape(message)):
        check(fn)


@pytest.mark.parametrize("check, args", [
    (checks.check_cosine, ()), (checks.check_neighbours, ()), (checks.check_analogy, ()),
    (checks.check_zipf_exponent, ()), (checks.check_unit_vectors, ()),
    (checks.check_mean_square_overlap, ()), (checks.check_welch_bound, ()), (checks.check_packing, ()),
])
def test_unsolved_exercises_say_not_implemented_chapters_1_2(check, args):
    with pytest.raises(AssertionError, match="not implemented yet"):
        check(_stub)


# ---------------------------------------------------------------- per-learner variants

def test_a_learner_id_gives_its_own_reproducible_variant(monkeypatch):
    from utils import data

    def recorded(learner):
        calls = []

        def power_law_frequencies(n, alpha, E):
            calls.append((n, round(alpha, 6), round(E, 6)))
            return data.power_law(n, alpha, E)

        checks.set_learner(learner)
        try:
            checks.check_power_law(power_law_frequencies)  # the reference answer passes in every variant
        finally:
            checks.set_learner(None)
        return calls

    default, ada, ada_again, bob = recorded(None), recorded("ada"), recorded("ada"), recorded("bob")
    assert ada == ada_again, "the same id must give the same inputs"
    assert len({tuple(default), tuple(ada), tuple(bob)}) == 3, "different ids must give different inputs"
    monkeypatch.setenv("COURSE_LEARNER", "ada")
    assert checks.variant_seed() == checks.set_learner("ada")
    checks.set_learner(None)
    assert checks.variant_seed(7) == 7  # an explicit seed always wins


def test_a_wrong_answer_fails_in_every_variant():
    from utils import data

    for learner in ("ada", "bob", "s0001"):
        checks.set_learner(learner)
        try:
            with pytest.raises(AssertionError, match="sum to"):
                checks.check_power_law(lambda n, alpha, E: data.power_law(n, alpha, 1.0) * 2.0)
        finally:
            checks.set_learner(None)


# ---------------------------------------------------------------- exercise 3.6: the training loop

import math  # noqa: E402


def _toy_loop(relu=True, decay_b=False, sign=1, decay_after=False, warmup_used=True, schedule=True,
              decay_lr="eta", zero_grad=True, b_first=False, values_first=False, decay=None):
    """train_toy as a learner writes it, correct with the defaults; each flag is one typical mistake."""
    decay = decay or decay_ok

    def train_toy(p, m, gamma, steps, batch, lr, warmup, generator):
        n = p.shape[0]
        if b_first:  # draws b before W: right in law, but the check cannot replay it
            b = torch.randn(n, generator=generator).requires_grad_()
        W = (torch.randn(n, m, generator=generator) / math.sqrt(m)).requires_grad_()
        if not b_first:
            b = torch.randn(n, generator=generator).requires_grad_()
        opt = torch.optim.Adam([W, b], lr=lr)
        w0 = warmup if warmup_used else 0
        for step in range(steps):
            s = step + 1
            if not schedule:
                eta = lr
            elif s < w0:
                eta = lr * s / w0
            else:
                eta = 0.05 * lr + 0.95 * lr * 0.5 * (1 + math.cos(math.pi * (s - w0) / (steps - w0)))
            for group in opt.param_groups:
                group["lr"] = eta
            if values_first:  # the same law of x from other random numbers: the check cannot replay it
                u = 2 * torch.rand(batch, n, generator=generator)
                x = (torch.rand(batch, n, generator=generator) < p).float() * u
            else:
                x = sample_ok(p, batch, generator)
            z = x @ W @ W.T + b
            loss = ((torch.relu(z) if relu else z) - x).pow(2).mean()
            if zero_grad:
                opt.zero_grad()
            loss.backward()
            if decay_after:
                opt.step()
            with torch.no_grad():
                step_lr = eta if decay_lr == "eta" else lr
                W.copy_(decay(W, sign * gamma, step_lr))
                if decay_b:
                    b.copy_(decay(b, sign * gamma, step_lr))
            if not decay_after:
                opt.step()
        return W.detach(), b.detach()
    return train_toy


def _decay_any_shape(W, gamma, lr):
    """signed_decay written with dim=-1, so that it also runs on b (as one row)."""
    if gamma >= 0:
        return W * (1 - lr * gamma)
    return W + lr * gamma * W * (1 - 1 / W.norm(dim=-1, keepdim=True))


def _adam_weight_decay(p, m, gamma, steps, batch, lr, warmup, generator):
    n = p.shape[0]
    W = (torch.randn(n, m, generator=generator) / math.sqrt(m)).requires_grad_()
    b = torch.randn(n, generator=generator).requires_grad_()
    opt = torch.optim.AdamW([W, b], lr=lr, weight_decay=gamma)
    return W.detach(), b.detach()


def _in_place_decay(p, m, gamma, steps, batch, lr, warmup, generator):
    n = p.shape[0]
    W = (torch.randn(n, m, generator=generator) / math.sqrt(m)).requires_grad_()
    W.mul_(1 - lr)  # outside torch.no_grad()
    return W.detach(), torch.zeros(n)


TOY_REPLAYED = [  # the replay names these exactly, in a second
    (dict(relu=False), "no ReLU"),
    (dict(decay_b=True, decay=_decay_any_shape), "also acts on b"),
    (dict(sign=-1), "wrong sign"),
    (dict(decay_after=True), "after opt.step()"),
    (dict(warmup_used=False), "no warm-up"),
    (dict(schedule=False), "stays at lr"),
    (dict(decay_lr="peak"), "peak lr"),
    (dict(zero_grad=False), "opt.zero_grad()"),
]


@pytest.mark.parametrize("flags, message", TOY_REPLAYED, ids=[m for _, m in TOY_REPLAYED])
def test_train_toy_mistakes_are_named_by_the_replay(flags, message):
    with pytest.raises(AssertionError, match=re.escape(message)):
        checks.check_train_toy(_toy_loop(**flags))


@pytest.mark.parametrize("fn, message", [
    (_toy_loop(decay_b=True), "applied to b"),  # exercise 3.4's signed_decay takes row norms: crashes on b
    (_adam_weight_decay, "signed decay"),
    (_in_place_decay, "torch.no_grad()"),
    (_stub, "not implemented yet"),
])
def test_train_toy_crashes_get_a_hint(fn, message):
    with pytest.raises(AssertionError, match=re.escape(message)):
        checks.check_train_toy(fn)


@pytest.mark.slow
def test_train_toy_reference_loop_passes(capsys):
    checks.check_train_toy(_toy_loop())
    out = capsys.readouterr().out
    assert "\u2714" in out and "step by step" in out and "utils.train" in out


@pytest.mark.slow
@pytest.mark.parametrize("flags, message", [
    ({}, None),  # right, though not replayable: passes on the outcome alone
    (dict(sign=-1), "wrong sign"),
    (dict(relu=False), "ReLU"),
    (dict(zero_grad=False), "zero_grad"),
    (dict(decay_b=True, decay=_decay_any_shape), "off utils.train's"),
    (dict(warmup_used=False), "off utils.train's"),
    (dict(b_first=True), "W, then b"),
], ids=["right", "sign", "relu", "zero_grad", "decay_b", "no_warmup", "b_first"])
def test_train_toy_outcome_alone_catches_what_moves_the_loss(flags, message, capsys):
    fn = _toy_loop(values_first=True, **flags)
    if message is None:
        checks.check_train_toy(fn)
        out = capsys.readouterr().out
        assert "\u2714" in out and "step by step" not in out
    else:
        with pytest.raises(AssertionError, match=re.escape(message)):
            checks.check_train_toy(fn)


# ---------------------------------------------------------------- exercise 6.2: the 1/m law from your own models

def _sweep_with_utils(scale=1.0, gamma_used=None, steps=None):
    """width_sweep answered with utils.train on the check's seed (a stand-in for the learner's loop), or a mistake."""
    import numpy as np

    from utils import data, fits, metrics
    from utils.train import TrainConfig, train

    def width_sweep(widths, gamma, seed):
        s = checks.SWEEP_RUN
        p = data.power_law(s["n"], s["alpha"])
        losses = []
        for m in widths:
            cfg = TrainConfig(n=s["n"], m=m, steps=steps or s["steps"], batch=s["batch"], warmup=s["warmup"],
                              log_every=s["steps"], progress=False)
            run = train(p, gamma if gamma_used is None else gamma_used, cfg, seeds=[seed])
            gen = torch.Generator().manual_seed(seed + 1)
            losses.append(scale * metrics.test_loss(run.W, run.b, p, batch=20_000, generator=gen).item())
        return fits.fit_power_law(np.array(widths, float), np.array(losses)).exponent, losses
    return width_sweep


def test_width_sweep_answer_must_be_the_fit_of_its_own_losses():
    with pytest.raises(AssertionError, match="not the log-log fit of your own losses"):
        checks.check_width_sweep(lambda widths, gamma, seed: (1.0, [0.01, 0.006, 0.003, 0.002]))
    with pytest.raises(AssertionError, match="one per width"):
        checks.check_width_sweep(lambda widths, gamma, seed: (1.0, [0.01, 0.006]))
    with pytest.raises(AssertionError, match="not implemented yet"):
        checks.check_width_sweep(_stub)


@pytest.mark.slow
def test_width_sweep_passes_models_trained_the_same_way(capsys):
    checks.check_width_sweep(_sweep_with_utils())
    out = capsys.readouterr().out
    assert "\u2714" in out and "alpha_m: yours" in out


@pytest.mark.slow
@pytest.mark.parametrize("fn, message", [
    (_sweep_with_utils(scale=200.0), "mean over the batch AND the features"),
    (_sweep_with_utils(steps=5), "times utils.train's"),  # models barely trained
    (_sweep_with_utils(gamma_used=1.0), "times utils.train's"),  # weak superposition instead of strong
])
def test_width_sweep_mistakes_break_the_tolerance(fn, message):
    with pytest.raises(AssertionError, match=re.escape(message)):
        checks.check_width_sweep(fn)


# ---------------------------------------------------------------- exercise 8.5: a sparse dictionary

def _dictionary(relu=True, l1_used=True, normalise=True, skip_zero=True):
    """train_dictionary as a learner writes it, correct with the defaults; each flag is one mistake."""
    def train_dictionary(h, atoms, l1, steps, lr, batch, generator):
        rows = h[h.norm(dim=1) > 0] if skip_zero else h
        start = rows[torch.randint(len(rows), (atoms,), generator=generator)]
        D = (start / start.norm(dim=1, keepdim=True)).requires_grad_()
        E = D.detach().clone().requires_grad_()
        c = torch.zeros(atoms, requires_grad=True)
        opt = torch.optim.Adam([D, E, c], lr=lr)
        for _ in range(steps):
            x = h[torch.randint(len(h), (batch,), generator=generator)]
            z = x @ E.T + c
            f = torch.relu(z) if relu else z
            penalty = l1 * f.abs().sum(1).mean() if l1_used else 0.0
            loss = ((f @ (D / D.norm(dim=1, keepdim=True)) - x) ** 2).sum(1).mean() + penalty
            opt.zero_grad()
            loss.backward()
            opt.step()
        return (D / D.norm(dim=1, keepdim=True)).detach() if normalise else D.detach() * 2
    return train_dictionary


@pytest.mark.slow
def test_sparse_dictionary_reference_passes(capsys):
    checks.check_sparse_dictionary(_dictionary())
    assert "\u2714" in capsys.readouterr().out


@pytest.mark.slow
@pytest.mark.parametrize("flags, message", [
    (dict(relu=False), "ReLU"),
    (dict(l1_used=False), "L1 penalty"),
    (dict(normalise=False), "length 1"),
    (dict(skip_zero=False), "NaN"),
])
def test_sparse_dictionary_mistakes_get_a_message(flags, message):
    with pytest.raises(AssertionError, match=re.escape(message)):
        checks.check_sparse_dictionary(_dictionary(**flags))


def test_sparse_dictionary_stub_says_not_implemented():
    with pytest.raises(AssertionError, match="not implemented yet"):
        checks.check_sparse_dictionary(_stub)
