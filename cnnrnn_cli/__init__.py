"""cnnrnn: the mathematics of convolutional and recurrent neural networks, with the working.

`import cnnrnn_cli as cr` gives the computations as a library; nothing heavy is
imported until a function is used:
`cr.output_size`, `cr.conv2d`, `cr.pool2d`, `cr.resblock`, `cr.inception`, `cr.bptt`,
`cr.gru_step`.
"""

__version__ = "0.1.0"

_API = {
    "output_size": "cnnrnn_cli.core.sizes",
    "conv2d": "cnnrnn_cli.core.conv",
    "pool2d": "cnnrnn_cli.core.pool",
    "resblock": "cnnrnn_cli.core.resblock",
    "inception": "cnnrnn_cli.core.inception",
    "bptt": "cnnrnn_cli.core.bptt",
    "gru_step": "cnnrnn_cli.core.gru",
}


def __getattr__(name):
    if name in _API:
        import importlib

        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'cnnrnn_cli' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_API))
