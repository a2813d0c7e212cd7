"""The classic networks of `outsize --model`, stored as `--layers` specs (one `.txt` file
each, written by tests/make_models.py), with their default inputs and sources."""

from __future__ import annotations

import os

from cnnrnn_cli.errors import InputError

# name: (default input, what the spec follows)
MODELS = {
    "lenet5": ([1, 28, 28], "d2l's LeNet-5 (padded first conv, sigmoid, average pooling)"),
    "alexnet": ([3, 224, 224], "torchvision's AlexNet"),
    "vgg16": ([3, 224, 224], "torchvision's VGG-16"),
    "resnet18": ([3, 224, 224], "torchvision's ResNet-18"),
    "resnet50": ([3, 224, 224], "torchvision's ResNet-50 (the stride in the 3×3)"),
    "googlenet": (
        [3, 224, 224],
        "GoogLeNet as the paper's Table 1 (5×5 in the third branch, no BatchNorm or "
        "auxiliary heads)",
    ),
    "mobilenet_v2": ([3, 224, 224], "torchvision's MobileNetV2"),
}


def spec_text(name: str) -> str:
    """The stored spec of model `name`."""
    if name not in MODELS:
        raise InputError("model", f"expected one of {', '.join(MODELS)}, got {name!r}")
    # os.path, not pathlib: outsize starts fast, and pathlib costs milliseconds to import
    with open(os.path.join(os.path.dirname(__file__), f"{name}.txt"), encoding="utf-8") as f:
        return f.read()
