"""Pieces every gated cell needs: a weight checked against its shape, and a PyTorch cell's
stacked arrays split into its gates (GRUCell stacks 3 gates, LSTMCell 4)."""

from __future__ import annotations

import numpy as np

from cnnrnn_cli.errors import InputError, ShapeError, shape_str

TORCH_ARRAYS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def as_shape(a, name: str, shape: tuple, against: str) -> np.ndarray:
    """`a` as a float64 array of `shape`; a flat list that holds the right number of
    values is read row by row. `against` says where the shape comes from."""
    a = np.asarray(a, dtype=np.float64)
    if a.shape == shape:
        return a
    if len(shape) == 1:
        a = a.reshape(-1)
    elif a.ndim < 2:
        a = a.reshape(shape) if a.size == np.prod(shape) else a.reshape(1, -1)
    if a.shape != shape:
        raise ShapeError(
            name, f"is {shape_str(a.shape)} but must be {shape_str(shape)} ({against})"
        )
    return a


def gate_arrays(gates, hidden: int, dim: int, given: dict, against: str) -> dict:
    """Every gate array of a cell (names in `gates`: wx… (H, D), wh… (H, H), b… (H,))
    checked against H and D; a bias not given is zeros, a weight not given an error."""
    out = {}
    for name in gates:
        value = given.get(name)
        if name.startswith("b"):
            out[name] = (
                np.zeros(hidden) if value is None else as_shape(value, name, (hidden,), against)
            )
            continue
        if value is None:
            raise InputError(
                name,
                "missing: every gate needs its weights (or use "
                "--weights, --torch-weights, --random, --example)",
            )
        cols = dim if name.startswith("wx") else hidden
        out[name] = as_shape(value, name, (hidden, cols), against)
    return out


def torch_blocks(arrays: dict, gates: int) -> tuple[int, list, list, list, list]:
    """(H, weight_ih blocks, weight_hh blocks, bias_ih blocks, bias_hh blocks), one block a
    gate in the stacked order, from a PyTorch cell's state dict.

    weight_ih (gH, D), weight_hh (gH, H), bias_ih (gH,), bias_hh (gH,) with g = `gates`;
    the biases are optional together (zeros when absent, as `bias=False` cells).
    """
    for name in ("weight_ih", "weight_hh"):
        if name not in arrays:
            raise InputError(
                "torch-weights", f"missing array {name!r} (expected {', '.join(TORCH_ARRAYS)})"
            )
    unknown = sorted(set(arrays) - set(TORCH_ARRAYS))
    if unknown:
        raise InputError(
            "torch-weights",
            f"unknown array(s) {', '.join(unknown)}; expected {', '.join(TORCH_ARRAYS)}",
        )
    w_ih = np.asarray(arrays["weight_ih"], dtype=np.float64)
    w_hh = np.asarray(arrays["weight_hh"], dtype=np.float64)
    if w_hh.ndim != 2 or w_hh.shape[1] == 0 or w_hh.shape[0] != gates * w_hh.shape[1]:
        raise ShapeError(
            "torch-weights", f"weight_hh is {shape_str(w_hh.shape)}, expected {gates}H×H"
        )
    hidden = w_hh.shape[1]
    if w_ih.ndim != 2 or w_ih.shape[0] != gates * hidden or w_ih.shape[1] == 0:
        raise ShapeError(
            "torch-weights",
            f"weight_ih is {shape_str(w_ih.shape)}, expected {gates}H×D = {gates * hidden}×D",
        )
    if ("bias_ih" in arrays) != ("bias_hh" in arrays):
        raise InputError("torch-weights", "give both bias_ih and bias_hh, or neither")
    biases = []
    for name in ("bias_ih", "bias_hh"):
        b = np.asarray(arrays.get(name, np.zeros(gates * hidden)), dtype=np.float64).reshape(-1)
        if b.size != gates * hidden:
            raise ShapeError(
                "torch-weights",
                f"{name} has {b.size} values, expected {gates}H = {gates * hidden}",
            )
        biases.append(b)
    rows = [slice(k * hidden, (k + 1) * hidden) for k in range(gates)]
    return (
        hidden,
        [w_ih[s] for s in rows],
        [w_hh[s] for s in rows],
        [biases[0][s] for s in rows],
        [biases[1][s] for s in rows],
    )


def uniform_gates(rng, gates, dim: int, hidden: int) -> dict:
    """PyTorch's initialisation of a cell's gate arrays, in the order of `gates`: every
    entry U(−1/√H, 1/√H); W_x… (H, D), W_h… (H, H), b… (H,)."""
    bound = 1 / np.sqrt(hidden)
    arrays = {}
    for name in gates:
        shape = (
            (hidden,)
            if name.startswith("b")
            else (hidden, dim if name.startswith("wx") else hidden)
        )
        arrays[name] = rng.uniform(-bound, bound, shape)
    return arrays
