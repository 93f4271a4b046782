"""Argument checks shared by every public function: each raises ValueError naming the argument."""

from __future__ import annotations

import math
import operator
from typing import Any

import torch


def positive_int(name: str, value: Any) -> int:
    """Return value as an int, or raise if it is not an integer >= 1."""
    try:
        value = operator.index(value)
    except TypeError:
        raise ValueError(f"{name} must be a positive integer, got {value!r}") from None
    if isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive integer (>= 1), got {value!r}")
    return value


def integer(name: str, value: Any, low: int | None = None, high: int | None = None, what: str = "") -> int:
    """Return value as an int, or raise if it is not an integer in [low, high] (`what` says why those bounds)."""
    try:
        result = operator.index(value)
    except TypeError:
        result = None
    if result is None or isinstance(value, bool) or (low is not None and result < low) \
            or (high is not None and result > high):
        bounds = f" in [{'-inf' if low is None else low}, {'inf' if high is None else high}]"
        raise ValueError(f"{name} must be an integer{bounds if low is not None or high is not None else ''}"
                         f"{what}, got {value!r}")
    return result


def finite_float(name: str, value: Any, low: float | None = None, high: float | None = None,
                 low_open: bool = False) -> float:
    """Return value as a float, or raise if it is NaN, infinite or outside [low, high]."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value}")
    if low is not None and (value < low or (low_open and value == low)):
        bracket = "(" if low_open else "["
        raise ValueError(f"{name} must be in {bracket}{low}, {high if high is not None else 'inf'}], got {value}")
    if high is not None and value > high:
        raise ValueError(f"{name} must be in [{low if low is not None else '-inf'}, {high}], got {value}")
    return value


def width(m: Any, n: Any, wide: bool = False) -> tuple[int, int]:
    """Check the toy model's sizes: 1 <= m < n (wide=True: any m >= 1, chapter 8's widths beyond n)."""
    n = positive_int("n", n)
    m = positive_int("m", m)
    if m >= n and not wide:
        raise ValueError(f"m must be smaller than n (the model stores n features in m < n dimensions), got m={m}, n={n}")
    return m, n


def probabilities(name: str, p: Any) -> torch.Tensor:
    """Return p as a float tensor with values in [0, 1] and no NaN."""
    t = torch.as_tensor(p, dtype=torch.float32) if not isinstance(p, torch.Tensor) else p
    if not t.is_floating_point():
        t = t.float()
    if t.dim() == 0 or t.numel() == 0:
        raise ValueError(f"{name} must be a non-empty vector of probabilities, got shape {tuple(t.shape)}")
    if torch.isnan(t).any():
        raise ValueError(f"{name} contains NaN; probabilities must lie in [0, 1]")
    if (t < 0).any() or (t > 1).any():
        raise ValueError(
            f"{name} must lie in [0, 1]; got values from {t.min().item():.4g} to {t.max().item():.4g}")
    return t


def tensor(name: str, x: Any, dim: int) -> torch.Tensor:
    """Return x as a float tensor with `dim` dimensions and no NaN/inf."""
    t = x if isinstance(x, torch.Tensor) else torch.as_tensor(x, dtype=torch.float32)
    if t.dim() != dim:
        raise ValueError(f"{name} must have {dim} dimensions, got shape {tuple(t.shape)}")
    if t.is_floating_point() and not torch.isfinite(t).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return t


def numbers(name: str, values: Any, low: float | None = None, low_open: bool = False) -> list[float]:
    """Return a sequence of numbers as a list of floats, or raise naming the first bad entry (name[i])."""
    try:
        values = list(values)
    except TypeError:
        raise ValueError(f"{name} must be a sequence of numbers, got {values!r}") from None
    return [finite_float(f"{name}[{i}]", v, low=low, low_open=low_open) for i, v in enumerate(values)]


def same_length(at_least: int = 1, **sequences: Any) -> int:
    """Raise unless the named sequences all have the same length, at least `at_least`; return it."""
    lengths = {name: len(seq) for name, seq in sequences.items()}
    if len(set(lengths.values())) > 1 or min(lengths.values()) < at_least:
        names = list(lengths)
        names = f"{', '.join(names[:-1])} and {names[-1]}" if len(names) > 1 else names[0]
        got = ", ".join(f"{k}: {v}" for k, v in lengths.items())
        raise ValueError(f"{names} must have the same length, at least {at_least}; got lengths {got}")
    return next(iter(lengths.values()))
