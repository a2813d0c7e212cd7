"""The library: `import cnnrnn_cli as cr`, the commands' options as snake_case keywords,
results whose attributes carry the JSON result names, and a cheap import."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import cnnrnn_cli as cr

FIXTURES = Path(__file__).parent / "fixtures"


def test_import_is_cheap():
    code = "import sys, cnnrnn_cli; print('numpy' in sys.modules, 'click' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False False"


def test_the_names_are_listed_and_others_refused():
    assert {"output_size", "conv2d", "bptt", "gru_step"} <= set(dir(cr))
    with pytest.raises(AttributeError):
        cr.no_such_function  # noqa: B018


def test_output_size_options():
    assert cr.output_size(224, kernel=7, stride=2, padding=3).output == 112
    assert cr.output_size((6, 6), kernel=2, same=True).output == [6, 6]
    stack = cr.output_size("3x224x224", layers="conv k=7 s=2 p=3 c=64; maxpool k=3 s=2 p=1")
    assert stack.output == [64, 56, 56] and stack.layers[1]["receptive_field"] == 11
    assert stack.flops == 2 * stack.macs


def test_conv_and_pool_keywords():
    x = np.arange(16.0).reshape(4, 4)
    assert cr.conv2d(x, np.ones((2, 2)), stride=2, padding="same").output.shape == (2, 2)
    assert cr.pool2d(x, size=2, global_pool=True).output == 15
    res = cr.pool2d(x, size=2, grad=np.ones((2, 2)))
    assert res.grad_input.sum() == 4


def test_resblock_and_inception_keywords():
    res = cr.resblock(random=True, size=5, seed=1, depth=3, activation="tanh")
    assert res.skip.jacobian.shape == (5, 5) and len(res.grad_norms["plain"]) == 3
    inc = cr.inception(preset="3a", no_bias=True)
    assert inc.params == 163328 and inc.naive["output_shape"] == [416, 28, 28]
    small = cr.inception(
        "3x5x5", n1x1=2, n3x3red=2, n3x3=2, n5x5red=1, n5x5=1, pool_proj=1, compute=True, seed=0
    )
    assert small.output.shape == (6, 5, 5)


def test_bptt_and_gru_keywords():
    res = cr.bptt(random="20,2,3", seed=0, scale=0.5, lr=0.1)
    assert res.regime == "vanishing" and set(res.updated) == set(res.grads)
    override = cr.bptt(random=(20, 2, 3), seed=0, scale=0.5, wh=np.eye(3) * 2)
    assert override.regime == "exploding"  # an array given directly wins over random
    cell = dict(np.load(FIXTURES / "gru_torch_cell.npz"))
    expected = np.load(FIXTURES / "gru_torch_expected.npz")
    step = cr.gru_step(expected["x"], expected["h"], torch_weights=cell)
    np.testing.assert_allclose(step.h, expected["h_next"], atol=1e-12)
    seq = cr.gru_step(xs=np.ones((4, 2)), random=(2, 3), seed=0)
    assert seq.h.shape == (4, 3)


def test_unknown_weights_are_refused():
    from cnnrnn_cli.errors import InputError

    with pytest.raises(InputError, match="unknown array name"):
        cr.bptt(xs=[1.0], wx=1.0, wh=0.5, weights={"nope": np.ones(1)})
