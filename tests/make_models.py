"""Writes the `--model` specs (cnnrnn_cli/core/models/*.txt) from the torchvision (and d2l,
and GoogLeNet paper) definitions, written out here layer by layer. Run it after changing a
definition: `python tests/make_models.py`; tests/test_outsize_models.py checks the totals.
"""

from __future__ import annotations

from pathlib import Path

MODELS = Path(__file__).resolve().parent.parent / "cnnrnn_cli" / "core" / "models"


def lenet5() -> list[str]:
    # d2l's LeNet: sigmoid activations, average pooling, a padded first conv on 28×28.
    return [
        "conv k=5 p=2 c=6",
        "act f=sigmoid",
        "avgpool k=2",
        "conv k=5 c=16",
        "act f=sigmoid",
        "avgpool k=2",
        "flatten",
        "linear n=120",
        "act f=sigmoid",
        "linear n=84",
        "act f=sigmoid",
        "linear n=10",
    ]


def alexnet() -> list[str]:
    return [
        "conv k=11 s=4 p=2 c=64",
        "relu",
        "maxpool k=3 s=2",
        "conv k=5 p=2 c=192",
        "relu",
        "maxpool k=3 s=2",
        "conv k=3 p=1 c=384",
        "relu",
        "conv k=3 p=1 c=256",
        "relu",
        "conv k=3 p=1 c=256",
        "relu",
        "maxpool k=3 s=2",
        "adaptiveavgpool o=6",
        "flatten",
        "dropout p=0.5",
        "linear n=4096",
        "relu",
        "dropout p=0.5",
        "linear n=4096",
        "relu",
        "linear n=1000",
    ]


def vgg16() -> list[str]:
    out = []
    for v in (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M"):
        out += ["maxpool k=2 s=2"] if v == "M" else [f"conv k=3 p=1 c={v}", "relu"]
    out += ["conv k=3 p=1 c=512", "relu"] * 3 + ["maxpool k=2 s=2", "adaptiveavgpool o=7"]
    out += ["flatten", "linear n=4096", "relu", "dropout p=0.5", "linear n=4096", "relu"]
    return out + ["dropout p=0.5", "linear n=1000"]


def res(main: list, shortcut: list | None = None) -> list:
    return [("res", [main] + ([shortcut] if shortcut else []))]


def resnet(blocks: tuple, bottleneck: bool) -> list:
    out = ["conv k=7 s=2 p=3 c=64 bias=0", "bn", "relu", "maxpool k=3 s=2 p=1"]
    inplanes = 64
    expansion = 4 if bottleneck else 1
    for stage, (planes, count) in enumerate(zip((64, 128, 256, 512), blocks, strict=True)):
        for i in range(count):
            stride = 2 if stage > 0 and i == 0 else 1
            s = f" s={stride}" if stride > 1 else ""
            if bottleneck:  # torchvision (v1.5): the stride in the 3×3
                main = [
                    f"conv k=1 c={planes} bias=0",
                    "bn",
                    "relu",
                    f"conv k=3{s} p=1 c={planes} bias=0",
                    "bn",
                    "relu",
                    f"conv k=1 c={planes * 4} bias=0",
                    "bn",
                ]
            else:
                main = [
                    f"conv k=3{s} p=1 c={planes} bias=0",
                    "bn",
                    "relu",
                    f"conv k=3 p=1 c={planes} bias=0",
                    "bn",
                ]
            shortcut = None
            if stride != 1 or inplanes != planes * expansion:
                shortcut = [f"conv k=1{s} c={planes * expansion} bias=0", "bn"]
            out += res(main, shortcut) + ["relu"]
            inplanes = planes * expansion
    return out + ["adaptiveavgpool o=1", "flatten", "linear n=1000"]


# GoogLeNet, Table 1: (n1x1, n3x3red, n3x3, n5x5red, n5x5, pool_proj)
INCEPTION = {
    "3a": (64, 96, 128, 16, 32, 32),
    "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64),
    "4b": (160, 112, 224, 24, 64, 64),
    "4c": (128, 128, 256, 24, 64, 64),
    "4d": (112, 144, 288, 32, 64, 64),
    "4e": (256, 160, 320, 32, 128, 128),
    "5a": (256, 160, 320, 32, 128, 128),
    "5b": (384, 192, 384, 48, 128, 128),
}


def inception(name: str) -> list:
    n1, r3, n3, r5, n5, pp = INCEPTION[name]
    return [
        (
            "cat",
            [
                [f"conv k=1 c={n1}", "relu"],
                [f"conv k=1 c={r3}", "relu", f"conv k=3 p=1 c={n3}", "relu"],
                [f"conv k=1 c={r5}", "relu", f"conv k=5 p=2 c={n5}", "relu"],
                ["maxpool k=3 s=1 p=1", f"conv k=1 c={pp}", "relu"],
            ],
        )
    ]


def googlenet() -> list:
    # The paper's Table 1 (no LRN, BatchNorm or auxiliary heads); pools in ceil mode, as
    # torchvision's, so that the sizes are the table's 56, 28, 14, 7.
    out = ["conv k=7 s=2 p=3 c=64", "relu", "maxpool k=3 s=2 ceil=1"]
    out += ["conv k=1 c=64", "relu", "conv k=3 p=1 c=192", "relu", "maxpool k=3 s=2 ceil=1"]
    out += inception("3a") + inception("3b") + ["maxpool k=3 s=2 ceil=1"]
    for name in ("4a", "4b", "4c", "4d", "4e"):
        out += inception(name)
    out += ["maxpool k=2 s=2 ceil=1"] + inception("5a") + inception("5b")
    return out + ["adaptiveavgpool o=1", "flatten", "dropout p=0.4", "linear n=1000"]


def mobilenet_v2() -> list:
    def conv_bn(k, c, s=1, g=1, act=True):
        words = f"conv k={k}" + (f" s={s}" if s > 1 else "") + (" p=1" if k == 3 else "")
        words += f" c={c}" + (f" g={g}" if g > 1 else "") + " bias=0"
        return [words, "bn"] + (["act f=relu6"] if act else [])

    out = conv_bn(3, 32, s=2)
    inp = 32
    for t, c, n, s in (
        (1, 16, 1, 1),
        (6, 24, 2, 2),
        (6, 32, 3, 2),
        (6, 64, 4, 2),
        (6, 96, 3, 1),
        (6, 160, 3, 2),
        (6, 320, 1, 1),
    ):
        for i in range(n):
            stride = s if i == 0 else 1
            hidden = inp * t
            block = conv_bn(1, hidden) if t != 1 else []
            block += conv_bn(3, hidden, s=stride, g=hidden) + conv_bn(1, c, act=False)
            out += res(block) if stride == 1 and inp == c else block
            inp = c
    out += conv_bn(1, 1280)
    return out + ["adaptiveavgpool o=1", "flatten", "dropout p=0.2", "linear n=1000"]


def text(items: list, indent: str = "") -> list[str]:
    lines = []
    for item in items:
        if isinstance(item, tuple):
            kind, paths = item
            lines.append(f"{indent}{kind}(")
            for i, path in enumerate(paths):
                if i:
                    lines.append(f"{indent}|")
                lines += text(path, indent + "  ")
            lines.append(f"{indent});")
        else:
            lines.append(f"{indent}{item};")
    return lines


DEFINITIONS = {
    "lenet5": lenet5,
    "alexnet": alexnet,
    "vgg16": vgg16,
    "resnet18": lambda: resnet((2, 2, 2, 2), False),
    "resnet50": lambda: resnet((3, 4, 6, 3), True),
    "googlenet": googlenet,
    "mobilenet_v2": mobilenet_v2,
}

if __name__ == "__main__":
    for name, build in DEFINITIONS.items():
        (MODELS / f"{name}.txt").write_text("\n".join(text(build())) + "\n", encoding="utf-8")
