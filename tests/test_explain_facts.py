"""Every claim an explanation makes is checked against the numbers it rests on, on seeded
random cases for every activation: a unit said to be dead has derivative 0, a row said to
be 0 is 0, a norm said to grow grows, and "keeps the gradient alive" is never said when
the skip's norms fall below the plain ones or to 0. inception's channel map covers every
output channel once, and the channels called all zeros are exactly those that are."""

import io
import re

import numpy as np
import pytest
from rich.console import Console

import cnnrnn_cli as cr
from cnnrnn_cli.core.resblock import BAND
from cnnrnn_cli.explain import inception as explain_inception
from cnnrnn_cli.explain import resblock as explain_resblock
from cnnrnn_cli.explain.style import Style

ACTIVATIONS = ["relu", "tanh", "sigmoid", "identity"]
UNITS = r"units? ([\d, ]+?)(?: and \d+ more)?"


def rendered(module, res, width=200) -> str:
    console = Console(file=io.StringIO(), width=width, color_system=None)
    console.print(module.rich(res, Style(precision=4, color=False)))
    return console.file.getvalue()


def numbers(text: str) -> list[int]:
    """'1, 3, 6' -> [0, 2, 5] (0-based)."""
    return [int(v) - 1 for v in re.findall(r"\d+", text)]


def cases():
    """(activation, result): random blocks of several sizes and seeds, stacks, and
    hand-made blocks where the skip rescues a row, where a unit is dead even with the
    skip, and where tanh and sigmoid saturate to a derivative of exactly 0."""
    out = []
    for name in ACTIVATIONS:
        for seed in range(8):
            size = 2 + seed % 5
            out.append(
                cr.resblock(random=True, size=size, seed=seed, depth=1 + 7 * seed, activation=name)
            )
        big = np.array([40.0, -40.0, 0.5])
        out.append(cr.resblock(a0=big, w1=np.eye(3), w2=np.eye(3), depth=5, activation=name))
        out.append(
            cr.resblock(
                a0=[1, -1],
                w1=[[1, 0.5], [-0.5, 1]],
                b1=[0, 0.1],
                w2=[[0.5, -1], [1, 0.5]],
                b2=[0.1, -0.2],
                depth=20,
                activation=name,
            )
        )
        out.append(
            cr.resblock(
                a0=[1, 2],
                w1=[[-0.5, 0.5], [-0.5, -0.5]],
                b1=[0.5, -0.5],
                w2=[[0.5, 0.5], [-1, 0.5]],
                b2=[0.5, 0],
                depth=20,
                activation=name,
            )
        )
        rng = np.random.default_rng(7)
        out.append(
            cr.resblock(
                a0=rng.standard_normal(3),
                w1=rng.standard_normal((4, 3)),
                w2=rng.standard_normal((2, 4)),
                shortcut=rng.standard_normal((2, 3)),
                activation=name,
            )
        )
    return out


CASES = cases()


@pytest.mark.parametrize("res", CASES, ids=[f"{r.activation}-{i}" for i, r in enumerate(CASES)])
def test_every_block_claim_holds(res):
    facts = res.facts
    sentences = explain_resblock.block_sentences(res)
    text = rendered(explain_resblock, res)
    for sentence in sentences:  # what is claimed is what is printed
        assert sentence.split(":")[0] in text
    said_dead_a1, said_rescued, said_dead_skip = set(), set(), set()
    for sentence in sentences:
        if m := re.match(rf"{UNITS} of a1 (?:is|are) dead", sentence):
            units = numbers(m.group(1))
            said_dead_a1 |= set(units)
            assert all(res.plain.d1[u] == 0 and res.skip.d1[u] == 0 for u in units)
            assert "no path runs through" in sentence
        elif m := re.match(rf"{UNITS} of a2 (?:is|are) dead without the skip", sentence):
            units = numbers(m.group(1))
            said_rescued |= set(units)
            for u in units:
                assert res.plain.d2[u] == 0 and not res.plain.jacobian[u].any()
                assert res.skip.d2[u] != 0 and res.skip.jacobian[u].any()
        elif m := re.match(rf"{UNITS} of a2 (?:is|are) dead even with the skip", sentence):
            units = numbers(m.group(1))
            said_dead_skip |= set(units)
            for u in units:
                assert res.skip.d2[u] == 0 and not res.skip.jacobian[u].any()
        elif m := re.match(
            r"rows? ([\d, ]+) of ∂a2/∂a0 (?:is|are) 0 (with|without) the skip "
            r"although",
            sentence,
        ):
            run = res.skip if m.group(2) == "with" else res.plain
            for row in numbers(m.group(1)):
                assert not run.jacobian[row].any() and run.d2[row] != 0
        elif sentence.startswith("with the skip no row of ∂a2/∂a0 is 0"):
            assert res.skip.jacobian.any(axis=1).all()
        elif m := re.match(r"‖∂a2/∂a0‖₂ = (\S+) without the skip, (\S+) with it \((\w+)", sentence):
            plain = np.linalg.norm(res.plain.jacobian, 2)
            skip = np.linalg.norm(res.skip.jacobian, 2)
            assert float(m.group(1).replace("−", "-")) == pytest.approx(plain, abs=1e-4)
            assert float(m.group(2).replace("−", "-")) == pytest.approx(skip, abs=1e-4)
            assert m.group(3) == (
                "larger" if skip > plain else "smaller" if skip < plain else "the"
            )
        else:
            pytest.fail(f"a sentence the test does not know: {sentence}")
    # Nothing left unsaid: every dead unit is named (up to the listed number).
    listed = explain_resblock.LISTED
    assert said_dead_a1 == set(facts.dead_a1[:listed])
    assert said_rescued == set(facts.rescued[:listed])
    assert said_dead_skip == set(facts.dead_skip[:listed])
    if facts.zero_rows_skip:
        assert "the gradient reaches a0 from every unit" not in text


def test_the_example_names_its_rescue():
    res = cr.resblock(
        a0=[1, 2],
        w1=[[-0.5, 0.5], [-0.5, -0.5]],
        b1=[0.5, -0.5],
        w2=[[0.5, 0.5], [-1, 0.5]],
        b2=[0.5, 0],
        depth=20,
    )
    text = rendered(explain_resblock, res)
    assert "unit 2 of a2 is dead without the skip (z2[2] = −1 ≤ 0)" in text
    assert "z2[2] + a0[2] = 1" in text
    assert "keeps the gradient alive" in text  # 1.0327 at every block, the plain one 0
    assert "z1[2] = −0.5·1 − 0.5·2 − 0.5 = −2" in text


def test_a_unit_dead_even_with_the_skip_is_named():
    # The first release's example: the ReLU after the sum is dead for unit 2.
    res = cr.resblock(
        a0=[1, -1],
        w1=[[1, 0.5], [-0.5, 1]],
        b1=[0, 0.1],
        w2=[[0.5, -1], [1, 0.5]],
        b2=[0.1, -0.2],
        depth=20,
    )
    text = rendered(explain_resblock, res)
    assert "unit 2 of a2 is dead even with the skip (z2[2] + a0[2] = −0.7 ≤ 0)" in text
    assert "reaches a0 from every unit" not in text
    assert "keeps the gradient alive" not in text  # it grows ×2 per block
    assert "grows ×2.01 per block" in text  # 1.5207, 2.7415, ..., 840,978.4164


def _trend_claim(sentence, norms):
    values = np.asarray(norms)
    if m := re.search(r"the norm is exactly 0 from l = (\d+) on", sentence):
        first = int(m.group(1))
        assert (values[first - 1 :] == 0).all() and (values[: first - 1] > 0).all()
    elif m := re.search(r"underflows float64 to 0 from l = (\d+)", sentence):
        first = int(m.group(1))
        assert (values[first - 1 :] == 0).all() and values[first - 2] < 1e-250
    elif m := re.search(r"the norm (grows|shrinks|holds steady:) ×(\S+) per block", sentence):
        first = values[0] if len(values) > 1 else 1.0  # one block: against ‖I‖ = 1
        factor = (values[-1] / first) ** (1 / max(len(values) - 1, 1))
        assert float(m.group(2)) == pytest.approx(factor, rel=0.01, abs=0.006)
        if m.group(1) == "grows":
            assert values[-1] > first and factor > 1
        elif m.group(1) == "shrinks":
            assert values[-1] < first and factor < 1
        else:
            assert abs(factor - 1) <= 0.05
    else:
        pytest.fail(f"a trend the test does not know: {sentence}")


@pytest.mark.parametrize(
    "res", [r for r in CASES if r.grad_norms is not None], ids=lambda r: r.activation
)
def test_every_depth_claim_holds(res):
    skip, plain = np.asarray(res.grad_norms["skip"]), np.asarray(res.grad_norms["plain"])
    sentences = explain_resblock.depth_sentences(res)
    text = rendered(explain_resblock, res)
    assert sentences[0].startswith("without skips") and sentences[1].startswith("with skips")
    _trend_claim(sentences[0], plain)
    _trend_claim(sentences[1], skip)
    alive = "keeps the gradient alive" in text
    if (skip < plain).any() or (skip == 0).any():
        assert not alive
    if alive:
        assert ((skip >= BAND[0]) & (skip <= BAND[1])).all() and plain[-1] < BAND[0]
    if "explodes" in sentences[2]:
        assert skip[-1] > BAND[1]
    if "do not help" in sentences[2]:
        assert skip[-1] < plain[-1]


def test_alive_is_never_said_when_the_skip_falls_below():
    for name in ACTIVATIONS:
        for seed in range(30):
            res = cr.resblock(random=True, size=3, seed=seed, depth=12, activation=name)
            skip = np.asarray(res.grad_norms["skip"])
            plain = np.asarray(res.grad_norms["plain"])
            said = any(
                "keeps the gradient alive" in s for s in explain_resblock.depth_sentences(res)
            )
            if said:
                assert (skip >= plain).all() and (skip > 0).all()
                assert ((skip >= BAND[0]) & (skip <= BAND[1])).all()


def test_a_random_case_keeps_its_seed(run_json):
    res = cr.resblock(random=True, size=3)
    assert isinstance(res.seed, int)
    again = cr.resblock(random=True, size=3, seed=res.seed)
    np.testing.assert_array_equal(res.a0, again.a0)
    assert f"seed {res.seed}" in rendered(explain_resblock, res)
    doc = run_json("resblock", "--random", "--size", "3")
    assert isinstance(doc["params"]["seed"], int)
    assert run_json("resblock", "--example")["params"]["seed"] is None


# --- inception ---------------------------------------------------------------------------

MODULES = [
    ("3x5x5", dict(n1x1=2, n3x3red=2, n3x3=2, n5x5red=1, n5x5=1, pool_proj=1)),
    ("2x4x6", dict(n1x1=1, n3x3red=1, n3x3=3, n5x5red=2, n5x5=1, pool_proj=2)),
    ("1x3x3", dict(n1x1=3, n3x3red=1, n3x3=1, n5x5red=1, n5x5=2, pool_proj=1)),
]


@pytest.mark.parametrize("shape, filters", MODULES)
@pytest.mark.parametrize("seed", range(6))
def test_channel_map_and_zero_channels(shape, filters, seed):
    res = cr.inception(shape, compute=True, seed=seed, **filters)
    depth = res.output.shape[0]
    covered = [ch for c in res.channels for ch in range(c["first"], c["last"] + 1)]
    assert covered == list(range(1, depth + 1))  # every channel once, in order
    assert [c["last"] - c["first"] + 1 for c in res.channels] == [
        b.output_shape[0] for b in res.branches
    ]
    start = 0
    for c, out in zip(res.channels, res.branch_outputs, strict=True):
        np.testing.assert_array_equal(res.output[c["first"] - 1 : c["last"]], out)
        start += len(out)
    zero = [ch + 1 for ch in range(depth) if not res.output[ch].any()]
    assert res.zero_channels == zero
    text = rendered(explain_inception, res)
    said = re.search(r"channels? ([\d, ()\w]+?) (?:is|are) all zeros", text)
    if zero:
        assert said and [int(v) for v in re.findall(r"(\d+) \(", said.group(1))] == zero
    else:
        assert not said and "no output channel is all zeros" in text
    assert f"seed {seed}" in text


def test_inception_json_channels(run_json):
    doc = run_json("inception", "--example", "--compute", "--seed", "1")
    assert doc["result"]["channels"] == [
        {"branch": "1x1", "first": 1, "last": 2},
        {"branch": "3x3", "first": 3, "last": 4},
        {"branch": "5x5", "first": 5, "last": 5},
        {"branch": "pool", "first": 6, "last": 6},
    ]
    output = np.array(doc["result"]["output"])
    assert doc["result"]["zero_channels"] == [c + 1 for c in range(6) if not output[c].any()]
    assert doc["params"]["seed"] == 1
    chosen = run_json("inception", "--example", "--compute")
    assert isinstance(chosen["params"]["seed"], int)
