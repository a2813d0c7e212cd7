"""Depthwise convolution (C/G = 1): each filter sees one channel of the input.

    out[f, i, j] = Σ_u Σ_v  w[f, 0, u, v] · x_pad[f // m, i·Sh + u·dh, j·Sw + v·dw]

with m = K/C filters per channel. Two kernels compute it:

- **Block Toeplitz product** (`toeplitz_product`). A run of B output columns of one
  output row is one row of a matrix product

      cols (rows·blocks, Fh·S) @ T (Fh·S, m·B),

  where a row of `cols` holds the S = (B − 1)·Sw + (Fw − 1)·dw + 1 input pixels under
  the run in each of the Fh input rows, and T puts the taps on diagonals:
  T[u·S + jj·Sw + v·dw, q·B + jj] = w[c·m + q, 0, u, v]. Most of T is zeros (S/Fw times
  the taps' work: 6× for 3×3 at stride 1), but BLAS runs it about 20 times faster per
  multiply-add than NumPy runs a pass over the plane, and the gathering of `cols` moves
  whole runs of S pixels at a time. Pieces of channels and rows sized for L2 are spread
  over the cores.
- **Shift and add** (`shift_and_add`): one multiply by a scalar weight and one add per
  tap over the shifted plane; for kernels where T would be too sparse (1×1, long
  strides or dilations along the width).

A product with T adds exact zeros times the input, which is harmless unless the input
holds an infinity or a NaN (0·∞ = NaN would reach the whole run): a piece whose sum is
not finite is computed again by shift and add.
"""

from __future__ import annotations

import numpy as np

from cnnrnn_cli.core.parallel import parallel_map

BLOCK = 16  # output columns per row of the product
MAX_SPARSITY = 8  # shift and add when S / Fw, the zeros per tap in T, exceeds this
PIECE_ELEMENTS = 1 << 17  # gathered columns per piece (1 MB in float64): stays in L2
PLANE_CHUNK_ELEMENTS = 1 << 14  # one channel's rows per shift-and-add piece
ITEMS = 16  # pieces are handed to the threads in about this many batches


def depthwise(padded, w, out_hw, stride, dilation) -> np.ndarray:
    """(K, H', W') from padded (C, Hp, Wp) and w (K, 1, Fh, Fw), K a multiple of C."""
    fw = w.shape[3]
    block = min(BLOCK, out_hw[1])
    span = (block - 1) * stride[1] + (fw - 1) * dilation[1] + 1
    if span > MAX_SPARSITY * fw or 0 in out_hw:
        return shift_and_add(padded, w, out_hw, stride, dilation)
    return toeplitz_product(padded, w, out_hw, stride, dilation)


class _Part:
    """Output columns [first, first + blocks·width) as `blocks` runs of `width` each,
    with their matrix T (C, Fh·S, m·width)."""

    def __init__(self, w, first: int, blocks: int, width: int, stride, dilation, channels):
        k, _, fh, fw = w.shape
        m = k // channels
        (_, sw), (_, dw) = stride, dilation
        self.first, self.blocks, self.width = first, blocks, width
        self.span = (width - 1) * sw + (fw - 1) * dw + 1
        t = np.zeros((channels, fh, self.span, m, width), dtype=w.dtype)
        per_tap = w.reshape(channels, m, fh, fw).transpose(0, 2, 1, 3)  # (C, Fh, m, Fw)
        jj = np.arange(width)
        for v in range(fw):
            # advanced indices on axes 2 and 4 put the run's axis first: (width, C, Fh, m)
            t[:, :, jj * sw + v * dw, :, jj] = per_tap[None, :, :, :, v]
        self.matrix = t.reshape(channels, fh * self.span, m * width)

    def row_elements(self) -> int:
        return self.blocks * self.matrix.shape[1]


def toeplitz_product(padded, w, out_hw, stride, dilation) -> np.ndarray:
    """The block Toeplitz kernel (module docstring): (K, H', W')."""
    padded = np.ascontiguousarray(padded)
    c, hp, wp = padded.shape
    k, _, fh, fw = w.shape
    m = k // c
    out_h, out_w = out_hw
    (sh, sw), (dh, _) = stride, dilation
    dtype = padded.dtype
    w = np.asarray(w, dtype=dtype)
    block = min(BLOCK, out_w)
    whole, rest = divmod(out_w, block)
    parts = [_Part(w, 0, whole, block, stride, dilation, c)]
    if rest:
        parts.append(_Part(w, whole * block, 1, rest, stride, dilation, c))
    out = np.empty((k, out_h, out_w), dtype=dtype)

    per_row = sum(part.row_elements() for part in parts)
    rows = max(1, min(out_h, PIECE_ELEMENTS // per_row))
    channels = max(1, PIECE_ELEMENTS // (per_row * out_h)) if rows == out_h else 1
    pieces = [
        (ch, min(channels, c - ch), r, min(rows, out_h - r))
        for ch in range(0, c, channels)
        for r in range(0, out_h, rows)
    ]
    item = dtype.itemsize
    cs, rs = padded.strides[0], padded.strides[1]

    def gather(part: _Part, ch: int, n_ch: int, r: int, n_rows: int, cols: np.ndarray):
        """cols (n_ch, n_rows, blocks, Fh, S) ← the input under each run, a run of S
        pixels moved as one item. (NumPy checks that the view stays inside the input.)"""
        run = np.dtype((np.void, part.span * item))
        source = np.ndarray(
            (n_ch, n_rows, part.blocks, fh),
            run,
            buffer=padded,
            offset=ch * cs + r * sh * rs + part.first * sw * item,
            strides=(cs, sh * rs, part.width * sw * item, dh * rs),
        )
        np.copyto(cols.view(run)[..., 0], source)

    def piece(ch: int, n_ch: int, r: int, n_rows: int, buffers: list) -> None:
        target = out[ch * m : (ch + n_ch) * m, r : r + n_rows]
        for part, buffer in zip(parts, buffers, strict=True):
            n = n_rows * part.blocks
            cols = buffer[:n_ch, :n_rows]
            gather(part, ch, n_ch, r, n_rows, cols)
            matrix = part.matrix[ch : ch + n_ch]
            columns = slice(part.first, part.first + part.blocks * part.width)
            if m == 1 and len(parts) == 1:  # the target is this product's layout
                np.matmul(cols.reshape(n_ch, n, -1), matrix, out=target.reshape(n_ch, n, -1))
                continue
            product = np.matmul(cols.reshape(n_ch, n, -1), matrix)  # (n_ch, n, m·width)
            runs = product.reshape(n_ch, n_rows, part.blocks, m, part.width)
            target[:, :, columns].reshape(n_ch, m, n_rows, part.blocks, part.width)[...] = (
                runs.transpose(0, 3, 1, 2, 4)
            )
        # An ∞ or NaN in the input: 0·∞ spread NaN over whole runs. (The sum is the quick
        # test; an overflowing sum of finite outputs is not one.)
        with np.errstate(over="ignore", invalid="ignore"):  # the test's own overflow
            suspect = not np.isfinite(target.sum())
        if suspect and not np.isfinite(target).all():
            window = padded[ch : ch + n_ch, r * sh : (r + n_rows - 1) * sh + (fh - 1) * dh + 1]
            target[...] = shift_and_add(
                window, w[ch * m : (ch + n_ch) * m], (n_rows, out_w), stride, dilation
            )

    per_item = max(1, len(pieces) // ITEMS)

    def batch(first: int) -> None:
        # one set of gathering buffers per thread's batch, as large as the largest piece
        buffers = [np.empty((channels, rows, p.blocks, fh, p.span), dtype) for p in parts]
        for args in pieces[first : first + per_item]:
            piece(*args, buffers)

    parallel_map(batch, range(0, len(pieces), per_item), work=out.size * fh * fw)
    return out


def shift_and_add(padded, w, out_hw, stride, dilation) -> np.ndarray:
    """One multiply by a scalar weight and one add per tap, in chunks of one channel's
    rows (about L2's worth) spread over the cores; at stride 1 over the flattened plane,
    whose taps are contiguous slices. (K, H', W')."""
    k, _, fh, fw = w.shape
    c = padded.shape[0]
    m = k // c
    out_h, out_w = out_hw
    hp, wp = padded.shape[1:]
    flat_ok = stride == (1, 1)
    width = wp if flat_ok else out_w
    out = np.empty((k, out_h, width), dtype=padded.dtype)
    flat = np.ascontiguousarray(padded).reshape(c, hp * wp) if flat_ok else None
    wide = out.reshape(k, out_h * wp) if flat_ok else None
    weights = w.reshape(k, fh, fw).tolist()  # Python floats: NumPy's scalar fast path
    (sh, sw), (dh, dw) = stride, dilation
    pieces = max(1, -(-out_h * width // PLANE_CHUNK_ELEMENTS))
    rows_per_chunk = max(1, -(-out_h // pieces))

    def piece(f: int, start: int) -> None:
        ch = f // m
        n_rows = min(out_h, start + rows_per_chunk) - start
        if flat_ok:
            n = (n_rows - 1) * wp + out_w
            target = wide[f, start * wp : start * wp + n]
        else:
            target = out[f, start : start + n_rows]
        scratch = np.empty_like(target)
        first = True
        for u in range(fh):
            for v in range(fw):
                weight = weights[f][u][v]
                if flat_ok:
                    offset = (start + u * dh) * wp + v * dw
                    view = flat[ch, offset : offset + n]
                else:
                    r0, c0 = start * sh + u * dh, v * dw
                    view = padded[
                        ch,
                        r0 : r0 + sh * (n_rows - 1) + 1 : sh,
                        c0 : c0 + sw * (out_w - 1) + 1 : sw,
                    ]
                if first:
                    np.multiply(view, weight, out=target)
                    first = False
                else:
                    np.multiply(view, weight, out=scratch)
                    target += scratch

    pieces = [(f, start) for f in range(k) for start in range(0, out_h, rows_per_chunk)]
    per_item = max(1, len(pieces) // ITEMS)  # few thread hand-offs, still balanced

    def chunk(first: int) -> None:
        for f, start in pieces[first : first + per_item]:
            piece(f, start)

    parallel_map(chunk, range(0, len(pieces), per_item), work=out.size * fh * fw)
    return out[:, :, :out_w]
