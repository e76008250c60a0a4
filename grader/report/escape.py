"""Text a submission controls, made safe for each place it is shown.

A student chooses their file name, their exception messages and what their code prints; each
sink reads some of it as instructions: a terminal (control characters and ANSI escapes), rich
(``[markup]``), Markdown (HTML and links once rendered). And a report the student reads never
shows the instructor's absolute paths.
"""

from __future__ import annotations

import re

from rich.markup import escape as rich_escape
from rich.text import Text

# C0 and C1 control characters (tab and newline included: one value, one line), DEL, and the
# Unicode controls that reorder or hide text (bidi overrides, isolates, zero-width marks)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]!|~#])")
_CODE_SPAN = re.compile(r"(`[^`\n]+`)")
_BACKTICKS = re.compile(r"`+")
_SPACE = re.compile(r"\s+")
# an absolute path of at least two parts, not inside a word ("N/A", "1/2" stay): the folders
# before its last part are dropped
_ABSOLUTE = re.compile(r"(?<![\w.~/\\-])/(?:[^\s/'\"<>|`]+/)+(?=[^\s/])")


def terminal(text: object) -> str:
    """One line for a terminal: every control character shown as its escape, never sent."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], str(text))


def terminal_text(text: object, style: str = "") -> Text:
    """Student text as a rich Text: no markup parsed, no control character sent."""
    return Text(terminal(text), style=style)


def markup(text: object) -> str:
    """Student text to put inside a rich markup string: escaped for both rich and the terminal."""
    return rich_escape(terminal(text))


def markdown_text(text: str) -> str:
    """Markdown: text that renders as itself. HTML, links, images and emphasis are escaped;
    `code spans` (the grader's quoting of names) are kept, as nothing inside them runs."""
    parts = _CODE_SPAN.split(text)
    return "".join(part if i % 2 else _escape_markdown(part) for i, part in enumerate(parts))


def markdown_code(text: str) -> str:
    """Markdown: text as one inline code span that no backtick inside it can close."""
    text = _SPACE.sub(" ", text).strip()
    runs = [len(m) for m in _BACKTICKS.findall(text)]
    fence = "`" * (max(runs, default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}" if text else ""


def without_paths(text: str) -> str:
    """The text with every absolute path cut to its last part (``/srv/course/s/alice.py`` →
    ``alice.py``): what a student's report may say of where things are."""
    return _ABSOLUTE.sub("", text)


def _escape_markdown(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)
