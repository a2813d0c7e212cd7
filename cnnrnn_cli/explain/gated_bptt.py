"""The working of `bptt --cell gru|lstm`, `--truncate`, `--clip` and `--compare`: the
forward pass, where the gradient goes over time (‖∂L/∂h_t‖ and ‖∂L/∂x_t‖ as log-scale
bars), the GRU's one-step Jacobian and the LSTM's cell-state path with their named cases,
truncation, clipping and the update; for `--compare`, the three cells' gradient norms side
by side and the conclusion the numbers support.

Facts first (`facts`, `compare_facts`), sentences chosen from them; the renderer computes
nothing the core did not (the Jacobians come from `core.gated_bptt`)."""

from __future__ import annotations

import math

import numpy as np
from rich.console import Group
from rich.table import Table
from rich.text import Text

from cnnrnn_cli.core.gated_bptt import CellResult, Comparison
from cnnrnn_cli.explain.bptt import (
    Fit,
    _table,
    check_latex,
    check_sentence,
    log_column,
    sentence,
    signed,
)
from cnnrnn_cli.explain.common import (
    grid,
    heading,
    latex_matrix,
    latex_num,
    latex_par,
    latex_row,
    latex_text,
    num,
    time_rows,
)

NAMES = {"rnn": "RNN", "gru": "GRU", "lstm": "LSTM"}
LOST = 6.0  # powers of ten lost from h_T back to h_1 that count as vanished (gained: exploded)
BAR_MIN, BAR_MAX = 4, 30


def _log10(x: float) -> float:
    return math.log10(x) if x > 0 else -math.inf


def _sci(x: float, p: int) -> str:
    """A norm in scientific notation, p − 1 decimals ('6.09e-11'); 0 as '0'."""
    if x == 0:
        return "0"
    return f"{x:.{max(p - 2, 1)}e}"


def _cell_title(res: CellResult) -> str:
    kind = "many-to-many" if res.many_to_many else "many-to-one"
    if res.cell == "gru":
        variant = ("reset after" if res.reset_after else "reset before") + (
            ", z keeps h_{t−1}" if res.z_keeps == "old" else ", z takes h̃"
        )
        name = f"GRU ({variant})"
    elif res.cell == "lstm":
        name = "LSTM"
    else:
        name = f"RNN ({res.activation})"
    return f"{name}, {kind}: T = {res.T}, D = {res.xs.shape[1]}, H = {res.H}"


FORMULAS = {
    "rnn": ["h_t = f(W_x x_t + W_h h_{t−1} + b)"],
    "gru": [
        "z = σ(W_xz x_t + W_hz h_{t−1} + b_z),  r = σ(W_xr x_t + W_hr h_{t−1} + b_r)",
        "h̃ = tanh(W_xh x_t + r ⊙ (W_hh h_{t−1} + b_hh) + b_h)",
        "h_t = z ⊙ h_{t−1} + (1 − z) ⊙ h̃",
    ],
    "lstm": [
        "i, f, o = σ(W_x· x_t + W_h· h_{t−1} + b·),  g = tanh(W_xg x_t + W_hg h_{t−1} + b_g)",
        "c_t = f ⊙ c_{t−1} + i ⊙ g,  h_t = o ⊙ tanh(c_t)",
    ],
}


def _formulas(res: CellResult) -> list[str]:
    lines = list(FORMULAS[res.cell])
    if res.cell == "gru" and not res.reset_after:
        lines[1] = "h̃ = tanh(W_xh x_t + W_hh (r ⊙ h_{t−1}) + b_hh + b_h)"
    if res.cell == "gru" and res.z_keeps == "new":
        lines[2] = "h_t = (1 − z) ⊙ h_{t−1} + z ⊙ h̃"
    readout = "ŷ_t = W_y h_t + b_y" if res.wy is not None else "ŷ_t = h_t"
    loss = "L = Σ_t ½‖ŷ_t − y_t‖²" if res.many_to_many else "L = ½‖ŷ_T − y‖²"
    lines.append(f"{readout},  {loss}")
    return lines


# --- the facts ----------------------------------------------------------------------------


def facts(res: CellResult) -> dict:
    """What the explanation may say about one cell's gradient over time."""
    norms = res.grad_norms
    first = int(np.flatnonzero(norms > 0)[0]) if (norms > 0).any() else None
    last = float(norms[-1])
    out = {
        "first_nonzero": first,
        "last": last,
        "h1": float(norms[0]),
        "lost": None,  # powers of ten from h_T back to h_1
        "rate": None,  # the geometric mean factor a step
    }
    if last > 0 and norms[0] > 0 and res.T > 1:
        out["lost"] = _log10(last) - _log10(float(norms[0]))
        out["rate"] = 10 ** (-out["lost"] / (res.T - 1))
    if res.cell == "gru":
        out["keep_mean"] = float(res.forward.keep.mean())
    if res.cell == "lstm":
        out["keep_mean"] = float(res.forward.gate("f").mean())
    return out


FADING = 0.9  # a step's average factor below this (above its inverse): shrinking (growing)


def verdict(lost: float | None, rate: float | None = None) -> str:
    """vanished / exploded: at least LOST powers of ten from h_T back to h_1; else fading /
    growing when the average factor a step is below FADING (above 1/FADING), else kept."""
    if lost is None:
        return "none"
    if lost >= LOST:
        return "vanished"
    if lost <= -LOST:
        return "exploded"
    if rate is not None and rate < FADING:
        return "fading"
    if rate is not None and rate > 1 / FADING:
        return "growing"
    return "kept"


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def compare_facts(comp: Comparison) -> list[dict]:
    out = []
    for res in comp.results:
        f = facts(res)
        f["cell"] = res.cell
        f["verdict"] = verdict(f["lost"], f["rate"])
        out.append(f)
    return out


def compare_sentences(comp: Comparison, p: int = 4) -> list[str]:
    """The conclusion, each claim drawn from the norms."""
    fs = compare_facts(comp)
    T = comp.results[0].T
    lines = []
    for f in fs:
        name = NAMES[f["cell"]]
        if f["lost"] is None:
            lines.append(f"{name}: a gradient of exactly 0 reaches h_1 (or none leaves h_T).")
            continue
        ratio = _sci(f["h1"] / f["last"], p) if f["last"] > 0 else "0"
        size = abs(f["lost"])
        what = {
            "vanished": f"lost {size:.1f} powers of ten: it vanished",
            "exploded": f"grew by {size:.1f} powers of ten: it exploded",
            "kept": (
                f"{'lost' if f['lost'] >= 0 else 'grew by'} {size:.1f} powers of ten: "
                "it is still there"
            ),
            "fading": (
                f"lost {size:.1f} powers of ten: still there, but shrinking fast enough "
                f"that over 100 steps it would lose {-100 * math.log10(f['rate']):.0f}"
            ),
            "growing": (f"grew by {size:.1f} powers of ten, and keeps growing at that rate"),
        }[f["verdict"]]
        gate = ""
        if "keep_mean" in f:
            label = "z" if f["cell"] == "gru" else "f"
            if f["cell"] == "gru" and comp.results[1].z_keeps == "new":
                label = "1 − z"
            gate = (
                f"; the mean {label} (the share of the old state kept) is {num(f['keep_mean'], p)}"
            )
        lines.append(
            f"{name}: ‖∂L/∂h_1‖/‖∂L/∂h_{T}‖ = {ratio}, {num(f['rate'], p)} a step on "
            f"average; over {T - 1} steps it {what}{gate}."
        )
    kept = [NAMES[f["cell"]] for f in fs if f["verdict"] == "kept"]
    gone = [NAMES[f["cell"]] for f in fs if f["verdict"] == "vanished"]
    if gone and kept:
        lines.append(
            f"So here the {_join(gone)} cannot learn from inputs {T - 1} steps back, "
            f"and the {_join(kept)} still can: "
            + (
                "the gates that keep the old state multiply the gradient by a factor near "
                "1 on the direct path, where the RNN multiplies it by diag(f') W_h every step."
                if "RNN" in gone
                else "their gates keep the old state."
            )
        )
    elif gone and not kept:
        lines.append(
            f"Here every cell's gradient vanished over {T - 1} steps: gates help only when "
            "they are near 1 (a larger forget or update gate bias keeps more)."
        )
    elif not gone:
        fading = [NAMES[f["cell"]] for f in fs if f["verdict"] == "fading"]
        lines.append(
            f"Here no cell's gradient vanished over {T - 1} steps"
            + (
                f"; the {_join(fading)} {'shrinks' if len(fading) == 1 else 'shrink'} "
                f"by more than {1 - FADING:.0%} a step, which a longer sequence would show."
                if fading
                else "."
            )
        )
    return lines


# --- rich ---------------------------------------------------------------------------------


def _bars_table(columns: list[tuple[str, np.ndarray]], T: int, p: int, steps: int, width: int):
    """Side-by-side norms over t, each with a bar on one shared log scale."""
    rows = time_rows(T, max(steps, 2) * 2)
    kept = [t for t in rows if t is not None]
    logs = np.array([[_log10(float(v)) for v in values] for _, values in columns], dtype=np.float64)
    finite = logs[np.isfinite(logs)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    texts = [[_sci(float(values[t]), p) for t in kept] for _, values in columns]
    used = (
        len(str(T))
        + 1
        + sum(
            max(len(name), *map(len, tx)) + 2 for (name, _), tx in zip(columns, texts, strict=True)
        )
    )
    bar = max(BAR_MIN, min(BAR_MAX, (width - used - 1) // len(columns) - 1))
    table = Table(box=None, header_style="bold", pad_edge=False, padding=(0, 1))
    table.add_column("t", justify="right", no_wrap=True)
    for name, _ in columns:
        table.add_column(name, justify="right", no_wrap=True)
        table.add_column("", no_wrap=True, width=bar)
    n = 0
    for t in rows:
        if t is None:
            table.add_row("⋮", *[""] * (2 * len(columns)))
            continue
        cells = [str(t + 1)]
        for k in range(len(columns)):
            value = logs[k, t]
            if math.isfinite(value) and hi > lo:
                length = 1 + round((value - lo) / (hi - lo) * (bar - 1))
            else:
                length = bar if math.isfinite(value) else 0
            cells += [texts[k][n], Text("█" * length, style="cyan")]
        table.add_row(*cells)
        n += 1
    ends = log_column([lo, hi], p)
    scale = sentence(
        f"bars on one log scale: █ = {ends[0]}, full = {ends[1]}"
        + (" (a norm of exactly 0 has no bar)" if not np.isfinite(logs).all() else ""),
        style="dim",
    )
    return Group(table, scale)


def _norm_columns(res: CellResult) -> list[tuple[str, np.ndarray]]:
    cols = [("‖∂L/∂h_t‖", res.grad_norms)]
    if res.cell_grad_norms is not None:
        cols.append(("‖∂L/∂c_t‖", res.cell_grad_norms))
    cols.append(("‖∂L/∂x_t‖", res.input_grad_norms))
    return cols


def _forward(res: CellResult, p: int, steps: int):
    blocks = [("h", res.h)]
    if res.c is not None:
        blocks.append(("c", res.c))
    if res.cell == "gru":
        blocks = [("z", res.forward.z), ("r", res.forward.r), *blocks]
    if res.cell == "lstm":
        blocks = [("f", res.forward.gate("f")), ("i", res.forward.gate("i")), *blocks]
    return _table("Forward pass", blocks, res.T, steps, p)


def _loss(res: CellResult, p: int):
    y = res.y_hat[-1] if res.many_to_many else res.y_hat
    where = "ŷ_T" if not res.many_to_many else "ŷ_T (one of T terms)"
    return sentence(f"L = {signed(res.loss, p)}   ({where} = {_vec(y, p)})")


def _vec(v, p: int, limit: int = 4) -> str:
    v = np.asarray(v).reshape(-1)
    inner = ", ".join(signed(x, p) for x in v[:limit])
    return f"({inner}{', …' if v.size > limit else ''})"


def _truncation(res: CellResult):
    if res.truncate is None:
        return None
    K, T = res.truncate, res.T
    if K >= T:
        return sentence(f"--truncate {K}: K ≥ T = {T}, so this is full BPTT.")
    if res.many_to_many:
        text = (
            f"Truncated BPTT, K = {K}: each loss L_s reaches back {K} steps (s − {K - 1}..s); "
            f"h_(s−{K}) is a constant for it, so no step's gradient has a term older than K."
        )
    else:
        zero = T - K
        text = (
            f"Truncated BPTT, K = {K}: L reaches steps {T - K + 1}..{T} only; h_{zero} is a "
            f"constant, so ‖∂L/∂h_t‖ = 0 for t ≤ {zero} and those steps add nothing to "
            "the gradients (h_0 gets none)."
        )
    return sentence(text, style="bold")


def _clip(res: CellResult, p: int):
    if res.clip is None:
        return None
    g, theta = res.grad_norm, res.clip
    factor = res.clip_factor
    said = (
        f"‖g‖ > θ, so every gradient is multiplied by {num(factor, p)}"
        if factor < 1
        else "‖g‖ ≤ θ: nothing is clipped"
    )
    return sentence(
        f"Clipping: ‖g‖ = √(Σ over the parameters of ‖∂L/∂W‖²) = {num(g, p)} (h_0 not "
        f"counted); factor = min(1, θ/‖g‖) = min(1, {num(theta, p)}/{num(g, p)}) = "
        f"{num(factor, p)}: {said}."
    )


def _update(res: CellResult, p: int):
    if res.updated is None:
        return None
    name = next(iter(res.params))
    old = float(res.params[name].reshape(-1)[0])
    step = res.clipped if res.clipped is not None else res.grads
    g = float(step[name].reshape(-1)[0])
    new = float(res.updated[name].reshape(-1)[0])
    index = "[1,1]" if res.params[name].ndim == 2 else "[1]"
    which = "clipped gradient" if res.clipped is not None else "gradient"
    return sentence(
        f"One SGD step (α = {num(res.lr, p)}, the {which}): {name}{index} := "
        f"{signed(old, p)} − {num(res.lr, p)}·{'(' + signed(g, p) + ')' if g < 0 else signed(g, p)}"
        f" = {signed(new, p)}; every parameter is in JSON updated."
    )


def _gradients(res: CellResult, p: int, width: int):
    table = Table(box=None, header_style="bold", pad_edge=False, padding=(0, 1))
    table.add_column("parameter", no_wrap=True)
    table.add_column("shape", no_wrap=True)
    table.add_column("‖∂L/∂·‖", justify="right", no_wrap=True)
    table.add_column("largest |entry|", justify="right", no_wrap=True)
    for name, g in res.grads.items():
        g = np.asarray(g)
        table.add_row(
            name,
            "×".join(map(str, g.shape)),
            _sci(float(np.linalg.norm(g)), p),
            _sci(float(np.abs(g).max()), p),
        )
    items = [Text("Gradients (every entry in -f json or plain)", style="bold"), table]
    return Group(*items)


def _units(units: list) -> str:
    shown = ", ".join(str(u + 1) for u in units[:8])
    return shown + (f" … ({len(units)} units)" if len(units) > 8 else "")


def _gru_jacobian(res: CellResult, p: int, t: int, width: int):
    jac = res.gru_jacobian(t)
    keep, drop = ("z", "1 − z") if res.z_keeps == "old" else ("1 − z", "z")
    s = "+" if res.z_keeps == "old" else "−"
    inner = (
        "diag(r) W_hh + diag((W_hh h_{t−1} + b_hh) ⊙ r(1 − r)) W_hr"
        if res.reset_after
        else "W_hh diag(r) + W_hh diag(h_{t−1} ⊙ r(1 − r)) W_hr"
    )
    k = t + 1
    formula = (
        "∂h_t/∂h_{t−1} = diag(KEEP) SIGN diag((h_{t−1} − h̃) ⊙ z(1 − z)) W_hz "
        "+ diag(DROP ⊙ (1 − h̃²)) [INNER]"
    )
    formula = (
        formula.replace("KEEP", keep)
        .replace("DROP", f"({drop})" if " " in drop else drop)
        .replace("SIGN", s)
        .replace("INNER", inner)
    )
    items = [
        sentence(f"One step's Jacobian ∂h_{k}/∂h_{k - 1} (--at {k}), with the gates in it", "bold"),
        sentence(formula),
    ]
    u = (jac.carried + jac.closed + [0])[0]
    kv = float(jac.keep_term[u])
    items.append(
        sentence(
            f"Unit {u + 1}, its diagonal entry: {signed(kv, p)} "
            f"{plus_term(jac.gate_term[u, u], p)} {plus_term(jac.candidate_term[u, u], p)} "
            f"= {signed(jac.matrix[u, u], p)}   (z = {num(jac.z[u], p)}, "
            f"r = {num(jac.r[u], p)}, h̃ = {signed(jac.h_tilde[u], p)})"
        )
    )
    items.append(grid(jac.matrix, p, title=f"∂h_{k}/∂h_{k - 1}", width=width))
    said = []
    if jac.carried:
        gap = float(jac.row_identity_gap[jac.carried].max())
        said.append(
            f"z ≈ 1 (within {num(jac.tol, p)}) for unit(s) {_units(jac.carried)}: their rows "
            f"are within {_sci(gap, p)} of the identity's, so the gradient passes those units "
            "unchanged."
        )
    if jac.closed:
        rows = float(jac.row_norms[jac.closed].max())
        said.append(
            f"z ≈ 0 and r ≈ 0 for unit(s) {_units(jac.closed)}: their rows have norm at most "
            f"{_sci(rows, p)}, so almost nothing passes back through them."
        )
    if not said:
        said.append(
            f"No unit has z within {num(jac.tol, p)} of 1 (the identity), nor z and r within "
            f"it of 0 (zero): --tol sets how near."
        )
    said.append(
        f"‖∂h_{k}/∂h_{k - 1}‖₂ = {num(jac.norm, p)}, "
        f"‖∂h_{k}/∂h_{k - 1} − I‖₂ = {num(jac.identity_gap, p)}."
    )
    items += [sentence(x) for x in said]
    return Group(*items)


def plus_term(x: float, p: int) -> str:
    return f"{'−' if x < 0 else '+'} {num(abs(x), p)}"


def _lstm_jacobian(res: CellResult, p: int, t: int, width: int):
    jac = res.lstm_jacobian(t)
    k = t + 1
    items = [
        Text(f"Along the cell state at step {k} (--at {k})", style="bold"),
        sentence(
            f"∂c_{k}/∂c_{k - 1} = diag(f_{k}) on the direct path (c_t = f ⊙ c_(t−1) + i ⊙ g): "
            f"f_{k} = {_vec(jac.f, p, 6)}."
        ),
    ]
    if jac.carried:
        items.append(
            sentence(
                f"f ≈ 1 (within {num(jac.tol, p)}) for unit(s) {_units(jac.carried)}: the cell "
                "passes their gradient back unchanged."
            )
        )
    if jac.forgets:
        items.append(
            sentence(
                f"f ≈ 0 for unit(s) {_units(jac.forgets)}: the cell forgets, and the "
                "gradient stops there."
            )
        )
    if jac.through_h is None:
        items.append(sentence("At t = 1 there is no path through h: h_0 is given."))
    else:
        ratio = jac.through_h_norm / jac.direct_norm if jac.direct_norm > 0 else math.inf
        which = (
            "the direct path carries most of it"
            if ratio < 1
            else "the path through h is as large or larger"
        )
        items.append(
            sentence(
                f"The path through h (c_{k - 1} → h_{k - 1} = o ⊙ tanh(c_{k - 1}) → the gates "
                f"at step {k}) adds ∂c_{k}/∂h_{k - 1} · diag(o_{k - 1} ⊙ (1 − tanh² c_{k - 1})), "
                "of norm "
                f"{num(jac.through_h_norm, p)} against max f = {num(jac.direct_norm, p)}: {which}; "
                f"in total ‖∂c_{k}/∂c_{k - 1}‖₂ = {num(jac.total_norm, p)}."
            )
        )
    return Group(*items)


def _truncated(res: CellResult) -> str:
    return " of the truncated loss (each L_s over its K steps)" if res.truncate else ""


def _check(res: CellResult, p: int):
    return None if res.check_error is None else check_sentence(res, _truncated(res))


def rich_cell(res: CellResult, style):
    p, steps = style.precision, style.steps or 12
    at = style.at[0] if style.at else res.T - 1
    parts = [sentence(_cell_title(res), "bold underline")]
    seed = res.seed
    parts += [sentence(line) for line in _formulas(res)]
    if seed is not None:
        parts.append(
            sentence(f"(a random case, seed {seed}; gated weights PyTorch's U(±1/√H))", style="dim")
        )
    parts += [_forward(res, p, steps), _loss(res, p)]
    parts.append(heading("Where the gradient goes, back through time"))
    trunc = _truncation(res)
    if trunc is not None:
        parts.append(trunc)
    parts.append(Fit(lambda width: _bars_table(_norm_columns(res), res.T, p, steps, width)))
    f = facts(res)
    if f["lost"] is not None:
        said = {
            "vanished": "it vanished",
            "exploded": "it exploded",
            "kept": "it did not vanish",
            "fading": "it did not vanish here, but it shrinks fast",
            "growing": "it grows",
        }
        parts.append(
            sentence(
                f"From h_{res.T} back to h_1 the gradient "
                f"{'lost' if f['lost'] >= 0 else 'grew by'} {abs(f['lost']):.1f} powers of ten "
                f"({num(f['rate'], p)} a step on average): {said[verdict(f['lost'], f['rate'])]}."
            )
        )
    if res.cell == "gru":
        parts.append(Fit(lambda width: _gru_jacobian(res, p, at, width)))
    if res.cell == "lstm":
        parts.append(Fit(lambda width: _lstm_jacobian(res, p, at, width)))
    parts.append(Fit(lambda width: _gradients(res, p, width)))
    for extra in (_clip(res, p), _update(res, p), _check(res, p)):
        if extra is not None:
            parts.append(extra)
    return Group(*parts)


def rich_compare(comp: Comparison, style):
    p, steps = style.precision, style.steps or 12
    first = comp.results[0]
    T, D, H = first.T, first.xs.shape[1], first.H
    title = f"RNN, GRU and LSTM on the same inputs: T = {T}, D = {D}, H = {H}"
    parts = [sentence(title, "bold underline")]
    if comp.seed is not None:
        parts.append(
            sentence(
                f"(random, seed {comp.seed}: the same x_t and y for all three; RNN W_h = σ·Q, "
                "the gated cells PyTorch's U(±1/√H))",
                style="dim",
            )
        )
    losses = ", ".join(f"{NAMES[r.cell]} {signed(r.loss, p)}" for r in comp.results)
    parts.append(sentence(f"Loss: {losses}."))
    parts.append(Text("‖∂L/∂h_t‖ against t", style="bold"))
    cols = [(NAMES[r.cell], r.grad_norms) for r in comp.results]
    parts.append(Fit(lambda width: _bars_table(cols, T, p, steps, width)))
    parts += [sentence(line) for line in compare_sentences(comp, p)]
    return Group(*parts)


def rich(res, style):
    if isinstance(res, Comparison):
        return rich_compare(res, style)
    return rich_cell(res, style)


# --- LaTeX --------------------------------------------------------------------------------


def _lsci(x: float, p: int) -> str:
    return "0" if x == 0 else latex_num(x, p, sci=True)


def _lnorm_table(heads: list[str], columns: list[np.ndarray], T: int, steps: int, p: int) -> str:
    rows = []
    for t in time_rows(T, steps):
        if t is None:
            rows.append(" & ".join(["\\vdots"] * (len(columns) + 1)))
        else:
            rows.append(f"{t + 1} & " + " & ".join(_lsci(float(c[t]), p) for c in columns))
    spec = "|r|" + "c|" * len(columns)
    return (
        f"$$\\begin{{array}}{{{spec}}} \\hline t & "
        + " & ".join(heads)
        + " \\\\ \\hline "
        + " \\\\ ".join(rows)
        + " \\\\ \\hline \\end{array}$$"
    )


LATEX_FORMULAS = {
    "rnn": ["h_t = f(W_x x_t + W_h h_{t-1} + b)"],
    "gru": [
        "z = \\sigma(W_{xz} x_t + W_{hz} h_{t-1} + b_z), \\quad "
        "r = \\sigma(W_{xr} x_t + W_{hr} h_{t-1} + b_r)",
        "\\tilde h = \\tanh(W_{xh} x_t + r \\odot (W_{hh} h_{t-1} + b_{hh}) + b_h), \\quad "
        "h_t = z \\odot h_{t-1} + (1 - z) \\odot \\tilde h",
    ],
    "lstm": [
        "i, f, o = \\sigma(W_{x\\cdot} x_t + W_{h\\cdot} h_{t-1} + b_\\cdot), \\quad "
        "g = \\tanh(W_{xg} x_t + W_{hg} h_{t-1} + b_g)",
        "c_t = f \\odot c_{t-1} + i \\odot g, \\quad h_t = o \\odot \\tanh(c_t)",
    ],
}


def latex_cell(res: CellResult, style) -> str:
    p, steps = style.precision, style.steps or 12
    lines = [latex_par(latex_text(_cell_title(res)) + ":")]
    formulas = list(LATEX_FORMULAS[res.cell])
    if res.cell == "gru" and not res.reset_after:
        formulas[1] = formulas[1].replace(
            "r \\odot (W_{hh} h_{t-1} + b_{hh})", "W_{hh} (r \\odot h_{t-1}) + b_{hh}"
        )
    if res.cell == "gru" and res.z_keeps == "new":
        formulas[1] = formulas[1].replace(
            "z \\odot h_{t-1} + (1 - z) \\odot \\tilde h",
            "(1 - z) \\odot h_{t-1} + z \\odot \\tilde h",
        )
    lines += [f"$${f}$$" for f in formulas]
    lines.append(f"$$L = {latex_num(res.loss, p)}$$")
    heads = ["\\lVert \\partial L / \\partial h_t \\rVert"]
    cols = [res.grad_norms]
    if res.cell_grad_norms is not None:
        heads.append("\\lVert \\partial L / \\partial c_t \\rVert")
        cols.append(res.cell_grad_norms)
    heads.append("\\lVert \\partial L / \\partial x_t \\rVert")
    cols.append(res.input_grad_norms)
    lines.append(latex_par("Where the gradient goes, back through time:"))
    lines.append(_lnorm_table(heads, cols, res.T, steps, p))
    if res.truncate is not None:
        lines.append(latex_par(latex_text(_trunc_text(res))))
    at = style.at[0] if style.at else res.T - 1
    k = at + 1
    if res.cell == "gru":
        jac = res.gru_jacobian(at)
        keep, drop = ("z", "(1 - z)") if res.z_keeps == "old" else ("1 - z", "z")
        sign = "+" if res.z_keeps == "old" else "-"
        inner = (
            "\\text{diag}(r) W_{hh} + "
            "\\text{diag}((W_{hh} h_{t-1} + b_{hh}) \\odot r(1 - r)) W_{hr}"
            if res.reset_after
            else "W_{hh} \\text{diag}(r) + W_{hh} \\text{diag}(h_{t-1} \\odot r(1 - r)) W_{hr}"
        )
        lines.append(
            f"$$\\frac{{\\partial h_t}}{{\\partial h_{{t-1}}}} = \\text{{diag}}({keep}) {sign} "
            "\\text{diag}((h_{t-1} - \\tilde h) \\odot z(1 - z)) W_{hz} + "
            f"\\text{{diag}}({drop} \\odot (1 - \\tilde h^2)) \\left[{inner}\\right]$$"
        )
        lines.append(
            f"$$\\frac{{\\partial h_{{{k}}}}}{{\\partial h_{{{k - 1}}}}} = "
            f"{latex_matrix(jac.matrix, p, 6)}$$"
        )
        said = []
        if jac.carried:
            units = ", ".join(str(u + 1) for u in jac.carried[:8])
            said.append(
                f"$z \\approx 1$ for units {units}: rows near the identity's, the gradient passes."
            )
        if jac.closed:
            units = ", ".join(str(u + 1) for u in jac.closed[:8])
            said.append(
                f"$z \\approx 0$ and $r \\approx 0$ for units {units}: rows near 0, nothing passes."
            )
        said.append(
            f"$\\lVert J \\rVert_2 = {latex_num(jac.norm, p)}$, "
            f"$\\lVert J - I \\rVert_2 = {latex_num(jac.identity_gap, p)}$."
        )
        lines.append(latex_par(" ".join(said)))
    if res.cell == "lstm":
        jac = res.lstm_jacobian(at)
        lines.append(
            f"$$\\frac{{\\partial c_{{{k}}}}}{{\\partial c_{{{k - 1}}}}}"
            "\\Big|_{\\text{direct}} = "
            f"\\text{{diag}}(f_{{{k}}}), \\quad f_{{{k}}} = {latex_row(jac.f, p, 6)}$$"
        )
        if jac.through_h is not None:
            lines.append(
                latex_par(
                    "The path through $h$ adds a term of norm "
                    f"${latex_num(jac.through_h_norm, p)}$ against "
                    f"$\\max f = {latex_num(jac.direct_norm, p)}$; in total "
                    f"$\\lVert \\partial c_{{{k}}} / \\partial c_{{{k - 1}}} \\rVert_2 = "
                    f"{latex_num(jac.total_norm, p)}$."
                )
            )
    clip = _clip(res, p)
    if clip is not None:
        g = latex_num(res.grad_norm, p)
        lines.append(
            f"$$\\lVert g \\rVert = {g}, \\quad \\min(1, \\theta / \\lVert g \\rVert) = "
            f"\\min(1, {latex_num(res.clip, p)} / {g}) = {latex_num(res.clip_factor, p)}$$"
        )
    if res.check_error is not None:
        lines.append(check_latex(res, _truncated(res)))
    return "\n".join(lines)


def _trunc_text(res: CellResult) -> str:
    K, T = res.truncate, res.T
    if K >= T:
        return f"K = {K} ≥ T = {T}: full BPTT."
    if res.many_to_many:
        return f"Truncated BPTT, K = {K}: each loss L_s reaches back {K} steps."
    return (
        f"Truncated BPTT, K = {K}: L reaches steps {T - K + 1} to {T} only; "
        "earlier states get no gradient."
    )


def latex_compare(comp: Comparison, style) -> str:
    p, steps = style.precision, style.steps or 12
    first = comp.results[0]
    lines = [
        latex_par(
            f"RNN, GRU and LSTM on the same inputs ($T = {first.T}$, $D = {first.xs.shape[1]}$, "
            f"$H = {first.H}$): $\\lVert \\partial L / \\partial h_t \\rVert$ against $t$."
        ),
        _lnorm_table(
            [NAMES[r.cell] for r in comp.results],
            [r.grad_norms for r in comp.results],
            first.T,
            steps,
            p,
        ),
    ]
    lines += [latex_par(latex_text(s)) for s in compare_sentences(comp, p)]
    return "\n".join(lines)


def latex(res, style) -> str:
    if isinstance(res, Comparison):
        return latex_compare(res, style)
    return latex_cell(res, style)
