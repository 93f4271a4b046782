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
