"""JSSyntaxError: a parse failure with its place in the script.

``line`` is 1-based and ``col`` 0-based in code points, as node positions are (see nodes.py). The
printed form shows the column 1-based, as editors and V8 stack traces do, followed by the source
line and a caret under the offending character.
"""
from __future__ import annotations


class JSSyntaxError(Exception):
    """A script that cannot be parsed: message, filename, line (1-based), col (0-based)."""

    def __init__(self, message: str, filename: str = "<eval>", line: int = 1, col: int = 0,
                 source_line: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.filename = filename
        self.line = line
        self.col = col
        self.source_line = source_line

    def __str__(self) -> str:
        text, col = self.source_line, self.col
        if len(text) > 2 * _SIDE:  # a minified or generated line: the part around the column
            lo, hi = max(0, col - _SIDE), col + _SIDE
            text = ("…" if lo else "") + text[lo:hi] + ("…" if hi < len(text) else "")
            col = col - lo + (1 if lo else 0)
        # Tabs are kept under the caret so it lines up however the terminal expands them.
        pad = "".join("\t" if c == "\t" else " " for c in text[:col])
        return (f"SyntaxError: {self.message} at {self.filename}:{self.line}:{self.col + 1}\n"
                f"{text}\n{pad}^")


_SIDE = 80  # characters of a long source line shown on each side of the error's column
