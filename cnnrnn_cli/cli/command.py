"""One shape for every command: its options, a `build(**params) -> Report`, shown once.

    @report_command(example='"1 2; 3 4" -k "1 0; 0 1"', walkthrough=True)
    @click.option("-k", "--kernel", type=MatrixParam())
    def conv(image, kernel, ...) -> Report:
        ...

The decorator adds the options every command shares (-f, --precision, --no-color,
--svg, --only, --max-elements, --example; with `walkthrough`, --at, --steps and
--interactive), and hands the Report to `emit` exactly once. `build` receives the
command's own options, and `at` where the command has it; it validates them, calls the
library (`api`) and returns the Report. The display options never reach it.

`--example` is an argv line parsed by the same parser: the notes' example gives every
value that the command line does not, so `bptt --example --wh 1.2` changes one value.
The tour calls `report_for(argv)` and renders the reports itself.
"""

from __future__ import annotations

import click
from click.core import ParameterSource

from cnnrnn_cli.cli.main import CnnrnnCommand
from cnnrnn_cli.cli.options import (
    animation_options,
    emit,
    output_options,
    walkthrough_options,
)

# Options that decide how a report is shown, not what it holds.
DISPLAY = (
    *("fmt", "precision", "no_color", "svg", "svg_width", "only", "steps", "interactive"),
    *("animate", "frames", "fps"),
)
_GIVEN = (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT, ParameterSource.PROMPT)


class ReportCommand(CnnrnnCommand):
    """A command whose callback builds a Report; `invoke` shows it."""

    def __init__(
        self,
        *args,
        example: str | None = None,
        examples: dict[str, str] | None = None,
        replaces: dict[str, tuple[str, ...]] | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.build, self.example, self.replaces = self.callback, example, replaces or {}
        self.examples = examples or {}

    def invoke(self, ctx: click.Context):
        report, display = self.report(ctx)
        if "animate" in display:  # only an explicit --steps caps the frames
            given = ctx.get_parameter_source("steps") in _GIVEN
            display["frame_cap"] = display.get("steps") if given else None
        emit(report, at=report.at, **display)

    def report(self, ctx: click.Context):
        """(the Report, the display options) for a parsed context."""
        params = dict(ctx.params)
        if params.pop("example", False):
            params = self._with_example(ctx, params)
        display = {key: params.pop(key) for key in DISPLAY if key in params}
        return ctx.invoke(self.build, **params), display

    def report_for(self, argv: list[str], parent: click.Context | None = None):
        """(Report, display options) for a command line of this command (the tour)."""
        with self.make_context(self.name, list(argv), parent=parent) as ctx:
            return self.report(ctx)

    def _with_example(self, ctx: click.Context, params: dict) -> dict:
        """The example's values, overridden by every option given on the command line."""
        if self.example is None:
            raise click.UsageError(f"{self.name} has no example")
        line = next((v for k, v in self.examples.items() if params.get(k)), self.example)
        import shlex

        with self.make_context(self.name, shlex.split(line), parent=ctx.parent) as example:
            merged = dict(example.params)
        merged.pop("example", None)
        for name, value in params.items():
            if ctx.get_parameter_source(name) in _GIVEN or name not in merged:
                merged[name] = value
                for other in self.replaces.get(name, ()):  # --xs replaces the example's x
                    if ctx.get_parameter_source(other) not in _GIVEN:
                        merged[other] = None
        return merged


def report_command(
    *,
    example: str | None = None,
    walkthrough: bool = False,
    animation: bool = False,
    replaces: dict[str, tuple[str, ...]] | None = None,
    examples: dict[str, str] | None = None,
    **settings,
):
    """Make `build(**params) -> Report` a command with the shared options (see above).

    animation: add --animate, --frames and --fps (conv, pool).
    replaces: an option that, given with --example, clears the example's values of
    others (`{"xs": ("x",)}`: a sequence replaces the example's single input).
    examples: a flag's own example (`{"compare": "--compare ..."}`: `--example --compare`).
    """

    def decorate(build):
        # The shared options go after the command's own, in --help as before.
        own = build.__dict__.pop("__click_params__", [])
        fn = output_options(build)
        if walkthrough:
            fn = walkthrough_options(fn)
        if animation:
            fn = animation_options(fn)
        fn.__click_params__.extend(own)
        return click.command(
            cls=ReportCommand, example=example, examples=examples, replaces=replaces, **settings
        )(fn)

    return decorate
