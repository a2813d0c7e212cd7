"""The working of `bptt`, in the notes' order: forward, loss, backward, the Jacobian chain,
the norms as bars, the eigen-decomposition and the verdict."""

from __future__ import annotations

import math

import numpy as np
from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text

from cnnrnn_cli.core.bptt import BPTTResult
from cnnrnn_cli.explain.common import (
    ACCENT,
    heading,
    latex_matrix,
    latex_num,
    latex_par,
    latex_row,
    latex_text,
    latex_vector,
    num,
    time_rows,
    vec,
)

BAR_WIDTH = 36


def num_log10(log10_value: float, p: int) -> str:
    """A positive number given by its log₁₀, beyond float64's range if need be:
    (3·1000·log₁₀ 3) -> '1.322e+477'; −inf -> '0'."""
    if log10_value == -math.inf:
        return "0"
    if -300 < log10_value < 300:
        return num(10.0**log10_value, p)
    exponent = math.floor(log10_value)
    mantissa = 10.0 ** (log10_value - exponent)
    if round(mantissa, max(0, p - 1)) >= 10:
        mantissa, exponent = mantissa / 10, exponent + 1
    return f"{num(mantissa, p)}e{exponent:+d}"


def _log10_abs(x: float) -> float:
    return math.log10(abs(x)) if x else -math.inf


TABLE_VALUES = 2  # values of a vector shown in a time table; JSON and plain have them all


def time_table(title: str, columns) -> tuple[Text, Table]:
    """(its heading, a compact table with one row a time step); vectors are cut to
    TABLE_VALUES values. The heading goes above the table, at full width."""
    table = Table(header_style="bold", box=box.SIMPLE_HEAD, collapse_padding=True)
    for col in columns:
        table.add_column(col, justify="right")
    return Text(title, style="bold"), table


def _scalar(res: BPTTResult) -> bool:
    return res.rnn.wh.shape == (1, 1)


def _forward(res: BPTTResult, p: int, steps: int):
    f = res.activation
    title, table = time_table(
        f"Forward pass: h_t = {f}(a_t), a_t = W_x x_t + W_h h_(t−1) + b",
        ("t", "x_t", "a_t", "h_t = f(a_t)"),
    )
    table.add_row("0", "", "", vec(res.rnn.h0, p, TABLE_VALUES), style="dim")
    for t in time_rows(res.T, steps):
        if t is None:
            table.add_row("⋮", "⋮", "⋮", "⋮", style="dim")
            continue
        table.add_row(
            str(t + 1), *(vec(v, p, TABLE_VALUES) for v in (res.rnn.xs[t], res.pre[t], res.h[t]))
        )
    return Group(title, table)


def _loss(res: BPTTResult, p: int):
    lines = []
    target = "y_t" if res.many_to_many else "y"
    if res.rnn.wy is not None:
        what = "ŷ_t = W_y h_t + b_y" if res.many_to_many else "ŷ = W_y h_T + b_y"
    else:
        what = "ŷ_t = h_t" if res.many_to_many else "ŷ = h_T (no readout: the loss is on h_T)"
    lines.append(
        Text.assemble(
            (what, "bold"),
            " = " + (vec(res.y_hat, p) if not res.many_to_many else f"({res.T} rows)"),
        )
    )
    formula = "L = Σ_t ½‖ŷ_t − y_t‖²" if res.many_to_many else "L = ½‖ŷ − y‖²"
    lines.append(
        Text.assemble(
            (formula, "bold"),
            f"   with {target} = " + (vec(res.targets, p) if not res.many_to_many else "--targets"),
            "   ⇒  L = ",
            (num(res.loss, p), ACCENT),
        )
    )
    return Group(*lines)


def _backward(res: BPTTResult, p: int, steps: int):
    scalar = _scalar(res)
    term = "∂L/∂a_t·h_(t−1)" if scalar else "‖∂L/∂a_t h_(t−1)ᵀ‖"
    title, table = time_table(
        f"Backward pass (BPTT): ∂L/∂a_t = ∂L/∂h_t ⊙ f'(a_t); "
        f"term_t = {term}, step t's term of ∂L/∂W_h",
        ("t", "∂L/∂h_t", "f'(a_t)", "∂L/∂a_t", "term_t"),
    )
    for t in time_rows(res.T, steps):
        if t is None:
            table.add_row("⋮", "⋮", "⋮", "⋮", "⋮", style="dim")
            continue
        contribution = res.step_term(t)[0, 0] if scalar else res.wh_contributions[t]
        table.add_row(
            str(t + 1),
            *(vec(v, p, TABLE_VALUES) for v in (res.dh[t], res.fprime[t], res.da[t])),
            num(contribution, p),
        )
    total = Text.assemble(
        ("∂L/∂W_h = Σ_t ∂L/∂a_t h_(t−1)ᵀ", "bold"),
        " = ",
        (vec(res.grads["wh"], p, limit=6), ACCENT),
    )
    note = Text(
        "the notes write dL/dW = Σ_t dL_t/dW, the many-to-many sum of losses; "
        + (
            "here that is exactly what is computed (--targets)."
            if res.many_to_many
            else "for many-to-one there is one loss L = L_T, and the sum runs over the "
            "steps t its gradient passes through: one term per step, above."
        ),
        style="dim",
    )
    grads = Table.grid(padding=(0, 2))
    for name, g in res.grads.items():
        grads.add_row(Text(f"∂L/∂{name}", style="bold"), vec(g, p, limit=6))
    return Group(title, table, total, note, grads)


def _chain(res: BPTTResult, p: int, t: int):
    """∂h_T/∂h_t as the product of its factors, written out for scalars."""
    T = res.T
    parts = [
        Text.assemble(
            (f"∂h_T/∂h_{t + 1}", "bold"),
            f" = Π_(k={t + 1})^(T−1) ∂h_(k+1)/∂h_k,   ∂h_(k+1)/∂h_k = diag(f'(a_(k+1))) W_h",
        )
    ]
    if res.activation == "tanh":
        parts.append(
            Text(
                "(the notes write tanh(·) here; its derivative 1 − tanh²(·) is what "
                "belongs in the Jacobian)",
                style="dim",
            )
        )
    if t == T - 1:
        parts.append(Text("t = T: the product is empty, ∂h_T/∂h_T = I (norm 1)"))
        return Group(*parts)
    if _scalar(res):
        w = res.rnn.wh[0, 0]
        shown = " · ".join(
            f"({num(res.fprime[k + 1, 0], p)}·{num(w, p)})" for k in range(t, min(T - 1, t + 8))
        )
        if T - 1 - t > 8:
            shown += f" · … ({T - 1 - t - 8} more)"
        sign, log10_value = res.chain_log10(t)
        value = ("−" if sign < 0 else "") + num_log10(log10_value, p) if sign else "0"
        parts.append(Text.assemble("  = ", shown, " = ", (value, ACCENT)))
    else:
        norms = res.factor_norms(t, limit=8)
        parts.append(
            Text(
                "  factor norms ‖diag(f')W_h‖: "
                + ", ".join(num(n, p) for n in norms)
                + (" …" if T - 1 - t > 8 else "")
            )
        )
        parts.append(
            Text.assemble(
                "  ‖∂h_T/∂h_t‖₂ = ",
                (num_log10(_norm_log10(res, t), p), ACCENT),
                " ≤ product of the factor norms",
            )
        )
    return Group(*parts)


def _norm_log10(res: BPTTResult, t: int) -> float:
    if res.log10_norms is not None:
        return float(res.log10_norms[t])
    return _log10_abs(float(res.jacobian_norms[t]))


def _bound_log10(res: BPTTResult, t: int) -> float:
    if res.log10_bound is not None:
        return float(res.log10_bound[t])
    return _log10_abs(float(res.bound[t]))


def _bars(res: BPTTResult, p: int, steps: int):
    logs = np.array([_norm_log10(res, t) for t in range(res.T)])
    finite = logs[np.isfinite(logs)]
    if not finite.size:
        finite = np.zeros(1)
    lo, hi = float(finite.min()), float(finite.max())
    table = Table(
        title="‖∂h_T/∂h_t‖ against t (log scale)",
        header_style="bold",
        title_justify="left",
        box=None,
    )
    table.add_column("t", justify="right")
    table.add_column("‖∂h_T/∂h_t‖", justify="right")
    table.add_column(f"log₁₀ from {lo:.3g} to {hi:.3g}", no_wrap=True)
    table.add_column("bound (γσ_max)^(T−t)", justify="right")
    for t in time_rows(res.T, max(steps, 2) * 2):
        if t is None:
            table.add_row("⋮", "", "", "")
            continue
        log_value = logs[t]
        if math.isfinite(log_value) and hi > lo:
            length = 1 + round((log_value - lo) / (hi - lo) * (BAR_WIDTH - 1))
        else:
            length = BAR_WIDTH if math.isfinite(log_value) else 0
        colour = "red" if log_value > 0 else "green" if log_value < 0 else "white"
        table.add_row(
            str(t + 1),
            num_log10(log_value, p),
            Text("█" * length, style=colour),
            num_log10(_bound_log10(res, t), p),
        )
    notes = []
    if not res.norms_exact:
        notes.append(
            Text(
                "(large T·H³: each norm by subspace iteration on the running "
                "product, checked by its residual, else exact)",
                style="dim",
            )
        )
    return Group(table, *notes)


def _eigen(res: BPTTResult, p: int):
    values = [complex(re, im) for re, im in res.eigenvalues]
    ks = sorted({1, 5, 10, max(1, res.T - 1)})
    table = Table(
        title="W_h = T Σ T⁻¹, so W_h^α = T Σ^α T⁻¹: the eigenvalues decide",
        header_style="bold",
        title_justify="left",
    )
    table.add_column("λ", justify="right")
    table.add_column("|λ|", justify="right")
    for k in ks:
        table.add_column(f"|λ|^{k}", justify="right")
    for lam in values[:8]:
        shown = (
            num(lam.real, p)
            if abs(lam.imag) < 1e-15
            else f"{num(lam.real, p)}{'+' if lam.imag >= 0 else '−'}{num(abs(lam.imag), p)}i"
        )
        # |λ|^k in log space: 3^999 is beyond float64 (an OverflowError in Python floats)
        table.add_row(
            shown,
            num(abs(lam), p),
            *[num_log10(k * _log10_abs(abs(lam)), p) if lam else num(0.0, p) for k in ks],
        )
    if len(values) > 8:
        table.add_row("…", f"({len(values) - 8} more)", *[""] * len(ks))
    lines = [table]
    lines.append(
        Text(
            "α here is the exponent, the number of factors W_h in ∂h_T/∂h_t (the "
            "notes use α for the learning rate too)",
            style="dim",
        )
    )
    if _scalar(res):
        lines.append(
            Text(f"a scalar W_h: W_h^α is just w_h^α = {num(res.rnn.wh[0, 0], p)}^α", style="dim")
        )
    if res.diagonalizable is None:
        lines.append(
            Text(
                f"diagonalisability not computed: W_h is large ({res.rnn.wh.shape[0]}"
                f"×{res.rnn.wh.shape[0]}) and not normal, and its eigenvectors would "
                "cost an eigen-solver with vectors and an SVD",
                style="dim",
            )
        )
    elif res.diagonalizable and res.eigvecs is None:
        lines.append(
            Text(
                "diagonalisable: W_h is normal (W_hᵀW_h = W_hW_hᵀ), so T can be "
                "unitary, cond(T) = 1",
                style="dim",
            )
        )
    elif res.diagonalizable:
        lines.append(Text(f"diagonalisable: cond(T) = {num(res.eig_cond, p)}", style="dim"))
    else:
        lines.append(
            Text(
                f"W_h is not diagonalisable (defective, or numerically so: cond(T) "
                f"= {res.eig_cond:.3g} > 1e12): T Σ T⁻¹ does not exist; powers grow "
                "like a Jordan block, k·ρ^(k−1), and the verdict below still follows "
                "ρ",
                style="yellow",
            )
        )
    return Group(*lines)


def _verdict(res: BPTTResult, p: int):
    rho, sigma, gamma = res.spectral_radius, res.singular_max, res.gamma
    sign = {"vanishing": "<", "exploding": ">", "neutral": "≈"}[res.regime]
    word = {
        "vanishing": "vanishing gradient",
        "exploding": "exploding gradient",
        "neutral": "neither (on the edge)",
    }[res.regime]
    lines = [
        Text.assemble(
            ("Verdict (the notes): ", "bold"),
            f"ρ(W_h) = {num(rho, p)} {sign} 1  ⇒  ",
            (word, "bold red" if res.regime == "exploding" else "bold green"),
        )
    ]
    product = gamma * sigma
    bound = Text.assemble(
        "Always: ‖∂h_T/∂h_t‖ ≤ (γ·σ_max)^(T−t), γ = max|f'| = ",
        num(gamma, p),
        f" ({res.activation}), σ_max = {num(sigma, p)}, γ·σ_max = {num(product, p)}",
    )
    lines.append(bound)
    if product < 1:
        lines.append(
            Text(
                "  γ·σ_max < 1: vanishing is guaranteed, whatever the eigenvalues say",
                style="green",
            )
        )
    if res.measured_regime and res.measured_regime != res.regime:
        lines.append(
            Text(
                f"The measured norms say {res.measured_regime} although ρ says "
                f"{res.regime}: "
                + (
                    "the factors diag(f'(a)) W_h also carry f', and a saturated "
                    f"{res.activation} (f' ≈ 0) shrinks them"
                    if res.measured_regime == "vanishing"
                    else "the eigenvalues speak of long products; over these few steps "
                    "the transient growth of a non-normal W_h dominates"
                ),
                style="yellow",
            )
        )
    lines.append(
        Text("this decides ∂L/∂W_h in the update rule W_h := W_h − α ∂L/∂W_h", style="dim")
    )
    return Group(*lines)


def _update(res: BPTTResult, p: int):
    lines = [
        heading(f"One SGD step, α = {num(res.lr, p)}"),
        Text(
            "(α is the learning rate here; the notes also use α as the exponent in W_h^α)",
            style="dim",
        ),
    ]
    for name, new in res.updated.items():
        old = res.rnn.arrays()[name]
        lines.append(
            Text.assemble(
                (f"{name} := {name} − α ∂L/∂{name}", "bold"),
                " = ",
                vec(old, p),
                f" − {num(res.lr, p)}·",
                vec(res.grads[name], p),
                " = ",
                (vec(new, p), ACCENT),
            )
        )
    return Group(*lines)


def _check(res: BPTTResult, p: int):
    ok = res.check_error < 1e-5
    sampled = " (a seeded sample of entries per array)" if res.check_sampled else ""
    return Text.assemble(
        ("Finite differences: ", "bold"),
        f"largest relative error {res.check_error:.2e} at {res.check_worst}{sampled} ",
        ("✓" if ok else "✗", "green" if ok else "red"),
    )


def rich(res: BPTTResult, style):
    p, steps = style.precision, style.steps or 12
    t = style.at[0] if style.at else 0
    parts = [
        heading(
            "Recurrent network, many-to-many"
            if res.many_to_many
            else "Recurrent network, many-to-one"
        ),
        _forward(res, p, steps),
        _loss(res, p),
        _backward(res, p, steps),
        heading("Why gradients vanish or explode"),
        _chain(res, p, t),
        _bars(res, p, steps),
        _eigen(res, p),
        _verdict(res, p),
    ]
    if res.updated is not None:
        parts.append(_update(res, p))
    if res.check_error is not None:
        parts.append(_check(res, p))
    return Group(*parts)


# --- LaTeX -----------------------------------------------------------------------------


def _lv(v, p: int) -> str:
    return latex_vector(v, p, limit=6)


def _llog(log10_value: float, p: int) -> str:
    """num_log10 in maths: 1.322e+477 as 1.322 \\times 10^{477}."""
    text = num_log10(log10_value, p).replace("−", "-")
    if "e" not in text:
        return text
    mantissa, exponent = text.split("e")
    return f"{mantissa} \\times 10^{{{int(exponent)}}}"


def _lmat(m, p: int, limit: int = 6) -> str:
    """A scalar as itself, a vector as a column, a matrix as a grid (elided past `limit`)."""
    m = np.asarray(m)
    if m.ndim < 2 or m.size == 1:
        return _lv(m, p)
    return latex_matrix(m, p, limit)


def _lfirst_step(res: BPTTResult, f: str, p: int) -> str:
    """h_1 with the numbers in: the scalar case term by term, else the vectors."""
    rnn = res.rnn
    if rnn.wx.size == 1 and rnn.wh.size == 1:
        x, h0, b = res.rnn.xs[0].reshape(-1)[0], rnn.h0.reshape(-1)[0], rnn.b.reshape(-1)[0]
        return (
            f"$$h_1 = {f}({latex_num(rnn.wx[0, 0], p)} \\cdot {latex_num(x, p)} + "
            f"{latex_num(rnn.wh[0, 0], p)} \\cdot {latex_num(h0, p)} + {latex_num(b, p)}) "
            f"= {f}({latex_num(res.pre[0, 0], p)}) = {latex_num(res.h[0, 0], p)}$$"
        )
    return f"$$h_1 = {f}(W_x x_1 + W_h h_0 + b) = {f}({_lv(res.pre[0], p)}) = {_lv(res.h[0], p)}$$"


def _lverdict(res: BPTTResult, p: int) -> list[str]:
    rho, sigma, gamma = res.spectral_radius, res.singular_max, res.gamma
    sign = {"vanishing": "<", "exploding": ">", "neutral": "\\approx"}[res.regime]
    word = {
        "vanishing": "vanishing gradient",
        "exploding": "exploding gradient",
        "neutral": "neither (on the edge)",
    }[res.regime]
    product = gamma * sigma
    lines = [
        f"$$\\rho(W_h) = {latex_num(rho, p)} {sign} 1 \\Rightarrow \\text{{{word}}}"
        " \\quad \\text{(the notes' verdict)}$$"
    ]
    words = []
    if res.activation != "identity" and res.regime == "exploding":
        words.append(
            "The eigenvalue criterion is exact only for a linear chain; with "
            f"{res.activation}, $\\rho > 1$ means the gradients may explode (it is "
            "not sufficient)."
        )
    words.append(
        "Always $\\lVert \\partial h_T / \\partial h_t \\rVert \\le "
        "(\\gamma \\sigma_{\\max})^{T-t}$, with $\\gamma = \\max|f'| = "
        f"{latex_num(gamma, p)}$, $\\sigma_{{\\max}} = {latex_num(sigma, p)}$: "
        f"$\\gamma \\sigma_{{\\max}} = {latex_num(product, p)}$."
    )
    if product < 1:
        words.append(
            "$\\gamma \\sigma_{\\max} < 1$: vanishing is guaranteed, whatever the eigenvalues say."
        )
    elif product > 1 and res.activation != "identity":
        words.append(
            "$\\gamma \\sigma_{\\max} > 1$ is necessary for the gradients to explode"
            "; it does not make them explode."
        )
    if res.measured_regime and res.measured_regime != res.regime:
        words.append(
            f"The measured norms say {res.measured_regime} although $\\rho$ says {res.regime}."
        )
    words.append(
        "This decides $\\partial L / \\partial W_h$ in the update rule "
        "$W_h := W_h - \\alpha\\, \\partial L / \\partial W_h$."
    )
    return lines + [latex_par(" ".join(words))]


def latex(res: BPTTResult, style) -> str:
    p, steps = style.precision, style.steps or 12
    f = "\\tanh" if res.activation == "tanh" else f"\\text{{{res.activation}}}"
    T, rnn = res.T, res.rnn
    kind = "many-to-many" if res.many_to_many else "many-to-one"
    seed = getattr(res, "seed", None)
    seed = (
        ""
        if seed is None
        else f" (a random case, seed {seed}: repeat it with \\texttt{{--seed {seed}}})"
    )
    lines = [
        f"$$h_t = {f}(w_x x_t + w_h h_{{t-1}} + b)$$",
        latex_par(f"A {kind} recurrent network over $T = {T}$ steps, with" + seed),
        f"$$W_x = {_lmat(rnn.wx, p)}, \\quad W_h = {_lmat(rnn.wh, p)}, \\quad "
        f"b = {_lv(rnn.b, p)}, \\quad h_0 = {_lv(rnn.h0, p)}$$",
    ]
    if rnn.wy is not None:
        lines.append(f"$$W_y = {_lmat(rnn.wy, p)}, \\quad b_y = {_lv(rnn.by, p)}$$")
    lines.append(latex_par(f"Forward pass, $a_t = W_x x_t + W_h h_{{t-1}} + b$, $h_t = {f}(a_t)$:"))
    lines.append(_lfirst_step(res, f, p))
    rows = [f"0 & & & {latex_row(rnn.h0, p, TABLE_VALUES)}"]
    for t in time_rows(T, steps):
        rows.append(
            "\\vdots & \\vdots & \\vdots & \\vdots"
            if t is None
            else f"{t + 1} & "
            + " & ".join(latex_row(v, p, TABLE_VALUES) for v in (rnn.xs[t], res.pre[t], res.h[t]))
        )
    lines.append(
        "$$\\begin{array}{|r|c|c|c|} \\hline t & x_t & a_t & h_t \\\\ \\hline "
        + " \\\\ ".join(rows)
        + " \\\\ \\hline \\end{array}$$"
    )
    if res.many_to_many:
        readout = "\\hat y_t = W_y h_t + b_y" if rnn.wy is not None else "\\hat y_t = h_t"
        lines.append(
            f"$${readout}, \\quad L = \\sum_t \\tfrac12 \\lVert \\hat y_t - y_t "
            f"\\rVert^2 = {latex_num(res.loss, p)}$$"
        )
    else:
        readout = "\\hat y = W_y h_T + b_y" if rnn.wy is not None else "\\hat y = h_T"
        lines.append(
            f"$${readout} = {_lv(res.y_hat, p)}, \\quad L = \\tfrac12 \\lVert "
            f"\\hat y - y \\rVert^2 = {latex_num(res.loss, p)} \\quad "
            f"\\text{{with }} y = {_lv(res.targets, p)}$$"
        )
    lines.append(
        latex_par(
            "Backward pass (BPTT), $\\partial L / \\partial a_t = "
            "\\partial L / \\partial h_t \\odot f'(a_t)$:"
        )
    )
    rows = []
    for t in time_rows(T, steps):
        rows.append(
            "\\vdots & \\vdots & \\vdots & \\vdots"
            if t is None
            else f"{t + 1} & "
            + " & ".join(
                latex_row(v, p, TABLE_VALUES) for v in (res.dh[t], res.fprime[t], res.da[t])
            )
        )
    lines.append(
        "$$\\begin{array}{|r|c|c|c|} \\hline t & \\partial L / \\partial h_t & "
        "f'(a_t) & \\partial L / \\partial a_t \\\\ \\hline "
        + " \\\\ ".join(rows)
        + " \\\\ \\hline \\end{array}$$"
    )
    lines.append(
        f"$$\\frac{{\\partial L}}{{\\partial W_h}} = \\sum_{{t=1}}^{{{T}}} "
        f"\\frac{{\\partial L}}{{\\partial a_t}} h_{{t-1}}^\\top = "
        f"{_lmat(res.grads['wh'], p)}$$"
    )
    lines.append(
        latex_par(
            "The notes write $dL/dW = \\sum_t dL_t/dW$, the many-to-many sum of losses; "
            + (
                "here that is exactly what is computed (\\texttt{--targets})."
                if res.many_to_many
                else "for many-to-one there is one loss $L = L_T$, and the sum runs over the steps "
                "$t$ its gradient passes through: one term per step."
            )
        )
    )
    others = [
        f"\\frac{{\\partial L}}{{\\partial {_lname(name)}}} = {_lmat(g, p)}"
        for name, g in res.grads.items()
        if name != "wh"
    ]
    lines.append("$$" + ", \\quad ".join(others) + "$$")
    t = style.at[0] if style.at else 0
    lines.append(
        f"$$\\frac{{\\partial h_T}}{{\\partial h_{{{t + 1}}}}} = "
        f"\\prod_{{k={t + 1}}}^{{T-1}} \\frac{{\\partial h_{{k+1}}}}{{\\partial h_k}},"
        " \\quad \\frac{\\partial h_{k+1}}{\\partial h_k} = "
        "\\text{diag}(f'(a_{k+1}))\\, W_h$$"
    )
    if res.activation == "tanh":
        lines.append(
            latex_par(
                "The notes write $\\tanh(\\cdot)$ here; its derivative "
                "$1 - \\tanh^2(\\cdot)$ is what belongs in the Jacobian."
            )
        )
    if _scalar(res) and t < T - 1:
        w = latex_num(rnn.wh[0, 0], p)
        shown = " \\cdot ".join(
            f"({latex_num(res.fprime[k + 1, 0], p)} \\cdot {w})"
            for k in range(t, min(T - 1, t + 8))
        )
        if T - 1 - t > 8:
            shown += f" \\cdots \\text{{ ({T - 1 - t - 8} more)}}"
        sign, log10_value = res.chain_log10(t)
        value = ("-" if sign < 0 else "") + _llog(log10_value, p) if sign else "0"
        lines.append(f"$$= {shown} = {value}$$")
    rows = []
    for s in time_rows(T, max(steps, 2) * 2):
        rows.append(
            "\\vdots & \\vdots & \\vdots"
            if s is None
            else f"{s + 1} & {_llog(_norm_log10(res, s), p)} & {_llog(_bound_log10(res, s), p)}"
        )
    lines.append(
        "$$\\begin{array}{|r|r|r|} \\hline t & \\lVert \\partial h_T / \\partial h_t "
        "\\rVert & (\\gamma \\sigma_{\\max})^{T-t} \\\\ \\hline "
        + " \\\\ ".join(rows)
        + " \\\\ \\hline \\end{array}$$"
    )
    eig = ", ".join(latex_num(math.hypot(re, im), p) for re, im in res.eigenvalues[:6])
    more = ", \\dots" if len(res.eigenvalues) > 6 else ""
    lines.append(
        f"$$W_h = T \\Sigma T^{{-1}} \\Rightarrow W_h^\\alpha = T \\Sigma^\\alpha "
        f"T^{{-1}}, \\quad |\\lambda| = {eig}{more}$$"
    )
    lines.append(
        latex_par(
            "$\\alpha$ here is the exponent, the number of factors $W_h$ in "
            "$\\partial h_T / \\partial h_t$ (the notes use $\\alpha$ for the "
            "learning rate too)."
        )
    )
    lines += _lverdict(res, p)
    if res.updated is not None:
        lines.append(
            latex_par(f"One SGD step, $\\alpha = {latex_num(res.lr, p)}$ (the learning rate here):")
        )
        lines.append(
            "$$\\begin{aligned} "
            + " \\\\ ".join(
                f"{_lname(name)} &:= {_lname(name)} - \\alpha \\frac{{\\partial L}}"
                f"{{\\partial {_lname(name)}}} = {_lmat(new, p)}"
                for name, new in res.updated.items()
            )
            + " \\end{aligned}$$"
        )
    if res.check_error is not None:
        mark = "$\\checkmark$" if res.check_error < 1e-5 else "$\\times$"
        sampled = " (a seeded sample of entries per array)" if res.check_sampled else ""
        lines.append(
            latex_par(
                f"Finite differences: largest relative error ${latex_num(res.check_error, 3)}$ "
                f"at {latex_text(res.check_worst)}{sampled} "
                f"{mark}."
            )
        )
    return "\n".join(lines)


def _lname(name: str) -> str:
    """'wx' -> 'W_x', 'h0' -> 'h_0', 'by' -> 'b_y'."""
    return {"wx": "W_x", "wh": "W_h", "b": "b", "wy": "W_y", "by": "b_y", "h0": "h_0"}.get(
        name, f"\\text{{{name}}}"
    )
