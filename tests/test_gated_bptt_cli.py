"""`cnnrnn bptt --cell gru|lstm`, `--compare`, `--truncate`, `--clip` on the command line:
JSON fields named per the SPEC, numbers against an independent computation, the
--example --compare claim, the rich view at 60–140 columns, and one Error line for misuse."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from rich.cells import cell_len

from cnnrnn_cli.cli.main import cli
from conftest import assert_error

FIXTURES = Path(__file__).parent / "fixtures"


def sig(a):
    return 1 / (1 + np.exp(-a))


def run_cell(cell, w, xs, h, c=None):
    """h_t (and c_t) of every step, written from the notes (independent of the package)."""
    hs = []
    for x in xs:
        if cell == "rnn":
            h = np.tanh(w["wx"] @ x + w["wh"] @ h + w["b"])
        elif cell == "gru":
            z = sig(w["wxz"] @ x + w["whz"] @ h + w["bz"])
            r = sig(w["wxr"] @ x + w["whr"] @ h + w["br"])
            n = np.tanh(w["wxh"] @ x + r * (w["whh"] @ h + w["bhh"]) + w["bh"])
            h = z * h + (1 - z) * n
        else:
            i, f, o = (sig(w[f"wx{k}"] @ x + w[f"wh{k}"] @ h + w[f"b{k}"]) for k in "ifo")
            c = f * c + i * np.tanh(w["wxg"] @ x + w["whg"] @ h + w["bg"])
            h = o * np.tanh(c)
        hs.append((h, c))
    return hs


def test_compare_records_equal_finite_differences(run_json):
    """The issue's 'done when': three records whose grad_norms equal a finite-difference
    check: h_t perturbed and the run resumed from it, by the complex step
    (∂L/∂h_i = Im L(h + iε e_i)/ε, exact to rounding even for the RNN's 10⁻²⁴; the cells'
    formulas are analytic), for the weights of the same seed rebuilt through the library."""
    import cnnrnn_cli as cr

    data = run_json("bptt", "--compare", "--random", "50,4,16", "--seed", "0")
    records = data["result"]["compare"]
    assert [r["cell"] for r in records] == ["rnn", "gru", "lstm"]
    comp = cr.bptt(random="50,4,16", seed=0, compare=True)
    eps = 1e-30
    for record, res in zip(records, comp.results, strict=True):
        assert set(record) == {"cell", "loss", "grad_norms", "input_grad_norms"}
        assert len(record["grad_norms"]) == 50 and len(record["input_grad_norms"]) == 50
        w = {k: np.asarray(v) for k, v in res.params.items()}
        y = res.targets
        states = run_cell(res.cell, w, res.xs, res.h0, res.c0)

        def loss_from(t, h, c, w=w, res=res, y=y):
            tail = run_cell(res.cell, w, res.xs[t + 1 :], h, c)
            last = tail[-1][0] if tail else h
            return 0.5 * np.sum((last - y) ** 2)  # no abs(): analytic, complex-safe

        for t in (0, 10, 30, 48, 49):
            h, c = states[t]
            g = [loss_from(t, h + 1j * eps * e, c).imag / eps for e in np.eye(16)]
            want = np.linalg.norm(g)
            assert record["grad_norms"][t] == pytest.approx(want, rel=1e-9)


def test_compare_example_vanishes_for_the_rnn_only(run_json):
    """--example --compare: over 50 steps the RNN's ‖∂L/∂h_1‖/‖∂L/∂h_50‖ is below 10⁻²⁰,
    the GRU's and LSTM's above 10⁻²."""
    data = run_json("bptt", "--example", "--compare")
    lost = {
        r["cell"]: np.log10(r["grad_norms"][-1]) - np.log10(r["grad_norms"][0])
        for r in data["result"]["compare"]
    }
    assert lost["rnn"] > 20
    assert lost["gru"] < 2 and lost["lstm"] < 2
    assert data["params"]["T"] == 50


def test_compare_example_says_what_the_numbers_say(run):
    text = run("bptt", "--example", "--compare", fmt="rich").stdout
    assert "RNN: " in text and "it vanished" in text
    assert text.count("it is still there") == 2
    assert "the RNN cannot learn" in text


def test_rnn_by_default_is_unchanged_but_for_the_two_norms(run_json):
    data = run_json("bptt", "--example")
    assert data["params"].get("cell") is None  # the rnn's params as before
    result = data["result"]
    assert "grad_norms" in result and "input_grad_norms" in result
    gated = run_json("bptt", "--example", "--clip", "1e9")["result"]  # the gated engine
    np.testing.assert_allclose(result["grad_norms"], gated["grad_norms"], rtol=1e-13)
    np.testing.assert_allclose(result["input_grad_norms"], gated["input_grad_norms"], rtol=1e-13)
    for key in ("wx", "wh", "b", "h0"):
        np.testing.assert_allclose(result["grads"][key], gated["grads"][key], rtol=1e-13)


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_gated_json_fields(run_json, cell):
    data = run_json(
        "bptt", "--cell", cell, "--random", "8,2,3", "--seed", "1", "--clip", "0.01", "--lr", "0.5"
    )
    r = data["result"]
    names = {
        "gru": ["wxz", "whz", "bz", "wxr", "whr", "br", "wxh", "whh", "bh", "bhh", "h0"],
        "lstm": [f"{k}{g}" for g in "ifgo" for k in ("wx", "wh", "b")] + ["h0", "c0"],
    }[cell]
    assert sorted(r["grads"]) == sorted(names)
    assert sorted(r["clipped"]) == sorted(names)
    assert len(r["grad_norms"]) == 8 and len(r["input_grad_norms"]) == 8
    assert ("cell_grad_norms" in r) == (cell == "lstm")
    norm = np.sqrt(sum(np.sum(np.square(r["grads"][k])) for k in names if k not in ("h0", "c0")))
    assert r["grad_norm"] == pytest.approx(norm, rel=1e-12)
    factor = min(1, 0.01 / norm)
    np.testing.assert_allclose(
        r["clipped"]["bz" if cell == "gru" else "bf"],
        factor * np.asarray(r["grads"]["bz" if cell == "gru" else "bf"]),
    )
    assert data["params"]["cell"] == cell


def test_gru_torch_weights_give_pytorchs_gradients(tmp_path):
    """--torch-weights with --cell gru: the stored GRU fixture's cell, many-to-one."""
    import json

    d = np.load(FIXTURES / "gru_bptt_torch.npz")
    weights = {k[len("one_w_") :]: d[k].tolist() for k in d.files if k.startswith("one_w_")}
    np.savez(tmp_path / "cell.npz", **{k: np.asarray(v) for k, v in weights.items()})
    arrays = {k: d[f"one_{k}"].tolist() for k in ("xs", "h0", "wy", "by", "y")}
    (tmp_path / "case.json").write_text(json.dumps(arrays))
    args = ["bptt", "--cell", "gru", "--torch-weights", f"@{tmp_path / 'cell.npz'}"]
    args += ["--weights", f"@{tmp_path / 'case.json'}"]
    result = CliRunner().invoke(cli, [*args, "-f", "json"])
    assert result.exit_code == 0, result.stderr
    r = json.loads(result.stdout)["result"]
    n = 4
    np.testing.assert_allclose(r["grads"]["wxr"], d["one_g_weight_ih"][:n], rtol=1e-10)
    np.testing.assert_allclose(r["grads"]["whh"], d["one_g_weight_hh"][2 * n :], rtol=1e-10)
    np.testing.assert_allclose(r["grads"]["bhh"], d["one_g_bias_hh"][2 * n :], rtol=1e-10)
    assert r["loss"] == pytest.approx(float(d["one_loss"]), rel=1e-12)


def test_truncate_and_check_on_the_command_line(run_json):
    r = run_json(
        "bptt", "--cell", "lstm", "--random", "12,2,3", "--seed", "0", "--truncate", "4", "--check"
    )["result"]
    assert r["check_error"] < 1e-5
    assert not any(r["grad_norms"][:8]) and all(r["grad_norms"][8:])
    assert not any(r["grads"]["h0"])


def test_gru_jacobian_in_json_is_at_the_step(run_json):
    import cnnrnn_cli as cr

    r = run_json("bptt", "--cell", "gru", "--random", "6,2,3", "--seed", "0", "--at", "3")["result"]
    res = cr.bptt(random="6,2,3", seed=0, cell="gru")
    np.testing.assert_allclose(r["jacobian"], res.gru_jacobian(2).matrix, rtol=1e-13)


CUT_DIGIT = re.compile(r"[\d.]…|…[\d.]")
VIEWS = [
    ["--example", "--compare"],
    ["--cell", "gru", "--random", "30,3,8", "--seed", "0", "--clip", "1", "--lr", "0.1"],
    ["--cell", "lstm", "--random", "30,3,8", "--seed", "0", "--truncate", "5", "--check"],
    ["--cell", "gru", "--random", "6,2,3", "--seed", "2", "--reset-before", "--z-keeps", "new"],
    ["--compare", "--random", "400,2,40", "--seed", "1"],
    ["--truncate", "3", "--random", "10,2,1", "--seed", "0", "--targets", "1;0;1;0;1;0;1;0;1;0"],
]


@pytest.mark.parametrize("width", [60, 80, 100, 140])
@pytest.mark.parametrize("args", VIEWS, ids=lambda a: " ".join(a[:3]))
def test_rich_view_fits(args, width):
    result = CliRunner().invoke(
        cli, ["bptt", *args, "-f", "rich"], env={"COLUMNS": str(width), "NO_COLOR": None}
    )
    assert result.exit_code == 0, result.stderr
    wide = [line for line in result.stdout.splitlines() if cell_len(line) > width]
    assert not wide, wide[:3]
    assert not [line for line in result.stdout.splitlines() if CUT_DIGIT.search(line)]


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["--example", "--reset-before"], ["reset-before", "--cell gru"]),
        (["--example", "--c0", "1"], ["c0"]),
        (["--cell", "gru", "--random", "3,1,2", "--seed", "0", "--c0", "1 2"], ["c0"]),
        (["--cell", "lstm", "--random", "3,1,2", "--seed", "0", "--scale", "2"], ["scale"]),
        (
            ["--cell", "gru", "--random", "3,1,2", "--seed", "0", "--activation", "relu"],
            ["activation"],
        ),
        (["--cell", "gru", "--example"], ["wx", "--cell rnn"]),
        (["--example", "--truncate", "0"], ["truncate"]),
        (["--example", "--clip", "-1"], ["clip"]),
        (["--example", "--clip", "nan"], ["clip"]),
        (["--compare", "--cell", "gru", "--random", "3,1,2"], ["--compare"]),
        (["--cell", "gru", "--random", "3,1,2", "--seed", "0", "--at", "4"], ["at", "T = 3"]),
        (["--cell", "lstm", "--forget-bias", "1", "--xs", "1;2"], ["forget-bias", "--random"]),
        (["--cell", "gru", "--random", "3,1,2", "--seed", "0", "--wx", "1"], ["wx"]),
        (["--cell", "gru", "--random", "3,1,2", "--seed", "0", "--tol", "0.7"], ["tol"]),
        (
            ["--cell", "lstm", "--random", "100000,64,64", "--seed", "0", "--truncate", "1000"],
            ["operations"],
        ),
    ],
)
def test_misuse_is_one_error_line(run, args, fragments):
    result = run("bptt", *args)
    assert_error(result, *fragments)


def test_compare_sentences_quote_the_norms(run, run_json):
    """Each cell's ratio ‖∂L/∂h_1‖/‖∂L/∂h_T‖ and factor a step, as the view prints them,
    are the JSON norms' (to the printed digits)."""
    args = ("bptt", "--compare", "--random", "30,2,6", "--seed", "3")
    records = run_json(*args)["result"]["compare"]
    text = " ".join(run(*args, fmt="rich").stdout.split())
    for record in records:
        norms = np.asarray(record["grad_norms"])
        name = {"rnn": "RNN", "gru": "GRU", "lstm": "LSTM"}[record["cell"]]
        said = re.search(rf"{name}: ‖∂L/∂h_1‖/‖∂L/∂h_30‖ = (\S+), (\S+) a step", text)
        assert said, name
        ratio, rate = float(said.group(1)), float(said.group(2))
        assert ratio == pytest.approx(norms[0] / norms[-1], rel=5e-3)
        assert rate == pytest.approx((norms[0] / norms[-1]) ** (1 / 29), rel=5e-4)


def test_gru_view_names_the_units_where_the_cases_hold(tmp_path):
    """z ≈ 1 (units 1, 2) and z ≈ 0 with r ≈ 0 (unit 3) at --at 2, from the weights."""
    import json

    rng = np.random.default_rng(0)
    w = {
        k: rng.uniform(
            -0.5, 0.5, (3, 3) if k.startswith("wh") else ((3, 1) if k.startswith("wx") else 3)
        ).tolist()
        for k in ("wxz", "whz", "bz", "wxr", "whr", "br", "wxh", "whh", "bh", "bhh")
    }
    w["bz"], w["br"] = [9.0, 9.0, -9.0], [0.0, 0.0, -9.0]
    w["xs"] = [[1.0], [0.5], [-1.0]]
    (tmp_path / "w.json").write_text(json.dumps(w))
    result = CliRunner().invoke(
        cli,
        [
            "bptt",
            "--cell",
            "gru",
            "--weights",
            f"@{tmp_path / 'w.json'}",
            "--at",
            "2",
            "-f",
            "rich",
        ],
        env={"COLUMNS": "100", "NO_COLOR": "1"},
    )
    text = " ".join(result.stdout.split())
    assert "z ≈ 1 (within 0.05) for unit(s) 1, 2: their rows are within" in text
    assert "z ≈ 0 and r ≈ 0 for unit(s) 3: their rows have norm at most" in text


def test_gate_options_equal_the_same_weights_from_a_file(tmp_path, run_json):
    import json

    import cnnrnn_cli as cr

    res = cr.bptt(random="4,2,3", seed=5, cell="lstm")
    w = {k: np.asarray(v).tolist() for k, v in res.params.items()}
    xs = res.xs.tolist()
    (tmp_path / "w.json").write_text(json.dumps({**w, "xs": xs}))
    by_file = run_json("bptt", "--cell", "lstm", "--weights", f"@{tmp_path / 'w.json'}")
    options = []
    for key, value in w.items():
        rows = np.atleast_2d(value)
        options += [f"--{key}", "; ".join(" ".join(repr(float(v)) for v in row) for row in rows)]
    xs_text = "; ".join(" ".join(repr(v) for v in row) for row in xs)
    by_options = run_json("bptt", "--cell", "lstm", "--xs", xs_text, *options)
    assert by_options["result"]["grads"] == by_file["result"]["grads"]


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["--example", "--wxz", "1"], ["wxz", "--cell gru"]),
        (["--cell", "gru", "--random", "3,1,2", "--seed", "0", "--wxi", "1"], ["wxi", "lstm"]),
    ],
)
def test_gate_options_of_another_cell_are_refused(run, args, fragments):
    assert_error(run("bptt", *args), *fragments)


@pytest.mark.parametrize("option", [["--lr", "0.1"], ["--clip", "1"], ["--check"]])
def test_compare_refuses_what_it_would_not_show(run, option):
    assert_error(run("bptt", "--example", "--compare", *option), option[0][2:], "--cell")
