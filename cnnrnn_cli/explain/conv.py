"""The working of `conv`: kernel · image → feature map, the size formula, each window's sum."""

from __future__ import annotations

from rich.console import Group
from rich.padding import Padding
from rich.text import Text

from cnnrnn_cli.core.conv import ConvResult
from cnnrnn_cli.explain.common import (
    ACCENT,
    HIGHLIGHT,
    Equation,
    Fitted,
    Formula,
    Words,
    chosen_cells,
    grids,
    heading,
    latex_num,
    latex_par,
    latex_tensor,
    latex_text,
    num,
    product_terms,
    with_article,
)
from cnnrnn_cli.explain.outsize import formula, padding_rule

SMALL = 12  # inputs up to this many rows/columns are drawn whole with the window lit


def _mode_note(res: ConvResult) -> str:
    k = res.weights.shape[0]
    return {
        "single": "one F×F kernel on an H×W image",
        "channels": f"a C×F×F kernel: each output sums over the {res.padded.shape[0]} channels",
        "filters": f"{k} filters, one output channel each",
        "depthwise": f"an F×F kernel on {with_article(f'{res.padded.shape[0]}-channel')} image: "
        "applied to each "
        "channel separately (depthwise), one output channel each",
        "grouped": _groups_note(res) if res.mode == "grouped" else "",
    }[res.mode]


def _equation(res: ConvResult, p: int) -> Equation:
    kernel_shown = (
        res.weights[0, 0]
        if res.mode in ("single", "depthwise")
        else (
            res.weights[0]
            if res.mode == "channels"
            else res.weights[:, 0]
            if res.weights.shape[1] == 1
            else res.weights[0]
        )
    )
    title = "kernel (flipped)" if res.flip else "filter / kernel"
    if res.mode in ("filters", "grouped") and res.weights.shape[1] > 1:
        title += " 1 of " + str(res.weights.shape[0])
    # Side by side when it fits, else row after row, each operator before its operand.
    return Equation(
        grids(kernel_shown, p, title=title, fit=True),
        "·",
        grids(res.image, p, title="image", fit=True),
        "→",
        grids(res.output, p, title="convolved feature", fit=True),
        gap=3,  # channels' grids (and their titles) apart
    )


def _window_styles(res: ConvResult, i: int, j: int) -> dict:
    (sh, sw), (dh, dw) = res.stride, res.dilation
    fh, fw = res.weights.shape[-2:]
    return {(i * sh + u * dh, j * sw + v * dw): HIGHLIGHT for u in range(fh) for v in range(fw)}


def _value(res: ConvResult, k: int, i: int, j: int) -> float:
    out = res.output
    return out[i, j] if out.ndim == 2 else out[k, i, j]


def cell_lines(res: ConvResult, cell, p: int) -> tuple[str, str]:
    """('(1,1)', '4 = 1·1 + 0·1 + …') for one output cell."""
    k, i, j = cell
    w, x = res.window(k, i, j)
    if w.shape[0] == 1:
        sum_text = product_terms(w.reshape(-1), x.reshape(-1), p)
    else:  # one bracket per input channel: Σ_c (…)
        limit = max(2, 27 // w.shape[0])
        sum_text = " + ".join(
            f"({product_terms(wc.reshape(-1), xc.reshape(-1), p, limit)})"
            for wc, xc in zip(w[:6], x[:6], strict=True)
        )
        if w.shape[0] > 6:
            sum_text += f" + … ({w.shape[0] - 6} more channels)"
    if res.bias is not None:
        sum_text += f" + {num(res.bias[k], p)}"
    where = f"({i + 1},{j + 1})" if res.output.ndim == 2 else f"[{k + 1}]({i + 1},{j + 1})"
    return where, f"{num(_value(res, k, i, j), p)} = {sum_text}"


def cells(res: ConvResult, style) -> list:
    """One renderable per written-out cell: the window lit in the padded input, the sum."""
    chosen, _ = chosen_cells(_shape3(res), style.at, None if style.at else style.steps)
    return [_cell(res, cell, style.precision, not style.color) for cell in chosen]


MAX_DRAWN_CHANNELS = 4  # a window over more channels draws its first, with a note


def _channels(res: ConvResult, k: int) -> list:
    """The input channels (0-based) that output channel k's window covers."""
    return list(res.channels_of(k))


def _groups_note(res: ConvResult) -> str:
    """'2 groups: filters 1–2 see channels 1–2, filters 3–4 see channels 3–4'."""
    k, groups = res.weights.shape[0], res.groups
    per = k // groups

    def span(a: int, b: int) -> str:
        return str(a + 1) if b == a + 1 else f"{a + 1}–{b}"

    seen = [
        f"filter{'s' * (per > 1)} {span(g * per, (g + 1) * per)} see"
        f"{'s' * (per == 1)} channel{'s' * (len(res.channels_of(g * per)) > 1)} "
        f"{span(res.channels_of(g * per).start, res.channels_of(g * per).stop)}"
        for g in range(min(groups, 4))
    ]
    more = f", … ({groups - 4} more groups)" if groups > 4 else ""
    return f"{groups} groups: " + ", ".join(seen) + more


def _cell(res: ConvResult, cell, p: int, marks: bool = False):
    """One output cell: its window lit in each channel of the padded input (beside the
    kernel slice that multiplies it, when there are several channels), then its sum."""
    k, i, j = cell
    where, text = cell_lines(res, cell, p)
    line = Formula((f"cell {where}: ", "bold"), (text, ACCENT))
    if max(res.padded.shape[1:]) > SMALL:
        return line
    styles = _window_styles(res, i, j)
    channels = _channels(res, k)
    padded = any(d.p_lo or d.p_hi for d in res.dims)
    if len(channels) == 1:
        title = f"{'padded' if padded else 'image'} [{channels[0] + 1}]"
        if res.padded.shape[0] == 1:
            title = "padded image" if padded else None
        plane = Fitted(res.padded[channels[0]], p, styles=styles, marks=marks, title=title)
        return Group(plane, line)
    name = "padded" if padded else "image"
    kernel = "kernel" if res.weights.shape[0] == 1 else f"filter {k + 1}"
    drawn = channels if len(channels) <= MAX_DRAWN_CHANNELS else channels[:1]
    parts: list = []
    for n, c in enumerate(drawn):
        if parts:
            parts.append("+")
        weights = Fitted(res.weights[k, n], p, title=f"{kernel} [{n + 1}]")
        window = Fitted(res.padded[c], p, styles=styles, marks=marks, title=f"{name} [{c + 1}]")
        parts += [[weights], "·", [window]]
    shown: list = [Equation(*parts)]
    if len(drawn) < len(channels):
        shown.append(
            Text(
                f"channel {drawn[0] + 1} of {len(channels)} drawn; "
                f"the sum runs over all {len(channels)}",
                style="dim",
            )
        )
    return Group(*shown, line)


def _shape3(res: ConvResult) -> tuple:
    out = res.output
    return (1, *out.shape) if out.ndim == 2 else out.shape


def rich(res: ConvResult, style):
    p = style.precision
    parts = [
        heading("Convolution"),
        Words(
            (
                "cross-correlation, as the frameworks define it: the kernel slides over "
                "the image unflipped"
                if not res.flip
                else "true convolution (--flip): the kernel is rotated by 180° before it slides",
                "italic",
            )
        ),
        Text(_mode_note(res), style="dim"),
        _equation(res, p),
        heading("Output size"),
    ]
    dims = res.dims if res.dims[0] != res.dims[1] else res.dims[:1]
    names = ["height", "width"] if len(dims) == 2 else ["height and width"]
    for name, dim in zip(names, dims, strict=True):
        parts.append(Formula((f"{name}: ", "bold"), formula(dim)[1]))
        if dim.padding_word:
            rule = Formula((f"padding {dim.padding_word!r}: {padding_rule(dim)}", "dim"))
            parts.append(Padding(rule, (0, 0, 0, 2)))
    if any(d.p_lo or d.p_hi for d in res.dims):
        parts.append(Text(f"padded with {res.pad_mode}", style="dim"))
    chosen, left = chosen_cells(_shape3(res), style.at, None if style.at else style.steps)
    if chosen:
        parts.append(heading("Window by window"))
        parts += [_cell(res, cell, p, not style.color) for cell in chosen]
    if left and style.steps != 0:  # --steps 0 (and --interactive's header) asks for none
        parts.append(
            Text(
                f"… {left} more cell{'s' * (left > 1)} (use --steps N, or --at R,C for one cell)",
                style="dim",
            )
        )
    return Group(*parts)


def _lterms(w, x, p: int, limit: int) -> str:
    """'1 \\cdot 1 + 0 \\cdot 1 - 1 \\cdot (-2) + \\dots' for paired flat arrays."""
    text = ""
    for n, (wv, xv) in enumerate(zip(w[:limit], x[:limit], strict=True)):
        xs = latex_num(xv, p)
        xs = f"({xs})" if float(xv) < 0 else xs
        term = f"{latex_num(abs(wv), p)} \\cdot {xs}"
        text = (
            (f"-{term}" if wv < 0 else term)
            if n == 0
            else f"{text} {'-' if wv < 0 else '+'} {term}"
        )
    if len(w) > limit:
        text += f" + \\dots\\ \\text{{({len(w) - limit} more terms)}}"
    return text


def _lsum(res: ConvResult, cell, p: int) -> str:
    """One output cell's sum as an aligned row: one bracket per input channel."""
    k, i, j = cell
    w, x = res.window(k, i, j)
    if w.shape[0] == 1:
        terms = _lterms(w.reshape(-1), x.reshape(-1), p, 27)
    else:
        limit = max(2, 27 // w.shape[0])
        terms = " + ".join(
            f"({_lterms(wc.reshape(-1), xc.reshape(-1), p, limit)})"
            for wc, xc in zip(w[:6], x[:6], strict=True)
        )
        if w.shape[0] > 6:
            terms += f" + \\dots\\ \\text{{({w.shape[0] - 6} more channels)}}"
    if res.bias is not None:
        terms += f" + {latex_num(res.bias[k], p)}"
    where = f"({i + 1},{j + 1})" if res.output.ndim == 2 else f"[{k + 1}]({i + 1},{j + 1})"
    return f"\\text{{cell }}{where}\\colon\\ {latex_num(_value(res, k, i, j), p)} &= {terms}"


def latex(res: ConvResult, style) -> str:
    p = style.precision
    kernel = res.weights[0, 0] if res.weights.shape[1] == 1 else res.weights[0]
    lines = [
        f"$${latex_tensor(kernel, p)} \\cdot {latex_tensor(res.image, p)} \\rightarrow "
        f"{latex_tensor(res.output, p)}$$"
    ]
    words = (
        "Cross-correlation, as the frameworks define it: the kernel slides over the image unflipped"
        if not res.flip
        else "True convolution (\\texttt{--flip}): the kernel is rotated by "
        "$180^\\circ$ before it slides"
    ) + f"; {latex_text(_mode_note(res))}."
    if res.weights.shape[0] > 1 and res.mode != "depthwise":
        words += f" The kernel drawn is filter 1 of {res.weights.shape[0]}."
    if res.image.ndim == 3 or res.output.ndim == 3:
        words += " A $C \\times H \\times W$ tensor is drawn channel by channel."
    lines.append(latex_par(words))
    dims = res.dims if res.dims[0] != res.dims[1] else res.dims[:1]
    names = ["height", "width"] if len(dims) == 2 else [""]
    for name, dim in zip(names, dims, strict=True):
        label = f"\\text{{{name}: }}" if name else ""
        lines.append(f"$${label}\\text{{output}} = {formula(dim, latex=True)[1]}$$")
        if dim.padding_word:
            lines.append(
                latex_par(
                    f"Padding \\texttt{{{dim.padding_word}}}: {latex_text(padding_rule(dim))}."
                )
            )
    if any(d.p_lo or d.p_hi for d in res.dims):
        lines.append(latex_par(f"Padded with {latex_text(res.pad_mode)}."))
    chosen, left = chosen_cells(_shape3(res), style.at, None if style.at else style.steps)
    if chosen:
        lines.append(latex_par("Window by window:"))
        lines.append(
            "$$\\begin{aligned}\n"
            + " \\\\\n".join(_lsum(res, cell, p) for cell in chosen)
            + "\n\\end{aligned}$$"
        )
    if left and style.steps != 0:  # --steps 0 (and --interactive's header) asks for none
        lines.append(
            latex_par(
                f"{left} more cells are not written out (\\texttt{{--steps N}}, "
                "or \\texttt{--at R,C} for one cell)."
            )
        )
    return "\n".join(lines)
