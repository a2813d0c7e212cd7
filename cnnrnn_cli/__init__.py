"""cnnrnn: the mathematics of convolutional and recurrent neural networks, with the working.

`import cnnrnn_cli as cr` gives the computations as a library; nothing heavy is
imported until a function is used:
`cr.output_size`, `cr.conv2d`, `cr.pool2d`, `cr.resblock`, `cr.inception`, `cr.bptt`,
`cr.gru_step`, `cr.lstm_step`.
"""

__version__ = "0.1.0"

_API = (
    "output_size",
    "conv2d",
    "pool2d",
    "resblock",
    "inception",
    "bptt",
    "gru_step",
    "lstm_step",
)


def __getattr__(name):
    if name in _API:
        from cnnrnn_cli import api

        return getattr(api, name)
    raise AttributeError(f"module 'cnnrnn_cli' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_API))
