"""Shape normalisation shared by every input: vectors, matrices, images."""

from __future__ import annotations

import numpy as np

from cnnrnn_cli.errors import ShapeError, shape_str


def as_vector(arr, name: str) -> np.ndarray:
    """A row, a column, a flat list or a scalar as a 1-D float64 array."""
    arr = np.asarray(arr, dtype=np.float64)
    if arr.ndim == 0 or sum(d > 1 for d in arr.shape) <= 1:
        return arr.reshape(-1)
    raise ShapeError(name, f"expected a vector (one row or one column), got {shape_str(arr.shape)}")


def sized_vector(v, name: str, size: int, against: str) -> np.ndarray:
    """as_vector with exactly `size` values (zeros when v is None); `against` names what
    fixes the size, for the message."""
    if v is None:
        return np.zeros(size)
    v = as_vector(v, name)
    if v.size != size:
        raise ShapeError(name, f"has {v.size} values but must have {size} to fit {against}")
    return v


def as_matrix(arr, name: str) -> np.ndarray:
    """A 2-D float64 array; a scalar is 1×1, a flat list one row, singleton axes dropped."""
    arr = np.asarray(arr, dtype=np.float64)
    if arr.ndim <= 2:
        return arr.reshape((1,) * (2 - arr.ndim) + arr.shape)
    squeezed = arr.reshape([d for d in arr.shape if d != 1] or [1])
    if squeezed.ndim <= 2:
        return as_matrix(squeezed, name)
    raise ShapeError(name, f"expected a matrix, got {shape_str(arr.shape)}")


def as_image(arr, name: str) -> np.ndarray:
    """An (H, W) or (C, H, W) float64 array; a scalar or a flat list is one row."""
    arr = np.asarray(arr, dtype=np.float64)
    if arr.ndim <= 2:
        return as_matrix(arr, name)
    if arr.ndim == 3:
        return arr
    raise ShapeError(name, f"expected H×W or C×H×W, got {shape_str(arr.shape)}")


def output_cell(at: tuple, shape: tuple, name: str = "at") -> tuple:
    """`at` ((i, j) or (k, i, j), 0-based) as (k, i, j) inside an output of `shape`
    ((H', W') or (K, H', W')), or a ShapeError naming the 1-based cell and the size."""
    shape3 = (1, *shape) if len(shape) == 2 else tuple(shape)
    cell = (0, *at) if len(at) == 2 else tuple(at)
    if len(cell) != 3 or not all(0 <= c < n for c, n in zip(cell, shape3, strict=True)):
        shown = ",".join(str(v + 1) for v in at)
        raise ShapeError(name, f"{shown} is outside the {shape_str(shape)} output")
    return cell
