"""The one budget (--max-elements) and the one integer grammar, checked before allocation."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import cnnrnn_cli as cr
from cnnrnn_cli import budget
from cnnrnn_cli.errors import InputError
from cnnrnn_cli.io.spec import SEED_MAX, SIZE_MAX, parse_int, parse_ints
from conftest import assert_error

# --- the integer grammar ----------------------------------------------------------------


@given(st.integers(min_value=1, max_value=SIZE_MAX))
def test_ascii_integers_read_back(n):
    assert parse_int(str(n), "size") == n
    assert parse_int(f"+{n}", "size") == n
    assert parse_int(f"  {n} ", "size") == n


@given(st.integers(min_value=0, max_value=10**4))
def test_non_ascii_digits_are_refused_never_read(n):
    # Arabic-Indic, superscript-free fullwidth and Devanagari digits all pass str.isdigit().
    for zero in ("\u0660", "\uff10", "\u0966"):
        text = "".join(chr(ord(zero) + int(d)) for d in str(n))
        with pytest.raises(InputError, match="digits 0-9"):
            parse_int(text, "size")


@pytest.mark.parametrize(
    "text", ["²", "1²", "³,1", "1.0", "1e3", "0x10", "1_000", "", " ", "--1", "one", "nan"]
)
def test_malformed_integers_are_one_clear_error(text):
    with pytest.raises(InputError):
        parse_int(text, "size")


@given(st.integers(min_value=SIZE_MAX + 1, max_value=10**60))
def test_out_of_range_is_refused_with_the_range(n):
    with pytest.raises(InputError, match=f"at most {SIZE_MAX}|out of range"):
        parse_int(str(n), "size")


def test_thousands_of_digits_are_refused_before_int():
    text = "1" + "0" * 5000  # int() of this would raise ValueError (4300-digit limit)
    with pytest.raises(InputError, match="5001 digits"):
        parse_int(text, "size")
    with pytest.raises(InputError, match="characters"):  # the echo is cut, not 5000 chars
        parse_int(text, "size")
    assert len(str(pytest.raises(InputError, parse_int, text, "size").value)) < 200


def test_seed_range():
    assert parse_int("0", "seed", minimum=0, maximum=SEED_MAX) == 0
    assert parse_int(str(SEED_MAX), "seed", minimum=0, maximum=SEED_MAX) == SEED_MAX
    with pytest.raises(InputError, match="0 or more"):
        parse_int("-1", "seed", minimum=0, maximum=SEED_MAX)


def test_counts_of_values():
    assert parse_ints("50,4,8", "random", 3) == [50, 4, 8]
    assert parse_ints("2,3", "at", (2, 3)) == [2, 3]
    with pytest.raises(InputError, match="expected R,C"):
        parse_ints("1", "at", (2, 3), form="R,C")


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["bptt", "--random", "²,1,1"], ["random", "digits 0-9"]),
        (["conv", "--example", "--at", "²,1"], ["at", "digits 0-9"]),
        (["conv", "--example", "--at", "1"], ["at", "expected R,C"]),
        (["outsize", "٣", "-k", "1"], ["input", "digits 0-9"]),
        (["outsize", "0x10", "-k", "1"], ["input", "must be positive, got 0"]),
        (["outsize", "1" + "0" * 5000, "-k", "3"], ["input", "5001 digits"]),
        (["resblock", "--random", "--seed", "-1"], ["seed", "0 or more"]),
        (["gru-step", "--random", "2,3", "--seed", "9" * 30], ["seed", "at most"]),
        (["resblock", "--example", "--depth", "1000000000"], ["depth", "at most 100000"]),
        (["conv", "--example", "--steps", "٣"], ["steps", "digits 0-9"]),
        (["conv", "--example", "--precision", "99"], ["precision", "at most 17"]),
        (["conv", "--example", "--max-elements", "1e99"], ["max-elements", "must be 1 to"]),
        (["inception", "--example", "--seed", "1"], ["--seed go", "--compute"]),
    ],
)
def test_cli_integer_errors(run, args, fragments):
    assert_error(run(*args), *fragments)


def test_max_elements_takes_powers_of_ten(run):
    assert run("conv", "--example", "--max-elements", "1e8").stdout == "4 3 4\n2 4 3\n2 3 4\n"
    assert_error(
        run("conv", "--example", "--max-elements", "2e1"), "image", "25", "over --max-elements 20"
    )


# --- the budget, before each allocation -----------------------------------------------------


@pytest.mark.parametrize(
    "args, fragments",
    [
        (
            ["conv", "1", "-k", "1", "-p", "20000", "-s", "100000"],
            [
                "padding",
                "the padded input would be 40001×40001 = 1.6e9 elements",
                "over --max-elements 100000000",
            ],
        ),
        (["pool", "1", "-k", "20000", "-p", "10000"], ["padding", "20001×20001 = 4e8"]),
        (
            ["conv", "1 2; 3 4", "-k", "1 1; 1 1", "-d", "30000", "-p", "same"],
            ["padding", "30002×30002"],
        ),
        (
            [
                "inception",
                "1x1x1",
                "--n1x1",
                "1",
                "--n3x3red",
                "10000",
                "--n3x3",
                "10000",
                "--n5x5red",
                "1",
                "--n5x5",
                "1",
                "--pool-proj",
                "1",
                "--compute",
            ],
            ["compute", "the weights of 3x3", "10000×10000×3×3"],
        ),
        (
            [
                "inception",
                "1x1000x1000",
                "--n1x1",
                "100",
                "--n3x3red",
                "1",
                "--n3x3",
                "1",
                "--n5x5red",
                "1",
                "--n5x5",
                "1",
                "--pool-proj",
                "1",
                "--compute",
            ],
            ["compute", "the module's output would be 103×1000×1000"],
        ),
        (
            ["resblock", "--example", "--depth", "100000", "--max-elements", "1000"],
            ["depth", "200000 elements"],
        ),
        (["resblock", "--random", "--size", "100000"], ["size", "2e10"]),
        (["gru-step", "--random", "100000,100000"], ["random", "100000×100000"]),
        (
            ["conv", "1 2; 3 4", "-k", "1 1 1; 1 1 1; 1 1 1", "-p", "2", "--max-elements", "30"],
            ["padding", "6×6 = 36"],
        ),
    ],
)
def test_allocations_over_the_budget_are_refused_first(run, args, fragments):
    assert_error(run(*args), *fragments)


def test_the_budget_is_one_array_at_a_time(run):
    # 5×5 input, 7×7 padded, 5×5 result: each under 49, though together they are not.
    result = run("conv", "--example", "-p", "1", "--max-elements", "49")
    assert result.exit_code == 0, result.stderr


def test_the_library_shares_the_budget():
    with budget.limited(100):
        with pytest.raises(InputError, match="padded input would be 12×12"):
            cr.conv2d(np.ones((2, 2)), np.ones((11, 11)), padding=5)
        with pytest.raises(InputError, match="over --max-elements 100"):
            cr.resblock(random=True, size=20)
    assert cr.conv2d(np.ones((2, 2)), np.ones((1, 1)), padding=5).output.shape == (12, 12)
    assert budget.limit() == budget.DEFAULT_MAX_ELEMENTS


def test_a_failed_command_leaves_the_budget_as_it_was(run):
    assert_error(run("pool", "1 2; 3 4", "--max-elements", "3"), "over --max-elements 3")
    assert budget.limit() == budget.DEFAULT_MAX_ELEMENTS


def test_resblock_depth_blocks_are_the_same_in_both_passes():
    # The random blocks are made one at a time, once per pass: both passes must see the
    # same blocks, those of default_rng(seed) in order.
    from cnnrnn_cli.core.resblock import block, random_block

    res = cr.resblock(random=True, size=4, seed=3, depth=5)
    relu, relu_grad = (lambda z: np.maximum(z, 0)), (lambda z, fz: (z > 0) * 1.0)
    for name, skip in (("skip", True), ("plain", False)):
        rng = np.random.default_rng(3)
        a, jac = res.a0, np.eye(4)
        for depth in range(5):
            w = random_block(4, rng)
            step = block(a, w["w1"], w["b1"], w["w2"], w["b2"], None, relu, relu_grad, skip)
            jac, a = step.jacobian @ jac, step.a2
            assert res.grad_norms[name][depth] == pytest.approx(np.linalg.norm(jac, 2))


@pytest.mark.parametrize(
    "count, text",
    [
        (4, "4"),
        (9_999_999, "9999999"),
        (1_600_080_001, "1.6e9"),
        (10**8, "1e8"),
        (99_999_999_999, "1e11"),
    ],
)
def test_counts_in_messages(count, text):
    assert budget._count(count) == text


def test_counts_too_long_for_str_in_messages():
    assert budget._count(10**5000) == "about 1e5000"


# --- sizes ------------------------------------------------------------------------------


def test_numpy_integers_are_sizes():
    x = np.arange(16.0).reshape(4, 4)
    assert cr.conv2d(x, np.ones((2, 2)), padding=np.int64(1)).output.shape == (5, 5)
    assert cr.pool2d(x, np.int64(2), padding=np.int64(1)).output.shape == (3, 3)
    assert cr.output_size(np.int64(5), kernel=np.int64(3), padding=np.int64(1)).output == 5
    with pytest.raises(InputError, match="whole number"):
        cr.conv2d(x, np.ones((2, 2)), padding=1.5)


def test_stacks_leaving_int64_are_refused(run):
    deep = "; ".join(["convT k=1 s=2147483647"] * 10)
    assert_error(run("outsize", "4", "--layers", deep), "layer 2", "int64")
    strided = "; ".join(["conv k=2 s=2147483647 p=2147483647"] * 10)
    assert_error(run("outsize", "4", "--layers", strided), "jump", "int64")


def test_stride_and_dilation_errors_are_named(run):
    assert_error(run("outsize", "32", "--layers", "conv k=3 s=2x2"), "stride: 2 values")
    assert_error(run("outsize", "32", "--layers", "conv k=3 d=2x2"), "dilation: 2 values")


def test_too_large_kernel_names_both_paddings(run):
    assert_error(run("conv", "1 2; 3 4", "-k", "1 2 3; 4 5 6; 7 8 9"), "N + 2P = 2 + 2·0 = 2")
    assert_error(run("outsize", "2", "-k", "5", "-p", "1"), "N + 2P = 2 + 2·1 = 4")


def test_one_row_image_is_not_three_rows(run):
    result = run("conv", "1", "-k", "1", "-p", "3", "-s", "10")
    assert result.exit_code == 0
    assert "last 3 rows" not in result.stderr
    assert "its only row is dropped" in result.stderr
