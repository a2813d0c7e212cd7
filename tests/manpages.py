"""Generate man/ from the Click commands with click-man: `python tests/manpages.py`.

The date is pinned so that regeneration is reproducible; test_man.py fails when man/
differs from what this writes.
"""

import sys
from pathlib import Path

MAN_DATE = "2026-11-29"
ROOT = Path(__file__).resolve().parent.parent


def full_group():
    """The `cnnrnn` group with every lazily-loaded command attached (click-man walks
    `group.commands`)."""
    import click

    from cnnrnn_cli.cli.main import COMMANDS, cli

    commands = {name: cli.get_command(None, name) for name in COMMANDS}
    return click.Group(
        name="cnnrnn",
        commands=commands,
        help=cli.help,
        params=cli.params,
        context_settings=cli.context_settings,
    )


def generate(target: Path) -> list[Path]:
    from click_man.core import write_man_pages

    from cnnrnn_cli import __version__

    target.mkdir(parents=True, exist_ok=True)
    for old in target.glob("*.1"):
        old.unlink()
    write_man_pages(
        "cnnrnn", full_group(), version=__version__, target_dir=str(target), date=MAN_DATE
    )
    return sorted(target.glob("*.1"))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    for path in generate(ROOT / "man"):
        print(path.relative_to(ROOT))
