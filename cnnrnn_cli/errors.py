"""Errors the core and the parsers raise; the CLI edge turns each into one `Error:` line."""


class CnnrnnError(Exception):
    """A problem with the user's input. `str(err)` is the line shown after `Error: `."""

    def __init__(self, source: str, message: str):
        super().__init__(f"{source}: {message}")
        self.source = source
        self.message = message


class InputError(CnnrnnError):
    """A value that cannot be read or is out of range (a bad token, a zero stride)."""


class ShapeError(CnnrnnError):
    """Shapes that do not fit together; the message names both shapes."""


def shape_str(shape) -> str:
    """(3, 5, 5) -> '3×5×5'; () -> 'scalar'."""
    return "×".join(str(n) for n in shape) if len(shape) else "scalar"
