"""Written answers as safe HTML: Markdown, with the math in it as MathML made here on the server
(readable with no script and no network), and the normal form that groups identical answers.

Student text never runs as HTML: Markdown's raw HTML is off (it comes out as text), each math
span is converted by latex2mathml or, when it does not parse, shown as its source, and the whole
result goes through the nh3 sanitizer with an allowlist of Markdown's and MathML's elements.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import nh3
from latex2mathml.converter import convert
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markupsafe import Markup
from mdit_py_plugins.amsmath import amsmath_plugin
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.texmath import texmath_plugin

MARKDOWN_TAGS = {
    "p", "br", "hr", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li", "a",
    "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "span",
    "div", "img",
}  # fmt: skip
MATHML_TAGS = {
    "math", "mi", "mn", "mo", "ms", "mtext", "mspace", "mrow", "mfrac", "msqrt", "mroot",
    "mstyle", "merror", "mpadded", "mphantom", "menclose", "msub", "msup", "msubsup", "munder",
    "mover", "munderover", "mmultiscripts", "mprescripts", "none", "mtable", "mtr", "mtd",
    "mlabeledtr", "semantics", "annotation",
}  # fmt: skip
MATHML_ATTRIBUTES = {
    "xmlns", "display", "mathvariant", "mathsize", "mathcolor", "mathbackground", "fence",
    "stretchy", "separator", "lspace", "rspace", "minsize", "maxsize", "largeop",
    "movablelimits", "accent", "accentunder", "form", "symmetric", "linethickness", "width",
    "height", "depth", "voffset", "columnalign", "columnspacing", "columnlines", "rowspacing",
    "rowlines", "frame", "notation", "displaystyle", "scriptlevel", "encoding",
}  # fmt: skip
ATTRIBUTES: dict[str, set[str]] = {
    **{tag: set(MATHML_ATTRIBUTES) for tag in MATHML_TAGS},
    "a": {"href", "title"},
    "img": {"alt", "title"},  # no src: an answer's picture would load from the network
    "code": {"class"},
    "span": {"class"},
    "div": {"class"},
    "td": {"style"},  # markdown-it's table alignment
    "th": {"style"},
}
_LATEX_SPACES = re.compile(r"\\[,;:!> ]|\\q?quad\b|~")
# a space not between two word characters (led by the space, so that the search skips to one)
_LOOSE_SPACE = re.compile(r" (?:(?!\w)|(?<!\w ))")


@functools.lru_cache(maxsize=4096)
def render_answer(text: str) -> Markup:
    """``text`` (Markdown with $…$, $$…$$, \\(…\\), \\[…\\] math) as sanitized HTML with MathML.

    A math span that does not parse is shown as its LaTeX source; nothing is dropped. Kept in
    a cache: a class's answers are rendered again at each republish."""
    return Markup(_sanitize(_markdown().render(text)))


@functools.lru_cache(maxsize=4096)
def math_html(latex: str, display: bool = False) -> str:
    """One math span as MathML, or its source in ``<code class="tex">`` when it does not parse.
    Kept in a cache: answers that differ share many of their expressions."""
    try:
        mathml = convert(latex.strip(), display="block" if display else "inline")
    except Exception:  # latex2mathml raises many kinds for many kinds of bad input
        return (
            f'<code class="tex" title="not rendered: shown as written">{escapeHtml(latex)}</code>'
        )
    return mathml


def normalise_answer(text: str | None) -> str:
    """The form in which two answers count as identical: LaTeX spacing commands (``\\,``,
    ``\\quad``, ``~``) dropped, runs of whitespace made one space and kept only between two
    word characters (``x = 1`` and ``x=1`` are the same; ``\\cdot x`` and ``\\cdotx`` are not)."""
    if not text:
        return ""
    return _LOOSE_SPACE.sub("", " ".join(_LATEX_SPACES.sub(" ", text).split()))


def _render_math(content: str, options: dict[str, Any]) -> str:
    return math_html(content, bool(options.get("display_mode")))


@functools.lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
    md.use(dollarmath_plugin, allow_labels=False, double_inline=True, renderer=_render_math)
    md.use(amsmath_plugin, renderer=lambda content: math_html(content, True))
    md.use(texmath_plugin, delimiters="brackets")
    rules = md.renderer.rules if isinstance(md.renderer, RendererHTML) else {}
    for rule in ("math_inline", "math_block", "math_block_eqno"):
        if rule in rules:
            display = rule != "math_inline"
            md.add_render_rule(rule, _texmath_rule(display))
    return md


def _texmath_rule(display: bool):  # noqa: ANN202 - markdown-it's render rule signature
    def rule(self: Any, tokens: list[Any], idx: int, options: Any, env: Any) -> str:
        return math_html(tokens[idx].content, display)

    return rule


def _sanitize(html: str) -> str:
    return nh3.clean(
        html,
        tags=MARKDOWN_TAGS | MATHML_TAGS,
        attributes=ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
