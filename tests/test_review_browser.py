"""The review workbench in a real browser (Playwright driving Debian's chromium): grading with
the keyboard, a rubric item, the report changing, a refused score, two reviewers at once. The
server is the real `grader review` command. Without a browser these tests skip, except where
the variable CI is set: there they fail."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.review_folder import make_graded_folder

CHROMIUM = os.environ.get("GRADER_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-first-run", "--disable-extensions",
]  # fmt: skip
FIRST_LINE = re.compile(r"^Review: http://127\.0\.0\.1:(\d+)/\?token=([A-Za-z0-9_-]{20,})$")
ANSWERS = {
    "alice": {"2a.proof": r"Since $\operatorname{Var}(z_{l+1}) = \frac{2}{n_l} n_l v_l$, done."},
    "bob": {"2a.proof": r"Since $\operatorname{Var}(z_{l+1})=\frac{2}{n_l}n_l v_l$, done."},
    "carol": {"2a.proof": "<img src=x onerror=\"alert('pwned')\"> $x^2$"},
}


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"browser tests must run in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install -e '.[test]')")
    if not Path(CHROMIUM).exists():
        _unavailable(f"no chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture()
def served(tmp_path: Path, sheet3) -> Iterator[tuple[str, Path]]:
    """`grader review` on a fresh graded folder: its link and the folder."""
    folder = make_graded_folder(tmp_path / "graded", sheet3, ANSWERS)
    process = subprocess.Popen(
        [sys.executable, "-m", "grader", "review", str(folder)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline().rstrip("\n")
        assert FIRST_LINE.match(line), (line, process.stderr.read() if process.poll() else "")
        yield line.removeprefix("Review: "), folder
    finally:
        process.terminate()
        process.wait(timeout=10)


def expect(locator):  # noqa: ANN001, ANN201 - Playwright's own assertion, waiting
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def score_of(folder: Path, student: str, check: str = "2a.proof") -> tuple[str, float]:
    data = {r["student"]: r for r in json.loads((folder / "results.json").read_text())}
    found = next(c for c in data[student]["checks"] if c["id"] == check)
    return found["status"], found["score"]


def test_the_command_prints_the_link_and_refuses_requests_without_the_token(served) -> None:
    link, _ = served
    base = link.split("/?")[0]
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(base + "/api/queue", timeout=10)
    assert refused.value.code == 403
    token = link.split("token=")[1]
    request = urllib.request.Request(
        base + "/api/queue", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert len(json.loads(response.read())) == 3 * len(ANSWERS)


def test_grade_an_item_with_the_keyboard(browser, served) -> None:
    link, folder = served
    page = browser.new_page()
    page.goto(link)  # the first page sets the cookie and drops the token from the URL
    assert "token" not in page.url
    page.click("text=2a.proof")
    assert page.locator("#progress").inner_text() == "0 of 3 graded"
    panel = page.locator(".panel:visible")
    assert "2 identical answers" in panel.inner_text()  # alice and bob, spacing aside
    assert panel.locator("math").count() == 1  # MathML from the server
    page.keyboard.type("7")
    page.keyboard.press("Enter")  # save and next
    expect(page.locator("#progress")).to_have_text("2 of 3 graded")
    assert score_of(folder, "alice") == ("passed", 7) and score_of(folder, "bob") == ("passed", 7)
    assert "carol" in page.locator(".panel:visible").inner_text()  # the next answer, focused
    page.keyboard.type("3")
    page.keyboard.press("Enter")
    expect(page.locator("#progress")).to_have_text("3 of 3 graded")
    assert score_of(folder, "carol") == ("passed", 3)
    page.keyboard.press("Escape")
    page.keyboard.press("k")  # back to the first answer: it shows the stored grade
    assert page.locator(".panel:visible .score").input_value() == "7"
    page.close()


def test_apply_a_rubric_item_and_see_the_report_change(browser, served) -> None:
    link, folder = served
    context = browser.new_context()
    page = context.new_page()
    page.goto(link)
    page.goto(link.split("/?")[0] + "/grade/2a.proof#2")  # carol's answer
    page.fill(".rubric-add [name=points]", "-2")
    page.fill(".rubric-add [name=text]", "base case missing")
    with page.expect_navigation():
        page.click(".rubric-add button")
    page.locator(".panel:visible .score").wait_for()
    page.keyboard.press("Escape")
    page.keyboard.press("1")  # the first rubric item: 10 − 2; the score field has the focus
    assert page.locator(".panel:visible .score").input_value() == "8"
    page.keyboard.press("Enter")
    expect(page.locator("#progress")).to_have_text("1 of 3 graded")
    assert score_of(folder, "carol") == ("passed", 8)
    report = context.new_page()
    report.goto(link.split("/?")[0] + "/reports/carol.html")
    assert "−2 base case missing" in report.inner_text("#check-2a\\.proof")
    assert "8 / 10 points" in report.inner_text("#check-2a\\.proof")

    page.fill(".rubric-edit [name=points]", "-4")  # editing the item regrades carol
    with page.expect_navigation():
        page.click(".rubric-edit button")
    assert score_of(folder, "carol") == ("passed", 6)
    report.reload()
    assert "6 / 10 points" in report.inner_text("#check-2a\\.proof")
    context.close()


def test_a_refused_score_says_why_and_stores_nothing(browser, served) -> None:
    link, folder = served
    page = browser.new_page()
    page.goto(link)
    page.goto(link.split("/?")[0] + "/grade/2a.proof")
    page.keyboard.type("11")
    page.keyboard.press("Enter")
    status = page.locator(".panel:visible .status")
    status.filter(has_text="Not saved").wait_for()
    assert "between 0 and 10, not 11" in status.inner_text()
    assert "alice" in page.locator(".panel:visible").inner_text()  # it stayed
    assert score_of(folder, "alice") == ("manual", 0)
    page.close()


def test_student_text_never_runs_and_math_reads_as_mathml(browser, served) -> None:
    link, _ = served
    page = browser.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(link)
    page.goto(link.split("/?")[0] + "/student/carol")
    answer = page.locator(".answer").first
    assert "<img" in answer.inner_text()  # shown as text
    assert answer.locator("img").count() == 0 and answer.locator("math").count() == 1
    assert page.locator(".override-form").count() == 8  # one per automatic check
    page.wait_for_timeout(300)
    assert dialogs == []
    page.close()


def test_two_reviewers_at_once_lose_nothing_and_the_later_is_told(browser, served) -> None:
    link, folder = served
    ann, ben = browser.new_context(), browser.new_context()  # two browsers: own cookies
    pages = []
    for context in (ann, ben):
        page = context.new_page()
        page.goto(link)
        page.goto(link.split("/?")[0] + "/student/carol")
        pages.append(page)
    for page, name in zip(pages, ("ann", "ben")):
        page.fill("#reviewer", name)
        page.dispatch_event("#reviewer", "change")
    first, second = (p.locator("#item-2a\\.proof .grade-form") for p in pages)
    first.locator(".score").fill("4")
    second.locator(".score").fill("9")
    first.locator(".comment").fill("from ann")
    first.locator(".save").click()
    first.locator(".status").filter(has_text="Saved").wait_for()
    pages[1].locator("#item-1b\\.derivation .score").fill("5")  # ben's other item, meanwhile
    second.locator(".save").click()
    second.locator(".status").filter(has_text="replaced").wait_for()
    assert "ann" in second.locator(".status").inner_text()
    pages[1].locator("#item-1b\\.derivation .save").click()
    pages[1].locator("#item-1b\\.derivation .status").filter(has_text="Saved").wait_for()
    assert score_of(folder, "carol") == ("passed", 9)  # the last write won
    assert score_of(folder, "carol", "1b.derivation") == ("passed", 5)  # nothing lost
    ann.close()
    ben.close()


def test_an_override_from_the_student_page_reaches_the_report_and_can_be_cleared(
    browser, served
) -> None:
    link, folder = served
    page = browser.new_page()
    page.goto(link)
    page.goto(link.split("/?")[0] + "/student/alice")
    form = page.locator('.override-form[data-check="1a.hessian"]')
    form.locator(".override-score").fill("3")
    form.locator("button[type=submit]").click()
    form.locator(".status").filter(has_text="reason").wait_for()  # no reason: refused
    assert "override" not in check_of(folder, "alice", "1a.hessian")
    form.locator(".override-reason").fill("hard-coded the test matrix")
    form.locator("button[type=submit]").click()
    page.locator('.override-form[data-check="1a.hessian"] .override-clear').wait_for()
    stored = check_of(folder, "alice", "1a.hessian")
    assert stored["score"] == 3 and stored["override"]["reason"] == "hard-coded the test matrix"
    page.goto(link.split("/?")[0] + "/reports/alice.html")
    assert "hard-coded the test matrix" in page.inner_text("body")
    page.goto(link.split("/?")[0] + "/student/alice")
    page.locator('.override-form[data-check="1a.hessian"] .override-clear').click()
    page.locator('.override-form[data-check="1a.hessian"] .override-clear').wait_for(
        state="detached"
    )
    assert "override" not in check_of(folder, "alice", "1a.hessian")
    page.close()


def check_of(folder: Path, student: str, check: str) -> dict:
    results = json.loads((folder / "results.json").read_text())
    result = next(r for r in results if r["student"] == student)
    return next(c for c in result["checks"] if c["id"] == check)
