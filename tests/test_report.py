"""The report stage: a graded submission becomes a student's HTML and Markdown report, a class
becomes a summary page, and a Plot becomes an inline SVG chart."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import pytest
from markupsafe import escape

from grader.model import CaseResult, CheckResult, Plot, RunLog, SubmissionResult
from grader.report.render import ReportWriter, render_report, render_summary, safe_filename
from grader.report.svg import svg_line_chart

REPO = Path(__file__).resolve().parents[1]
SVG = "{http://www.w3.org/2000/svg}"

VARIANCE_PLOT = Plot(
    title="Pre-activation variance through 4 relu layers",
    x_label="layer",
    y_label="Var(z_l)",
    series={"your weights": [1.0, 0.5, 0.25, 0.125], "He initialization (reference)": [2.0] * 4},
    log_y=True,
)


def case(index, status="passed", visibility="public", message="ok", mistake=None, plot=None):
    return CaseResult(index, visibility, status, message, mistake, plot)


def graded(student="alice", **changes) -> SubmissionResult:
    """A typical result: one pass, one partial fail with a named mistake and a plot, one
    missing function, one manual item with a written answer."""
    checks = (
        CheckResult(
            "1a.hessian", "passed", 10.0, 10.0, "`hessian` looks good.", "Hessian", (case(0),)
        ),
        CheckResult(
            "2a.he_init",
            "failed",
            7.5,
            15.0,
            "This looks like a known mistake, LeCun's 1/n: use 2/n_in.",
            "He initialization",
            (
                case(0),
                case(1, "failed", "public", "variance 0.5× expected", "LeCun's 1/n"),
                case(2, "failed", "hidden", "the variance shrinks", plot=VARIANCE_PLOT),
            ),
        ),
        CheckResult(
            "2b.tanh_init",
            "missing",
            0.0,
            10.0,
            "No function `tanh_init` was found.",
            "Initialization for tanh",
            (case(0, "missing", message="not defined"),),
        ),
        CheckResult(
            "2a.proof",
            "manual",
            0.0,
            10.0,
            "Graded by hand by an instructor.",
            "Induction proof",
            answer="Var(z_l) = n Var(w) E[a²] = Var(z_{l-1}) by induction.",
        ),
    )
    values = dict(
        student=student,
        submission=f"/somewhere/{student}.ipynb",
        checks=checks,
        assignment="sheet3",
        log=RunLog(sandbox="process"),
    )
    values.update(changes)
    return SubmissionResult(**values)


def with_check(result: SubmissionResult, check_id: str, **changes) -> SubmissionResult:
    checks = tuple(
        CheckResult(**{**c.__dict__, **changes}) if c.id == check_id else c for c in result.checks
    )
    return SubmissionResult(**{**result.__dict__, "checks": checks})


# --- the student's report ----------------------------------------------------------------------


def test_report_writes_html_and_markdown_named_after_the_student(tmp_path):
    paths = render_report(graded(), tmp_path, title="Exercise Sheet 3")

    assert paths == [tmp_path / "alice.html", tmp_path / "alice.md"]
    html = paths[0].read_text(encoding="utf-8")
    assert "Exercise Sheet 3" in html and "alice" in html
    assert "17.5" in html and "45" in html  # total score and maximum
    assert "alice.ipynb" in html and "/somewhere" not in html  # the file, not the grader's path
    assert "process" in html  # the sandbox layer that ran it
    assert "<script" not in html  # no JavaScript needed


def test_report_lists_every_check_with_its_score_and_a_spelled_out_status(tmp_path):
    html = render_report(graded(), tmp_path)[0].read_text(encoding="utf-8")
    table = html.split("Checks at a glance")[1].split("Check by check")[0]

    rows = re.findall(r"<tr>(.*?)</tr>", table, flags=re.S)[1:]
    text = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in rows]
    assert text == [
        "1a.hessian Hessian ✓ Passed 10 / 10",
        "2a.he_init He initialization ✗ Failed 7.5 / 15",
        "2b.tanh_init Initialization for tanh ∅ Missing 0 / 10",
        "2a.proof Induction proof ✎ Manual – / 10",  # not graded yet, not "0"
    ]


def test_each_check_has_a_section_with_its_feedback(tmp_path):
    html = render_report(graded(), tmp_path)[0].read_text(encoding="utf-8")

    for check in graded().checks:
        assert f'id="check-{check.id}"' in html
    assert "LeCun&#39;s 1/n: use 2/n_in." in html
    assert "No function <code>tanh_init</code> was found." in html  # `code` spans set as code


def test_a_manual_item_quotes_the_written_answer_for_the_instructor(tmp_path):
    html = render_report(graded(), tmp_path)[0].read_text(encoding="utf-8")
    proof = html.split('id="check-2a.proof"')[1]

    assert "awaiting an instructor's grade" in proof
    answer = "Var(z_l) = n Var(w) E[a²] = Var(z_{l-1}) by induction."
    assert f'<div class="answer"><p>{answer}</p>\n</div>' in proof  # rendered as Markdown
    assert f"<pre>{answer}</pre>" in proof  # and the source as written, one click away


def test_written_math_reads_as_mathml_in_the_report_and_the_summary(tmp_path):
    """Item 8 of issue 11: MathML made on the server, no script; LaTeX that does not parse is
    shown as written."""
    result = with_check(graded(), "2a.proof", answer=r"So $\frac{2}{n}$ and $\frac{1}{$.")
    html = render_report(result, tmp_path)[0].read_text(encoding="utf-8")
    proof = html.split('id="check-2a.proof"')[1]
    assert '<math xmlns="http://www.w3.org/1998/Math/MathML" display="inline">' in proof
    assert "<mfrac><mrow><mn>2</mn></mrow><mrow><mi>n</mi></mrow></mfrac>" in proof
    assert '<code class="tex" title="not rendered: shown as written">\\frac{1}{</code>' in proof
    assert "<script" not in html

    other = with_check(graded(), "2a.proof", answer=r"So  $\frac{2}{n}$ and $\frac{1}{$.")
    summary = render_summary([result, replace(other, student="bob")], tmp_path)
    written = summary.read_text(encoding="utf-8").split("<h2>Written answers</h2>")[1]
    assert "alice, bob" in written and "(2 identical answers)" in written
    assert written.count("<mfrac>") == 1  # one group, shown once


def test_an_expression_two_answers_share_is_converted_once_and_reads_the_same():
    from grader.review.answers import math_html, render_answer

    first = render_answer(r"The curvature is $\frac{\partial^2 J}{\partial w^2} = 7$, so.")
    before = math_html.cache_info()
    second = render_answer(r"Hence $\frac{\partial^2 J}{\partial w^2} = 7$ by the chain rule.")
    after = math_html.cache_info()
    assert (after.hits - before.hits, after.misses - before.misses) == (1, 0)
    shown = [re.search(r"<math .*?</math>", str(html)) for html in (first, second)]
    assert shown[0] and shown[1] and shown[0].group() == shown[1].group()
    assert "<mfrac>" in shown[0].group()


def test_answers_count_as_identical_exactly_as_the_regular_expressions_said():
    """normalise_answer with str.split and a space-led pattern: the same normal form as the
    three substitutions it replaces, on random text of spaces, words, marks and LaTeX."""
    import random

    from grader.review.answers import normalise_answer

    def reference(text: str) -> str:
        text = re.sub(r"\\[,;:!> ]|\\q?quad\b|~", " ", text)
        text = re.sub(r"\s+", " ", text).strip()
        return re.sub(r"(?<!\w) | (?!\w)", "", text)

    pieces = [" ", "  ", "\n", "\t", "\u00a0", "\x1f", "x", "é", "1", "_", ".", "=", "\\,", "~"]
    pieces += ["\\quad", "\\qquad", "\\cdot", "$", "\\", "2x", "σ²"]
    draw = random.Random(14)
    for _ in range(5000):
        text = "".join(draw.choice(pieces) for _ in range(draw.randint(0, 14)))
        assert normalise_answer(text) == reference(text), repr(text)
    assert normalise_answer("x = 1") == normalise_answer("x=1") == "x=1"
    assert normalise_answer(r"a \cdot x") != normalise_answer(r"a \cdotx")


def test_a_graded_written_item_still_shows_the_answer(tmp_path):
    result = with_check(graded(), "2a.proof", status="passed", score=8.0, answer="$x^2$")
    proof = (
        render_report(result, tmp_path)[0]
        .read_text(encoding="utf-8")
        .split('id="check-2a.proof"')[1]
    )
    assert "Your written answer:" in proof and "<msup>" in proof


def test_a_manual_item_without_an_answer_says_so(tmp_path):
    result = with_check(graded(), "2a.proof", answer=None)
    html, md = (p.read_text(encoding="utf-8") for p in render_report(result, tmp_path))

    assert "No written answer found" in html
    assert "No written answer found" in md


def test_a_script_in_the_students_answer_is_escaped_in_html(tmp_path):
    attack = "</pre><script>alert(1)</script>"
    result = with_check(graded(), "2a.proof", answer=attack)
    result = with_check(result, "2b.tanh_init", feedback="raised ValueError: <img src=x>")
    result = SubmissionResult(
        **{**result.__dict__, "student": "<b>mallory</b>", "log": RunLog(output="<script>x")}
    )
    html = render_report(result, tmp_path)[0].read_text(encoding="utf-8")

    assert "<script" not in html
    assert "&lt;/pre&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img" not in html and "&lt;img src=x&gt;" in html
    assert "<b>mallory" not in html and "&lt;b&gt;mallory&lt;/b&gt;" in html


def test_markdown_keeps_student_text_quoted(tmp_path):
    # A fence inside the answer cannot close the block the report puts it in.
    answer = "proof:\n```\n# Not a heading of the report\n```\nqed"
    result = with_check(graded(), "2a.proof", answer=answer)
    result = with_check(result, "2b.tanh_init", feedback="line one\n# line two")
    md = render_report(result, tmp_path)[1].read_text(encoding="utf-8")

    assert "````text\n" + answer + "\n````" in md  # a longer fence than any inside
    assert "> line one\n> \\# line two" in md  # a blockquote, line by line, escaped


def test_markdown_has_the_same_facts_as_the_html(tmp_path):
    md = render_report(graded(), tmp_path, title="Sheet 3")[1].read_text(encoding="utf-8")

    assert md.startswith("# Sheet 3: feedback for `alice`\n")  # the name in a code span
    assert "**Score: 17.5 of 45 points (38.9%)**" in md
    assert "| `2a.he_init` | He initialization | ✗ Failed | 7.5 / 15 |" in md
    # The chart's numbers, as a table Markdown viewers can show.
    assert "| 4 | 0.125 | 2 |" in md


def test_a_plot_is_drawn_inline_under_its_check(tmp_path):
    html = render_report(graded(), tmp_path)[0].read_text(encoding="utf-8")
    he_init = html.split('id="check-2a.he_init"')[1].split("<section")[0]

    assert he_init.count("<svg") == 1
    assert "Pre-activation variance through 4 relu layers" in he_init
    assert "From a hidden test case." in he_init  # nothing more about the hidden case
    assert html.count("<svg") == 1


def test_an_unreadable_submission_is_explained_first(tmp_path):
    result = graded(problem="alice.ipynb is not a readable Jupyter notebook (bad JSON)")
    html = render_report(result, tmp_path)[0].read_text(encoding="utf-8")

    assert "We could not read your submission" in html
    assert html.index("not a readable Jupyter notebook") < html.index("Checks at a glance")


def test_cell_errors_are_listed_and_output_is_collapsed_and_capped(tmp_path):
    log = RunLog(
        cell_errors=((3, "SyntaxError: invalid syntax (line 2)"), (5, "NameError: name 'np'")),
        output="x" * 5000,
        sandbox="process",
    )
    html, md = (p.read_text(encoding="utf-8") for p in render_report(graded(log=log), tmp_path))

    assert "Cell 3 raised SyntaxError: invalid syntax (line 2)" in html
    assert "Cell 5 raised NameError: name &#39;np&#39;" in html
    details = html.split("<details>")[1].split("</details>")[0]
    assert "x" * 2000 in details and "x" * 2001 not in details
    assert "3000 more characters" in details
    assert "Cell 3 raised SyntaxError" in md


def test_a_student_id_cannot_escape_the_output_folder(tmp_path):
    out = tmp_path / "reports"
    paths = render_report(graded(student="../../evil"), out)

    stem = safe_filename("../../evil")
    assert stem.startswith("__.._evil-")
    assert [p.name for p in paths] == [f"{stem}.html", f"{stem}.md"]
    assert all(p.parent == out for p in paths)
    assert sorted(p.name for p in tmp_path.rglob("*")) == [f"{stem}.html", f"{stem}.md", "reports"]


def test_a_report_file_linked_elsewhere_is_refused(tmp_path):
    """A symbolic link left in the reports folder under a student's file name is not followed."""
    out, elsewhere = tmp_path / "reports", tmp_path / "elsewhere.html"
    out.mkdir()
    (out / "alice.html").symlink_to(elsewhere)
    with pytest.raises(ValueError, match="outside"):
        render_report(graded(), out)
    assert not elsewhere.exists()


@pytest.mark.parametrize(
    ("student", "name"),
    [
        ("alice", "alice"),
        ("a.b-c_d@uni.edu", "a.b-c_d@uni.edu"),
        ("Jo Müller/1", "Jo_M_ller_1-"),
        ("..", "_-"),
        ("", "_-"),
        ("/etc/passwd", "_etc_passwd-"),
    ],
)
def test_safe_filename(student, name):
    got = safe_filename(student)
    assert (
        got == name
        if not name.endswith("-")
        else got.startswith(name) and len(got) == len(name) + 8
    )


def test_reports_never_share_a_file_and_the_summary_links_each_to_its_own(tmp_path):
    """müller/mäller and "mary smith"/mary_smith sanitise alike: each keeps its own report."""
    students = ["müller", "mäller", "mary smith", "mary_smith", "Ann", "ann"]
    out = tmp_path / "reports"
    for student in students:
        render_report(graded(student=student), out)
    summary = render_summary([graded(student=s) for s in students], out).read_text()
    names = {safe_filename(s) for s in students}
    assert len(names) == len(students)
    assert len({n.lower() for n in names}) == len(students)  # case-insensitive disks too
    for student in students:
        page = (out / f"{safe_filename(student)}.html").read_text(encoding="utf-8")
        assert f"feedback for {escape(student)}" in page
        assert f'href="{safe_filename(student)}.html"' in summary


# --- templates -----------------------------------------------------------------------------------


def test_each_template_has_one_copy_the_packages(tmp_path):
    """The reports' templates (and the handout README's) live once, in the package; a course's
    own ``templates/`` is an optional override, and a course without one renders with the
    built-ins."""
    package = REPO / "grader" / "report" / "templates"
    names = sorted(p.name for p in package.glob("*.j2"))
    assert names == ["handout.md.j2", "report.html.j2", "report.md.j2", "summary.html.j2"]
    for name in names:
        assert [p for p in REPO.rglob(name) if ".git" not in p.parts] == [package / name]
    missing = render_report(graded(), tmp_path / "a", templates_dir=tmp_path / "no-such-folder")
    builtin = render_report(graded(), tmp_path / "b", templates_dir=None)
    assert [p.read_text(encoding="utf-8") for p in missing] == [
        p.read_text(encoding="utf-8") for p in builtin
    ]


def test_an_assignments_own_template_wins_and_others_fall_back(tmp_path):
    templates = tmp_path / "templates"
    (templates / "sheet3").mkdir(parents=True)
    (templates / "sheet3" / "report.html.j2").write_text("sheet3 page for {{ r.student }}")
    (templates / "report.md.j2").write_text("course page for {{ r.student }}")

    html, md = render_report(graded(), tmp_path / "out", templates_dir=templates)
    assert html.read_text() == "sheet3 page for alice"
    assert md.read_text() == "course page for alice"

    other = render_report(graded(assignment="sheet4"), tmp_path / "o", templates_dir=templates)
    assert "<!DOCTYPE html>" in other[0].read_text()  # no course copy: the built-in one


def test_one_writer_gives_each_assignment_its_own_templates(tmp_path):
    """A batch's writer looks each assignment's templates up once, never one for another's."""
    templates = tmp_path / "templates"
    (templates / "sheet3").mkdir(parents=True)
    (templates / "sheet3" / "report.html.j2").write_text("sheet3 page for {{ r.student }}")
    writer = ReportWriter(tmp_path / "out", templates)
    for student, assignment in (("ann", "sheet3"), ("bob", "sheet4"), ("cat", "sheet3")):
        writer.write(graded(student=student, assignment=assignment))
    assert (tmp_path / "out" / "ann.html").read_text() == "sheet3 page for ann"
    assert "<!DOCTYPE html>" in (tmp_path / "out" / "bob.html").read_text()
    assert (tmp_path / "out" / "cat.html").read_text() == "sheet3 page for cat"
    alone, _ = render_report(graded(student="bob", assignment="sheet4"), tmp_path / "a", templates)
    assert alone.read_bytes() == (tmp_path / "out" / "bob.html").read_bytes()


def test_a_reports_folder_removed_during_a_batch_is_made_again(tmp_path):
    """Nothing is lost and the batch goes on: the next report recreates the folder."""
    import shutil

    writer = ReportWriter(tmp_path / "out")
    writer.write(graded(student="ann"))
    shutil.rmtree(tmp_path / "out")
    html, md = writer.write(graded(student="bob"))
    assert html.exists() and md.exists() and html.parent == tmp_path / "out"


def test_a_template_using_an_unknown_name_fails_loudly(tmp_path):
    (tmp_path / "report.html.j2").write_text("{{ r.no_such_thing }}")
    with pytest.raises(Exception, match="no_such_thing"):
        render_report(graded(), tmp_path / "out", templates_dir=tmp_path)


# --- the class summary ---------------------------------------------------------------------------


def class_results() -> list[SubmissionResult]:
    mistake = "LeCun's 1/n"
    bob = with_check(
        graded("bob"),
        "2a.he_init",
        cases=(
            case(0, "failed", mistake=mistake),
            case(1, "failed", mistake=mistake),  # one student, counted once
            case(2, "failed", "hidden", mistake="fan-out"),
        ),
    )
    carol = with_check(graded("carol"), "2a.he_init", status="passed", score=15.0, cases=())
    return [graded("alice"), bob, carol]


def test_summary_has_one_row_per_student_with_colour_and_status(tmp_path):
    path = render_summary(class_results(), tmp_path, title="Sheet 3")
    html = path.read_text(encoding="utf-8")

    assert path == tmp_path / "summary.html"
    body = html.split("<tbody>")[1].split("</tbody>")[0]
    rows = re.findall(r"<tr>(.*?)</tr>", body, flags=re.S)
    assert [re.search(r'href="([^"]+)"', r).group(1) for r in rows] == [
        "alice.html",
        "bob.html",
        "carol.html",
    ]
    carol = rows[2]
    assert '<td class="s-passed" title="2a.he_init: Passed">✓ 15</td>' in carol
    assert '<td class="s-missing" title="2b.tanh_init: Missing">∅ 0</td>' in carol
    assert "<strong>25</strong>" in carol  # carol's total


def cells(row: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]


def test_summary_gives_pass_rates_and_means_per_check(tmp_path):
    html = render_summary(class_results(), tmp_path).read_text(encoding="utf-8")
    footer = html.split("<tfoot>")[1].split("</tfoot>")[0]
    passed, mean = re.findall(r"<tr>(.*?)</tr>", footer, flags=re.S)

    # columns: total, 1a.hessian, 2a.he_init, 2b.tanh_init, 2a.proof, notes
    assert cells(passed) == ["", "100%", "33.3%", "0%", "3 answered", ""]
    assert cells(mean) == ["20", "10", "10", "0", "0", ""]  # totals 17.5, 17.5 and 25


def test_summary_counts_each_students_mistake_once(tmp_path):
    html = render_summary(class_results(), tmp_path).read_text(encoding="utf-8")
    mistakes = html.split("Most frequent mistakes")[1]
    rows = [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip()
        for row in re.findall(r"<tr>(.*?)</tr>", mistakes, flags=re.S)[1:]
    ]

    # alice and bob both made LeCun's mistake (bob in two cases); only bob the fan-out one.
    assert rows == [
        "2a.he_init He initialization LeCun&#39;s 1/n 2 of 3",
        "fan-out 1 of 3",
    ]


def test_summary_of_nobody(tmp_path):
    html = render_summary([], tmp_path, title="Sheet 3").read_text(encoding="utf-8")
    assert "No submissions were graded." in html


# --- the chart -----------------------------------------------------------------------------------


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def coordinates(root: ET.Element) -> list[float]:
    numbers = []
    for line in root.iter(f"{SVG}polyline"):
        numbers += [float(v) for v in re.split(r"[ ,]", line.get("points", "")) if v]
    return numbers


def test_chart_is_svg_with_one_polyline_per_series_and_a_legend():
    root = parse(svg_line_chart(VARIANCE_PLOT))
    texts = [t.text for t in root.iter(f"{SVG}text")]

    assert root.tag == f"{SVG}svg"
    lines = root.findall(f"{SVG}polyline")
    assert len(lines) == 2
    assert [len(line.get("points").split()) for line in lines] == [4, 4]
    assert "Pre-activation variance through 4 relu layers" in texts
    assert "your weights" in texts and "He initialization (reference)" in texts
    assert "layer" in texts and "Var(z_l) (log scale)" in texts
    assert {"1", "2", "3", "4"} <= set(texts)  # the layers on the x axis


def test_chart_log_scale_leaves_out_zero_and_says_so():
    plot = Plot("collapse", "layer", "variance", {"yours": [1.0, 0.01, 0.0, -1.0]}, log_y=True)
    root = parse(svg_line_chart(plot))

    (line,) = root.findall(f"{SVG}polyline")
    assert len(line.get("points").split()) == 2  # the zero and the negative value cannot be drawn
    assert all(math.isfinite(v) for v in coordinates(root))
    assert any("2 values ≤ 0 or not finite, not shown" in (t.text or "") for t in root.iter())


def test_chart_log_scale_ticks_are_powers_of_ten():
    plot = Plot("t", "x", "y", {"a": [1e-4, 1e-2, 1.0]}, log_y=True)
    texts = [t.text for t in parse(svg_line_chart(plot)).iter(f"{SVG}text")]
    assert {"0.0001", "0.001", "0.01", "0.1", "1"} <= set(texts)


def test_chart_escapes_its_text_and_is_deterministic():
    plot = Plot('<b>"A & B"</b>', "x < 1", "y", {"<script>": [1.0, float("nan"), 3.0]})
    svg = svg_line_chart(plot)
    root = parse(svg)

    assert "<script>" not in svg and "<b>" not in svg
    assert root.find(f"{SVG}title").text == '<b>"A & B"</b>'
    assert svg == svg_line_chart(plot)
    assert all(math.isfinite(v) for v in coordinates(root))


@pytest.mark.parametrize(
    "series",
    [{}, {"empty": []}, {"one": [5.0]}, {"flat": [2.0, 2.0, 2.0]}, {"zeros": [0.0, 0.0]}],
)
def test_chart_copes_with_degenerate_series(series):
    for log_y in (False, True):
        root = parse(svg_line_chart(Plot("t", "x", "y", series, log_y=log_y)))
        assert len(root.findall(f"{SVG}polyline")) == len(series)
        assert all(math.isfinite(v) for v in coordinates(root))


def test_a_large_class_summary_points_to_the_workbench_instead_of_every_answer(
    tmp_path, monkeypatch
):
    import grader.report.render as render

    monkeypatch.setattr(render, "WRITTEN_IN_SUMMARY", 1)
    result = with_check(graded(), "2a.proof", answer=r"$\frac{2}{n}$")
    html = render_summary([result, replace(result, student="bob")], tmp_path).read_text()
    written = html.split("<h2>Written answers</h2>")[1]
    assert "grader review" in written and "<math" not in written


@pytest.fixture
def template_cache(tmp_path, monkeypatch):
    """A fresh cache of compiled templates under ``tmp_path/cache``, and fresh environments
    (as a new run of the grader has)."""
    from grader.report import render

    def fresh() -> None:
        render._environment.cache_clear()
        render._compiled_templates.cache_clear()

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    fresh()
    yield fresh
    fresh()


def test_compiled_templates_are_kept_between_runs_and_an_edited_one_compiled_again(
    tmp_path, monkeypatch, template_cache
):
    import jinja2

    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "report.html.j2").write_text("v1 for {{ r.student }}")
    html, md = render_report(graded(), tmp_path / "a", templates_dir=templates)
    first_md = md.read_text()
    assert html.read_text() == "v1 for alice"
    assert len(list((tmp_path / "cache" / "grader" / "templates").glob("*.cache"))) == 2

    template_cache()  # the next run: nothing compiled in memory, only the cache on disk
    real_compile = jinja2.Environment.compile

    def no_compiling(*args, **kwargs):
        raise AssertionError("compiled again although the cache holds it")

    monkeypatch.setattr(jinja2.Environment, "compile", no_compiling)
    html, md = render_report(graded(), tmp_path / "b", templates_dir=templates)
    assert html.read_text() == "v1 for alice" and md.read_text() == first_md

    template_cache()
    (templates / "report.html.j2").write_text("v2 for {{ r.student }}")
    with pytest.raises(AssertionError, match="compiled again"):  # the edit is seen...
        render_report(graded(), tmp_path / "c", templates_dir=templates)
    monkeypatch.setattr(jinja2.Environment, "compile", real_compile)
    template_cache()
    html, _ = render_report(graded(), tmp_path / "d", templates_dir=templates)
    assert html.read_text() == "v2 for alice"  # ...and compiled afresh


def test_a_damaged_or_missing_template_cache_is_never_an_error(tmp_path, template_cache):
    reference, _ = render_report(graded(), tmp_path / "ref")
    folder = tmp_path / "cache" / "grader" / "templates"
    for kept in folder.glob("*.cache"):
        kept.write_bytes(kept.read_bytes()[:40])  # cut short, as a full disk might leave it
    template_cache()
    html, _ = render_report(graded(), tmp_path / "damaged")
    assert html.read_bytes() == reference.read_bytes()

    template_cache()
    from grader.report import render

    render._compiled_templates()  # the cache's folder made, then taken away mid-run
    for kept in folder.iterdir():
        kept.unlink()
    folder.rmdir()
    html, _ = render_report(graded(), tmp_path / "gone")
    assert html.read_bytes() == reference.read_bytes()

    (tmp_path / "cache").rename(tmp_path / "elsewhere")
    (tmp_path / "cache").write_text("a file where the cache's folder would go")
    template_cache()
    assert render._compiled_templates() is None
    html, _ = render_report(graded(), tmp_path / "none")
    assert html.read_bytes() == reference.read_bytes()


def test_a_template_cache_others_could_write_is_not_used(tmp_path, template_cache):
    """Loading a compiled template runs its code: a cache folder writable by others, or a link
    to one, is not used (the reports are compiled afresh each run)."""
    from grader.report import render

    folder = tmp_path / "cache" / "grader" / "templates"
    folder.mkdir(parents=True)
    folder.chmod(0o777)
    assert render._compiled_templates() is None
    folder.chmod(0o700)
    template_cache()
    assert render._compiled_templates() is not None

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    folder.rmdir()
    folder.symlink_to(elsewhere)
    template_cache()
    assert render._compiled_templates() is None
    html, _ = render_report(graded(), tmp_path / "out")
    assert "<!DOCTYPE html>" in html.read_text() and not list(elsewhere.iterdir())
