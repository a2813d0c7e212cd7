"""Naive loop references, in the tests only: one output cell at a time, as on paper."""

import math

import numpy as np


def naive_conv2d(x, w, b=None, stride=(1, 1), pads=((0, 0), (0, 0)), dilation=(1, 1)):
    """x (C, H, W), w (K, C, Fh, Fw), zero padding: out (K, H', W')."""
    c, h, wd = x.shape
    k, _, fh, fw = w.shape
    (pt, pb), (pl, pr) = pads
    xp = np.zeros((c, h + pt + pb, wd + pl + pr))
    xp[:, pt : pt + h, pl : pl + wd] = x
    oh = (h + pt + pb - dilation[0] * (fh - 1) - 1) // stride[0] + 1
    ow = (wd + pl + pr - dilation[1] * (fw - 1) - 1) // stride[1] + 1
    out = np.zeros((k, oh, ow))
    for f in range(k):
        for i in range(oh):
            for j in range(ow):
                total = 0.0 if b is None else b[f]
                for ch in range(c):
                    for u in range(fh):
                        for v in range(fw):
                            total += (
                                w[f, ch, u, v]
                                * xp[
                                    ch,
                                    i * stride[0] + u * dilation[0],
                                    j * stride[1] + v * dilation[1],
                                ]
                            )
                out[f, i, j] = total
    return out


def naive_pool2d(x, size, stride, pad, mode, ceil=False, count_include_pad=True):
    """x (C, H, W); PyTorch's rules written cell by cell. Returns (out, argmax (C, H', W', 2))."""
    c, h, w = x.shape
    (fh, fw), (sh, sw), (ph, pw) = size, stride, pad

    def length(n, f, s, p):
        top = n + 2 * p - f
        out = (math.ceil(top / s) if ceil else top // s) + 1
        if ceil and (out - 1) * s >= n + p:
            out -= 1
        return out

    oh, ow = length(h, fh, sh, ph), length(w, fw, sw, pw)
    out = np.zeros((c, oh, ow))
    arg = np.zeros((c, oh, ow, 2), dtype=int)
    for ch in range(c):
        for i in range(oh):
            for j in range(ow):
                hs, ws = i * sh - ph, j * sw - pw
                he, we = min(hs + fh, h + ph), min(ws + fw, w + pw)
                values, where = [], []
                for r in range(hs, hs + fh):
                    for q in range(ws, ws + fw):
                        if 0 <= r < h and 0 <= q < w:
                            values.append(x[ch, r, q])
                            where.append((r, q))
                if mode == "max":
                    best = max(range(len(values)), key=lambda t: (values[t], -t))
                    out[ch, i, j], arg[ch, i, j] = values[best], where[best]
                elif mode == "min":
                    best = min(range(len(values)), key=lambda t: (values[t], t))
                    out[ch, i, j], arg[ch, i, j] = values[best], where[best]
                elif mode == "sum":
                    out[ch, i, j] = sum(values)
                elif mode == "l2":
                    out[ch, i, j] = math.sqrt(sum(v * v for v in values))
                else:
                    if count_include_pad:
                        divisor = (he - hs) * (we - ws)
                    else:
                        divisor = (min(he, h) - max(hs, 0)) * (min(we, w) - max(ws, 0))
                    out[ch, i, j] = sum(values) / divisor
    return out, arg


def naive_source(p, lo, n, mode):
    """The image index that padded index p copies (None: a zero), written by cases."""
    i = p - lo
    if 0 <= i < n:
        return i
    if mode == "zeros":
        return None
    if mode == "replicate":
        return 0 if i < 0 else n - 1
    if mode == "circular":
        return i % n
    return -i if i < 0 else 2 * (n - 1) - i  # reflect, the edge not repeated


def naive_pad(x, pads, mode):
    """x (C, H, W) padded pixel by pixel: pads = ((top, bottom), (left, right))."""
    c, h, w = x.shape
    (pt, pb), (pl, pr) = pads
    out = np.zeros((c, h + pt + pb, w + pl + pr))
    for r in range(h + pt + pb):
        for q in range(w + pl + pr):
            i, j = naive_source(r, pt, h, mode), naive_source(q, pl, w, mode)
            if i is not None and j is not None:
                out[:, r, q] = x[:, i, j]
    return out


def naive_grouped_conv2d(
    x, w, b=None, stride=(1, 1), pads=((0, 0), (0, 0)), dilation=(1, 1), groups=1, mode="zeros"
):
    """x (C, H, W), w (K, C/G, Fh, Fw): filter k sees channels of its group only."""
    xp = naive_pad(x, pads, mode)
    c = x.shape[0]
    k, cg, fh, fw = w.shape
    kg = k // groups
    oh = (xp.shape[1] - dilation[0] * (fh - 1) - 1) // stride[0] + 1
    ow = (xp.shape[2] - dilation[1] * (fw - 1) - 1) // stride[1] + 1
    out = np.zeros((k, oh, ow))
    for f in range(k):
        first = (f // kg) * cg
        for i in range(oh):
            for j in range(ow):
                total = 0.0 if b is None else b[f]
                for ch in range(cg):
                    for u in range(fh):
                        for v in range(fw):
                            total += (
                                w[f, ch, u, v]
                                * xp[
                                    first + ch,
                                    i * stride[0] + u * dilation[0],
                                    j * stride[1] + v * dilation[1],
                                ]
                            )
                out[f, i, j] = total
    assert c == cg * groups
    return out


def naive_conv2d_grads(
    x, w, g, stride=(1, 1), pads=((0, 0), (0, 0)), dilation=(1, 1), groups=1, mode="zeros"
):
    """(grad_input, grad_kernel, grad_bias) of naive_grouped_conv2d for upstream g, by
    the chain rule one term at a time: each output cell sends g·w to the pixel its
    padded cell copies, and g·x_pad to the weight."""
    c, h, wd = x.shape
    k, cg, fh, fw = w.shape
    kg = k // groups
    xp = naive_pad(x, pads, mode)
    (pt, _), (pl, _) = pads
    gx, gw = np.zeros_like(x), np.zeros_like(w)
    for f in range(k):
        first = (f // kg) * cg
        for i in range(g.shape[1]):
            for j in range(g.shape[2]):
                for ch in range(cg):
                    for u in range(fh):
                        for v in range(fw):
                            r = i * stride[0] + u * dilation[0]
                            q = j * stride[1] + v * dilation[1]
                            gw[f, ch, u, v] += g[f, i, j] * xp[first + ch, r, q]
                            a, bb = naive_source(r, pt, h, mode), naive_source(q, pl, wd, mode)
                            if a is not None and bb is not None:
                                gx[first + ch, a, bb] += g[f, i, j] * w[f, ch, u, v]
    return gx, gw, g.sum(axis=(1, 2))


def naive_conv_transpose2d(
    x, w, b=None, stride=(1, 1), padding=(0, 0), output_padding=(0, 0), dilation=(1, 1), groups=1
):
    """The direct definition: every input pixel stamps x·W into the output at
    (iS + ud − P, jS + vd − P); x (C, H, W), w (C, K/G, Fh, Fw)."""
    c, h, wd = x.shape
    _, kg, fh, fw = w.shape
    cg = c // groups
    size = [
        (n - 1) * stride[a] - 2 * padding[a] + dilation[a] * (f - 1) + output_padding[a] + 1
        for a, (n, f) in enumerate(((h, fh), (wd, fw)))
    ]
    out = np.zeros((kg * groups, *size))
    for ch in range(c):
        group = ch // cg
        for i in range(h):
            for j in range(wd):
                for kk in range(kg):
                    for u in range(fh):
                        for v in range(fw):
                            r = i * stride[0] + u * dilation[0] - padding[0]
                            q = j * stride[1] + v * dilation[1] - padding[1]
                            if 0 <= r < size[0] and 0 <= q < size[1]:
                                out[group * kg + kk, r, q] += x[ch, i, j] * w[ch, kk, u, v]
    if b is not None:
        out += np.asarray(b)[:, None, None]
    return out


def naive_pool_grad(x, g, size, stride, pad, mode, ceil=False, count_include_pad=True):
    """∂L/∂x of naive_pool2d (avg, sum, l2) for upstream g, window by window."""
    out, _ = naive_pool2d(x, size, stride, pad, mode, ceil, count_include_pad)
    c, h, w = x.shape
    (fh, fw), (sh, sw), (ph, pw) = size, stride, pad
    grad = np.zeros_like(x)
    for ch in range(c):
        for i in range(out.shape[1]):
            for j in range(out.shape[2]):
                hs, ws = i * sh - ph, j * sw - pw
                he, we = min(hs + fh, h + ph), min(ws + fw, w + pw)
                if count_include_pad:
                    divisor = (he - hs) * (we - ws)
                else:
                    divisor = (min(he, h) - max(hs, 0)) * (min(we, w) - max(ws, 0))
                for r in range(max(hs, 0), min(hs + fh, h)):
                    for q in range(max(ws, 0), min(ws + fw, w)):
                        if mode == "sum":
                            grad[ch, r, q] += g[ch, i, j]
                        elif mode == "avg":
                            grad[ch, r, q] += g[ch, i, j] / divisor
                        elif out[ch, i, j] > 0:  # l2
                            grad[ch, r, q] += g[ch, i, j] * x[ch, r, q] / out[ch, i, j]
    return grad
