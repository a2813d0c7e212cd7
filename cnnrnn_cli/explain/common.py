"""Building blocks of the explanations: grids as in the notes, numbers for people, LaTeX."""

from __future__ import annotations

from rich.style import Style as RichStyle
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

    Large matrices are summarised: the first and last rows/columns with '⋯' between,
    and as many columns as fit in `width`. Each column uses one notation: fixed, or
    scientific for all its numbers when one of them needs it.
    Drawn as one Text (not a Table): an explanation shows many grids, and laying out
    Tables would cost more than the arithmetic.
    """
    rows, cols = matrix.shape
    row_ids = elide(rows, max_cells)
    col_ids = elide(cols, max_cells)
    shown_rows = [i for i in row_ids if i is not None]
    texts = {}
    for j in col_ids:
        if j is None:
            continue
        column = [_cell_text(matrix[i, j], precision) for i in shown_rows]
        if any("e" in text for text in column):  # one notation a column
            column = [_cell_text(matrix[i, j], precision, sci=True) for i in shown_rows]
        texts.update(((i, j), text) for i, text in zip(shown_rows, column, strict=True))
    styles = styles or {}
    col_ids = _fitting_columns(col_ids, texts, styles if marks else {}, width)
    cells = []
    for i in row_ids:
        line = []
        for j in col_ids:
            if i is None or j is None:
                line.append(("⋯" if i is not None or j is None else "⋮", "dim"))
                continue
            text = texts[i, j]
            style = styles.get((i, j), "")
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


def _fitting_columns(col_ids: list, texts: dict, marked: dict, width: int) -> list:
    """The columns of `col_ids` that fit in `width`: all, or as many of the first and
    the last (alternately) as fit with '⋯' between. Each column takes its widest text
    (2 more where a cell is bracketed) and 3 (" x │"), '⋯' 4, the left "│" 1."""

    def need(j) -> int:
        cells = [(text, (i, j) in marked) for (i, jj), text in texts.items() if jj == j]
        return max(len(text) + 2 * bool(lit) for text, lit in cells) + 3

    real = [j for j in col_ids if j is not None]
    sizes = {j: need(j) for j in real}
    if 1 + sum(sizes.values()) + (4 if None in col_ids else 0) <= width:
        return col_ids
    left, right, used = [], [], 1 + 4
    while len(left) + len(right) < len(real):
        j = real[len(left)] if len(left) <= len(right) else real[-1 - len(right)]
        if used + sizes[j] > width and (left or right):
            break
        used += sizes[j]
        (left if len(left) <= len(right) else right).append(j)
    return left + [None] + right[::-1]


def _cell_text(x, precision: int, sci: bool = False) -> str:
    """A grid cell's number: as `num`, ±∞ as symbols; `sci`: in scientific notation
    (a mantissa of `precision` significant digits, trailing zeros dropped; 0 stays 0)."""
    x = float(x)
    if x != x or x in (float("inf"), float("-inf")):
        return "nan" if x != x else ("−∞" if x < 0 else "+∞")
    if not sci or x == 0:
        return num(x, precision)
    mantissa, exponent = f"{x:.{max(precision, 1) - 1}e}".split("e")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}e{exponent}"


class Fitted:
    """A grid drawn when it is printed, as wide as the room it is given (the middle
    columns elided to fit), so that a layout can ask for its natural and least width."""

    def __init__(self, matrix, precision: int, **kw):
        self.matrix, self.precision, self.kw = matrix, precision, kw

    def draw(self, width: int) -> Text:
        return grid(self.matrix, self.precision, **{**self.kw, "width": width})

    def __rich_console__(self, console, options):
        yield self.draw(options.max_width)

    def __rich_measure__(self, console, options):
        from rich.measure import Measurement

        least, natural = text_width(self.draw(1)), text_width(self.draw(10**6))
        return Measurement(min(least, natural), natural).clamp(max_width=options.max_width)


def text_width(text: Text) -> int:
    """The widest line of a Text, in cells."""
    from rich.cells import cell_len

    return max((cell_len(line) for line in text.plain.split("\n")), default=0)


class Equation:
    """Operands (a renderable, or a list of them) joined by operators (strings):
    `Equation([kernel], "·", [image], "→", [output])`.

    Side by side when they fit the width; otherwise broken into rows, each operator at
    the start of the row of its right operand (never left at the end of a line, never on
    a line of blanks), and a grid too wide for what is left drawn narrower. Operators sit
    level with the middle of their operands.
    """

    def __init__(self, *parts, gap: int = 1):
        self.items, self.gap = [], gap
        pending = None
        for part in parts:
            if isinstance(part, str):
                pending = part
                continue
            for n, item in enumerate(part if isinstance(part, (list, tuple)) else [part]):
                self.items.append((pending if n == 0 else None, item))
            pending = None

    def __rich_measure__(self, console, options):
        from rich.measure import Measurement

        sizes = [Measurement.get(console, options, item) for _, item in self.items]
        least = max(
            (
                m.minimum + (len(op) + 1 if op else 0)
                for (op, _), m in zip(self.items, sizes, strict=True)
            ),
            default=0,
        )
        natural = sum(m.maximum for m in sizes) + sum(
            len(op) + 2 if op else self.gap for op, _ in self.items[1:]
        )
        return Measurement(least, natural).clamp(max_width=options.max_width)

    def __rich_console__(self, console, options):
        from rich.measure import Measurement
        from rich.segment import Segment

        room = options.max_width
        rows, row, used = [], [], 0
        for op, item in self.items:
            size = Measurement.get(console, options.update_width(room), item)
            join = len(op) + 2 if op else self.gap
            if row and used + join + size.maximum <= room:
                row.append((op, self._lines(console, options, item, size.maximum)))
                used += join + size.maximum
                continue
            if row:
                rows.append(row)
            lead = len(op) + 1 if op else 0
            # The operator on a line of its own (just above its operand) when the operand
            # cannot fit beside it, or when a long one ("→ 2x2 filter, … →") would squeeze it.
            if op and (size.minimum > room - lead or (len(op) > 3 and size.maximum > room - lead)):
                rows.append([(None, [[Segment(op, RichStyle(bold=True))]])])
                lead, op = 0, None
            width = min(size.maximum, room - lead)
            row, used = [(op, self._lines(console, options, item, width))], lead + width
        if row:
            rows.append(row)
        for row in rows:
            yield from self._join(row)

    @staticmethod
    def _lines(console, options, item, width: int) -> list:
        return console.render_lines(item, options.update_width(width), pad=True)

    @staticmethod
    def _level(*neighbours) -> int:
        """The line an operator sits on: the middle of the shorter operand, moved to the
        nearest line where each operand shows a row of numbers (not a rule or a title)."""
        height = min(len(lines) for lines in neighbours)

        def in_a_row(y: int) -> bool:
            return all(
                "".join(s.text for s in lines[y]).lstrip().startswith("│") for lines in neighbours
            )

        order = sorted(range(height), key=lambda y: (abs(y - height // 2), -y))
        return next((y for y in order if in_a_row(y)), height // 2)

    def _join(self, row):
        from rich.segment import Segment

        bold = RichStyle(bold=True)
        height = max(len(lines) for _, lines in row)
        widths = [sum(s.cell_length for s in lines[0]) if lines else 0 for _, lines in row]
        levels = [
            (self._level(lines) if n == 0 else self._level(row[n - 1][1], lines)) if op else None
            for n, (op, lines) in enumerate(row)
        ]
        for y in range(height):
            out = []
            for n, (op, lines) in enumerate(row):
                if op:  # before its operand: " · " between two, "· " starting the row
                    text = (op + " ") if n == 0 else f" {op} "
                    lit = y == levels[n]
                    out.append(Segment(text if lit else " " * len(text), bold if lit else None))
                elif n > 0:
                    out.append(Segment(" " * self.gap))
                out.extend(lines[y] if y < len(lines) else [Segment(" " * widths[n])])
            yield from out
            yield Segment.line()


class Formula:
    """A line of working, `label` then `text`, broken when too long only before an
    operator (+ − = →), else at a space, never inside a number; every continuation
    line indented by `indent`."""

    _BREAK = "+−=→"

    def __init__(self, *pieces, indent: int = 4):
        self.text = Text.assemble(*pieces, no_wrap=True, overflow="ignore")
        self.indent = indent

    def __rich_measure__(self, console, options):
        from rich.measure import Measurement

        plain = self.text.plain
        words = max((len(w) for w in plain.split(" ")), default=0)
        return Measurement(min(words + self.indent, len(plain)), len(plain)).clamp(
            max_width=options.max_width
        )

    def __rich_console__(self, console, options):
        plain, room = self.text.plain, max(options.max_width, 1)
        cuts, start = [], 0
        while True:
            avail = room if not cuts else max(room - self.indent, 1)
            end = start + avail
            if len(plain) <= end:
                break
            spaces = [i for i in range(start + 1, end + 1) if plain[i] == " "]
            ops = [i for i in spaces if plain[i + 1 : i + 3] in [c + " " for c in self._BREAK]]
            cut = (ops or spaces or [end])[-1]  # the last operator that fits, else a space
            cuts.append(cut)
            start = cut + 1 if plain[cut] == " " else cut
        pieces, start = [], 0
        for cut in [*cuts, len(plain)]:
            pieces.append(self.text[start:cut])
            start = cut + 1 if plain[cut : cut + 1] == " " else cut
        for n, piece in enumerate(pieces):
            line = Text(" " * self.indent if n else "", no_wrap=True, overflow="ignore")
            line.append_text(piece)
            yield line


class Words:
    """Prose wrapped at spaces to the width, every continuation line indented by
    `indent`; a space beside an operator (= + − · × ≤ ≥ < > →) is not a break while a
    break elsewhere fits, so `z2[7] = −0.6392 ≤ 0` stays on one line."""

    _OPERATORS = {"=", "+", "−", "-", "·", "×", "≤", "≥", "<", ">", "→", "≈"}

    def __init__(self, *pieces, indent: int = 2):
        self.text = Text.assemble(*pieces, no_wrap=True, overflow="ignore")
        self.indent = indent
        plain = self.text.plain
        tokens = plain.split(" ")
        self.breaks, at = [], 0  # positions of the spaces that may end a line
        for before, after in zip(tokens, tokens[1:], strict=False):
            at += len(before)
            if before not in self._OPERATORS and after not in self._OPERATORS:
                self.breaks.append(at)
            at += 1

    def __rich_measure__(self, console, options):
        from rich.measure import Measurement

        plain = self.text.plain
        edges = [-1, *self.breaks, len(plain)]
        group = max(b - a - 1 for a, b in zip(edges, edges[1:], strict=False))
        return Measurement(min(group + self.indent, len(plain)), len(plain)).clamp(
            max_width=options.max_width
        )

    def __rich_console__(self, console, options):
        plain, room = self.text.plain, max(options.max_width, 1)
        cuts, start = [], 0
        while True:
            end = start + (room if not cuts else max(room - self.indent, 1))
            if len(plain) <= end:
                break
            good = [i for i in self.breaks if start < i <= end]
            spaces = [i for i in range(start + 1, end + 1) if plain[i] == " "]
            cut = (good or spaces or [end])[-1]
            cuts.append(cut)
            start = cut + 1 if plain[cut] == " " else cut
        start = 0
        for n, cut in enumerate([*cuts, len(plain)]):
            line = Text(" " * self.indent if n else "", no_wrap=True, overflow="ignore")
            line.append_text(self.text[start:cut])
            yield line
            start = cut + 1 if plain[cut : cut + 1] == " " else cut


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


def grids(
    tensor, precision: int, *, title: str = "", max_channels: int = 4, fit: bool = False, **kw
) -> list:
    """A 2-D array as one grid, a C×H×W tensor as one grid per channel (at most
    max_channels, then a '… more' note): renderables to lay side by side. With `fit`,
    each grid is drawn as wide as the room it is given (`Fitted`)."""
    draw = Fitted if fit else grid
    if tensor.ndim == 2:
        return [draw(tensor, precision, title=title or None, **kw)]
    items = [
        draw(tensor[c], precision, title=f"{title} [{c + 1}]".strip(), **kw)
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


def with_article(word: str) -> str:
    """'a 3×3', 'an 8×8', 'an 11-channel', 'an 18×18', 'an F×F', 'an avgpool': the
    indefinite article for the word as it is read aloud."""
    digits = len(word) - len(word.lstrip("0123456789"))
    if digits:  # 8, 80-89, 800…; 11 and 18 (eleven, eighteen), 11000 (eleven thousand)…
        lead = word[:digits]
        vowel = lead[0] == "8" or (digits % 3 == 2 and lead[:2] in ("11", "18"))
    elif len(word) == 1 or not word[1].isalpha():  # a letter read by its name: F, H, N, X
        vowel = word[:1] in "AEFHILMNORSXaefhilmnorsx"
    else:
        vowel = word[:1].lower() in "aeio" or (
            word[:1].lower() == "u" and not word.lower().startswith(("uni", "use", "usu"))
        )
    return f"{'an' if vowel else 'a'} {word}"


def heading(text: str) -> Text:
    return Text(text, style="bold underline")


# --- LaTeX -----------------------------------------------------------------------------


def latex_num(x, precision: int, *, sci: bool = False) -> str:
    """A number for maths: ASCII minus, 1.2e+14 as 1.2 \\times 10^{14}, inf as \\infty
    (`sci`: in scientific notation whatever its size, as a grid column may ask)."""
    text = (_cell_text(x, precision, sci=True) if sci else num(x, precision)).replace("−", "-")
    text = {"+∞": "inf", "-∞": "-inf"}.get(text, text)
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
    shown = [i for i in row_ids if i is not None]
    sci = {  # one notation a column, as in the rich grid
        j: any("e" in num(matrix[i, j], precision) for i in shown) for j in col_ids if j is not None
    }
    lines = []
    for i in row_ids:
        cells = [
            "\\cdots"
            if j is None
            else ("\\vdots" if i is None else latex_num(matrix[i, j], precision, sci=sci[j]))
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
    "₂": "_2",
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
