"""Reading matrices (the input grammar) and writing plain / json / csv."""

from cnnrnn_cli.budget import DEFAULT_MAX_ELEMENTS  # noqa: F401  (the readers' default)
