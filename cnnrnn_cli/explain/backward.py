"""The working of `conv --grad G`: the forward pass as `conv` (or `--transposed`) shows
it, then the backward pass: one weight's gradient as its sum over windows, ∂L/∂x as the
transposed convolution of G (at stride 1, the full convolution with the flipped kernel),
and every gradient as a grid.

The trace is a `Backward`: the forward result (with its gradients) and the facts the
command computed for the explanation (api.conv_backward_facts).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from rich.console import Group
from rich.padding import Padding

from cnnrnn_cli.explain.common import (
    Equation,
    Formula,
    Words,
    grids,
    heading,
    latex_num,
    latex_tensor,
    latex_text,
    num,
)
from cnnrnn_cli.explain.transposed import latex_slices, squeeze


@dataclass
class Backward:
    """forward: a ConvResult or TransposedResult with grad, grad_input, grad_kernel and
    grad_bias; facts: weight (one weight's sum over windows, or None for a transposed
    convolution), as_transposed, full (see api.conv_backward_facts); tap: (k, c, u, v),
    0-based, of the weight written out."""

    forward: object
    facts: object
    tap: tuple = (0, 0, 0, 0)


def _forward_explainer(trace: Backward):
    name = "transposed" if getattr(trace.forward, "transposed", False) else "conv"
    return importlib.import_module(f"cnnrnn_cli.explain.{name}")


def _weight_line(trace: Backward, p: int) -> str | None:
    w = trace.facts.weight
    if w is None:
        return None
    k, c, u, v = trace.tap
    windows, grad = w.windows.reshape(-1), w.grad.reshape(-1)
    terms = " + ".join(f"{num(a, p)}·{num(g, p)}" for a, g in zip(windows, grad, strict=True))
    many = trace.forward.weights.shape[0] > 1
    index = f"{k + 1},{c + 1},{u + 1},{v + 1}" if many else f"{u + 1},{v + 1}"
    return f"∂L/∂W[{index}] = Σ x[window]·G = {terms} = {num(w.value, p)}"


def _bias_line(res, p: int) -> str | None:
    if res.grad_bias is None or res.bias is None:
        return None
    g = res.grad if res.grad.ndim == 3 else res.grad[None]
    sums = ", ".join(num(v, p) for v in res.grad_bias.reshape(-1)[:4])
    more = ", …" if res.grad_bias.size > 4 else ""
    return (
        f"∂L/∂b = Σ G over each output channel's {g.shape[1]}×{g.shape[2]} cells = [{sums}{more}]"
    )


def rich(trace: Backward, style):
    p, res = style.precision, trace.forward
    parts = [_forward_explainer(trace).rich(res, style), heading("Backward pass (--grad G)")]
    parts.append(
        Equation(
            grids(squeeze(res.grad), p, title="G = ∂L/∂out", fit=True),
            "→",
            grids(squeeze(res.grad_input), p, title="∂L/∂x", fit=True),
        )
    )
    line = _weight_line(trace, p)
    if line is not None:
        parts.append(
            Words(
                "each weight meets every window once: its gradient is the sum, over the "
                "windows, of the pixel under it times that window's G"
            )
        )
        parts.append(Padding(Formula(line), (0, 0, 0, 2)))
    parts.append(
        Equation(
            grids(res.grad_kernel, p, title="∂L/∂W", fit=True, max_channels=4),
        )
    )
    bias = _bias_line(res, p)
    if bias is not None:
        parts.append(Formula(bias))
    parts += _input_views(trace, p)
    return Group(*parts)


def _input_sentences(trace: Backward) -> list[str]:
    """What is said of ∂L/∂x, each sentence from the facts (the views that agree)."""
    res, facts = trace.forward, trace.facts
    if getattr(res, "transposed", False):
        return [
            "∂L/∂x of a transposed convolution is the ordinary (strided) convolution of G "
            "with the same weights: the forward pass of conv, run on G"
        ]
    said, t, full = [], facts.as_transposed, facts.full
    if t is not None:
        same = "the same numbers" if t.agrees else "the numbers differ: please report this"
        said.append(
            f"∂L/∂x is the transposed convolution of G with the same W (stride "
            f"{_pair(res.stride)}, padding {_pair(t.padding)}, output padding "
            f"{_pair(t.output_padding)}): {same}"
            + (
                f"; with {res.pad_mode} padding, the gradient that reaches the padding is "
                "folded back onto the pixels it copied"
                if t.folded
                else ""
            )
        )
    if full is not None:
        d = res.dilation
        said.append(
            "at stride 1 that is the full convolution: G padded by d(F − 1) on every side, "
            "correlated with W flipped by 180°"
            + (f" at dilation {_pair(d)}" if tuple(d) != (1, 1) else "")
            + (": the same numbers" if full.agrees else ": the numbers differ")
        )
    elif t is not None:
        said.append(
            "(at stride > 1 the full-convolution shortcut does not apply: G's values sit S "
            "apart, with S − 1 zeros between them)"
        )
    return said


def _input_views(trace: Backward, p: int) -> list:
    out = [Words(sentence) for sentence in _input_sentences(trace)]
    full = trace.facts.full
    if full is not None and not getattr(trace.forward, "transposed", False):
        kernel = squeeze(full.kernel[:, 0])
        out.append(
            Padding(
                Equation(
                    grids(squeeze(full.padded_grad), p, title="G padded", fit=True),
                    "⋆",
                    grids(kernel, p, title="W flipped", fit=True),
                ),
                (0, 0, 0, 2),
            )
        )
    return out


def _pair(values) -> str:
    a, b = values
    return str(a) if a == b else f"{a}×{b}"


def latex(trace: Backward, style) -> str:
    p, res = style.precision, trace.forward
    out = [_forward_explainer(trace).latex(res, style)]
    out.append(latex_text("Backward pass, with the upstream gradient G = ∂L/∂out:"))
    out.append(
        f"$$ G = {latex_tensor(res.grad, p)}, \\qquad "
        f"\\frac{{\\partial L}}{{\\partial x}} = {latex_tensor(res.grad_input, p)} $$"
    )
    line = _weight_line(trace, p)
    if line is not None:
        lhs, rest = line.split(" = Σ x[window]·G = ", 1)
        idx = lhs[len("∂L/∂W[") : -1]
        rhs = rest.replace("·", " \\cdot ").replace("−", "-")
        out.append(
            f"$$ \\frac{{\\partial L}}{{\\partial W_{{{idx}}}}} = \\sum x_{{\\text{{window}}}}"
            f" \\cdot G = {rhs} $$"
        )
    out.append(f"$$ \\frac{{\\partial L}}{{\\partial W}} = {latex_slices(res.grad_kernel, p)} $$")
    if res.bias is not None and res.grad_bias is not None:
        out.append(
            "$$ \\frac{\\partial L}{\\partial b} = "
            + ", ".join(latex_num(v, p) for v in res.grad_bias.reshape(-1)[:6])
            + " $$"
        )
    out += [latex_text(sentence) for sentence in _input_sentences(trace)]
    return "\n\n".join(out)
