"""Building blocks of the explanations: grids as in the notes, numbers for people, LaTeX."""

from __future__ import annotations

from rich.text import Text

from cnnrnn_cli.io.numbers import format_fixed

HIGHLIGHT = "bold black on yellow"
ACCENT = "bold cyan"
WIN = "bold white on dark_green"


def num(x, precision: int) -> str:
    return format_fixed(x, precision)


def grid(
    matrix,
    precision: int,
    *,
    styles: dict | None = None,
    title: str | None = None,
    max_cells: int = 12,
    marks: bool = False,
    width: int = 80,
) -> Text:
    """A 2-D array drawn as a boxed grid, as in the notes; cells in `styles` coloured
    (and, with `marks` for colourless output, bracketed: [x], the winner «x»).

    Large matrices are summarised: the first and last rows/columns with '⋯' between.
    Drawn as one Text (not a Table): an explanation shows many grids, and laying out
    Tables would cost more than the arithmetic.
    """
    rows, cols = matrix.shape
    row_ids = elide(rows, max_cells)
    col_ids = elide(cols, max_cells)
    # As many columns as fit in an 80-column terminal at the widest value shown.
    widest = max(
        len(num(matrix[i, j], precision))
        for i in row_ids
        if i is not None
        for j in col_ids
        if j is not None
    )
    fits = max(3, (width - 1) // (widest + 3))
    if len(col_ids) > fits:
        col_ids = elide(cols, fits - 1)
    styles = styles or {}
    cells = []
    for i in row_ids:
        line = []
        for j in col_ids:
            if i is None or j is None:
                line.append(("⋯" if i is not None or j is None else "⋮", "dim"))
                continue
            text, style = num(matrix[i, j], precision), styles.get((i, j), "")
            if marks and style:
                text = f"«{text}»" if style == WIN else f"[{text}]"
            line.append((text, style))
        cells.append(line)
    widths = [max(len(row[c][0]) for row in cells) for c in range(len(col_ids))]

    def rule(left: str, mid: str, right: str) -> str:
        return left + mid.join("─" * (w + 2) for w in widths) + right

    out = Text(no_wrap=True, overflow="ignore")
    total = sum(widths) + 3 * len(widths) + 1
    if title:
        out.append(title.center(total).rstrip() + "\n", style="italic")
    out.append(rule("┌", "┬", "┐") + "\n")
    for n, line in enumerate(cells):
        out.append("│")
        for (text, style), w in zip(line, widths, strict=True):
            out.append(f" {text.rjust(w)} ", style=style)  # the whole cell lit, not the digits
            out.append("│")
        out.append("\n")
        out.append(rule("├", "┼", "┤") if n < len(cells) - 1 else rule("└", "┴", "┘"))
        if n < len(cells) - 1:
            out.append("\n")
    return out


def operator(symbol: str, rows: int) -> Text:
    """An operator (·, →) placed level with the middle row of a titled grid of `rows`."""
    shown = min(rows, 13)
    return Text("\n" * (1 + shown) + symbol, style="bold")


def elide(n: int, limit: int) -> list:
    """Indices 0..n−1 to show: all, or the first and last limit//2 with None between
    (grid rows and columns, time steps)."""
    if n <= limit:
        return list(range(n))
    half = limit // 2
    return list(range(half)) + [None] + list(range(n - half, n))


def grids(tensor, precision: int, *, title: str = "", max_channels: int = 4, **kw) -> list:
    """A 2-D array as one grid, a C×H×W tensor as one grid per channel (at most
    max_channels, then a '… more' note): renderables to lay side by side."""
    if tensor.ndim == 2:
        return [grid(tensor, precision, title=title or None, **kw)]
    items = [
        grid(tensor[c], precision, title=f"{title} [{c + 1}]".strip(), **kw)
        for c in range(min(len(tensor), max_channels))
    ]
    if len(tensor) > max_channels:
        items.append(Text(f"… {len(tensor) - max_channels} more channels", style="dim"))
    return items


def stack_grids(tensor, precision: int, **kw):
    """`grids` laid side by side (wrapping onto more lines when they do not fit)."""
    from rich.columns import Columns

    return Columns(grids(tensor, precision, **kw))


def vec(v, precision: int, limit: int = 4) -> str:
    """A scalar as itself, a short vector as [a, b, c], a long one cut with '…'."""
    import numpy as np

    v = np.asarray(v).reshape(-1)
    if v.size == 1:
        return num(v[0], precision)
    shown = ", ".join(num(x, precision) for x in v[:limit])
    return f"[{shown}{', …' if v.size > limit else ''}]"


def time_rows(T: int, steps: int) -> list:
    """Time indices (0-based) to show: all, or the first and last with None between."""
    return elide(T, steps)


def heading(text: str) -> Text:
    return Text(text, style="bold underline")


# --- LaTeX -----------------------------------------------------------------------------


def latex_num(x, precision: int) -> str:
    """A number for maths: ASCII minus, 1.2e+14 as 1.2 \\times 10^{14}, inf as \\infty."""
    text = num(x, precision).replace("−", "-")
    if text in ("inf", "-inf"):
        return text.replace("inf", "\\infty")
    if text == "nan":
        return "\\text{NaN}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        power = f"10^{{{int(exponent)}}}"
        return power if mantissa == "1" else f"{mantissa} \\times {power}"
    return text


def latex_vector(v, precision: int, limit: int | None = None) -> str:
    """A scalar as itself, a vector as a column pmatrix (cut with \\vdots past `limit`)."""
    import numpy as np

    v = np.asarray(v).reshape(-1)
    if v.size == 1:
        return latex_num(v[0], precision)
    shown = v if limit is None else v[:limit]
    inner = " \\\\ ".join(latex_num(x, precision) for x in shown)
    if limit is not None and v.size > limit:
        inner += " \\\\ \\vdots"
    return f"\\begin{{pmatrix}} {inner} \\end{{pmatrix}}"


def latex_row(v, precision: int, limit: int = 4) -> str:
    """A scalar as itself, a vector as (a, b, …)^\\top, cut with \\dots past `limit`."""
    import numpy as np

    v = np.asarray(v).reshape(-1)
    if v.size == 1:
        return latex_num(v[0], precision)
    shown = ", ".join(latex_num(x, precision) for x in v[:limit])
    more = ", \\dots" if v.size > limit else ""
    return f"({shown}{more})^\\top"


def latex_grid(matrix, precision: int, *, max_cells: int = 12) -> str:
    r"""`\begin{array}{|c|c|} \hline 1 & 2 \\ \hline ... \end{array}`, as in the notes."""
    rows, cols = matrix.shape
    row_ids, col_ids = elide(rows, max_cells), elide(cols, max_cells)
    lines = []
    for i in row_ids:
        cells = [
            "\\cdots"
            if j is None
            else ("\\vdots" if i is None else latex_num(matrix[i, j], precision))
            for j in col_ids
        ]
        lines.append(" & ".join(cells) + " \\\\ \\hline")
    spec = "|" + "c|" * len(col_ids)
    return f"\\begin{{array}}{{{spec}}} \\hline " + " ".join(lines) + " \\end{array}"


def latex_matrix(m, precision: int, limit: int = 8) -> str:
    """A matrix as a pmatrix, the middle rows and columns elided past `limit`."""
    import numpy as np

    m = np.atleast_2d(m)
    rows, cols = elide(m.shape[0], limit), elide(m.shape[1], limit)
    lines = [
        " & ".join(
            "\\vdots" if i is None else "\\cdots" if j is None else latex_num(m[i, j], precision)
            for j in cols
        )
        for i in rows
    ]
    return "\\begin{pmatrix} " + " \\\\ ".join(lines) + " \\end{pmatrix}"


def latex_tensor(tensor, precision: int, max_channels: int = 6) -> str:
    """A grid, or a C×H×W tensor as its channels' grids side by side (at most max_channels,
    then how many more)."""
    if tensor.ndim == 2:
        return latex_grid(tensor, precision)
    shown = " \\;\\big|\\; ".join(latex_grid(ch, precision) for ch in tensor[:max_channels])
    if len(tensor) > max_channels:
        shown += f" \\;\\big|\\; \\cdots\\ \\text{{({len(tensor) - max_channels} more channels)}}"
    return shown


# Unicode of our explanations, as maths (merged into one $…$ when adjacent) or as text.
_LATEX_MATH = {
    "·": "\\cdot",
    "→": "\\rightarrow",
    "⇒": "\\Rightarrow",
    "←": "\\leftarrow",
    "−": "-",
    "×": "\\times",
    "α": "\\alpha",
    "γ": "\\gamma",
    "λ": "\\lambda",
    "ρ": "\\rho",
    "σ": "\\sigma",
    "Σ": "\\Sigma",
    "Π": "\\Pi",
    "∂": "\\partial",
    "≈": "\\approx",
    "≤": "\\le",
    "≥": "\\ge",
    "≠": "\\ne",
    "⊙": "\\odot",
    "∞": "\\infty",
    "‖": "\\|",
    "√": "\\surd",
    "²": "^2",
    "³": "^3",
    "ᵀ": "^\\top",
    "⁻¹": "^{-1}",
    "₁₀": "_{10}",
    "⌈": "\\lceil",
    "⌉": "\\rceil",
    "⌊": "\\lfloor",
    "⌋": "\\rfloor",
    "°": "^\\circ",
    "✓": "\\checkmark",
    "✗": "\\times",
    "½": "\\tfrac12",
    "⋯": "\\cdots",
    "⋮": "\\vdots",
    "h\u0303": "\\tilde h",
    "y\u0302": "\\hat y",
    "\u0177": "\\hat y",
    "<": "<",
    ">": ">",
    "|": "|",
}
_LATEX_PLAIN = {
    "\\": "\\textbackslash{}",
    "_": "\\_",
    "%": "\\%",
    "&": "\\&",
    "#": "\\#",
    "$": "\\$",
    "{": "\\{",
    "}": "\\}",
    "^": "\\textasciicircum{}",
    "~": "\\textasciitilde{}",
    "…": "\\dots{}",
    "‘": "`",
    "’": "'",
    "“": "``",
    "”": "''",
    "—": "---",
    "–": "--",
    "«": "<<",
    "»": ">>",
    "\u00a0": "~",
}
_LATEX_KEYS = sorted(_LATEX_MATH, key=len, reverse=True)


def latex_text(text: str) -> str:
    """Plain words safe inside \\text{...} or a paragraph: specials escaped, the Unicode
    symbols of our explanations turned into maths (adjacent ones in one $…$, never `$$`)."""
    out, maths = [], []

    def flush():
        if maths:
            out.append("$" + " ".join(maths) + "$")
            maths.clear()

    i = 0
    while i < len(text):
        key = next((k for k in _LATEX_KEYS if text.startswith(k, i)), None)
        if key is not None:
            maths.append(_LATEX_MATH[key])
            i += len(key)
            continue
        flush()
        out.append(_LATEX_PLAIN.get(text[i], text[i]))
        i += 1
    flush()
    return "".join(out)


def latex_par(text: str) -> str:
    """A paragraph of explanation (already LaTeX): a blank line before it, so that it
    stands apart, and none after, so that a display that follows belongs to it."""
    return "\n" + text


def chosen_cells(shape: tuple, at: tuple | None, steps: int | None, name: str = "at"):
    """Output cells to write out, as (k, i, j), and how many were left out.

    shape: (K, H', W'). at: (i, j) or (k, i, j), 0-based, or None for the first `steps`.
    """
    from cnnrnn_cli.errors import InputError

    k_count, rows, cols = shape
    total = k_count * rows * cols
    if at is not None:
        cell = (0, *at) if len(at) == 2 else tuple(at)
        if len(cell) != 3 or not (cell[0] < k_count and cell[1] < rows and cell[2] < cols):
            size = f"{k_count}×{rows}×{cols}" if k_count > 1 else f"{rows}×{cols}"
            shown = ",".join(str(v + 1) for v in at)
            raise InputError(name, f"{shown} is outside the {size} output")
        return [cell], 0
    limit = total if steps is None else min(steps, total)
    cells = [(n // (rows * cols), (n // cols) % rows, n % cols) for n in range(limit)]
    return cells, total - limit


def product_terms(
    weights, values, precision: int, limit: int = 27, dot: str = "·", minus: str = "−"
) -> str:
    """'1·1 + 0·1 − 1·(−2) + …' for paired flat arrays, at most `limit` terms."""
    text = ""
    for n, (w, x) in enumerate(zip(weights[:limit], values[:limit], strict=True)):
        xs = num(x, precision).replace("-", minus)
        if float(x) < 0:
            xs = f"({xs})"
        ws = num(abs(w), precision)
        if n == 0:
            text = f"{minus if w < 0 else ''}{ws}{dot}{xs}"
        else:
            text += f" {minus if w < 0 else '+'} {ws}{dot}{xs}"
    if len(weights) > limit:
        text += f" + … ({len(weights) - limit} more terms)"
    return text
