"""A result from the library shows its working in a real Jupyter kernel (nbclient)."""

import pytest

nbclient = pytest.importorskip("nbclient", reason="nbclient is in the test extra")
nbformat = pytest.importorskip("nbformat", reason="nbformat comes with nbclient")
pytest.importorskip("ipykernel", reason="ipykernel is in the test extra")

NOTES = """\
import numpy as np
import cnnrnn_cli as cr
image = np.array([[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0],
                  [0, 1, 1, 0, 0]])
kernel = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]])
cr.conv2d(image, kernel)"""


def test_the_notes_example_shows_its_working_in_jupyter():
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(NOTES),
        nbformat.v4.new_code_cell("cr.bptt(xs=[1, 0.5, -0.5, 1], wx=0.5, wh=0.8, y=0.5).regime"),
    ]
    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    conv, bptt = (cell.outputs for cell in notebook.cells)
    html = conv[0]["data"]["text/html"]
    assert "convolved feature" in html
    for row in ("│ 4 │ 3 │ 4 │", "│ 2 │ 4 │ 3 │", "│ 2 │ 3 │ 4 │"):
        assert row in html
    assert "4 = 1·1 + 0·1 + 1·1 + 0·0 + 1·1 + 0·1 + 1·0 + 0·0 + 1·1" in html
    assert bptt[0]["data"]["text/plain"] == "'vanishing'"
