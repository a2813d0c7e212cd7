"""Activations with their derivatives beside them (micrograd style).

Each entry: f(a), f'(a) written with f's own value where that is cheaper, and
γ = max |f'|, the factor in the BPTT bound. Kinks take PyTorch's value: relu'(0) = 0.
"""

from __future__ import annotations

import numpy as np

from cnnrnn_cli.errors import InputError


def sigmoid(a: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """σ(a) = ½(1 + tanh(a/2)): never overflows; absolute error ≤ 1.2e-16. `out`: write
    there (the GRU's time loop reuses its rows)."""
    out = np.multiply(np.asarray(a, dtype=np.float64), 0.5, out=out)
    np.tanh(out, out=out)
    out += 1
    out *= 0.5
    return out


def _tanh_grad(a, fa):
    return 1 - fa * fa  # tanh' = 1 − tanh²


def _sigmoid_grad(a, fa):
    return fa * (1 - fa)  # σ' = σ(1 − σ)


def _relu_grad(a, fa):
    return (a > 0).astype(np.float64)  # relu'(0) = 0, as PyTorch


def _identity_grad(a, fa):
    return np.ones_like(np.asarray(a, dtype=np.float64))


ACTIVATIONS = {  # names in the order of cnnrnn_cli.vocabulary.ACTIVATION_NAMES
    #            f(a)                                  f'(a, f(a))     γ = max|f'|
    "tanh": (np.tanh, _tanh_grad, 1.0),
    "relu": (lambda a: np.maximum(a, 0.0), _relu_grad, 1.0),
    "sigmoid": (sigmoid, _sigmoid_grad, 0.25),
    "identity": (lambda a: np.asarray(a, dtype=np.float64) * 1.0, _identity_grad, 1.0),
}


def activation(name: str):
    """(f, f', γ) for a name among tanh, relu, sigmoid, identity."""
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise InputError(
            "activation", f"expected one of {', '.join(ACTIVATIONS)}, got {name!r}"
        ) from None
