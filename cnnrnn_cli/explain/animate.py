"""Pictures that move: a convolution or a pooling drawn frame by frame as SVG.

`scene(trace)` reads the same trace the rich view reads (a ConvResult or a PoolResult)
into a Scene: the padded input (padding marked), the output, and one Frame per output
cell (its window's cells, its value and its sum written out). `animated(scene)` draws the
scene once and animates only what changes, with CSS keyframes (no script, no external
font or URL): the window and the output cell jump from frame to frame, each output value
appears when its frame comes, each frame's sum is shown for its frame; the loop repeats.
`still(scene, n)` draws frame n alone, for `--frames` and LaTeX's `animate` package.

The SVG is built with xml.etree; sizes are in px (a cell is CELL wide).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from cnnrnn_cli.explain.common import num

CELL = 40
GAP = CELL  # between the input's channels
MARGIN = 16
TITLE = 28  # the title line
LABEL = 20  # a grid's label above it
LINE = 20  # a line of the sum beneath
FONT = "font-family:DejaVu Sans Mono,Menlo,Consolas,monospace"
CHAR = 0.6 * 14  # width of one character of the 14px sum text
TITLE_CHAR = 0.62 * 15  # of the bold 15px title
LABEL_CHAR = 0.61 * 12  # of a 12px label

STYLE = f"""
svg {{ background: #ffffff; }}
text {{ {FONT}; fill: #1f2328; dominant-baseline: central; text-anchor: middle; }}
.title {{ font-size: 15px; font-weight: bold; text-anchor: start; }}
.label {{ font-size: 12px; fill: #57606a; text-anchor: start; }}
.sum {{ font-size: 14px; text-anchor: start; }}
.v {{ font-size: 13px; }}
.w {{ font-size: 9px; fill: #0550ae; text-anchor: end; }}
.cell {{ fill: #ffffff; stroke: #8c959f; stroke-width: 1; }}
.pad {{ fill: #eaeef2; stroke: #afb8c1; stroke-width: 1; stroke-dasharray: 3 2; }}
.padv {{ fill: #8c959f; }}
.out {{ fill: #f6f8fa; stroke: #8c959f; stroke-width: 1; }}
.win {{ fill: #54aeff; fill-opacity: 0.35; stroke: #0969da; stroke-width: 2.5; }}
.hit {{ fill: #2da44e; fill-opacity: 0.45; stroke: #1a7f37; stroke-width: 2.5; }}
.best {{ fill: none; stroke: #cf222e; stroke-width: 3; }}
.ov {{ font-size: 13px; font-weight: bold; }}
"""


@dataclass
class Frame:
    """One output cell: `out` (k, i, j) of the output; `windows` the input cells under
    the window, one (channel, rows, cols, labels) per input channel it reads (labels: the
    weight in each cell, or None); `best`: (channel, row, col) of pooling's winner.

    A transposed convolution's frame is one input pixel instead: `out` is (c, i, j) of the
    input, `windows` that one pixel, and `stamp` the cells it adds to, each
    (k, row, col of the uncropped grid, weight text, the cell's running sum after it)."""

    out: tuple
    value: float
    windows: list
    terms: str
    best: tuple | None = None
    stamp: list = field(default_factory=list)


@dataclass
class Scene:
    """What the pictures show: `padded` (C, Hp, Wp) with `is_pad` (Hp, Wp), `output`
    (K, H', W'), the frames in order, a title and the output's channel labels."""

    title: str
    padded: object
    is_pad: object
    output: object
    frames: list
    precision: int
    out_labels: list = field(default_factory=list)
    note: str = ""
    cropped: object = None  # transposed: (R, W) True where the grid is cropped away
    start: object = None  # transposed: (K,) each output channel's value before any stamp


def count(trace, steps: int | None) -> int:
    """Frames the picture of `trace` would have: one per output cell (a transposed
    convolution: one per input pixel), or `steps`."""
    trace = getattr(trace, "forward", trace)
    cells = int(trace.image.size if _is_transposed(trace) else trace.output.size)
    return cells if steps is None else min(cells, steps)


def frame_names(frames: int) -> list[str]:
    """frame-001.svg, … (as many digits as the count needs, at least three)."""
    digits = max(3, len(str(frames)))
    return [f"frame-{n:0{digits}d}.svg" for n in range(1, frames + 1)]


def scene(trace, precision: int = 4, steps: int | None = None) -> Scene:
    """The Scene of a conv or pool trace; `steps` caps the frames (the first cells).

    Bounded before anything is drawn: the cells drawn once, and each frame's window and
    written sum, count against the budget (--max-elements)."""
    from cnnrnn_cli import budget

    trace = getattr(trace, "forward", trace)  # conv --grad: the forward pass is drawn
    frames = count(trace, steps)
    window = _window_cells(trace)
    grid = trace.image.size if _is_transposed(trace) else trace.padded.size
    drawn = grid + 2 * trace.output.size + frames * (2 * window + 4)
    budget.check(drawn, "animate", f"the animation ({frames} frames of {window} cells)")
    if _is_transposed(trace):
        return _transposed_scene(trace, precision, steps)
    if hasattr(trace, "weights"):
        return _conv_scene(trace, precision, steps)
    return _pool_scene(trace, precision, steps)


def _is_transposed(trace) -> bool:
    return bool(getattr(trace, "transposed", False))


def _window_cells(trace) -> int:
    """Input cells under one window, over every channel it reads (transposed: the cells
    one pixel's stamp covers, over the output channels it reaches)."""
    if hasattr(trace, "weights"):
        return int(trace.weights[0].size)
    return int(trace.size[0] * trace.size[1])


def _is_pad(dims, shape):
    import numpy as np

    rows = np.arange(shape[0])
    cols = np.arange(shape[1])
    (dh, dw) = dims
    inside_r = (rows >= dh.p_lo) & (rows < dh.p_lo + dh.n)
    inside_c = (cols >= dw.p_lo) & (cols < dw.p_lo + dw.n)
    return ~(inside_r[:, None] & inside_c[None, :])


def _cells(shape, steps):
    """(k, i, j) of the first `steps` output cells, in reading order."""
    import itertools

    cells = itertools.product(*(range(n) for n in shape))
    return list(itertools.islice(cells, steps)) if steps is not None else list(cells)


def _size(dims) -> str:
    return "×".join(str(d) for d in dims)


def _conv_scene(res, precision, steps) -> Scene:
    import numpy as np

    out = res.output.reshape((-1,) + res.output.shape[-2:])
    (sh, sw), (dh, dw) = res.stride, res.dilation
    fh, fw = res.weights.shape[-2:]
    frames = []
    for k, i, j in _cells(out.shape, steps):
        weights, patch = res.window(k, i, j)
        chans = range(k, k + 1) if res.mode == "depthwise" else res.channels_of(k)
        rows = i * sh + dh * np.arange(fh)
        cols = j * sw + dw * np.arange(fw)
        windows = [
            (c, rows, cols, [[num(w, precision) for w in line] for line in weights[n]])
            for n, c in enumerate(chans)
        ]
        products = [
            f"{num(w, precision)}·{num(x, precision)}"
            for w, x in zip(weights.reshape(-1), patch.reshape(-1), strict=True)
        ]
        bias = "" if res.bias is None else f" + {num(_bias_of(res, k), precision)}"
        frames.append(Frame((k, i, j), float(out[k, i, j]), windows, " + ".join(products) + bias))
    kernel = _size(res.kernel.shape)
    filters = out.shape[0]
    title = (
        f"conv: {_size(res.image.shape)} input, {kernel} kernel"
        + (f" ×{filters} filters" if res.mode == "filters" else "")
        + f", stride {_pair(res.stride)}, padding {_pair(_pads(res.dims))}"
        + (f", dilation {_pair(res.dilation)}" if res.dilation != (1, 1) else "")
        + (f", groups {res.groups}" if res.groups > 1 else "")
        + f" → {_size(res.output.shape)}"
    )
    labels = [f"output, filter {k + 1}" if filters > 1 else "output" for k in range(filters)]
    if res.mode == "depthwise":
        labels = [f"output, channel {k + 1}" for k in range(filters)]
    return _over_padded(res, title, out, frames, precision, labels)


def _bias_of(res, k):
    import numpy as np

    bias = np.asarray(res.bias).reshape(-1)
    return bias[k] if bias.size > 1 else bias[0]


def _pads(dims) -> tuple:
    return tuple(d.p_lo for d in dims)


def _pair(values) -> str:
    a, b = values
    return str(a) if a == b else f"{a}×{b}"


def _steps_note(shown: int, cells: int) -> str:
    return "" if shown == cells else f"the first {shown} of {cells} output cells"


def _pool_scene(res, precision, steps) -> Scene:
    import numpy as np

    out = np.asarray(res.output)
    out = out.reshape((-1,) + out.shape[-2:]) if out.ndim >= 2 else out.reshape(-1, 1, 1)
    (fh, fw), (sh, sw) = res.size, res.stride
    winners = res.winners
    frames = []
    for c, i, j in _cells(out.shape, steps):
        rows, cols = i * sh + np.arange(fh), j * sw + np.arange(fw)
        values = res.padded[c][np.ix_(rows, cols)].reshape(-1)
        shown = ", ".join(num(x, precision) for x in values)
        best = None
        if winners is not None:
            r, q = divmod(int(winners[c, i, j]), res.padded.shape[-1])
            best = (c, r, q)
        terms = _pool_terms(res, values, shown, i, j, precision)
        frames.append(Frame((c, i, j), float(out[c, i, j]), [(c, rows, cols, None)], terms, best))
    title = (
        f"{res.mode} pooling: {_size(res.input.shape)} input, {_size(res.size)} window, "
        f"stride {_pair(res.stride)}, padding {_pair(_pads(res.dims))} → {_size(out.shape[-2:])}"
    )
    labels = [f"output, channel {c + 1}" if out.shape[0] > 1 else "output" for c in range(len(out))]
    return _over_padded(res, title, out, frames, precision, labels)


def _over_padded(res, title, out, frames, precision, labels) -> Scene:
    """The Scene of a window sliding over the padded input (conv, pool)."""
    return Scene(
        title,
        res.padded,
        _is_pad(res.dims, res.padded.shape[-2:]),
        out,
        frames,
        precision,
        labels,
        _steps_note(len(frames), out.size),
    )


def _pool_terms(res, values, shown, i, j, precision) -> str:
    if res.mode in ("max", "min"):
        return f"{res.mode}({shown})"
    if res.mode == "sum":
        return " + ".join(num(x, precision) for x in values)
    if res.mode == "l2":
        return "√(" + " + ".join(f"{num(x, precision)}²" for x in values) + ")"
    divisor = res.divisor[i, j] if res.divisor is not None else values.size
    return "(" + " + ".join(num(x, precision) for x in values) + f")/{num(divisor, precision)}"


def _transposed_scene(res, precision, steps) -> Scene:
    """One frame per input pixel (c, i, j): the stamp x·W it adds to the uncropped grid,
    rows iS + ud and columns jS + vd, each cell's running sum after it."""
    import numpy as np

    x3 = res.x3
    (sh, sw), (dh, dw) = res.stride, res.dilation
    fh, fw = res.weights.shape[2:]
    (top, left), (oh, ow) = res.padding, (d.out for d in res.dims)
    full = res.full_shape[1:]
    rows, cols = max(full[0], top + oh), max(full[1], left + ow)
    channels = res.weights.shape[1] * res.groups
    start = np.zeros(channels) if res.bias is None else np.broadcast_to(res.bias, (channels,))
    running = np.repeat(np.asarray(start, dtype=float)[:, None, None], rows * cols, 1)
    running = running.reshape(channels, rows, cols)
    frames = []
    for c, i, j in _cells(x3.shape, steps):
        value = float(x3[c, i, j])
        stamp = []
        for k in res.outputs_of(c):
            k_in = k % res.weights.shape[1]
            for u in range(fh):
                for v in range(fw):
                    y, q = i * sh + u * dh, j * sw + v * dw
                    w = float(res.weights[c, k_in, u, v])
                    running[k, y, q] += value * w
                    label = f"+{num(value, precision)}·{num(w, precision)}"
                    stamp.append((k, y, q, label, float(running[k, y, q])))
        shown = num(value, precision)
        where = f"({c + 1},{i + 1},{j + 1})" if len(x3) > 1 else f"({i + 1},{j + 1})"
        terms = f"input {where} = {shown} adds {shown}·W to {len(stamp)} cells"
        frames.append(Frame((c, i, j), value, [(c, [i], [j], None)], terms, stamp=stamp))
    final = running.copy()
    cropped = np.ones((rows, cols), dtype=bool)
    cropped[top : top + oh, left : left + ow] = False
    title = (
        f"transposed conv: {_size(res.image.shape)} input, {_size(res.kernel.shape)} kernel, "
        f"stride {_pair(res.stride)}, padding {_pair(res.padding)}"
        + (f", output padding {_pair(res.output_padding)}" if any(res.output_padding) else "")
        + (f", dilation {_pair(res.dilation)}" if res.dilation != (1, 1) else "")
        + (f", groups {res.groups}" if res.groups > 1 else "")
        + f" → {_size(res.output.shape)}"
    )
    crop = "the stamps' grid (cropped by the padding: dashed)" if cropped.any() else "output"
    labels = [crop if channels == 1 else f"{crop}, channel {k + 1}" for k in range(channels)]
    return Scene(
        title,
        x3,
        np.zeros(x3.shape[1:], dtype=bool),
        final,
        frames,
        precision,
        labels,
        _steps_note(len(frames), x3.size).replace("output cells", "input pixels"),
        cropped=cropped,
        start=start,
    )


# --- drawing ---------------------------------------------------------------------------


class _Layout:
    """Where everything goes: the input's channels left to right, the outputs stacked on
    the right, the sum beneath both."""

    def __init__(self, scene: Scene, chars_per_line: int | None = None):
        c, hp, wp = scene.padded.shape
        k, ho, wo = scene.output.shape
        self.input_x = [MARGIN + n * (wp * CELL + GAP) for n in range(c)]
        self.input_y = MARGIN + TITLE + LABEL
        self.out_x = MARGIN + c * (wp * CELL + GAP) + GAP
        self.out_y = [self.input_y + n * (ho * CELL + LABEL + CELL // 2) for n in range(k)]
        right = self.out_x + wo * CELL + MARGIN
        bottom = max(self.input_y + hp * CELL, self.out_y[-1] + ho * CELL)
        # Text ends where it starts plus its length: the title and note at the margin,
        # the output's labels above the output grids.
        ends = [MARGIN + len(scene.title) * TITLE_CHAR, MARGIN + len(scene.note) * LABEL_CHAR]
        ends += [self.out_x + len(label) * LABEL_CHAR for label in scene.out_labels]
        self.width = max(right, 520, int(max(ends) + MARGIN + 0.5))
        self.chars = chars_per_line or max(40, int((self.width - 2 * MARGIN) / CHAR))
        lines = max(len(_wrap(_sum_line(scene, f), self.chars)) for f in scene.frames)
        self.sum_y = bottom + CELL // 2 + LINE // 2
        self.height = self.sum_y + lines * LINE + MARGIN + (LINE if scene.note else 0)

    def cell(self, channel: int, row: int, col: int) -> tuple[int, int]:
        return self.input_x[channel] + col * CELL, self.input_y + row * CELL

    def out_cell(self, k: int, i: int, j: int) -> tuple[int, int]:
        return self.out_x + j * CELL, self.out_y[k] + i * CELL


def _sum_line(scene: Scene, frame: Frame) -> str:
    if scene.cropped is not None:
        return frame.terms
    k, i, j = frame.out
    where = f"({k + 1},{i + 1},{j + 1})" if scene.output.shape[0] > 1 else f"({i + 1},{j + 1})"
    return f"cell {where}: {num(frame.value, scene.precision)} = {frame.terms}"


def _wrap(text: str, chars: int) -> list[str]:
    """`text` in lines of at most `chars`, broken after ' + ' or ', ' (never in a number)."""
    lines, line = [], ""
    for piece in _pieces(text):
        if line and len(line) + len(piece) > chars:
            lines.append(line.rstrip())
            line = "  "
        line += piece
    lines.append(line.rstrip())
    return lines


def _pieces(text: str) -> list[str]:
    """`text` cut after each separator (' + ', ', ', ' = '), separators kept."""
    pieces, start, n = [], 0, 0
    while n < len(text):
        sep = next((sep for sep in (" + ", ", ", " = ") if text.startswith(sep, n)), None)
        if sep is None:
            n += 1
            continue
        n += len(sep)
        pieces.append(text[start:n])
        start = n
    pieces.append(text[start:])
    return [piece for piece in pieces if piece]


def _svg(layout: _Layout) -> ET.Element:
    return ET.Element(
        "svg",
        {
            "xmlns": "http://www.w3.org/2000/svg",
            "width": str(layout.width),
            "height": str(layout.height),
            "viewBox": f"0 0 {layout.width} {layout.height}",
        },
    )


def _text(parent, x, y, text, cls, **attrs) -> ET.Element:
    node = ET.SubElement(parent, "text", {"x": _px(x), "y": _px(y), "class": cls, **attrs})
    node.text = text
    return node


def _rect(parent, x, y, w, h, cls, **attrs) -> ET.Element:
    return ET.SubElement(
        parent,
        "rect",
        {"x": _px(x), "y": _px(y), "width": _px(w), "height": _px(h), "class": cls, **attrs},
    )


def _px(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _static(root, scene: Scene, layout: _Layout) -> None:
    """The title, the padded input with its numbers, the empty output grids."""
    _text(root, MARGIN, MARGIN + TITLE // 2, scene.title, "title")
    c, hp, wp = scene.padded.shape
    grid = ET.SubElement(root, "g", {"id": "input"})
    for n in range(c):
        x0, y0 = layout.cell(n, 0, 0)
        name = "input (padding dashed)" if scene.is_pad.any() else "input"
        _text(grid, x0, y0 - LABEL // 2, name if c == 1 else f"channel {n + 1}", "label")
        for r in range(hp):
            for q in range(wp):
                x, y = layout.cell(n, r, q)
                pad = bool(scene.is_pad[r, q])
                _rect(grid, x, y, CELL, CELL, "pad" if pad else "cell")
                value = num(scene.padded[n, r, q], scene.precision)
                _text(grid, x + CELL / 2, y + CELL / 2, value, "v padv" if pad else "v")
    outs = ET.SubElement(root, "g", {"id": "output"})
    k, ho, wo = scene.output.shape
    for m in range(k):
        x0, y0 = layout.out_cell(m, 0, 0)
        _text(outs, x0, y0 - LABEL // 2, scene.out_labels[m], "label")
        for i in range(ho):
            for j in range(wo):
                x, y = layout.out_cell(m, i, j)
                crop = scene.cropped is not None and scene.cropped[i, j]
                _rect(outs, x, y, CELL, CELL, "pad" if crop else "out")
    if scene.cropped is not None:  # cells no stamp reaches hold the bias (or 0)
        touched = {(k, y, x) for f in scene.frames for k, y, x, *_ in f.stamp}
        for m in range(k):
            for i in range(ho):
                for j in range(wo):
                    if (m, i, j) not in touched:
                        x, y = layout.out_cell(m, i, j)
                        value = num(scene.start[m], scene.precision)
                        _text(outs, x + CELL / 2, y + CELL / 2, value, "v padv")
    if scene.note:
        _text(root, MARGIN, layout.height - MARGIN - LINE // 2, scene.note, "label")


def _window(parent, frame: Frame, layout: _Layout) -> None:
    """The window of `frame` at its place: its cells on each channel it reads, each with
    its weight (conv) written small in the corner."""
    for channel, rows, cols, labels in frame.windows:
        for a, r in enumerate(rows):
            for b, q in enumerate(cols):
                x, y = layout.cell(channel, int(r), int(q))
                _rect(parent, x, y, CELL, CELL, "win")
                if labels is not None:
                    _text(parent, x + CELL - 3, y + CELL - 7, f"×{labels[a][b]}", "w")


def _sum(parent, scene: Scene, frame: Frame, layout: _Layout) -> None:
    for n, line in enumerate(_wrap(_sum_line(scene, frame), layout.chars)):
        _text(parent, MARGIN, layout.sum_y + n * LINE, line, "sum")


def _value(parent, scene: Scene, frame: Frame, layout: _Layout, **attrs) -> None:
    x, y = layout.out_cell(*frame.out)
    _text(parent, x + CELL / 2, y + CELL / 2, num(frame.value, scene.precision), "ov", **attrs)


def _best(parent, frame: Frame, layout: _Layout) -> None:
    if frame.best is not None:
        x, y = layout.cell(*frame.best)
        _rect(parent, x + 3, y + 3, CELL - 6, CELL - 6, "best")


def _stamp(parent, scene: Scene, frame: Frame, layout: _Layout) -> None:
    """A transposed frame's stamp: the cells it adds to, each with its x·w."""
    for k, y, x, label, _ in frame.stamp:
        px, py = layout.out_cell(k, y, x)
        _rect(parent, px, py, CELL, CELL, "hit")
        _text(parent, px + CELL - 2, py + CELL - 7, label, "w")


def _running(parent, scene: Scene, k, y, x, value, layout: _Layout, **attrs) -> None:
    px, py = layout.out_cell(k, y, x)
    _text(parent, px + CELL / 2, py + CELL / 2 - 4, num(value, scene.precision), "ov", **attrs)


def still(scene: Scene, n: int) -> str:
    """Frame n (0-based) alone: the window at its place, the outputs 0..n filled in (a
    transposed convolution: pixel n's stamp, every cell's sum so far)."""
    for index, svg in enumerate(stills(scene)):
        if index == n:
            return svg
    raise IndexError(n)


def stills(scene: Scene):
    """Every frame alone, in order (`still`), made in one pass: the static grid is drawn
    and serialised once, and each frame adds only what changes."""
    layout = _Layout(scene)
    root = _svg(layout)
    ET.SubElement(root, "style").text = STYLE
    _static(root, scene, layout)
    head = _serialise(root).rstrip()
    assert head.endswith("</svg>")
    head = head[: -len("</svg>")]
    filled, latest = [], {}
    for frame in scene.frames:
        moving = ET.Element("g", {"id": "window"})
        _window(moving, frame, layout)
        values = ET.Element("g")
        if scene.cropped is not None:
            _stamp(moving, scene, frame, layout)
            for k, y, x, _, value in frame.stamp:
                cell = ET.Element("g")
                _running(cell, scene, k, y, x, value, layout)
                latest[k, y, x] = _serialise(cell[0]).strip()
            shown = "\n".join(latest.values())
        else:
            _best(moving, frame, layout)
            _rect(moving, *layout.out_cell(*frame.out), CELL, CELL, "hit")
            _value(values, scene, frame, layout)
            filled.append(_serialise(values[0]).strip())
            shown = "\n".join(filled)
        words = ET.Element("g")
        _sum(words, scene, frame, layout)
        yield f"{head}{_serialise(moving)}{shown}\n{_serialise(words)}</svg>\n"


def stills_size(scene: Scene) -> int:
    """About how many bytes the stills of `scene` take (for the budget)."""
    c, hp, wp = scene.padded.shape
    k, ho, wo = scene.output.shape
    n = len(scene.frames)
    window = max(
        (sum(len(r) * len(q) for _, r, q, _ in f.windows) for f in scene.frames[:1]), default=0
    )
    per_frame = c * hp * wp + k * ho * wo + window + 40
    return n * (per_frame * 110 + (n + 1) * 50)


def animated(scene: Scene, fps: float = 1.0) -> str:
    """The whole loop as one SVG: frames 1/fps seconds apart, then again from the start."""
    layout = _Layout(scene)
    root = _svg(layout)
    style = ET.SubElement(root, "style")
    rules = [STYLE]
    n = len(scene.frames)
    period = n / fps
    timing = f"{period:g}s step-end infinite"
    _static(root, scene, layout)
    if scene.cropped is not None:
        rules += _animate_stamps(root, scene, layout, fps, timing)
        style.text = "\n".join(rules)
        return _serialise(root)

    # The windows: one drawing per filter (its weights and channels differ), drawn at
    # its first frame, (k, 0, 0), and moved frame to frame; shown for its own frames.
    groups = _window_groups(scene)
    corners = [layout.cell(0, *_corner(f)[1:]) for f in scene.frames]
    for start, stop in groups:
        outer = ET.SubElement(root, "g", {"class": f"s{start}"} if len(groups) > 1 else {})
        inner = ET.SubElement(outer, "g")
        _window(inner, scene.frames[start], layout)
        _motion(inner, corners, period)
        if len(groups) > 1:
            rules.append(_span_rule(f"s{start}", start, stop, n, timing))
    # The output cell being filled, moved the same way.
    hit = ET.SubElement(root, "g")
    _rect(hit, *layout.out_cell(*scene.frames[0].out), CELL, CELL, "hit")
    _motion(hit, [layout.out_cell(*f.out) for f in scene.frames], period)
    # Per frame: its value (from its frame to the end of the loop), its sum (its frame
    # only) and pooling's winner.
    for index, frame in enumerate(scene.frames):
        if index == 0:
            _value(root, scene, frame, layout)
        else:
            _value(root, scene, frame, layout, style=f"animation:o{index} {timing}")
            rules.append(_keyframes(f"o{index}", [(0, "hidden"), (index / n, "visible")]))
        shown = ET.SubElement(
            root, "g", {"class": "f", "style": f"animation-delay:{index / fps:g}s"}
        )
        _sum(shown, scene, frame, layout)
        _best(shown, frame, layout)
    rules.append(f".f {{ visibility: hidden; animation: f {timing}; }}")
    rules.append(_keyframes("f", [(0, "visible"), (1 / n, "hidden")]))
    style.text = "\n".join(rules)
    return _serialise(root)


def _animate_stamps(root, scene: Scene, layout: _Layout, fps: float, timing: str) -> list:
    """A transposed convolution's loop: each frame shows its pixel and its stamp; each
    cell's running sum is shown from the stamp that makes it until the next one."""
    n = len(scene.frames)
    rules, spans = [], {}
    history: dict = {}
    for index, frame in enumerate(scene.frames):
        for k, y, x, _, value in frame.stamp:
            history.setdefault((k, y, x), []).append((index, value))
    for (k, y, x), changes in history.items():
        for m, (index, value) in enumerate(changes):
            stop = changes[m + 1][0] if m + 1 < len(changes) else n
            name = spans.setdefault((index, stop), f"r{index}_{stop}")
            _running(root, scene, k, y, x, value, layout, style=f"animation:{name} {timing}")
    for (index, stop), name in spans.items():
        stops = [(0, "hidden"), (index / n, "visible")] if index else [(0, "visible")]
        if stop < n:
            stops.append((stop / n, "hidden"))
        rules.append(_keyframes(name, stops))
    for index, frame in enumerate(scene.frames):
        shown = ET.SubElement(
            root, "g", {"class": "f", "style": f"animation-delay:{index / fps:g}s"}
        )
        _window(shown, frame, layout)
        _stamp(shown, scene, frame, layout)
        _sum(shown, scene, frame, layout)
    rules.append(f".f {{ visibility: hidden; animation: f {timing}; }}")
    rules.append(_keyframes("f", [(0, "visible"), (1 / n, "hidden")]))
    return rules


def _corner(frame: Frame) -> tuple:
    channel, rows, cols, _ = frame.windows[0]
    return channel, int(rows[0]), int(cols[0])


def _window_groups(scene: Scene) -> list[tuple[int, int]]:
    """[start, stop) of the frames of each filter (or pooled channel), in order."""
    starts = [
        n for n, f in enumerate(scene.frames) if n == 0 or f.out[0] != scene.frames[n - 1].out[0]
    ]
    return list(zip(starts, starts[1:] + [len(scene.frames)], strict=True))


def _motion(group, places: list, period: float) -> None:
    """Make `group` jump to each of `places` in turn (SMIL: it runs where CSS transform
    animations of SVG groups do not, and on the same clock as the CSS visibility)."""
    first, n = places[0], len(places)
    values = ";".join(f"{x - first[0]} {y - first[1]}" for x, y in places)
    times = ";".join(f"{index / n:.6f}".rstrip("0").rstrip(".") for index in range(n))
    ET.SubElement(
        group,
        "animateTransform",
        {
            "attributeName": "transform",
            "type": "translate",
            "values": values,
            "keyTimes": times,
            "calcMode": "discrete",
            "dur": f"{period:g}s",
            "repeatCount": "indefinite",
        },
    )


def _span_rule(cls: str, start: int, stop: int, n: int, timing: str) -> str:
    frames = [(0, "hidden"), (start / n, "visible"), (stop / n, "hidden")]
    if start == 0:
        frames = [(0, "visible"), (stop / n, "hidden")]
    return f".{cls} {{ visibility: hidden; animation: {cls} {timing}; }}\n" + _keyframes(
        cls, frames
    )


def _keyframes(name: str, stops: list) -> str:
    body = "".join(f"{_percent(at)}{{visibility:{value}}}" for at, value in stops)
    if stops[-1][0] < 1:
        body += f"100%{{visibility:{stops[-1][1]}}}"
    return f"@keyframes {name} {{{body}}}"


def _percent(fraction: float) -> str:
    return f"{100 * fraction:.4f}".rstrip("0").rstrip(".") + "%"


def _serialise(root: ET.Element) -> str:
    ET.indent(root, space="")
    return ET.tostring(root, encoding="unicode") + "\n"
