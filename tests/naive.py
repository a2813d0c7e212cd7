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
