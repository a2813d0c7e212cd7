"""The hostile user: every bad or extreme input ends in one clean `Error:` line and exit 2
(or a correct result), within a memory bound, never a traceback, never a hang, never a
damaged file.

Every case runs `cnnrnn` as a real process under `RLIMIT_AS` with its peak RSS measured
(see tests/adversarial_cases.py). The cases run a few at a time in one session fixture;
each is then reported as its own test. Issue 10's reproductions are all here verbatim
(the `issue-` cases), and the rest go beyond them.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import adversarial_cases as ac
import numpy as np
import pytest
from adversarial_cases import (
    CLEAN,
    ERROR,
    HOLD,
    INTERRUPTED,
    OK,
    QUIET,
    SILENT_FAILURE,
    TIGHT,
    Case,
    all_of,
    chain,
    fifo,
    file_unchanged,
    files,
    forever,
    is_char_device,
    lacks,
    link,
    mkdir,
    no_file,
    npy,
    npy_header,
    npz,
    only_files,
    raw_zip,
    stdout_is,
    still_symlink,
    strict_json,
    svg_written,
    symlink,
    then,
    urandom_forever,
)

DEEP = "[" * 1000 + "1" + "]" * 1000
DEEP_OBJECT = '{"a": ' * 1000 + "1" + "}" * 1000
BIG = "1" + "0" * 4300  # 4301 digits: past Python's int-to-str limit
HUGE = "9" * 5000
C3000 = "1" + "0" * 3000  # 10^3000
CONV_IMAGE = "1 1 1 0 0; 0 1 1 1 0; 0 0 1 1 1; 0 0 1 1 0; 0 1 1 0 0"
OLD_SVG = b"<svg>the old picture</svg>\n"
FORMATS = ("plain", "json", "csv", "rich", "latex")


def E(id, *argv, **kw):
    return Case(id, list(argv), ERROR, **kw)


def K(id, *argv, **kw):
    return Case(id, list(argv), OK, **kw)


def C(id, *argv, **kw):
    return Case(id, list(argv), CLEAN, **kw)


def T(id, *argv, **kw):
    """A refusal for size that must come before 64 MB over start-up."""
    kw.setdefault("rss_mb", TIGHT)
    return Case(id, list(argv), kw.pop("expect", ERROR), **kw)


CASES: list[Case] = [
    # --- issue 10, "What was found" 1: memory bombs past --max-elements ------------------
    T("issue-1-dev-zero", "conv", "@/dev/zero", "-k", "1"),
    T("issue-1-urandom-stdin", "conv", "-k", "1", stdin=urandom_forever()),
    T("issue-1-20M-lines-file", "conv", "@ones.txt", "-k", "1", "--max-elements", "1000",
      setup=link("ones-20M.txt", "ones.txt"), fragments=("max-elements",)),
    T("issue-1-20M-lines-stdin", "conv", "-k", "1", "--max-elements", "1000",
      stdin=forever(b"1\n" * 65536, 40_000_000), fragments=("max-elements",)),
    T("issue-1-npz-bomb", "bptt", "--weights", "@bomb.npz", setup=link("bomb.npz"),
      fragments=("max-elements",)),
    T("issue-1-npz-header-1e6x1e6", "bptt", "--weights", "@w.npz",
      setup=files(w__npz=raw_zip(xs__npy=ac.npy_header((10**6, 10**6))))),
    E("issue-1-padded-stride", "conv", "1", "-k", "1", "-p", "20000", "-s", "100000",
      fragments=("max-elements",)),
    # -k 2 is the 1×1 kernel [2]: d(F−1) = 0, no padding at all, a result.
    K("issue-1-dilated-same", "conv", "1 2; 3 4", "-k", "2", "-d", "30000", "-p", "same",
      "-f", "plain", check=stdout_is("2 4\n6 8\n")),
    E("issue-1-dilated-same-2x2-kernel", "conv", "1 2; 3 4", "-k", "1 1; 1 1", "-d", "30000",
      "-p", "same", fragments=("max-elements",)),
    E("issue-1-pool-padding", "pool", "1", "-k", "20000", "-p", "10000",
      fragments=("max-elements",)),
    E("issue-1-inception-weights", "inception", "1x1x1", "--n1x1", "1", "--n3x3red", "10000",
      "--n3x3", "10000", "--n5x5red", "1", "--n5x5", "1", "--pool-proj", "1", "--compute",
      fragments=("max-elements",)),
    # 9999×9999 = 99,980,001 elements is within the default budget: a result, streamed.
    C("issue-1-json-padded-1e8", "conv", "1", "-k", "1", "-p", "4999", "-f", "json",
      stdout="null", rss_mb=2600, as_mb=3500, timeout=180),
    E("issue-1-resblock-depth-1e9", "resblock", "--example", "--depth", "1000000000"),
    # --- 2: overflow in the eigenvalue powers -------------------------------------------
    K("issue-2-bptt-exploding-rich", "bptt", "--random", "1000,1,1", "--scale", "3",
      "--seed", "0", "-f", "rich"),
    # --- 3: deep JSON -------------------------------------------------------------------
    E("issue-3-deep-literal", "conv", DEEP, "-k", "1", fragments=("deeper than 32",)),
    E("issue-3-deep-file", "conv", "@x.json", "-k", "1", setup=files(x__json=DEEP),
      fragments=("deeper than 32",)),
    E("issue-3-deep-stdin", "conv", "-", "-k", "1", stdin=DEEP.encode(),
      fragments=("deeper than 32",)),
    E("issue-3-deep-weights", "bptt", "--weights", "@w.json",
      setup=files(w__json=json.dumps({"wh": 0})[:-2] + DEEP + "}"),
      fragments=("deeper than 32",)),
    # --- 4: integers of more than 4300 digits -------------------------------------------
    E("issue-4-outsize-4301-digits", "outsize", BIG, "-k", "3"),
    C("issue-4-layers-c-10^3000-plain", "outsize", "1x4x4", "--layers",
      f"conv k=1 c={C3000}; conv k=1 c={C3000}", "-f", "plain"),
    C("issue-4-layers-c-10^3000-json", "outsize", "1x4x4", "--layers",
      f"conv k=1 c={C3000}; conv k=1 c={C3000}", "-f", "json"),
    C("issue-4-layers-c-10^3000-rich", "outsize", "1x4x4", "--layers",
      f"conv k=1 c={C3000}; conv k=1 c={C3000}", "-f", "rich"),
    E("issue-4-layers-c-caret-literally", "outsize", "1x4x4", "--layers",
      "conv k=1 c=10^3000; conv k=1 c=10^3000"),
    # --- 5: other tracebacks ------------------------------------------------------------
    E("issue-5-seed-minus-1-bptt", "bptt", "--random", "3,1,1", "--seed", "-1"),
    E("issue-5-seed-minus-1-resblock", "resblock", "--random", "--seed", "-1"),
    E("issue-5-seed-minus-1-gru", "gru-step", "--random", "2,3", "--seed", "-1"),
    E("issue-5-seed-minus-1-inception", "inception", "--example", "--compute", "--seed", "-1"),
    E("issue-5-at-superscript", "conv", "--example", "--at", "²,1"),
    E("issue-5-random-superscript", "bptt", "--random", "²,1,1"),
    E("issue-5-random-arabic-indic", "bptt", "--random", "٣,1,1"),
    E("issue-5-at-arabic-indic", "conv", "--example", "--at", "٣,1"),
    E("issue-5-npz-member-not-npy", "bptt", "--weights", "@w.npz",
      setup=files(w__npz=raw_zip(xs__npy=b"hello, not an array", wh__npy=b"\x93NUMPY junk")),
      absent=("pickle",)),
    *[E(f"issue-5-dev-full-{fmt}", "conv", "--example", "-f", fmt, stdout="full")
      for fmt in FORMATS],
    E("issue-5-dev-full-help", "--help", stdout="full"),
    E("issue-5-dev-full-conv-help", "conv", "--help", stdout="full"),
    E("issue-5-dev-full-version", "--version", stdout="full"),
    E("issue-5-dev-full-outsize", "outsize", "3", "-k", "2", stdout="full"),
    E("issue-5-dev-full-tour", "tour", "-f", "rich", stdout="full"),
    E("issue-5-closed-stdout", "conv", "--example", "-f", "plain", stdout="closed"),
    E("issue-5-closed-stdout-rich", "bptt", "--example", "-f", "rich", stdout="closed"),
    E("issue-5-closed-stdout-help", "--help", stdout="closed"),
    E("issue-5-closed-stdin", "conv", "-k", "1", stdin="closed", fragments=("no input",)),
    E("issue-5-closed-stdin-dash", "conv", "-", "-k", "1", stdin="closed"),
    E("issue-5-closed-stdin-pool", "pool", stdin="closed"),
    # Ctrl-C while the modules load: the moment each extension module is mapped (click's
    # first, NumPy's core, NumPy's linalg, the JSON writer), so as not to land in the
    # interpreter's own start-up, before any line of cnnrnn runs.
    *[Case(f"issue-5-ctrl-c-during-imports-{so}", ["conv", "--example", "-f", "json"],
           INTERRUPTED, sigint_on=f"/{so}.", sigint_after=0.0)
      for so in ("_opcode", "_datetime", "_multiarray_umath", "_umath_linalg", "_json")],
    Case("issue-5-ctrl-c-after-numpy-20ms", ["bptt", "--example", "-f", "rich"], INTERRUPTED,
         sigint_on="/_multiarray_umath.", sigint_after=0.02),
    C("issue-5-completion-without-comp-cword", "conv",
      env={"_CNNRNN_COMPLETE": "bash_complete"}),
    C("issue-5-completion-zsh-without-words", env={"_CNNRNN_COMPLETE": "zsh_complete"}),
    # --- 6: hangs and slow work ---------------------------------------------------------
    K("issue-6-fifo-npy", "conv", "@in.npy", "-k", "1",
      setup=fifo("in.npy", b"".join([npy_header((2, 2)), np.arange(4.0).tobytes()])),
      check=stdout_is("0 1\n2 3\n")),
    K("issue-6-bptt-h3000", "bptt", "--random", "2,1,3000", "-f", "plain", rss_mb=900,
      as_mb=1500),
    K("issue-6-bptt-1000-64-512", "bptt", "--random", "1000,64,512", "-f", "plain",
      rss_mb=900, as_mb=1500),
    Case("issue-6-ctrl-c-in-eigensolver", ["bptt", "--random", "2,1,3000", "-f", "plain"],
         INTERRUPTED, sigint_after=2.0, rss_mb=900, as_mb=1500),
    Case("issue-6-ctrl-c-long-bptt", ["bptt", "--random", "1000,64,512", "-f", "plain"],
         INTERRUPTED, sigint_after=1.5, rss_mb=900, as_mb=1500),
    # --- 7: --svg damages files ---------------------------------------------------------
    E("issue-7-svg-disk-full", "conv", "--example", "--svg", "old.svg", "-f", "plain",
      setup=files(old__svg=OLD_SVG), fsize=4096,
      check=all_of(file_unchanged("old.svg", OLD_SVG), only_files("old.svg"))),
    E("issue-7-svg-on-failure", "conv", "--example", "--svg", "c.svg", "--only", "nope",
      check=all_of(no_file("c.svg"), only_files())),
    E("issue-7-svg-on-failure-keeps-old", "conv", "--example", "--svg", "c.svg", "--only",
      "nope", setup=files(c__svg=OLD_SVG), check=file_unchanged("c.svg", OLD_SVG)),
    E("issue-7-svg-over-input", "conv", "@in.txt", "-k", "1", "--svg", "in.txt",
      setup=files(in__txt="1 2\n3 4\n"), check=file_unchanged("in.txt", b"1 2\n3 4\n")),
    E("issue-7-svg-empty-name", "conv", "--example", "--svg", "", check=only_files()),
    E("issue-7-svg-dash", "conv", "--example", "--svg", "-", check=only_files()),
    # --- 8: wrong or unclear messages ---------------------------------------------------
    E("issue-8-huge-int-json", "conv", f"[{'1' + '0' * 400}, 1]", "-k", "1",
      absent=("rectangular",)),
    E("issue-8-null-json", "conv", "[null, 1]", "-k", "1", absent=("rectangular",)),
    E("issue-8-object-json", "conv", '[{"a":1}, 2]', "-k", "1", absent=("rectangular",)),
    E("issue-8-weights-names-array-and-file", "bptt", "--weights", "@w.json",
      setup=files(w__json='{"xs": [[1], [2]], "wx": [[1]], "wh": [[1, 2], [3]]}'),
      fragments=("wh", "w.json")),
    E("issue-8-corrupt-npz", "bptt", "--weights", "@w.npz",
      setup=files(w__npz=b"PK\x03\x04" + os.urandom(200)), absent=("pickle",)),
    E("issue-8-directory-npz", "bptt", "--weights", "@w.npz", setup=mkdir("w.npz"),
      absent=("not a valid .npz",)),
    E("issue-8-10MB-token-file", "conv", "@t.txt", "-k", "1",
      setup=link("token-10MB.txt", "t.txt"), max_error_len=200),
    E("issue-8-10MB-token-stdin", "conv", "-k", "1", stdin="@t.txt",
      setup=link("token-10MB.txt", "t.txt"), max_error_len=200),
    K("issue-8-one-row-image-warning", "conv", "1", "-k", "1", "-p", "3", "-s", "10",
      absent=("last 3 rows", "last 3 columns")),
    E("issue-8-outsize-0x10", "outsize", "0x10", "-k", "1",
      absent=("sizes must be 1 or more",)),
    K("issue-8-ascii-encoding", "conv", "--example", "-f", "rich", "--at", "1,1",
      env={"PYTHONIOENCODING": "ascii"},
      check=lacks("1?1")),
    E("issue-8-inception-seed-without-compute", "inception", "--preset", "3a", "--seed", "1"),
    E("issue-8-kernel-too-large-says-2P", "conv", "1 2; 3 4", "-k",
      "1 1 1 1 1; 1 1 1 1 1; 1 1 1 1 1; 1 1 1 1 1; 1 1 1 1 1", "-p", "1",
      fragments=("N + 2P", "2 + 2·1")),
]

# --- beyond the issue: integers, one ASCII grammar ---------------------------------------

UNICODE_INTS = {"arabic": "٣", "superscript": "²", "fullwidth": "３", "devanagari": "३",
                "underscore": "1_0", "hex": "0x3"}
for tag, text in UNICODE_INTS.items():
    CASES += [
        E(f"int-{tag}-outsize-input", "outsize", text, "-k", "1"),
        E(f"int-{tag}-conv-stride", "conv", CONV_IMAGE, "-k", "1", "-s", text),
        E(f"int-{tag}-pool-size", "pool", "1 2; 3 4", "-k", text),
        E(f"int-{tag}-seed", "resblock", "--random", "--seed", text),
        E(f"int-{tag}-steps", "conv", "--example", "--steps", text),
    ]
CASES += [
    E("int-fullwidth-at", "conv", "--example", "--at", "３,1"),
    E("int-fullwidth-random", "gru-step", "--random", "３,2"),
    E("int-arabic-padding", "conv", "--example", "-p", "١"),
    E("int-arabic-dilation", "conv", "--example", "-d", "٢"),
    E("int-arabic-depth", "resblock", "--example", "--depth", "٣"),
    E("int-arabic-size", "resblock", "--random", "--size", "٣"),
    E("int-arabic-n1x1", "inception", "3x8x8", "--n1x1", "٣", "--n3x3red", "1", "--n3x3",
      "1", "--n5x5red", "1", "--n5x5", "1", "--pool-proj", "1"),
    E("int-arabic-channels", "outsize", "3x8x8", "-k", "3", "-c", "٣"),
    E("int-arabic-bptt-at", "bptt", "--example", "--at", "٣"),
    E("int-arabic-precision", "conv", "--example", "--precision", "٣"),
    E("int-arabic-max-elements", "conv", "--example", "--max-elements", "١٠٠"),
    E("int-superscript-layers", "outsize", "8", "--layers", "conv k=³"),
    E("int-pdf-minus-seed", "bptt", "--random", "3,1,1", "--seed", "−1"),
    E("int-pdf-minus-size", "outsize", "−3", "-k", "1"),
    E("int-pdf-minus-padding", "conv", "--example", "-p", "−1"),
    E("int-minus-stride", "conv", "--example", "-s", "-1"),
    E("int-zero-stride", "conv", "--example", "-s", "0"),
    E("int-zero-size", "outsize", "0", "-k", "1"),
    E("int-negative-size", "outsize", "3x-4", "-k", "1"),
    E("int-zero-kernel", "pool", "1 2; 3 4", "-k", "0"),
    E("int-zero-random", "bptt", "--random", "0,1,1"),
    E("int-random-missing-part", "bptt", "--random", "3,,1"),
    E("int-random-trailing-comma", "bptt", "--random", "3,1,1,"),
    E("int-random-four-parts", "bptt", "--random", "3,1,1,1"),
    E("int-random-float", "gru-step", "--random", "2.0,3"),
    E("int-random-exponent", "gru-step", "--random", "1e1,3"),
    E("int-at-zero", "conv", "--example", "--at", "0,1"),
    E("int-at-three-parts-too-many", "conv", "--example", "--at", "1,1,1,1"),
    E("int-at-outside", "conv", "--example", "--at", "9,9"),
    E("int-depth-zero", "resblock", "--example", "--depth", "0"),
    E("int-steps-one-bptt", "bptt", "--example", "--steps", "1"),
    E("int-precision-negative", "conv", "--example", "--precision", "-1"),
    # huge integers: as sizes, counts, seeds, positions
    E("huge-kernel", "outsize", "8", "-k", BIG),
    E("huge-stride-conv", "conv", "--example", "-s", HUGE),
    E("huge-padding-conv", "conv", "--example", "-p", BIG),
    E("huge-padding-outsize", "outsize", "8", "-k", "3", "-p", HUGE),
    E("huge-dilation", "conv", "--example", "-d", BIG),
    E("huge-at", "conv", "--example", "--at", f"{BIG},1"),
    E("huge-random-T", "bptt", "--random", f"{BIG},1,1"),
    E("huge-random-gru", "gru-step", "--random", f"1,{HUGE}"),
    E("huge-depth", "resblock", "--example", "--depth", HUGE),
    E("huge-depth-20-digits", "resblock", "--random", "--depth", "99999999999999999999"),
    E("huge-size", "resblock", "--random", "--size", BIG),
    E("huge-n1x1", "inception", "3x8x8", "--n1x1", HUGE, "--n3x3red", "1", "--n3x3", "1",
      "--n5x5red", "1", "--n5x5", "1", "--pool-proj", "1"),
    E("huge-precision", "conv", "--example", "--precision", "99999999999999999999"),
    C("huge-steps", "conv", "--example", "--steps", "99999999999999999999"),
    E("huge-bptt-at", "bptt", "--example", "--at", BIG),
    E("huge-channels", "outsize", "3x8x8", "-k", "3", "-c", BIG),
    C("huge-seed-23-digits", "bptt", "--random", "3,1,1", "--seed", "99999999999999999999999"),
    C("huge-seed-5000-digits", "resblock", "--random", "--seed", HUGE),
    C("huge-max-elements", "conv", "--example", "--max-elements", HUGE),
    E("huge-layers-kernel", "outsize", "8", "--layers", f"conv k={BIG}"),
    C("huge-layers-padding", "outsize", "8", "--layers", f"conv k=3 p={BIG}"),
    C("huge-outsize-large-but-short", "outsize", "9" * 300, "-k", "3", "-f", "json"),
    C("huge-outsize-layers-long-stack", "outsize", "3x224x224", "--layers",
      "; ".join(["conv k=3 p=1 c=1000000000"] * 40), "-f", "json"),
    # --max-elements grammar
    K("max-elements-1e8", "conv", "--example", "--max-elements", "1e8"),
    K("max-elements-1e3", "conv", "--example", "--max-elements", "1e3"),
    K("max-elements-1E3", "conv", "--example", "--max-elements", "1E3"),
    E("max-elements-1e3-refuses", "conv", "0", "-k", "1", "-p", "20", "--max-elements", "1e3",
      fragments=("max-elements",)),
    E("max-elements-zero", "conv", "--example", "--max-elements", "0"),
    E("max-elements-negative", "conv", "--example", "--max-elements", "-5"),
    E("max-elements-fraction", "conv", "--example", "--max-elements", "1.5"),
    E("max-elements-word", "conv", "--example", "--max-elements", "lots"),
    C("max-elements-1e400", "conv", "--example", "--max-elements", "1e400"),
    C("max-elements-1e-3", "conv", "--example", "--max-elements", "1e-3"),
]

# --- beyond the issue: deep nesting, huge numbers and non-finite words in matrices -------

DEEP_WEIGHTS = '{"wh": ' + DEEP + "}"
CASES += [
    E("deep-10k-literal", "conv", "[" * 10000 + "]" * 10000, "-k", "1"),
    E("deep-100k-file", "conv", "@x.json", "-k", "1",
      setup=files(x__json="[" * 100000 + "1" + "]" * 100000)),
    E("deep-unbalanced-stdin", "pool", stdin=b"[" * 200000),
    T("deep-unbounded-stdin", "pool", stdin=forever(b"[" * 65536, 300 * ac.MB)),
    E("deep-33-levels", "conv", "[" * 33 + "1" + "]" * 33, "-k", "1"),
    E("deep-kernel", "conv", "1 2; 3 4", "-k", DEEP),
    E("deep-bias", "conv", "--example", "-b", DEEP),
    E("deep-pool-grad", "pool", "1 2; 3 4", "--grad", DEEP),
    E("deep-bptt-xs-stdin", "bptt", "--xs", "-", "--wx", "1", "--wh", "1", stdin=DEEP.encode()),
    E("deep-gru-x", "gru-step", "--example", "--x", DEEP),
    E("deep-resblock-a0-file", "resblock", "--example", "--a0", "@a.json",
      setup=files(a__json=DEEP)),
    E("deep-inception-tensor", "inception", "--example", "--compute", "--tensor", DEEP),
    E("deep-weights-resblock", "resblock", "--weights", "@w.json",
      setup=files(w__json=DEEP_WEIGHTS.replace('"wh"', '"a0"'))),
    E("deep-weights-object", "bptt", "--weights", "@w.json", setup=files(w__json=DEEP_OBJECT)),
    E("deep-weights-gru", "gru-step", "--weights", "@w.json",
      setup=files(w__json=DEEP_WEIGHTS.replace('"wh"', '"x"'))),
    E("deep-weights-inception", "inception", "--example", "--compute", "--weights", "@w.json",
      setup=files(w__json=DEEP_WEIGHTS.replace('"wh"', '"b1_w"'))),
    E("bigint-json-file", "conv", "@x.json", "-k", "1", setup=files(x__json=f"[[{BIG}, 1]]"),
      absent=("rectangular",)),
    E("bigint-literal", "conv", f"{BIG} 1", "-k", "1"),
    E("bigint-csv", "conv", "@x.csv", "-k", "1", setup=files(x__csv=f"{BIG},1\n2,3\n")),
    E("bigint-weights", "bptt", "--weights", "@w.json",
      setup=files(w__json=f'{{"xs": [[1]], "wx": [[{BIG}]], "wh": [[1]]}}'),
      absent=("rectangular",)),
    E("bigint-stdin-10MB-digits", "conv", "-k", "1", stdin="@d.txt",
      setup=link("digits-10MB.txt", "d.txt"), max_error_len=300),
    E("bigint-file-10MB-digits", "conv", "@d.txt", "-k", "1",
      setup=link("digits-10MB.txt", "d.txt"), max_error_len=300),
    E("float-1e400-json", "conv", "[1e400, 1]", "-k", "1"),
    E("float-1e400-text", "conv", "1e400 1", "-k", "1"),
    E("float-exponent-huge", "conv", "1e99999999999999999999 1", "-k", "1"),
    E("json-nan", "conv", "[NaN, 1]", "-k", "1"),
    E("json-infinity-file", "conv", "@x.json", "-k", "1", setup=files(x__json="[[Infinity]]")),
    E("json-string", "conv", '["1", 2]', "-k", "1"),
    E("json-bool", "conv", "[true, false]", "-k", "1"),
    E("json-truncated", "conv", "@x.json", "-k", "1", setup=files(x__json="[[1, 2], [3")),
    E("json-top-level-string", "conv", "@x.json", "-k", "1", setup=files(x__json='"1 2"')),
    E("json-weights-not-object", "bptt", "--weights", "@w.json", setup=files(w__json="[1, 2]")),
    E("json-weights-huge-string", "bptt", "--weights", "@w.json",
      setup=files(w__json='{"wh": "' + "x" * 2_000_000 + '"}'), max_error_len=300),
    E("ragged-literal", "conv", "1 2 3; 4 5", "-k", "1", fragments=("row 2",)),
    E("ragged-json", "conv", "[[1, 2], [3]]", "-k", "1"),
    E("ragged-csv", "conv", "@x.csv", "-k", "1", setup=files(x__csv="1,2,3\n4,5\n")),
    E("ragged-channels", "conv", "1 2; 3 4 | 5 6", "-k", "1"),
    E("ragged-kernel-file", "conv", "--example", "-k", "@k.txt", setup=files(k__txt="1 2\n3\n"),
      fragments=("kernel",)),
    E("nan-word", "conv", "1 nan; 2 3", "-k", "1"),
    E("inf-word", "conv", "1 2; -Infinity 3", "-k", "1"),
    E("nan-in-npy", "conv", "@x.npy", "-k", "1",
      setup=files(x__npy=npy(np.array([[1.0, np.nan]])))),
    E("inf-in-weights-npz", "bptt", "--weights", "@w.npz",
      setup=files(w__npz=npz(xs=np.ones((2, 1)), wx=np.ones((1, 1)), wh=np.array([[np.inf]])))),
    E("nan-stdin", "pool", stdin=b"1 2\nNaN 4\n"),
    E("empty-literal", "conv", "", "-k", "1"),
    E("blank-literal", "conv", "   ", "-k", "1"),
    E("comment-only", "conv", "# nothing", "-k", "1"),
    E("empty-brackets", "conv", "[]", "-k", "1"),
    E("empty-nested-brackets", "conv", "[[]]", "-k", "1"),
    E("empty-file", "conv", "@e.txt", "-k", "1", setup=files(e__txt="")),
    E("empty-stdin", "pool", "-", stdin=b""),
    E("empty-npy", "conv", "@e.npy", "-k", "1", setup=files(e__npy=npy(np.zeros((0, 3))))),
    E("empty-kernel", "conv", "--example", "-k", ""),
    E("pipe-symbol-only", "conv", "|", "-k", "1"),
    E("bad-token", "conv", "1 2; 3 x", "-k", "1", fragments=("row 2",)),
    E("bad-token-100KB-literal", "conv", "1 " + "y" * 100_000, "-k", "1", max_error_len=200),
    E("nul-byte-stdin", "pool", stdin=b"1 2\n3 \x00\n"),
    E("latin1-stdin", "pool", stdin=b"1 2\n3 \xe9\n"),
    E("utf16-file", "conv", "@x.txt", "-k", "1", setup=files(x__txt="1 2\n3 4\n".encode("utf-16"))),
    K("pdf-minus-signs", "conv", "−1 2; 3 −4", "-k", "1", "-f", "plain",
      check=stdout_is("-1 2\n3 -4\n")),
    K("en-dash-minus", "conv", "–1 2", "-k", "1", "-f", "plain", check=stdout_is("-1 2\n")),
    K("bom-stdin", "pool", "-k", "1", stdin="\ufeff1 2\n3 4\n".encode(),
      check=stdout_is("1 2\n3 4\n")),
    C("unicode-digit-matrix-value", "conv", "٣ 1", "-k", "1"),
    C("fullwidth-matrix-value", "conv", "３ 1", "-k", "1"),
    E("two-inputs-on-stdin", "conv", "-", "-k", "-", stdin=b"1 2\n"),
    E("dash-weights", "bptt", "--weights", "-", stdin=b'{"wh": [[1]]}'),
    E("weights-literal-not-file", "bptt", "--weights", "1 2"),
]

# --- beyond the issue: files, special files and streams ----------------------------------

NPY_2x2 = npy(np.arange(4.0).reshape(2, 2))
CASES += [
    T("dev-zero-kernel", "conv", "--example", "-k", "@/dev/zero"),
    T("dev-zero-bptt-xs", "bptt", "--xs", "@/dev/zero", "--wx", "1", "--wh", "1"),
    T("dev-zero-weights", "bptt", "--weights", "@/dev/zero"),
    T("dev-zero-tensor", "inception", "--example", "--compute", "--tensor", "@/dev/zero"),
    T("dev-zero-json", "conv", "@z.json", "-k", "1", setup=symlink("z.json", "/dev/zero")),
    T("dev-zero-npy", "conv", "@z.npy", "-k", "1", setup=symlink("z.npy", "/dev/zero")),
    T("dev-zero-npz", "bptt", "--weights", "@z.npz", setup=symlink("z.npz", "/dev/zero")),
    T("dev-zero-csv", "conv", "@z.csv", "-k", "1", setup=symlink("z.csv", "/dev/zero")),
    T("dev-full-as-input", "pool", "@/dev/full"),
    T("dev-urandom-file", "pool", "@/dev/urandom"),
    T("dev-urandom-torch-weights", "gru-step", "--torch-weights", "@/dev/urandom"),
    T("dev-urandom-npy", "conv", "@r.npy", "-k", "1", setup=symlink("r.npy", "/dev/urandom")),
    T("zero-bytes-stdin-forever", "pool", "-k", "1", stdin=forever(bytes(1 << 16))),
    T("ones-one-line-forever", "pool", "-k", "1", "--max-elements", "1000",
      stdin=forever(b"1 " * 32768), fragments=("max-elements",)),
    T("ones-forever-1e6-budget", "conv", "-k", "1", "--max-elements", "1000000",
      stdin=forever(b"1 1 1 1\n" * 8192), fragments=("max-elements",)),
    T("comma-ones-forever-csv-fifo", "conv", "@f.csv", "-k", "1", "--max-elements", "1000",
      setup=fifo("f.csv", b"1,2\n" * 300_000), fragments=("max-elements",)),
    Case("spaces-100MB-then-values", ["pool", "-k", "1"], CLEAN, stdin="@s.txt",
         setup=link("spaces-100MB.txt", "s.txt"), rss_mb=TIGHT),
    Case("comment-100MB-then-values", ["pool", "@c.txt", "-k", "1"], CLEAN,
         setup=link("comment-100MB.txt", "c.txt"), rss_mb=TIGHT),
    Case("spaces-stream-then-values", ["pool", "-k", "1"], CLEAN,
         stdin=then(forever(b" " * 65536, 150 * ac.MB), b"1 2\n3 4\n"), rss_mb=TIGHT),
    K("fifo-text", "pool", "@in.txt", "-k", "1", setup=fifo("in.txt", b"1 2\n3 4\n"),
      check=stdout_is("1 2\n3 4\n")),
    K("fifo-json", "pool", "@in.json", "-k", "1", setup=fifo("in.json", b"[[1, 2], [3, 4]]"),
      check=stdout_is("1 2\n3 4\n")),
    E("fifo-empty-writer", "pool", "@in.txt", setup=fifo("in.txt", None)),
    E("fifo-empty-npy", "conv", "@in.npy", "-k", "1", setup=fifo("in.npy", None)),
    C("fifo-npz", "bptt", "--weights", "@w.npz", setup=fifo("w.npz", b"PK\x05\x06" + bytes(18))),
    K("dev-stdin-path", "pool", "@/dev/stdin", "-k", "1", stdin=b"1 2\n3 4\n",
      check=stdout_is("1 2\n3 4\n")),
    E("directory-input", "conv", "@.", "-k", "1", absent=("Errno",)),
    E("directory-json", "conv", "@d.json", "-k", "1", setup=mkdir("d.json")),
    E("directory-npy", "conv", "@d.npy", "-k", "1", setup=mkdir("d.npy")),
    E("missing-file", "conv", "@nope.txt", "-k", "1", fragments=("nope.txt",)),
    E("not-a-directory", "conv", "@/etc/passwd/x.npz", "-k", "1"),
    E("symlink-loop", "conv", "@loop.txt", "-k", "1", setup=symlink("loop.txt", "loop.txt")),
    E("dangling-symlink", "conv", "@gone.txt", "-k", "1", setup=symlink("gone.txt", "nowhere")),
    E("name-too-long", "conv", "@" + "n" * 5000 + ".txt", "-k", "1", max_error_len=400),
    E("proc-self-mem", "conv", "@/proc/self/mem", "-k", "1"),
    E("dev-tty-without-terminal", "conv", "@/dev/tty", "-k", "1"),
    E("at-only", "conv", "@", "-k", "1"),
    E("at-newline-name", "conv", "@a\nb.txt", "-k", "1"),
    # .npy files
    E("npy-object-dtype", "conv", "@o.npy", "-k", "1",
      setup=files(o__npy=npy(np.array([{"a": 1}, 2], dtype=object), allow_pickle=True))),
    T("npy-header-1e6x1e6", "conv", "@h.npy", "-k", "1",
      setup=files(h__npy=npy_header((10**6, 10**6))), fragments=("max-elements",)),
    T("npy-header-1e6x1e6-kernel", "conv", "--example", "-k", "@h.npy",
      setup=files(h__npy=npy_header((10**6, 10**6)))),
    T("npy-header-huge-dims", "conv", "@h.npy", "-k", "1",
      setup=files(h__npy=npy_header((10**30, 10**30)))),
    T("npy-truncated", "conv", "@t.npy", "-k", "1",
      setup=files(t__npy=npy_header((1000, 1000)) + bytes(100))),
    E("npy-bad-magic", "conv", "@b.npy", "-k", "1", setup=files(b__npy="1 2\n3 4\n")),
    E("npy-bad-header", "conv", "@b.npy", "-k", "1",
      setup=files(b__npy=b"\x93NUMPY\x01\x00\x10\x00{'descr': oops}\n")),
    E("npy-strings", "conv", "@s.npy", "-k", "1", setup=files(s__npy=npy(np.array(["a", "b"])))),
    E("npy-structured", "conv", "@s.npy", "-k", "1",
      setup=files(s__npy=npy(np.zeros(3, dtype=[("a", "f8"), ("b", "i4")])))),
    C("npy-complex", "conv", "@c.npy", "-k", "1", setup=files(c__npy=npy(np.ones((2, 2)) * 1j))),
    C("npy-bool", "conv", "@b.npy", "-k", "1", setup=files(b__npy=npy(np.eye(2, dtype=bool)))),
    C("npy-0d", "conv", "@z.npy", "-k", "1", setup=files(z__npy=npy(np.float64(3)))),
    E("npy-5d", "conv", "@f.npy", "-k", "1", setup=files(f__npy=npy(np.ones((1, 1, 1, 1, 2))))),
    C("npy-int64-extremes", "conv", "@i.npy", "-k", "1",
      setup=files(i__npy=npy(np.array([[2**63 - 1, -2**63]], dtype=np.int64)))),
    K("npy-float16", "conv", "@h.npy", "-k", "1", "-f", "plain",
      setup=files(h__npy=npy(np.array([[1, 2]], dtype=np.float16))), check=stdout_is("1 2\n")),
    K("npy-fortran-big-endian", "conv", "@f.npy", "-k", "1", "-f", "plain",
      setup=files(f__npy=npy(np.asfortranarray(np.arange(4.0, dtype=">f8").reshape(2, 2)))),
      check=stdout_is("0 1\n2 3\n")),
    C("npz-as-image", "conv", "@a.npz", "-k", "1", setup=files(a__npz=npz(arr_0=np.eye(2)))),
    T("npz-bomb-as-image", "conv", "@bomb.npz", "-k", "1", setup=link("bomb.npz")),
    T("npz-bomb-resblock", "resblock", "--weights", "@bomb.npz", setup=link("bomb.npz")),
    T("npz-bomb-torch-weights", "gru-step", "--torch-weights", "@bomb.npz",
      setup=link("bomb.npz")),
    T("npz-bomb-gru-weights", "gru-step", "--weights", "@bomb.npz", setup=link("bomb.npz")),
    T("npz-bomb-inception", "inception", "--example", "--compute", "--weights", "@bomb.npz",
      setup=link("bomb.npz")),
    T("npz-bomb-low-budget", "bptt", "--weights", "@bomb.npz", "--max-elements", "1e3",
      setup=link("bomb.npz")),
    E("npz-object-member", "bptt", "--weights", "@w.npz",
      setup=files(w__npz=lambda p: np.savez(p, xs=np.array([None, 1], dtype=object)))),
    E("npz-member-text", "bptt", "--weights", "@w.npz",
      setup=files(w__npz=raw_zip(xs__txt=b"1 2 3"))),
    E("npz-empty-zip", "bptt", "--weights", "@w.npz",
      setup=files(w__npz=b"PK\x05\x06" + bytes(18))),
    E("npz-random-bytes", "gru-step", "--torch-weights", "@w.npz",
      setup=files(w__npz=os.urandom(4096)), absent=("pickle",)),
    E("npz-header-1e6-torch", "gru-step", "--torch-weights", "@w.npz",
      setup=files(w__npz=raw_zip(weight_ih__npy=npy_header((10**6, 10**6)),
                                 weight_hh__npy=npy_header((3, 1)) + bytes(24))),
      rss_mb=TIGHT),
    E("npz-missing-arrays-torch", "gru-step", "--torch-weights", "@w.npz",
      setup=files(w__npz=npz(weight_ih=np.ones((6, 1))))),
    E("npz-wrong-shapes-torch", "gru-step", "--torch-weights", "@w.npz", "--x", "1",
      setup=files(w__npz=npz(weight_ih=np.ones((5, 1)), weight_hh=np.ones((6, 2)),
                             bias_ih=np.ones(6), bias_hh=np.ones(6)))),
    E("npz-unknown-names", "resblock", "--weights", "@w.npz",
      setup=files(w__npz=npz(nothing=np.ones(2)))),
    E("npz-inception-wrong-shape", "inception", "--example", "--compute", "--weights", "@w.npz",
      setup=files(w__npz=npz(b1_w=np.ones((2, 2))))),
    E("inception-tensor-2d", "inception", "--example", "--compute", "--tensor", "1 2; 3 4"),
    E("inception-tensor-wrong-channels", "inception", "3x4x4", "--n1x1", "1", "--n3x3red", "1",
      "--n3x3", "1", "--n5x5red", "1", "--n5x5", "1", "--pool-proj", "1", "--compute",
      "--tensor", "1 2; 3 4 | 5 6; 7 8"),
    K("npy-via-fifo-kernel", "conv", CONV_IMAGE, "-k", "@k.npy", "-f", "plain",
      setup=fifo("k.npy", npy_header((1, 1)) + np.float64(2).tobytes())),
    # streams
    Case("closed-pipe-rich", ["tour", "-f", "rich"], QUIET, stdout="head"),
    Case("closed-pipe-plain-big", ["conv", "0", "-k", "1", "-p", "700", "-f", "plain"], QUIET,
         stdout="head"),
    Case("closed-pipe-json-big", ["conv", "0", "-k", "1", "-p", "700", "-f", "json"], QUIET,
         stdout="head"),
    Case("dev-full-and-no-stderr", ["conv", "--example"], SILENT_FAILURE, stdout="full",
         stderr="closed"),
    Case("closed-stdout-and-stderr", ["outsize", "3", "-k", "2"], SILENT_FAILURE,
         stdout="closed", stderr="closed"),
    E("dev-full-big-plain", "conv", "0", "-k", "1", "-p", "500", "-f", "plain", stdout="full"),
    E("dev-full-json-bptt", "bptt", "--example", "-f", "json", stdout="full"),
    E("dev-full-latex-pool", "pool", "--example", "-f", "latex", stdout="full"),
    E("dev-full-csv-gru", "gru-step", "--example", "-f", "csv", stdout="full"),
    E("dev-full-resblock", "resblock", "--example", "-f", "rich", stdout="full"),
    E("dev-full-inception", "inception", "--preset", "3a", "-f", "json", stdout="full"),
    E("dev-full-error-too", "conv", "1 2; 3", "-k", "1", stdout="full"),
    E("closed-stdout-outsize-json", "outsize", "3", "-k", "2", "-f", "json", stdout="closed"),
    E("closed-stdout-tour", "tour", stdout="closed"),
    E("closed-stdin-bptt-xs", "bptt", "--xs", "-", "--wx", "1", "--wh", "1", stdin="closed"),
    E("closed-stdin-gru", "gru-step", "--x", "-", "--random", "1,1", stdin="closed"),
    Case("ctrl-c-reading-slow-fifo", ["pool", "@f.txt", "-k", "1"], INTERRUPTED,
         sigint_after=1.5, setup=fifo("f.txt", HOLD), timeout=30),
    Case("ctrl-c-big-conv", ["conv", "0", "-k", "5", "-p", "2500", "-f", "plain"], INTERRUPTED,
         sigint_after=1.0, stdout="closed", rss_mb=1200, as_mb=2000),
]

# --- beyond the issue: files written with --svg -----------------------------------------

CASES += [
    K("svg-written", "conv", "1 2; 3 4", "-k", "1", "--svg", "out.svg",
      check=all_of(svg_written("out.svg"), only_files("out.svg"))),
    K("svg-replaces-old", "conv", "1 2; 3 4", "-k", "1", "--svg", "old.svg",
      setup=files(old__svg=OLD_SVG), check=all_of(svg_written("old.svg"), only_files("old.svg"))),
    K("svg-through-symlink", "conv", "--example", "--svg", "link.svg",
      setup=chain(files(real__svg=OLD_SVG), symlink("link.svg", "real.svg")),
      check=all_of(svg_written("real.svg"), still_symlink("link.svg"))),
    K("svg-symlink-to-dev-null", "conv", "--example", "--svg", "null.svg",
      setup=symlink("null.svg", "/dev/null"),
      check=all_of(is_char_device("/dev/null"), only_files("null.svg"))),
    E("svg-symlink-to-dev-full", "conv", "--example", "--svg", "full.svg",
      setup=symlink("full.svg", "/dev/full"),
      check=all_of(is_char_device("/dev/full"), only_files("full.svg"))),
    K("svg-every-command-tour", "tour", "--section", "gru", "--svg", "t.svg",
      check=svg_written("t.svg")),
    K("svg-bptt", "bptt", "--example", "--svg", "b.svg", "-f", "json", check=svg_written("b.svg")),
    K("svg-outsize", "outsize", "3", "-k", "2", "--svg", "o.svg", check=svg_written("o.svg")),
    E("svg-over-kernel", "conv", "--example", "-k", "@k.txt", "--svg", "k.txt",
      setup=files(k__txt="1\n"), check=file_unchanged("k.txt", b"1\n")),
    E("svg-over-input-dotslash", "conv", "@in.txt", "-k", "1", "--svg", "./in.txt",
      setup=files(in__txt="1 2\n"), check=file_unchanged("in.txt", b"1 2\n")),
    E("svg-over-input-symlink", "conv", "@in.txt", "-k", "1", "--svg", "pic.svg",
      setup=chain(files(in__txt="1 2\n"), symlink("pic.svg", "in.txt")),
      check=file_unchanged("in.txt", b"1 2\n")),
    E("svg-over-weights", "bptt", "--weights", "@w.json", "--svg", "w.json",
      setup=files(w__json='{"xs": [[1]], "wx": [[1]], "wh": [[0.5]]}'),
      check=file_unchanged("w.json", b'{"xs": [[1]], "wx": [[1]], "wh": [[0.5]]}')),
    E("svg-over-torch-weights", "gru-step", "--torch-weights", "@c.npz", "--svg", "c.npz",
      "--x", "1", setup=files(c__npz=npz(weight_ih=np.ones((3, 1)), weight_hh=np.ones((3, 1)),
                                         bias_ih=np.ones(3), bias_hh=np.ones(3)))),
    E("svg-into-directory", "conv", "--example", "--svg", "d", setup=mkdir("d")),
    E("svg-missing-folder", "conv", "--example", "--svg", "no/such/dir/x.svg",
      check=only_files()),
    E("svg-disk-full-new-file", "bptt", "--example", "--svg", "new.svg", "-f", "plain",
      fsize=2048, check=only_files()),
    E("svg-failed-command-new-file", "conv", "1 2; 3", "-k", "1", "--svg", "x.svg",
      check=only_files()),
    E("svg-failed-budget-keeps-old", "conv", "1", "-k", "1", "-p", "100", "--max-elements",
      "100", "--svg", "old.svg", setup=files(old__svg=OLD_SVG),
      check=all_of(file_unchanged("old.svg", OLD_SVG), only_files("old.svg"))),
    E("svg-stdout-full-keeps-old", "conv", "--example", "--svg", "old.svg", "-f", "plain",
      stdout="full", setup=files(old__svg=OLD_SVG), check=file_unchanged("old.svg", OLD_SVG)),
    # --only
    E("only-unknown", "bptt", "--example", "--only", "nope"),
    E("only-empty", "conv", "--example", "--only", ""),
    E("only-traversal", "resblock", "--example", "--only", "../../etc/passwd"),
    E("only-deep-dots", "gru-step", "--example", "--only", "." * 5000, max_error_len=400),
    E("only-outsize-unknown", "outsize", "3", "-k", "2", "--only", "x"),
    E("only-tour", "tour", "--only", "nope"),
]

# --- beyond the issue: budget on every command, and size bombs ---------------------------

CASES += [
    E("pad-100000", "conv", "1", "-k", "1", "-p", "100000", fragments=("max-elements",)),
    E("pad-HxW-bomb", "conv", "1", "-k", "1", "-p", "1x100000000"),
    E("pad-full-dilation", "conv", "1 2; 3 4", "-k", "1 1 1; 1 1 1; 1 1 1", "-d", "30000", "-p",
      "full"),
    E("pad-reflect-bomb", "conv", "1 2; 3 4", "-k", "1", "-p", "20000", "--pad-mode", "reflect"),
    E("pad-circular-bomb", "conv", "1 2; 3 4", "-k", "1", "-p", "20000", "--pad-mode",
      "circular"),
    E("dilation-1e12", "conv", "1 2; 3 4", "-k", "1 1; 1 1", "-d", "1000000000000", "-p",
      "same"),
    C("stride-1e12", "conv", "1 2; 3 4", "-k", "1", "-s", "1000000000000"),
    E("pool-padding-budget", "pool", "1", "-k", "30000", "-p", "15000", "--mode", "avg"),
    E("pool-global-bomb-input", "pool", "@h.npy", "--global",
      setup=files(h__npy=npy_header((10**5, 10**5))), rss_mb=TIGHT),
    E("pool-ceil-huge", "pool", "1 2; 3 4", "-k", "3", "-s", "1", "-p", "1", "--ceil",
      "--max-elements", "3"),
    E("conv-result-budget", "conv", "1", "-k", "1", "-p", "50", "--max-elements", "1000",
      fragments=("max-elements",)),
    E("conv-kernel-budget", "conv", "1", "-k", "@k.npy", "--max-elements", "10",
      setup=files(k__npy=npy(np.ones((4, 4))))),
    E("conv-many-filters-json", "conv", "1 2; 3 4", "-k", "@k.npy", "--max-elements", "100",
      setup=files(k__npy=npy(np.ones((200, 1, 1))))),
    E("inception-compute-huge-input", "inception", "1000x1000x1000", "--n1x1", "1",
      "--n3x3red", "1", "--n3x3", "1", "--n5x5red", "1", "--n5x5", "1", "--pool-proj", "1",
      "--compute", fragments=("max-elements",)),
    E("inception-compute-many-filters", "inception", "1x1x1", "--n1x1", "100000000",
      "--n3x3red", "1", "--n3x3", "1", "--n5x5red", "1", "--n5x5", "1", "--pool-proj", "1",
      "--compute"),
    K("inception-shapes-only-huge", "inception", "3x1000000x1000000", "--n1x1", "64",
      "--n3x3red", "96", "--n3x3", "128", "--n5x5red", "16", "--n5x5", "32", "--pool-proj",
      "32", "-f", "json"),
    E("inception-compute-low-budget", "inception", "--example", "--compute", "--max-elements",
      "10"),
    E("resblock-random-depth-bomb", "resblock", "--random", "--depth", "1000000000"),
    E("resblock-random-size-bomb", "resblock", "--random", "--size", "100000"),
    E("resblock-depth-budget", "resblock", "--example", "--depth", "100", "--max-elements", "50"),
    E("bptt-random-H-bomb", "bptt", "--random", "1,1,100000"),
    E("bptt-random-T-budget", "bptt", "--random", "100000000,1,1"),
    E("bptt-random-low-budget", "bptt", "--random", "50,4,8", "--max-elements", "10"),
    E("gru-random-bomb", "gru-step", "--random", "1,100000"),
    E("gru-xs-budget", "gru-step", "--random", "2,3", "--xs", "@xs.npy", "--max-elements", "50",
      setup=files(xs__npy=npy(np.ones((1000, 2))))),
    C("tour-low-budget", "tour", "--max-elements", "1"),
    C("tour-all-formats-json", "tour", "-f", "json"),
    # valid big-ish inputs work within the bound
    K("big-text-1000x1000", "pool", "@r.txt", "-k", "2", "-f", "plain",
      setup=link("random-1000.txt", "r.txt"), rss_mb=120),
    K("big-stdin-1000x1000", "conv", "-k", "3", "-f", "plain", stdin="@r.txt",
      setup=link("random-1000.txt", "r.txt"), rss_mb=120),
    K("big-padded-under-budget", "conv", "0", "-k", "1", "-p", "1000", "-f", "json",
      rss_mb=200),
    K("big-2M-lines-valid", "pool", "@ones.txt", "--global", "-f", "plain",
      setup=link("ones-2M.txt", "ones.txt"), rss_mb=100, check=stdout_is("1\n")),
    # valid corner cases: correct results
    K("outsize-notes", "outsize", "3", "-k", "2", "-p", "1", "-f", "plain", check=stdout_is("4\n")),
    C("outsize-huge-but-valid", "outsize", "1000000000000", "-k", "3", "-f", "plain",
      check=stdout_is("999999999998\n")),
    K("conv-negative-positional", "pool", "-1 2; 3 -4", "-k", "2", "-f", "plain",
      check=stdout_is("3\n")),
    K("conv-example-every-format-rich", "conv", "--example", "-f", "rich"),
    K("gru-example", "gru-step", "--example", "-f", "json"),
    K("resblock-depth-ok", "resblock", "--random", "--size", "8", "--depth", "20", "--seed",
      "0", "-f", "json"),
    K("bptt-seed-big-ok", "bptt", "--random", "3,1,1", "--seed", "4294967295", "-f", "json"),
]


# --- beyond the issue: the environment, the command line and overflowing arithmetic ------

CASES += [
    *[K(f"env-columns-{tag}", "conv", "--example", "-f", "rich", env={"COLUMNS": value})
      for tag, value in (("0", "0"), ("1", "1"), ("negative", "-5"), ("word", "abc"),
                         ("million", "1000000"))],
    K("env-lines-zero", "bptt", "--example", "-f", "rich", env={"LINES": "0", "COLUMNS": "20"}),
    K("env-c-locale", "gru-step", "--example", "-f", "rich",
      env={"LC_ALL": "C", "LANG": "C", "PYTHONIOENCODING": ""}),
    K("env-latin1-stream", "resblock", "--example", "-f", "rich",
      env={"PYTHONIOENCODING": "latin-1"}),
    E("env-ascii-error-message", "conv", "1 2; 3", "-k", "1", env={"PYTHONIOENCODING": "ascii"}),
    K("env-tmpdir-missing-svg", "conv", "--example", "--svg", "o.svg",
      env={"TMPDIR": "/nonexistent/tmp"}, check=svg_written("o.svg")),
    K("env-no-home", "outsize", "3", "-k", "2", env={"HOME": "/nonexistent"}),
    K("no-arguments-is-help", stdout="file"),
    E("unknown-command", "nope"),
    E("unknown-option", "conv", "--example", "--nope"),
    E("option-missing-value", "conv", "--example", "-k"),
    E("bad-format", "conv", "--example", "-f", "xml"),
    E("bad-choice-pad-mode", "conv", "--example", "--pad-mode", "mirror"),
    E("flag-with-value", "conv", "--example", "--flip=yes"),
    E("argv-invalid-utf8", "conv", b"\xff\xfe 1", "-k", "1"),
    E("argv-invalid-utf8-file", "conv", b"@\xff.txt", "-k", "1"),
    E("argv-invalid-utf8-only", "conv", "--example", "--only", b"\xff"),
    E("argv-invalid-utf8-size", "outsize", b"\xff", "-k", "1"),
    E("argv-lone-surrogate-layers", "outsize", "8", "--layers", b"conv k=\xed\xa0\x80"),
    K("argv-invalid-utf8-svg-name", "conv", "--example", "--svg", b"\xff.svg"),
    # (stdin a directory is not here: the interpreter itself refuses to start.)
    E("stdin-dev-zero-omitted", "pool", stdin="dev:/dev/zero", fragments=("no input",)),
    T("stdin-dev-zero-dash", "pool", "-", stdin="dev:/dev/zero"),
    T("stdin-regular-20M-lines", "pool", "-k", "1", "--max-elements", "1000", stdin="@o.txt",
      setup=link("ones-20M.txt", "o.txt"), fragments=("max-elements",)),
    E("stdout-read-only-descriptor", "conv", "--example", "-f", "plain", stdout="readonly"),
    E("stdout-read-only-rich", "tour", "--section", "conv", "-f", "rich", stdout="readonly"),
    C("overflow-conv-json", "conv", "1e308 1e308", "-k", "1 1", "-f", "json", check=strict_json),
    C("overflow-pool-sum", "pool", "1e308 1e308; 1e308 1e308", "--mode", "sum", "-f", "json",
      check=strict_json),
    C("overflow-pool-l2", "pool", "1e200 1e200; 1e200 1e200", "--mode", "l2", "-f", "json",
      check=strict_json),
    C("overflow-pool-avg", "pool", "1e308 1e308; 1e308 1e308", "--mode", "avg", "-f", "json",
      check=strict_json),
    C("overflow-bias", "conv", "1e308", "-k", "1", "-b", "1e308", "-f", "json",
      check=strict_json),
    C("overflow-bptt-lr", "bptt", "--example", "--lr", "1e308", "-f", "json", check=strict_json),
    C("overflow-resblock", "resblock", "--a0", "1e300", "--w1", "1e300", "--w2", "1e300",
      "--activation", "identity", "-f", "json", check=strict_json),
    C("overflow-gru", "gru-step", "--x", "1e308", "--h", "1e308", "--wxz", "1e308", "--whz",
      "1e308", "--wxr", "1", "--whr", "1", "--wxh", "1e308", "--whh", "1e308", "-f", "json",
      check=strict_json),
    C("overflow-inception-tensor", "inception", "1x2x2", "--n1x1", "1", "--n3x3red", "1",
      "--n3x3", "1", "--n5x5red", "1", "--n5x5", "1", "--pool-proj", "1", "--compute",
      "--tensor", "1e308 1e308; 1e308 1e308", "-f", "json", check=strict_json),
    C("subnormal-values", "conv", "5e-324 -5e-324", "-k", "1e-300", "-f", "json",
      check=strict_json),
    E("reflect-pad-too-wide", "conv", "1 2; 3 4", "-k", "1", "-p", "5", "--pad-mode", "reflect"),
    C("circular-pad-too-wide", "conv", "1 2; 3 4", "-k", "1", "-p", "5", "--pad-mode",
      "circular"),
    E("pool-padding-over-half", "pool", "1 2; 3 4", "-k", "2", "-p", "2"),
    E("pool-grad-wrong-shape", "pool", "1 2; 3 4", "-k", "1", "--grad", "1 2 3"),
    E("bias-wrong-count", "conv", "--example", "-b", "1 2 3"),
    E("stride-0-in-HxW", "conv", "--example", "-s", "2x0"),
    E("padding-three-parts", "conv", "--example", "-p", "1x2x3"),
    E("padding-trailing-x", "outsize", "8", "-k", "3", "-p", "1x"),
    E("transposed-op-too-big", "outsize", "8", "-k", "3", "-s", "2", "--transposed",
      "--output-padding", "5"),
    E("layers-zero-channels", "outsize", "3x8x8", "--layers", "conv k=3 c=0"),
    E("layers-unknown-kind", "outsize", "3x8x8", "--layers", "dense n=3"),
    E("layers-unknown-key", "outsize", "3x8x8", "--layers", "conv k=3 z=1"),
    C("layers-ten-thousand", "outsize", "3x8x8", "--layers", "; ".join(["conv k=1"] * 10000),
      "-f", "json"),
    E("two-stdin-bptt", "bptt", "--xs", "-", "--y", "-", "--wx", "1", "--wh", "1",
      stdin=b"1\n2\n"),
    E("targets-wrong-shape", "bptt", "--xs", "1; 2; 3", "--wx", "1", "--wh", "0.5",
      "--targets", "1; 2"),
    C("bptt-long-sequence", "bptt", "--random", "100000,1,2", "--seed", "0", "-f", "json"),
    K("interactive-without-terminal", "conv", "--example", "--interactive", "-f", "rich",
      stdin=b"q\n"),
    C("tour-interactive-without-terminal", "tour", "--interactive", "--section", "gru"),
]


# The breadth beyond one case per path: more spellings of the same mistake, more options
# reaching the same parser. They run with ADVERSARIAL_FULL=1 (the in-process fuzz of
# tests/test_fuzz.py covers the same grammar cheaply); the rest always runs.
EXTENDED = {
    *(f"int-{tag}-{where}" for tag in UNICODE_INTS
      for where in ("conv-stride", "pool-size", "seed", "steps")),
    "huge-stride-conv", "huge-dilation", "huge-random-gru", "huge-size", "huge-n1x1",
    "huge-channels", "huge-bptt-at", "deep-bias", "deep-pool-grad", "deep-gru-x",
    "deep-10k-literal", "dev-full-json-bptt", "dev-full-latex-pool", "dev-full-csv-gru",
    "dev-full-inception", "env-columns-1", "env-columns-million", "env-lines-zero",
    "int-fullwidth-random", "int-arabic-padding", "int-arabic-dilation", "int-arabic-size",
    "int-arabic-n1x1", "int-arabic-channels", "int-arabic-precision",
    "int-arabic-max-elements", "issue-5-ctrl-c-during-imports-_datetime",
    "issue-5-ctrl-c-during-imports-_umath_linalg", "npy-bool", "npy-0d",
    "npy-int64-extremes", "npy-complex", "json-bool", "json-string", "blank-literal",
    "empty-nested-brackets", "comment-only", "overflow-pool-avg", "overflow-bias",
    "layers-ten-thousand", "flag-with-value", "bad-choice-pad-mode", "max-elements-1E3",
    "max-elements-1e-3", "max-elements-word", "int-zero-kernel", "int-random-missing-part",
    "int-random-four-parts", "int-random-exponent",
}
assert EXTENDED <= {case.id for case in CASES}, EXTENDED - {case.id for case in CASES}
ALL_CASES = CASES
if not os.environ.get("ADVERSARIAL_FULL"):
    CASES = [case for case in CASES if case.id not in EXTENDED]

if os.environ.get("ADVERSARIAL_ONLY"):  # a developer's shortcut: the cases matching a regex
    import re

    CASES = [case for case in CASES if re.search(os.environ["ADVERSARIAL_ONLY"], case.id)]
IDS = [case.id for case in CASES]
assert len(IDS) == len(set(IDS)), sorted(i for i in IDS if IDS.count(i) > 1)

WORKERS = int(os.environ.get("ADVERSARIAL_WORKERS", "3"))


@pytest.fixture(scope="session")
def outcomes():
    root = Path(tempfile.mkdtemp(prefix="cnnrnn-adversarial-"))
    try:
        yield _run_all(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _run_all(root: Path) -> dict:
    (root / "shared").mkdir()
    ac.set_shared_root(root / "shared")
    ac.Baseline.measure(ac.base_env())
    # The slow and heavy cases first, so that they overlap the many quick ones.
    heavy = sorted(CASES, key=lambda c: -ac.weight(c))
    results = {}
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        futures = {case.id: pool.submit(ac.run_case, case, root) for case in heavy}
        for case_id, future in futures.items():
            results[case_id] = future.result()
    report = os.environ.get("ADVERSARIAL_REPORT")
    if report:  # every case's command, outcome and verdict, for a human to read
        with open(report, "w", encoding="utf-8") as handle:
            for case_id in IDS:
                outcome = results[case_id]
                problems = ac.verdict(outcome)
                handle.write(f"=== {'FAIL' if problems else 'pass'} {outcome.seconds:6.1f}s "
                             f"{outcome.cpu:6.1f}cpu {outcome.rss_mb:6.0f}MB {case_id}\n")
                if problems:
                    handle.write("\n".join(problems) + "\n" + outcome.describe() + "\n")
    return results


@pytest.mark.parametrize("case_id", IDS)
def test_adversarial(outcomes, case_id):
    outcome = outcomes[case_id]
    problems = ac.verdict(outcome)
    assert not problems, "\n".join(problems) + "\n" + outcome.describe()


def test_the_suite_is_wide():
    """At least 150 cases, over every command and every input path."""
    assert len(ALL_CASES) - len(EXTENDED) >= 150
    commands = {case.argv[0] for case in CASES if case.argv}
    assert commands >= {"outsize", "conv", "pool", "resblock", "inception", "bptt", "gru-step",
                        "tour"}
    flat = [arg for case in CASES for arg in case.argv]
    for option in ("--weights", "--torch-weights", "--tensor", "--random", "--at", "--seed",
                   "--layers", "--svg", "--only", "--max-elements"):
        assert option in flat, option
    paths = {"stdin": any(c.stdin is not None for c in CASES),
             "dash": "-" in flat}
    for ext in (".txt", ".csv", ".json", ".npy", ".npz"):
        paths[ext] = any(a.startswith("@") and a.endswith(ext) for a in flat)
    assert all(paths.values()), paths
