"""Every `-f latex` output is valid LaTeX: maths only inside $…$, $$…$$ or \\[…\\], every
maths segment rendered by KaTeX 0.16 with errors on (strict), text escaped, braces and
environments balanced, and no `%` comment hiding words a reader needs.

KaTeX comes from the npm registry (`npm install katex@0.16` into a cache directory, reused
when present); all segments of all outputs go to ONE node process. Without node or npm, or
when the install fails, the KaTeX test is skipped with the reason; the other checks still run.
A lenient parser (latex2mathml) is not enough: it accepts `1\\times1\\{,}(64)`.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from cnnrnn_cli.cli.main import cli

NOTES = Path(__file__).resolve().parents[2] / "shared" / "notes" / "lecture-notes.md"
KATEX_DIR = Path(os.environ.get("CNNRNN_KATEX_DIR", Path.home() / ".cache" / "cnnrnn-test-katex"))


def _resblock_random(n: int) -> str:
    """`--random N` (the new form) or `--random --size N` (the old flag), whichever exists."""
    command = cli.get_command(None, "resblock")
    option = next(p for p in command.params if p.name == "random_case")
    return f"--random --size {n}" if option.is_flag else f"--random {n}"


CASES = [
    "conv --example",
    "pool --example",
    "outsize --example",
    "resblock --example",
    "inception --example",
    "gru-step --example",
    "bptt --example",
    "tour",
    # seeded random and larger cases
    "bptt --random 20,2,3 --seed 0",
    "bptt --random 20,2,3 --seed 0 --activation relu --lr 0.1",
    "bptt --random 4,2,2 --seed 1 --activation sigmoid --check",
    "bptt --random 400,2,2 --seed 0 --scale 0.1",
    "bptt --xs '1; 2; 3' --wx 1 --wh 0.5 --targets '1; 0; 1'",
    "bptt --example --compare",
    "bptt --cell gru --random 6,2,3 --seed 0 --clip 0.1 --check --lr 0.1",
    "bptt --cell gru --random 6,2,3 --seed 0 --reset-before --z-keeps new --tol 0.3",
    "bptt --cell lstm --random 6,2,3 --seed 0 --truncate 2 --at 3",
    "bptt --random 5,2,2 --seed 0 --targets '1 0; 0 1; 1 1; 0 0; 1 0' --truncate 2",
    f"resblock {_resblock_random(4)} --seed 0 --depth 5",
    f"resblock {_resblock_random(3)} --seed 2 --activation tanh",
    "resblock --example --activation sigmoid",
    "resblock --example --activation identity --depth 3",
    'gru-step --random 2,3 --seed 0 --xs "1 2; 3 4; 5 6"',
    "gru-step --example --reset-before --z-keeps new",
    "gru-step --random 3,20 --seed 1",
    "lstm-step --example",
    'lstm-step --random 2,3 --seed 0 --xs "1 2; 3 4; 5 6" --at 2 --unit 3',
    "lstm-step --random 3,20 --seed 1 --tol 0.3",
    "lstm-step --example --tol 0.001",
    "lstm-step --example --bi '0 0 0'",
    "inception --preset 3a",
    "inception --preset 4a --no-bias",
    "inception --example --compute",
    'outsize 3x224x224 --layers "conv k=7 s=2 p=3 c=64; maxpool k=3 s=2 p=1"',
    'outsize 224 --layers "conv k=3 s=2; avgpool k=2"',
    "outsize 5 -k 3 --same",
    "outsize 7 -k 3 -s 2 --transposed --output-padding 1",
    "outsize 6 -k 3 -s 2 --ceil",
    "outsize 10x7 -k 3x2 -s 2 -d 2",
    "outsize 8 -k 3 -s 3",
    "outsize 5 -k 3 -s 2 -p same",
    "conv '1 2; 3 4 | 5 6; 7 8' -k '1 0; 0 1 | 0 1; 1 0'",
    "conv '1 2 | 3 4' -k '1 | 1'",
    "conv '1 -2 3; -4 5 -6; 7 -8 9' -k '[[[[1,0],[0,1]]],[[[0,-1],[1,0]]]]' -b '0.5 -1'",
    "conv '1 2 3 4; 5 6 7 8; 9 10 11 12; 13 14 15 16' -k '1 0; 0 -1' -s 2 -p 1 --flip",
    "conv --example --steps 2",
    "conv --example -p same --pad-mode reflect --at 1,1",
    "conv '1 2 3 4 5 6' -k '1 -1' -d 2",
    "conv '1 2; 3 4 | 5 6; 7 8' -k '1 0; 0 1'",
    "outsize 32 -k 3 -c 16 -p same",
    "outsize 8x8 -k 3 -s 2 -p 1x0",
    "pool --example --mode avg",
    "pool '1 2 3; 4 5 6; 7 8 9' --mode avg -k 2 -s 2 -p 1 --ceil --no-count-include-pad",
    "pool '1 -2 3; 4 5 -6; 7 8 9' --mode l2 -k 2 -s 1",
    "pool '1 2; 3 4 | 5 6; 7 8' --global --mode sum",
    "pool '1 2 3 4; 5 6 7 8; 9 10 11 12; 13 14 15 16' --grad '1 2; 3 4'",
    "pool '1 2 3; 4 5 6; 7 8 9' --mode min -p 1",
    # numbers in e-notation, and an L2 window of them: 10^{30} squared needs its brackets
    "conv '1e20 2; 3 -4e-9' -k '1 0; 0 -1' -p 1",
    "pool '1e30 -2; 3 4' -k 1 --mode l2",
    "gallery",
    # conv's groups, transposed convolution and backward pass
    "conv '1 2; 3 4' -k '1 0 1; 0 1 0; 1 0 1' --transposed -s 2 -p 1 --output-padding 1",
    "conv --example --grad '1 0 0; 0 1 0; 0 0 1' -b 1",
    "conv --example -s 2 --grad '1 -1; 0.5 2'",
    "conv '1 2 | 3 4 | 5 6 | 7 8' -k '1 | 2 | 3 | 4' -g 4",
]

# Commands allowed in the text (outside maths), and environments allowed inside maths.
TEXT_COMMANDS = {
    "section",
    "subsection",
    "emph",
    "textbf",
    "textit",
    "texttt",
    "noindent",
    "par",
    "textbackslash",
    "textasciitilde",
    "textasciicircum",
    "ldots",
    "dots",
    "quad",
    "medskip",
    "smallskip",
}
MATH_ENVIRONMENTS = {
    "array",
    "pmatrix",
    "bmatrix",
    "matrix",
    "vmatrix",
    "aligned",
    "gathered",
    "cases",
    "smallmatrix",
}


def run_latex(argv: str) -> str:
    from click.testing import CliRunner

    result = CliRunner().invoke(cli, [*shlex.split(argv), "-f", "latex"], catch_exceptions=False)
    assert result.exit_code == 0, (argv, result.stderr)
    return result.stdout


def _find(text: str, delim: str, start: int) -> int:
    """Index of the next `delim` at or after start that is not escaped by a backslash."""
    j = start
    while j < len(text):
        if text[j] == "\\" and not delim.startswith("\\"):
            j += 2
            continue
        if text.startswith(delim, j):
            return j
        j += 1
    return -1


def split_latex(text: str):
    """(maths segments as (tex, display), the text with each segment replaced by `M`,
    problems): a LaTeX document body taken apart by its maths delimiters."""
    maths, prose, problems = [], [], []
    i = 0
    while i < len(text):
        c = text[i]
        if text.startswith("\\[", i) or text.startswith("$$", i) or c == "$":
            opener, closer, display = (
                ("\\[", "\\]", True)
                if c == "\\"
                else ("$$", "$$", True)
                if text.startswith("$$", i)
                else ("$", "$", False)
            )
            end = _find(text, closer, i + len(opener))
            if end < 0:
                problems.append(f"unclosed {opener} at {text[i : i + 40]!r}")
                return maths, "".join(prose), problems
            maths.append((text[i + len(opener) : end], display))
            prose.append("M")
            i = end + len(closer)
        elif text.startswith("\\(", i):
            problems.append("\\( is not one of the three maths delimiters")
            i += 2
        elif c == "\\":
            prose.append(text[i : i + 2])
            i += 2
        elif c == "%":
            eol = text.find("\n", i)
            eol = len(text) if eol < 0 else eol
            problems.append(f"a % comment hides {text[i:eol]!r}: corrections are visible text")
            i = eol
        else:
            prose.append(c)
            i += 1
    return maths, "".join(prose), problems


def _braces(text: str) -> str | None:
    depth = 0
    for c in re.sub(r"\\[\\{}]", "", text):
        depth += {"{": 1, "}": -1}.get(c, 0)
        if depth < 0:
            return "a } closes nothing"
    return None if depth == 0 else f"{depth} unclosed {{"


def _environments(text: str, allowed: set[str] | None) -> list[str]:
    problems, stack = [], []
    for kind, name in re.findall(r"\\(begin|end)\{([^}]*)\}", text):
        if kind == "begin":
            if allowed is not None and name not in allowed:
                problems.append(f"environment {name} does not belong here")
            stack.append(name)
        elif not stack or stack.pop() != name:
            problems.append(f"\\end{{{name}}} without its \\begin")
    return problems + [f"\\begin{{{name}}} never ends" for name in stack]


def check_structure(text: str) -> list[str]:
    """Everything but KaTeX: delimiters, text escapes, braces, environments, ASCII."""
    maths, prose, problems = split_latex(text)
    for n, ch in enumerate(text):
        if ord(ch) > 127:
            where = text[max(0, n - 30) : n + 10]
            problems.append(f"non-ASCII {ch!r} (U+{ord(ch):04X}) in {where!r}")
            break
    for name in re.findall(r"\\([A-Za-z]+)", prose):
        if name not in TEXT_COMMANDS:
            problems.append(f"\\{name} outside maths")
    bare = re.sub(r"\\[A-Za-z]+\*?|\\.", "", prose)
    for ch in "^_&#<>|":
        if ch in bare:
            problems.append(f"unescaped {ch!r} in text: {prose[:200]!r}")
    if message := _braces(prose):
        problems.append(f"text: {message}")
    problems += _environments(prose, set())
    for tex, _ in maths:
        if not tex.strip():
            problems.append("an empty maths segment")
        if message := _braces(tex):
            problems.append(f"maths: {message} in {tex[:80]!r}")
        problems += _environments(tex, MATH_ENVIRONMENTS)
    return problems


@pytest.fixture(scope="session")
def outputs() -> dict[str, str]:
    return {case: run_latex(case) for case in CASES}


@pytest.mark.parametrize("case", CASES)
def test_latex_is_well_formed(outputs, case):
    assert check_structure(outputs[case]) == []


def test_the_checker_catches_the_known_bugs():
    assert check_structure(r"$$1\times1\,(64)$$") == []
    assert any("outside maths" in p for p in check_structure(r"1 \times 1 $x$"))
    assert any("comment" in p for p in check_structure("$$a_2$$\n% the notes call it a_3"))
    assert any("unescaped" in p for p in check_structure("w_1 and $x$"))
    assert any("unclosed" in p for p in check_structure("$$x"))
    assert any("align*" in p for p in check_structure("\\begin{align*} x \\end{align*}"))
    assert any("non-ASCII" in p for p in check_structure("$a − b$"))
    assert split_latex(r"a \$ b $x$ $$y$$ \[z\]")[0] == [("x", False), ("y", True), ("z", True)]


# --- KaTeX ----------------------------------------------------------------------------------

NODE_SCRIPT = r"""
const katex = require(process.argv[1]);
let input = "";
process.stdin.on("data", d => input += d);
process.stdin.on("end", () => {
  const failures = [];
  for (const [key, tex, display] of JSON.parse(input)) {
    try {
      katex.renderToString(tex, {displayMode: display, throwOnError: true, strict: "error"});
    } catch (e) {
      failures.push([key, tex, String(e.message)]);
    }
  }
  process.stdout.write(JSON.stringify({version: katex.version, failures}));
});
"""


@pytest.fixture(scope="session")
def katex_module() -> Path:
    """The katex package, installed once from the npm registry into a cache directory."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        missing = [name for name, path in (("node", node), ("npm", npm)) if not path]
        pytest.skip(f"node and npm are needed to render with KaTeX 0.16: no {' or '.join(missing)}")
    module = KATEX_DIR / "node_modules" / "katex"
    try:
        version = json.loads((module / "package.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        version = ""
    if not version.startswith("0.16."):
        try:
            done = subprocess.run(
                [
                    npm,
                    "install",
                    "--prefix",
                    str(KATEX_DIR),
                    "--no-audit",
                    "--no-fund",
                    "--fetch-retries=1",
                    "--fetch-timeout=30000",
                    "katex@0.16",
                ],
                capture_output=True,
                text=True,
                timeout=120,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            pytest.skip(f"npm install katex@0.16 failed: {exc}")
        if done.returncode != 0 or not (module / "package.json").exists():
            errors = [
                line
                for line in done.stderr.splitlines()
                if line.strip() and "complete log" not in line
            ]
            pytest.skip("npm install katex@0.16 failed: " + " / ".join(errors[:2] or ["no output"]))
    return module


def katex_render(module: Path, segments: list) -> tuple[str, list]:
    """(KaTeX's version, failures as [key, tex, message]) for [key, tex, display] segments,
    all in one node process."""
    done = subprocess.run(
        [shutil.which("node"), "-e", NODE_SCRIPT, str(module)],
        input=json.dumps(segments),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    return report["version"], report["failures"]


@pytest.fixture(scope="session")
def katex_failures(outputs, katex_module) -> dict:
    segments = [
        [case, tex, display]
        for case, text in outputs.items()
        for tex, display in split_latex(text)[0]
    ]
    if NOTES.exists():  # strict mode accepts all that the notes themselves write
        notes = re.findall(r"\$\$(.*?)\$\$", NOTES.read_text(), flags=re.S)
        segments += [["the notes", tex.strip(), True] for tex in notes]
    version, failures = katex_render(katex_module, segments)
    assert version.startswith("0.16."), version
    by_case = {}
    for key, tex, message in failures:
        by_case.setdefault(key, []).append((message, tex[:300]))
    return by_case


@pytest.mark.parametrize("case", CASES)
def test_every_maths_segment_renders_in_katex(katex_failures, case):
    assert katex_failures.get(case, []) == []


def test_katex_renders_the_notes_in_strict_mode(katex_failures):
    assert katex_failures.get("the notes", []) == []


def test_katex_rejects_the_old_inception_bug(katex_module):
    _, failures = katex_render(
        katex_module, [["bug", r"1\times1\{,}(64)", True], ["fixed", r"1\times1\,(64)", True]]
    )
    assert [key for key, *_ in failures] == ["bug"]


# --- the words a reader needs are in the rendered text ------------------------------------


def _visible(text: str) -> str:
    """The text as read: comments gone."""
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("%"))


def test_resblock_names_a3_in_visible_text(outputs):
    shown = _visible(outputs["resblock --example"])
    assert "a_3" in shown and "second activation" in shown


def test_gru_names_the_notes_slips_and_its_cases(outputs):
    shown = _visible(outputs["gru-step --example"])
    assert "own" in shown and "same" in shown  # each gate its own W_x and b; the notes: same
    for case in (
        "case 1",
        "case 2",
        "case 3",
        "short-term memory",
        "long-term memory",
        "no memory",
    ):
        assert case in shown, case


def test_bptt_names_the_notes_slips_and_keeps_tiny_norms(outputs):
    shown = _visible(outputs["bptt --example"])
    assert r"1 - \tanh^2" in shown  # the notes write tanh where its derivative belongs
    assert "one loss $L = L_T$" in shown and "learning rate too" in shown
    assert r"h_1 = \tanh(0.5 \cdot 1 + 0.8 \cdot 0 + 0) = \tanh(0.5) = 0.4621" in shown
    tiny = outputs["bptt --random 400,2,2 --seed 0 --scale 0.1"]
    row = re.search(r"\^\{T-t\} \\\\ \\hline 1 & ([^&]+)&", tiny)
    assert row and "10^{-" in row.group(1), tiny[-600:]  # log space: 10^{-400}, not 0
