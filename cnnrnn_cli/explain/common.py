"""Building blocks of the explanations: grids as in the notes, numbers for people, LaTeX."""

from __future__ import annotations

from rich.text import Text

from cnnrnn_cli.io.numbers import format_fixed

HIGHLIGHT = "bold black on yellow"
ACCENT = "bold cyan"
WIN = "bold white on dark_green"


def num(x, precision: int) -> str:
    return format_fixed(x, precision)


def grid(matrix, precision: int, *, styles: dict | None = None, title: str | None = None,
         max_cells: int = 12, marks: bool = False, width: int = 80) -> Text:
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
    widest = max(len(num(matrix[i, j], precision)) for i in row_ids if i is not None
                 for j in col_ids if j is not None)
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
    items = [grid(tensor[c], precision, title=f"{title} [{c + 1}]".strip(), **kw)
             for c in range(min(len(tensor), max_channels))]
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
    return num(x, precision).replace("−", "-")


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


def latex_grid(matrix, precision: int, *, max_cells: int = 12) -> str:
    r"""`\begin{array}{|c|c|} \hline 1 & 2 \\ \hline ... \end{array}`, as in the notes."""
    rows, cols = matrix.shape
    row_ids, col_ids = elide(rows, max_cells), elide(cols, max_cells)
    lines = []
    for i in row_ids:
        cells = ["\\cdots" if j is None else ("\\vdots" if i is None else
                 latex_num(matrix[i, j], precision)) for j in col_ids]
        lines.append(" & ".join(cells) + " \\\\ \\hline")
    spec = "|" + "c|" * len(col_ids)
    return f"\\begin{{array}}{{{spec}}} \\hline " + " ".join(lines) + " \\end{array}"


def latex_tensor(tensor, precision: int) -> str:
    if tensor.ndim == 2:
        return latex_grid(tensor, precision)
    return " \\;\\big|\\; ".join(latex_grid(ch, precision) for ch in tensor)


_LATEX_SYMBOLS = {"·": "$\\cdot$", "→": "$\\rightarrow$", "⇒": "$\\Rightarrow$", "−": "-",
                  "×": "$\\times$", "α": "$\\alpha$", "∂": "$\\partial$", "≈": "$\\approx$",
                  "⊙": "$\\odot$", "Σ": "$\\Sigma$", "σ": "$\\sigma$", "²": "$^2$"}


def latex_text(text: str) -> str:
    """Plain words safe inside \\text{...} or a paragraph: specials escaped, the Unicode
    symbols of our explanations turned into math."""
    for a, b in (("\\", "\\textbackslash{}"), ("_", "\\_"), ("%", "\\%"), ("&", "\\&"),
                 ("#", "\\#"), ("$", "\\$"), ("{", "\\{"), ("}", "\\}")):
        text = text.replace(a, b)
    return "".join(_LATEX_SYMBOLS.get(ch, ch) for ch in text)


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


def product_terms(weights, values, precision: int, limit: int = 27, dot: str = "·",
                  minus: str = "−") -> str:
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
