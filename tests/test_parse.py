"""The matrix input grammar: literals, files, stdin, and every error with its position."""

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from cnnrnn_cli.errors import InputError, ShapeError
from cnnrnn_cli.io.emit import value_lines
from cnnrnn_cli.io.matrix import (
    as_image,
    as_matrix,
    as_vector,
    parse_text,
    read_file,
    read_named_arrays,
    read_source,
)

NOTES_KERNEL = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]], dtype=float)


@pytest.mark.parametrize(
    "text",
    [
        "1 0 1; 0 1 0; 1 0 1",
        "1,0,1;0,1,0;1,0,1",
        "[1 0 1; 0 1 0; 1 0 1]",
        "[[1, 0, 1], [0, 1, 0], [1, 0, 1]]",
        "1 0 1\n0 1 0\n1 0 1\n",
        "# the notes' kernel\n1 0 1\n0 1 0\n  # a comment\n1 0 1",
        "[1, 0, 1]; [0, 1, 0]; [1, 0, 1]",
        "+1 0e0 1.0; 0 1 0; 1 .0 1",
        "1, 0, 1,\n0, 1, 0,\n1, 0, 1,",
    ],
)
def test_literal_spellings_of_the_notes_kernel(text):
    assert np.array_equal(parse_text(text, "kernel"), NOTES_KERNEL)


def test_windows_files_with_bom_crlf_and_tabs():
    assert parse_text("\ufeff1\t2\r\n3\t4\r\n", "x").tolist() == [[1, 2], [3, 4]]


def test_unicode_minus_and_scientific_notation():
    a = parse_text("−1.5 2e-3; −3E+2 4", "x")
    assert a.tolist() == [[-1.5, 0.002], [-300.0, 4.0]]


def test_channels_by_bar_and_by_blank_line_in_files():
    by_bar = parse_text("1 2; 3 4 | 5 6; 7 8", "image")
    assert by_bar.shape == (2, 2, 2)
    by_blank = parse_text("1 2\n3 4\n\n5 6\n7 8\n", "image", blank_line_channels=True)
    assert np.array_equal(by_bar, by_blank)
    # On the command line a blank line is not a channel break.
    assert parse_text("1 2\n\n3 4", "image").shape == (2, 2)


def test_json_of_any_depth():
    assert parse_text("[[[1, 2]], [[3, 4]]]", "x").shape == (2, 1, 2)
    assert parse_text("[1, 2, 3]", "x").shape == (3,)


@pytest.mark.parametrize(
    "text, fragments",
    [
        ("1 0 1; 0 1; 1 0 1", ["row 2 has 2 values, expected 3"]),
        ("1 2; 3 x", ["row 2, column 2", "'x' is not a number"]),
        ("1 nan", ["row 1, column 2", "not a finite number"]),
        ("1 inf", ["row 1, column 2", "not a finite number"]),
        ("1 1e400", ["row 1, column 2", "outside the float64 range"]),
        ("1,,2", ["row 1, column 2", "empty value"]),
        ("", ["no values given"]),
        ("# only a comment", ["no values given"]),
        ("1 2; 3 4 | 5 6", ["channel 2 is 1×2, expected 2×2"]),
        ("1 2 | 3 x", ["channel 2, row 1, column 2", "'x' is not a number"]),
        ("1 2 || 3 4", ["channel 2 is empty"]),
        ("|", ["channel 1 is empty"]),
        ("[[1, 2], [3]]", ["[1] has 1 values, expected 2 values"]),
        ('[[1, "a"]]', ["[0][1]", "is not a number"]),
        ("[[1, 2], [3, NaN]]", ["NaN or infinity"]),
        ("1_000 2", ["'1_000' is not a number"]),
        ("١ 2", ["is not a number"]),
        ("0x10", ["'0x10' is not a number"]),
    ],
)
def test_errors_name_the_input_and_the_position(text, fragments):
    with pytest.raises(InputError) as err:
        parse_text(text, "kernel")
    message = str(err.value)
    assert message.startswith("kernel: ")
    for fragment in fragments:
        assert fragment in message


def test_max_elements_guard():
    with pytest.raises(InputError, match="over --max-elements 3"):
        parse_text("1 2; 3 4", "image", max_elements=3)


finite = st.floats(allow_nan=False, allow_infinity=False, width=64)


@given(
    hnp.arrays(np.float64, hnp.array_shapes(min_dims=2, max_dims=3, max_side=5), elements=finite)
)
def test_plain_output_reads_back_bit_for_bit(arr):
    text = "\n".join(value_lines(arr, " "))
    back = parse_text(text, "x", blank_line_channels=True)
    # A single channel prints as a plain matrix: 1×H×W reads back as H×W.
    expected_shape = arr.shape[1:] if arr.ndim == 3 and arr.shape[0] == 1 else arr.shape
    assert back.shape == expected_shape
    assert back.tobytes() == arr.tobytes()  # -0.0 and the last bit survive too


@given(
    st.lists(st.lists(finite, min_size=1, max_size=4), min_size=1, max_size=4).filter(
        lambda rows: len({len(r) for r in rows}) == 1
    ),
    st.sampled_from([" ", ", ", ","]),
    st.sampled_from([";", "\n", "; "]),
)
def test_literal_separators_do_not_change_values(rows, sep, rowsep):
    text = rowsep.join(sep.join(repr(v) for v in row) for row in rows)
    assert parse_text(text, "x").tolist() == rows


@given(st.text(max_size=30))
def test_any_text_parses_or_fails_cleanly(text):
    try:
        arr = parse_text(text, "x")
    except InputError as err:
        assert str(err).startswith("x: ")
    else:
        assert np.isfinite(arr).all() and arr.dtype == np.float64


def test_files_of_every_kind(tmp_path):
    arr = np.arange(6.0).reshape(2, 3)
    np.save(tmp_path / "a.npy", arr)
    np.savez(tmp_path / "w.npz", w1=arr, b1=np.ones(2))
    (tmp_path / "a.json").write_text(json.dumps(arr.tolist()))
    (tmp_path / "a.csv").write_text("0,1,2\n3,4,5\n")
    (tmp_path / "a.txt").write_text("# saved\n0 1 2\n3 4 5\n")
    (tmp_path / "w.json").write_text(json.dumps({"w1": arr.tolist(), "b1": [1, 1]}))
    for name in ("a.npy", "a.json", "a.csv", "a.txt"):
        assert np.array_equal(read_source(f"@{tmp_path / name}", "x"), arr), name
    named = read_named_arrays(f"@{tmp_path / 'w.npz'}", "weights")
    assert set(named) == {"w1", "b1"} and np.array_equal(named["w1"], arr)
    assert set(read_named_arrays(f"@{tmp_path / 'w.json'}", "weights")) == {"w1", "b1"}
    with pytest.raises(InputError, match="holds 2 arrays"):
        read_source(f"@{tmp_path / 'w.npz'}", "x")


def test_bad_files(tmp_path):
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    (tmp_path / "bin.txt").write_bytes(b"\x00\x01\xff\xfe")
    (tmp_path / "bad.json").write_text("[[1, 2], [3")
    with pytest.raises(InputError, match="pickled objects; refused"):
        read_file(str(tmp_path / "obj.npy"), "x")
    with pytest.raises(InputError, match="file not found"):
        read_source("@/no/such/file.txt", "x")
    with pytest.raises(InputError, match="not UTF-8 text|binary"):
        read_source(f"@{tmp_path / 'bin.txt'}", "x")
    with pytest.raises(InputError, match="invalid JSON at line 1"):
        read_source(f"@{tmp_path / 'bad.json'}", "x")
    with pytest.raises(InputError, match="is a directory"):
        read_source(f"@{tmp_path}", "x")


def test_a_path_without_at_gets_a_hint(tmp_path):
    path = tmp_path / "k.txt"
    path.write_text("1 2")
    with pytest.raises(InputError, match=f"write @{path}"):
        read_source(str(path), "kernel")


def test_stdin_source_uses_blank_lines_for_channels():
    arr = read_source("-", "image", read_stdin=lambda: "1 2\n\n3 4\n")
    assert arr.shape == (2, 1, 2)


def test_shape_normalisation():
    assert as_vector(np.ones((1, 3)), "b").shape == (3,)
    assert as_vector(np.ones((3, 1)), "b").shape == (3,)
    assert as_vector(np.array(2.0), "b").shape == (1,)
    with pytest.raises(ShapeError, match="expected a vector .* got 2×3"):
        as_vector(np.ones((2, 3)), "b")
    assert as_matrix(np.ones(3), "w").shape == (1, 3)
    assert as_image(np.ones((2, 3, 4)), "image").shape == (2, 3, 4)
    with pytest.raises(ShapeError, match="expected H×W or C×H×W, got 1×2×3×4"):
        as_image(np.ones((1, 2, 3, 4)), "image")
