"""Turn graded submissions into reports: one HTML and one Markdown page per student, and an
HTML summary of the class.

Templates are jinja2 files, one copy of each shipped in this package (``templates/``). A course
may override any of them: its own ``templates/<assignment>/`` is looked in first, then its
``templates/``, then the package's; a course without that folder uses the package's. Student
text (answers, output, error messages) is untrusted: HTML is autoescaped, Markdown quotes it in
fenced blocks or blockquotes.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import stat
import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape

from grader.errors import CourseError
from grader.model import CheckResult, SubmissionResult
from grader.report.escape import markdown_code, markdown_text, without_paths
from grader.report.svg import svg_line_chart
from grader.review.answers import normalise_answer, render_answer

BUILTIN_TEMPLATES = Path(__file__).parent / "templates"
OUTPUT_LIMIT = 2000  # characters of the student's printed output shown in a report
TOP_MISTAKES = 5  # named mistakes listed per check in the summary
WRITTEN_IN_SUMMARY = 500  # up to this many students, the summary shows the written answers

STATUS_WORDS = {
    "passed": "Passed",
    "failed": "Failed",
    "error": "Error",
    "timeout": "Timed out",
    "missing": "Missing",
    "manual": "Manual",
}
STATUS_SYMBOLS = {
    "passed": "✓",
    "failed": "✗",
    "error": "!",
    "timeout": "◷",
    "missing": "∅",
    "manual": "✎",
}
SANDBOX_WORDS = {
    "process": "a separate process with resource limits and a time limit",
    "bwrap": "bubblewrap: a separate process with no network and a read-only system",
}

_UNSAFE = re.compile(r"[^A-Za-z0-9._@-]")
_CODE_SPAN = re.compile(r"`([^`\n]+)`")
_BACKTICKS = re.compile(r"`+")
_SPACE = re.compile(r"\s+")


def safe_filename(student: str) -> str:
    """A file name for ``student``'s reports, never shared with another student's.

    Letters, digits and ``-_.@`` are kept, others become ``_``; the name never starts with a
    dot and is never empty, so it cannot name a folder above the output folder or a hidden
    file. When that changed the id (``müller`` and ``mäller`` both give ``m_ller``), or the id
    has capitals (``Ann`` and ``ann`` are one file on macOS and Windows), a short hash of the
    id itself follows: ``m_ller-1a2b3c4d``.
    """
    name = _UNSAFE.sub("_", student)[:120]
    if name.startswith("."):
        name = "_" + name.lstrip(".")
    name = name or "_"
    if name != student or student != student.lower():
        name += "-" + hashlib.sha256(student.encode("utf-8")).hexdigest()[:8]
    return name


def render_report(
    result: SubmissionResult,
    out_dir: Path,
    templates_dir: Path | None = None,
    title: str = "",
) -> list[Path]:
    """Write ``out_dir/<student>.html`` and ``out_dir/<student>.md``; return both paths."""
    return ReportWriter(out_dir, templates_dir, title).write(result)


class ReportWriter:
    """Writes students' reports into one folder: the folder is made and resolved, and each
    assignment's templates are looked up, once, however many reports follow (a batch)."""

    def __init__(self, out_dir: Path, templates_dir: Path | None = None, title: str = "") -> None:
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.root = self.out_dir.resolve()
        self.templates_dir = templates_dir
        self.title = title
        self._templates: dict[str, list[tuple[str, jinja2.Template]]] = {}

    def write(self, result: SubmissionResult) -> list[Path]:
        """Write ``<student>.html`` and ``<student>.md`` for ``result``; return both paths."""
        context = {"r": _report_view(result, self.title)}
        name = safe_filename(result.student)
        written = []
        for suffix, template in self._templates_for(result.assignment):
            path = _inside(self.root, name + suffix, self.out_dir)
            text = _render(template, context)
            try:
                path.write_text(text, encoding="utf-8")
            except FileNotFoundError:  # the folder was removed during the batch: made again
                self.out_dir.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
            written.append(path)
        return written

    def _templates_for(self, assignment: str) -> list[tuple[str, jinja2.Template]]:
        """The HTML and Markdown report templates of ``assignment``, loaded once."""
        if assignment not in self._templates:
            search_path = _search_path(self.templates_dir, assignment)
            self._templates[assignment] = [
                (suffix, _template(_environment(suffix, search_path), name))
                for suffix, name in ((".html", "report.html.j2"), (".md", "report.md.j2"))
            ]
        return self._templates[assignment]


def render_summary(
    results: list[SubmissionResult],
    out_dir: Path,
    templates_dir: Path | None = None,
    title: str = "",
) -> Path:
    """Write ``out_dir/summary.html``: one row per student, per-check rates and mistakes.

    Each student links to ``<student>.html`` beside it, as written by ``render_report``.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    assignments = {r.assignment for r in results}
    assignment = assignments.pop() if len(assignments) == 1 else ""
    env = _environment(".html", _search_path(templates_dir, assignment))
    view = _summary_view(results, title or assignment or "Assignment")
    path = _inside(out_dir.resolve(), "summary.html", out_dir)
    path.write_text(_render(_template(env, "summary.html.j2"), {"s": view}), encoding="utf-8")
    return path


# --- what the templates see ------------------------------------------------------------------


@dataclass(frozen=True)
class ChartView:
    svg: Markup  # built by svg_line_chart, its text already escaped
    caption: str
    title: str
    x_label: str
    names: list[str]  # the series, in order
    rows: list[list[str]]  # x, then each series' value there ("" past its end)


@dataclass(frozen=True)
class CheckView:
    id: str
    title: str
    status: str
    word: str
    symbol: str
    score: str  # "7.5", or "–" for a manual item not graded yet
    max_score: str
    feedback: str
    manual: bool  # still awaiting an instructor's grade
    answer: str | None  # the written answer of a manual item, graded or not
    charts: list[ChartView] = field(default_factory=list)
    overridden: bool = False
    original_score: str = ""  # the check's own score, before the instructor's override
    override_reason: str = ""
    override_by: str = ""
    answer_html: Markup | None = None  # the answer rendered: Markdown, math as MathML, sanitized
    written: bool = False  # a written item: waiting, or graded by hand


def _report_view(result: SubmissionResult, title: str) -> dict[str, Any]:
    """What a student's report shows: their text is scrubbed of the instructor's absolute
    paths here, once, for every format."""
    checks = [_check_view(c, scrubbed=True) for c in result.checks]
    pending = sum(c.max_score for c in result.checks if c.status == "manual" and c.score == 0)
    score, max_score = result.score, result.max_score
    output = without_paths(result.log.output)
    sandbox = result.log.sandbox
    return {
        "title": title or result.assignment or "Assignment",
        "assignment": result.assignment,
        "student": result.student,
        "file": Path(result.submission).name if result.submission else "",
        "problem": without_paths(result.problem) if result.problem else result.problem,
        "score": _points(score),
        "max_score": _points(max_score),
        "percent": _percent(score, max_score),
        "pending": _points(pending) if pending else "",
        "pending_percent": _percent(pending, max_score),
        "all_passed": bool(checks) and all(c.status in ("passed", "manual") for c in result.checks),
        "sandbox": sandbox,
        "sandbox_words": SANDBOX_WORDS.get(sandbox, ""),
        "cell_errors": [
            f"Cell {cell} raised {without_paths(error)}" for cell, error in result.log.cell_errors
        ],
        "load_error": without_paths(result.log.load_error),
        "output": output[:OUTPUT_LIMIT],
        "output_cut": max(0, len(output) - OUTPUT_LIMIT),
        "checks": checks,
    }


def _check_view(check: CheckResult, with_answer: bool = True, scrubbed: bool = False) -> CheckView:
    """What the templates show of a check; ``scrubbed``: its feedback without absolute paths."""
    manual = check.status == "manual"
    charts = []
    for case in check.cases:
        if case.plot is None:
            continue
        caption = (
            "from a hidden test case"
            if case.visibility == "hidden"
            else f"from test case {case.index + 1}"
        )
        plot = case.plot
        names = list(plot.series)
        length = max((len(v) for v in plot.series.values()), default=0)
        rows = [[str(i + 1)] + [_number(plot.series[n], i) for n in names] for i in range(length)]
        svg = Markup(svg_line_chart(plot))
        charts.append(ChartView(svg, caption, plot.title, plot.x_label, names, rows))
    return CheckView(
        id=check.id,
        title=check.title,
        status=check.status,
        word=STATUS_WORDS.get(check.status, check.status),
        symbol=STATUS_SYMBOLS.get(check.status, "?"),
        score="–" if manual and check.score == 0 else _points(check.score),
        max_score=_points(check.max_score),
        feedback=without_paths(check.feedback) if scrubbed else check.feedback,
        manual=manual,
        answer=check.answer,
        charts=charts,
        overridden=check.override is not None,
        original_score=_points(check.override.original_score) if check.override else "",
        override_reason=check.override.reason if check.override else "",
        override_by=check.override.grader if check.override else "",
        answer_html=(
            render_answer(check.answer)
            if with_answer and check.answer and check.answer.strip()
            else None
        ),
        written=manual or check.answer is not None,
    )


def _summary_view(results: list[SubmissionResult], title: str) -> dict[str, Any]:
    """What the class summary shows: a row per student, a column per check (pass rate, mean,
    most common mistakes) and, for a class of up to WRITTEN_IN_SUMMARY, the written answers."""
    titles = _check_titles(results)
    ordered = sorted(results, key=lambda r: (r.student.lower(), r.student))
    columns = [_summary_column(check_id, name, results) for check_id, name in titles.items()]
    totals = [r.score for r in results]
    return {
        "written": _written_answers(columns, ordered),
        "written_left_out": len(results) > WRITTEN_IN_SUMMARY,
        "title": title,
        "count": len(results),
        "mean": _points(statistics.fmean(totals)) if totals else "–",
        "median": _points(statistics.median(totals)) if totals else "–",
        "max_score": _points(max((r.max_score for r in results), default=0.0)),
        "rows": [_summary_row(result, list(titles)) for result in ordered],
        "columns": columns,
        "statuses": [
            {"status": s, "word": STATUS_WORDS[s], "symbol": STATUS_SYMBOLS[s]}
            for s in STATUS_WORDS
        ],
    }


def _check_titles(results: list[SubmissionResult]) -> dict[str, str]:
    """Every check id of the class, in the order first seen, with its title."""
    titles: dict[str, str] = {}
    for result in results:
        for check in result.checks:
            titles.setdefault(check.id, check.title)
    return titles


def _summary_row(result: SubmissionResult, check_ids: list[str]) -> dict[str, Any]:
    """A student's row: score, a cell per check (None where the result lacks it), notes."""
    by_id = {c.id: c for c in result.checks}
    notes = []
    if result.problem:
        notes.append("could not be read")
    if result.log.load_error:
        notes.append("did not load")
    if result.log.cell_errors:
        count = len(result.log.cell_errors)
        notes.append(f"{count} cell error{'s' if count > 1 else ''}")
    return {
        "student": result.student,
        "link": safe_filename(result.student) + ".html",
        "score": _points(result.score),
        "max_score": _points(result.max_score),
        "percent": _percent(result.score, result.max_score),
        "cells": [
            _check_view(by_id[check_id], with_answer=False) if check_id in by_id else None
            for check_id in check_ids
        ],
        "notes": ", ".join(notes),
    }


def _summary_column(check_id: str, title: str, results: list[SubmissionResult]) -> dict[str, Any]:
    """A check's column: how many passed or answered, the mean score, the top mistakes."""
    checks = [c for r in results for c in r.checks if c.id == check_id]
    passed = sum(c.status == "passed" for c in checks)
    mistakes: Counter[str] = Counter()
    for check in checks:  # each student counts once per mistake
        mistakes.update({case.mistake for case in check.cases if case.mistake})
    return {
        "id": check_id,
        "id_breakable": Markup(re.sub(r"([._])", r"\1<wbr>", str(escape(check_id)))),
        "title": title,
        "manual": all(c.status == "manual" for c in checks),
        "count": len(checks),
        "passed": passed,
        "answered": sum(c.answer is not None and c.answer.strip() != "" for c in checks),
        "pass_rate": _percent(passed, len(checks)),
        "mean": _points(statistics.fmean(c.score for c in checks)) if checks else "–",
        "max_score": _points(max(c.max_score for c in checks)) if checks else "–",
        "mistakes": sorted(mistakes.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_MISTAKES],
        "more_mistakes": max(0, len(mistakes) - TOP_MISTAKES),
    }


def _written_answers(
    columns: list[dict[str, Any]], ordered: list[SubmissionResult]
) -> list[dict[str, Any]]:
    """Each written item's answers, identical ones grouped with their students (none for a
    class over WRITTEN_IN_SUMMARY)."""
    if len(ordered) > WRITTEN_IN_SUMMARY:
        return []
    written = []
    for column in (c for c in columns if c["manual"]):
        groups: dict[str, dict[str, Any]] = {}
        for result in ordered:
            check = next((c for c in result.checks if c.id == column["id"]), None)
            if check is None or not check.answer or not check.answer.strip():
                continue
            group = groups.setdefault(
                normalise_answer(check.answer),
                {"html": render_answer(check.answer), "students": []},
            )
            group["students"].append(result.student)
        written.append(
            {"id": column["id"], "title": column["title"], "groups": list(groups.values())}
        )
    return written


# --- helpers ----------------------------------------------------------------------------------


def _template(env: jinja2.Environment, name: str) -> jinja2.Template:
    """The template ``name``; one that cannot be compiled is a CourseError naming its file
    and line."""
    try:
        return env.get_template(name)
    except jinja2.TemplateError as exc:
        raise _course_error(exc, name, name) from None


def _render(template: jinja2.Template, context: dict[str, Any]) -> str:
    """The template rendered; one that cannot be is a CourseError naming its file and line
    (a name it uses that the report does not have, or a syntax error in one it includes)."""
    name = template.name or ""
    where = template.filename or name
    try:
        return template.render(context)
    except jinja2.TemplateError as exc:
        raise _course_error(exc, where, name, _template_line(exc, where)) from None


def _course_error(
    exc: jinja2.TemplateError, where: str, name: str, line: int | None = None
) -> CourseError:
    """What a course author reads of a template that fails: its file and line, and the fix."""
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return CourseError(
            f"{exc.filename or where}:{exc.lineno}: {exc.message}; fix the template "
            f"(the defaults are in {BUILTIN_TEMPLATES})"
        )
    return CourseError(
        f"{where}{f':{line}' if line else ''}: {exc.message or type(exc).__name__}; fix the "
        f"template (the names a report has are in {BUILTIN_TEMPLATES / name})"
    )


def _template_line(exc: BaseException, filename: str) -> int | None:
    """The template line being rendered when ``exc`` was raised (jinja2 maps its frames)."""
    line, tb = None, exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _points(value: float) -> str:
    """10.0 → "10", 7.5 → "7.5", 6.666 → "6.67"."""
    return f"{round(value, 2):g}"


def _number(values: list[float], i: int) -> str:
    return f"{values[i]:.4g}" if i < len(values) else ""


def _percent(part: float, whole: float) -> float:
    """A percentage with one decimal, usable as a CSS width and printed as 64 or 64.5."""
    return float(f"{100.0 * part / whole:.1f}") if whole > 0 else 0.0


def _inside(root: Path, name: str, out_dir: Path) -> Path:
    """``root / name`` (``root``: ``out_dir`` resolved), refusing anything that would land
    elsewhere. A plain file name that is not a symbolic link needs no resolving."""
    path = root / name
    if "/" in name or name in (".", "..") or path.is_symlink():
        path = path.resolve()
    if path.parent != root:
        raise ValueError(f"refusing to write {name!r} outside {out_dir}")
    return path


def _search_path(templates_dir: Path | None, assignment: str) -> tuple[Path, ...]:
    """Folders to look for a template in, most specific first; the built-ins come last."""
    folders = []
    if templates_dir is not None:
        templates_dir = Path(templates_dir)
        if assignment and safe_filename(assignment) == assignment:
            folders.append(templates_dir / assignment)
        folders.append(templates_dir)
    folders.append(BUILTIN_TEMPLATES)
    return tuple(folders)


@functools.lru_cache(maxsize=16)
def _environment(kind: str, search_path: tuple[Path, ...]) -> jinja2.Environment:
    html = kind == ".html"
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(p) for p in search_path]),
        autoescape=html,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        bytecode_cache=_compiled_templates(),
    )
    env.filters["code_spans"] = _code_spans
    env.filters["fenced"] = _fenced
    env.filters["blockquote"] = _blockquote
    env.filters["md_text"] = markdown_text
    env.filters["md_code"] = markdown_code
    env.filters["cell"] = _table_cell
    env.filters["text_bar"] = _text_bar
    env.filters["pct"] = lambda value: f"{value:g}%"
    return env


class _CompiledTemplates(jinja2.FileSystemBytecodeCache):
    """Templates compiled once, kept between runs (about 50 ms of a batch's start otherwise):
    jinja2's own cache, keyed by the template's file and checked against its source, so an
    edited template is compiled again. A cache that cannot be read or written is no cache,
    never an error."""

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # unreadable or damaged (pickle's, marshal's, the disk's errors)
            bucket.reset()  # compiled afresh

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass


@functools.cache
def _compiled_templates() -> _CompiledTemplates | None:
    """The cache of compiled templates: ``$XDG_CACHE_HOME/grader/templates`` (by default
    ``~/.cache/grader/templates``). Loading a compiled template runs its code, so the folder
    must be this user's alone (as jinja2's own default folder must be); None where it is not,
    or where there is no such folder to be had."""
    try:
        given = os.environ.get("XDG_CACHE_HOME", "")
        base = Path(given) if os.path.isabs(given) else Path.home() / ".cache"  # as XDG says
        folder = base / "grader" / "templates"
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        held = folder.lstat()
    except (OSError, RuntimeError):  # no home, or a read-only one
        return None
    owner = getattr(os, "getuid", lambda: None)()  # POSIX; elsewhere no cache
    if owner is None or not stat.S_ISDIR(held.st_mode) or held.st_uid != owner:
        return None  # a link, or another user's
    if held.st_mode & 0o022:
        return None  # writable by others
    return _CompiledTemplates(str(folder))


def _code_spans(text: str) -> Markup:
    """HTML: the text escaped, then its `backticked` parts set as <code>."""
    escaped = str(escape(text))
    return Markup(_CODE_SPAN.sub(r"<code>\1</code>", escaped))


def _fenced(text: str, info: str = "text") -> str:
    """Markdown: ``text`` in a fenced code block no backtick run inside it can close."""
    runs = [len(m) for m in _BACKTICKS.findall(text)]
    fence = "`" * max(3, max(runs, default=0) + 1)
    body = text if text.endswith("\n") else text + "\n"
    return f"{fence}{info}\n{body}{fence}"


def _blockquote(text: str) -> str:
    """Markdown: every line of ``text`` inside a blockquote, so it cannot leave it."""
    return "\n".join(f"> {line}".rstrip() for line in text.splitlines() or [""])


def _table_cell(text: Any) -> str:
    """Markdown: text that stays inside one table cell."""
    return _SPACE.sub(" ", str(text)).replace("|", "\\|").strip()


def _text_bar(percent: float, width: int = 20) -> str:
    filled = round(width * min(max(percent, 0.0), 100.0) / 100)
    return "█" * filled + "░" * (width - filled)
