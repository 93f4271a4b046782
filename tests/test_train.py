"""The batched trainer is exact: autograd's gradients, the paper-style loop, one-by-one training."""

import numpy as np
import pytest
import torch

from utils import data, metrics, models, optim
from utils.reference import train_reference
from utils.train import StackTrainer, TrainConfig, loss_and_grads, train


@pytest.mark.parametrize("m, E", [(7, 4.0), (24, 4.0), (7, 0.3), (80, 1.0), (7, 1e-4)])
# m > n too; E = 0.3: many samples with no active feature; E = 1e-4: none active in the whole batch
def test_hand_written_backward_equals_autograd(m, E):
    g = torch.Generator().manual_seed(0)
    K, n, B = 3, 60, 64
    p = data.power_law(n, 0.8, E=E)
    W, b = torch.randn(K, n, m, generator=g), torch.randn(K, n, generator=g) * 0.3
    batches = [data.sample_sparse(p, B, g) for _ in range(K)]
    loss, gW, gb = loss_and_grads(W.clone(), b.clone(), batches)
    Wr, br = W.clone().requires_grad_(), b.clone().requires_grad_()
    ref = [torch.nn.functional.mse_loss(models.forward(Wr[k], br[k], sb.to_dense()), sb.to_dense())
           for k, sb in enumerate(batches)]
    sum(ref).backward()
    assert torch.allclose(loss, torch.stack(ref).detach(), rtol=1e-5)
    assert torch.allclose(gW, Wr.grad, atol=1e-5)
    assert torch.allclose(gb, br.grad, atol=1e-6)


@pytest.mark.parametrize("gamma, m", [(-1.0, 12), (-0.3, 12), (0.0, 12), (0.6, 12), (1.0, 12), (-1.0, 30), (1.0, 30)])
def test_fast_trainer_equals_the_paper_style_loop(gamma, m):
    """Same data, same init: weights agree to float tolerance after 400 steps through the warm-up and decay."""
    n, B, steps = 120, 256, 400
    p = data.power_law(n, 1.2)
    cfg = TrainConfig(n=n, m=m, batch=B, steps=steps, warmup=60, seed=11, progress=False)
    fast = train(p, gamma, cfg)
    W, b, losses = train_reference(p, gamma, n, m, steps, B, seed=11, warmup=60, data="sparse")
    assert torch.allclose(fast.W[0], W, atol=2e-5)
    assert torch.allclose(fast.b[0], b, atol=2e-5)
    assert torch.allclose(fast.losses[0], losses, rtol=1e-4, atol=1e-7)
    # and the test would notice a real difference: the opposite sign of gamma ends elsewhere
    other = train(p, -gamma if gamma else 0.5, cfg)
    assert not torch.allclose(other.W[0], W, atol=1e-3)



@pytest.mark.parametrize("gamma, m", [(-1.0, 10), (1.0, 10), (-1.0, 24)])
def test_fast_path_loss_matches_the_paper_loop_in_distribution(gamma, m):
    """Independent data: the paper's dense sampling against the fast sparse sampler, six seeds each.

    The mean fresh-data losses agree within 3 standard errors of their difference
    (plus 2% for the float-level differences of two implementations).
    """
    n, B, steps, seeds = 100, 128, 600, range(6)
    p = data.power_law(n, 1.0)
    cfg = TrainConfig(n=n, m=m, batch=B, steps=steps, warmup=60, progress=False)
    fast = train(p, [gamma] * len(seeds), cfg, seeds=[100 + s for s in seeds])
    gen = torch.Generator().manual_seed(0)
    fast_loss = torch.stack([metrics.test_loss(fast.W[k], fast.b[k], p, 20_000, gen) for k in range(len(seeds))])
    ref_loss = torch.stack([metrics.test_loss(*train_reference(p, gamma, n, m, steps, B, seed=200 + s, warmup=60,
                                                                data="dense")[:2], p, 20_000, gen)
                            for s in seeds])
    diff = (fast_loss.mean() - ref_loss.mean()).abs()
    se = (fast_loss.var() / len(seeds) + ref_loss.var() / len(seeds)).sqrt()
    assert diff <= 3 * se + 0.02 * ref_loss.mean(), (fast_loss, ref_loss)

@pytest.mark.parametrize("m", [8, 24])
def test_k_models_at_once_equal_k_models_one_by_one(m):
    n = 80
    p = torch.stack([data.power_law(n, a) for a in (0.5, 1.0, 1.5)])
    gammas, seeds = [-1.0, 0.2, 1.0], [4, 5, 6]
    cfg = TrainConfig(n=n, m=m, batch=128, steps=150, warmup=20, progress=False)
    stack = train(p, gammas, cfg, seeds=seeds)
    for k in range(3):
        one = train(p[k], gammas[k], cfg, seeds=[seeds[k]])
        assert torch.allclose(stack.W[k], one.W[0], atol=1e-6)
        assert torch.allclose(stack.losses[k], one.losses[0], rtol=1e-5)


def test_same_seed_same_losses_other_seed_other_losses():
    p = data.power_law(60, 1.0)
    cfg = TrainConfig(n=60, m=6, batch=64, steps=50, warmup=5, seed=3, progress=False)
    a, b = train(p, -1.0, cfg), train(p, -1.0, cfg)
    assert torch.equal(a.losses, b.losses)
    c = train(p, -1.0, TrainConfig(n=60, m=6, batch=64, steps=50, warmup=5, seed=4, progress=False))
    assert not torch.equal(a.losses, c.losses)


def test_log_every_keeps_every_kth_loss():
    p = data.power_law(40, 1.0)
    full = train(p, 0.5, TrainConfig(n=40, m=4, batch=32, steps=20, warmup=2, progress=False))
    sparse = train(p, 0.5, TrainConfig(n=40, m=4, batch=32, steps=20, warmup=2, log_every=5, progress=False))
    assert torch.allclose(sparse.losses[0], full.losses[0, 4::5])


def _paper_adamw_numpy(W, b, grads, lrs, gamma, decay_first=True, betas=(0.9, 0.999), eps=1e-8):
    """The paper's optimiser written out again in float64 numpy, from exp/adamw.py of
    liuyz0/SuperpositionScaling (no utils code): per step, the decay of W first (gamma >= 0:
    W (1 - gamma lr); gamma < 0: W + lr gamma W (1 - 1/(|W_i| + eps))), none on b, then Adam with
    bias corrections, denominator sqrt(v / (1 - b2^t)) + eps and step lr / (1 - b1^t).
    decay_first=False applies the decay after Adam (a plausible mistake the test must tell apart)."""
    b1, b2 = betas
    params = [W.astype(np.float64), b.astype(np.float64)]
    moments = [[np.zeros_like(q), np.zeros_like(q)] for q in params]

    def decay(Wt, lr):
        if gamma >= 0:
            return Wt * (1 - gamma * lr)
        return Wt + lr * gamma * Wt * (1 - 1 / (np.linalg.norm(Wt, axis=1, keepdims=True) + eps))

    for t, ((gW, gb), lr) in enumerate(zip(grads, lrs), start=1):
        if decay_first:
            params[0] = decay(params[0], lr)
        for i, g in enumerate((gW, gb)):
            m1, m2 = moments[i]
            m1[:] = b1 * m1 + (1 - b1) * g
            m2[:] = b2 * m2 + (1 - b2) * g * g
            params[i] = params[i] - lr / (1 - b1 ** t) * m1 / (np.sqrt(m2) / np.sqrt(1 - b2 ** t) + eps)
        if not decay_first:
            params[0] = decay(params[0], lr)
    return params


@pytest.mark.parametrize("gamma", [-0.7, 0.3])
def test_signed_adamw_optimizer_is_the_papers_algorithm(gamma):
    """utils.optim.SignedAdamW against the paper's optimiser written out in numpy: 30 steps, a changing lr."""
    g = torch.Generator().manual_seed(2)
    model = models.ToyModel(50, 5, g)
    model.W.data *= 2.0  # rows longer and shorter than 1: the signed decay pulls both ways
    W0, b0 = model.W.detach().numpy().copy(), model.b.detach().numpy().copy()
    opt = optim.SignedAdamW([{"params": [model.W], "weight_decay": gamma}, {"params": [model.b]}], lr=0.05)
    grads = [(torch.randn(50, 5, generator=g), torch.randn(50, generator=g)) for _ in range(30)]
    lrs = [0.05 * (1 + k) / 30 for k in range(30)]
    for (gW, gb), lr in zip(grads, lrs):
        for group in opt.param_groups:
            group["lr"] = lr
        model.W.grad, model.b.grad = gW.clone(), gb.clone()
        opt.step()
    as_numpy = [(gW.numpy().astype(np.float64), gb.numpy().astype(np.float64)) for gW, gb in grads]
    W, b = _paper_adamw_numpy(W0, b0, as_numpy, lrs, gamma)
    assert np.allclose(model.W.detach().numpy(), W, atol=2e-5)
    assert np.allclose(model.b.detach().numpy(), b, atol=2e-5)
    # the comparison is sharp enough to see the order of decay and Adam
    W_late, _ = _paper_adamw_numpy(W0, b0, as_numpy, lrs, gamma, decay_first=False)
    assert not np.allclose(model.W.detach().numpy(), W_late, atol=2e-4)


def test_schedule_warms_up_then_decays_to_five_percent():
    lrs = [optim.paper_lr(s, 20_000) for s in range(20_000)]
    assert lrs[0] == pytest.approx(1e-2 / 2000)
    assert max(lrs) == pytest.approx(1e-2, rel=1e-6)
    assert lrs[1998] == pytest.approx(1e-2 * 1999 / 2000)
    assert lrs[-1] == pytest.approx(5e-4, rel=1e-6)
    assert all(a >= b for a, b in zip(lrs[2000:], lrs[2001:]))
    short = [optim.paper_lr(s, 100, warmup=2000) for s in range(100)]  # warm-up longer than the run
    assert short[-1] == pytest.approx(5e-4)


@pytest.mark.parametrize("call, message", [
    (lambda: optim.paper_lr(5, 100, warmup=-1), r"warmup must be an integer in \[0, inf\]"),
    (lambda: optim.paper_lr(5, 100, warmup=2.5), "warmup must be an integer"),
    (lambda: optim.paper_lr(5, 100, final_fraction=1.5), r"final_fraction must be in \[0, 1\]"),
    (lambda: optim.signed_weight_decay_(torch.ones(3, 4, 2), torch.tensor([-1.0, 0.5]), 0.1),
     r"gamma must be one number or one per model, shape \(3,\)"),
    (lambda: optim.signed_weight_decay_(torch.ones(4, 2), torch.tensor([-1.0, 0.5]), 0.1),
     "gamma must be one number for one model"),  # once broadcast silently over the columns
    (lambda: optim.signed_weight_decay_(torch.ones(4), -1.0, 0.1), "W must be one model's"),
])
def test_schedule_and_decay_reject_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_signed_decay_pulls_rows_to_unit_norm_or_to_zero():
    W = torch.tensor([[3.0, 4.0], [0.3, 0.4]])  # norms 5 and 0.5
    grow = optim.signed_weight_decay_(W.clone(), -1.0, 0.1)
    assert torch.allclose(grow.norm(dim=1), torch.tensor([5 - 0.1 * 4, 0.5 + 0.1 * 0.5]), atol=1e-5)
    shrink = optim.signed_weight_decay_(W.clone(), 0.5, 0.1)
    assert torch.allclose(shrink, W * 0.95)
    stack = torch.stack([W, W])
    both = optim.signed_weight_decay_(stack, torch.tensor([-1.0, 0.5]), 0.1)
    assert torch.allclose(both[0], grow) and torch.allclose(both[1], shrink)


@pytest.mark.parametrize("kwargs, name", [
    (dict(n=10, m=10), "m"),
    (dict(n=10, m=20), "m"),
    (dict(n=-3, m=2), "n"),
    (dict(m=0), "m"),
    (dict(steps=0), "steps"),
    (dict(batch=-1), "batch"),
    (dict(lr=float("nan")), "lr"),
    (dict(lr=-0.1), "lr"),
    (dict(final_lr_fraction=1.5), "final_lr_fraction"),
    (dict(warmup=-1), "warmup"),
    (dict(device="tpu"), "device"),
])
def test_bad_config_names_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=rf"\b{name}\b"):
        TrainConfig(**kwargs)


@pytest.mark.parametrize("p, gamma, name", [
    (torch.full((30,), 0.1), -1.0, "p"),  # wrong n
    (torch.full((20,), 1.5), -1.0, "p"),
    (torch.full((20,), 0.05), float("nan"), "gamma"),
    (torch.full((2, 20), 0.05), [0.1, 0.2, 0.3], "gamma"),
])
def test_bad_training_input_names_the_argument(p, gamma, name):
    with pytest.raises(ValueError, match=rf"\b{name}\b"):
        train(p, gamma, TrainConfig(n=20, m=4, steps=2, batch=8, progress=False))


def test_model_rejects_wrong_shapes():
    W, b = models.init_params(10, 3)
    with pytest.raises(ValueError, match=r"\bx\b"):
        models.forward(W, b, torch.zeros(4, 9))
    with pytest.raises(ValueError, match=r"\bb\b"):
        models.forward(W, torch.zeros(9), torch.zeros(4, 10))
    with pytest.raises(ValueError, match=r"\bm\b"):
        models.init_params(5, 8)
    with pytest.raises(ValueError, match=r"\bW\b"):
        models.forward(torch.full((10, 3), float("nan")), b, torch.zeros(4, 10))
    with pytest.raises(ValueError, match=r"\bx\b"):
        models.forward(W, b, torch.zeros(10))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU on this machine")
def test_cuda_runs_unchanged():
    p = data.power_law(100, 1.0)
    r = train(p, [-1.0, 1.0], TrainConfig(n=100, m=10, steps=50, batch=128, device="cuda", progress=False))
    assert torch.isfinite(r.losses).all()


@pytest.mark.parametrize("m", [8, 24])
def test_splitting_the_stack_between_threads_changes_no_number(m):
    p = torch.stack([data.power_law(80, a) for a in (0.5, 1.0, 1.5, 2.0, 0.0)])
    cfg = TrainConfig(n=80, m=m, batch=96, steps=40, warmup=5, progress=False)
    runs = []
    for workers in (1, 2, 5):
        t = StackTrainer(p, [-1.0, -0.5, 0.0, 0.5, 1.0], cfg, seeds=[1, 2, 3, 4, 5], workers=workers)
        assert len(t.slices) == workers
        losses = torch.stack([t.step(i) for i in range(cfg.steps)])
        t.close()
        runs.append((t.W, losses))
    for W, losses in runs[1:]:
        assert torch.equal(W, runs[0][0]) and torch.equal(losses, runs[0][1])


def test_models_with_different_batch_sizes_train_as_they_would_alone():
    """A data hook may give the models of one worker batches of different sizes (the capstone does):
    each model then trains exactly as it does alone with its own batch size."""
    from utils.data import power_law, sample_sparse_many

    p = power_law(50, 1.0)
    sizes, gammas, seeds = [64, 16, 64, 32], [-1.0, 0.5, -0.3, 1.0], [1, 2, 3, 4]

    def data(step, models, gens):
        return [sample_sparse_many(p[None], sizes[k], [g])[0] for k, g in zip(models, gens)]

    cfg = TrainConfig(n=50, m=6, steps=30, batch=64, warmup=3, progress=False)
    t = StackTrainer(p, gammas, cfg, seeds=seeds, workers=1, data=data)
    for step in range(cfg.steps):
        t.step(step, need_loss=step == cfg.steps - 1)
    for k in range(4):
        alone = train(p, gammas[k], TrainConfig(n=50, m=6, steps=30, batch=sizes[k], warmup=3, progress=False),
                      seeds=[seeds[k]])
        assert torch.equal(alone.W[0], t.W[k]) and torch.equal(alone.b[0], t.b[k]), k
