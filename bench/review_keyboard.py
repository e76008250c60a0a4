"""How long grading one written item for a class takes with the keyboard in `grader review`:
a graded folder of N students (distinct answers), the real server, chromium driven by
Playwright typing a score and Enter for each answer. Prints keystrokes and seconds.

    PYTHONPATH=. python3 bench/review_keyboard.py [N]

Measured 2026-12-01 on the project's 2-core machine under a load average of 11: 100 answers,
200 keystrokes, 93 s (0.93 s per save: each save republishes results.json, the summary and
the report before the next answer shows; record_manual_grade alone took 0.37 s for 100
students under a load of 9).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.assignment import load_assignment  # noqa: E402
from tests.review_folder import make_graded_folder  # noqa: E402
from tests.test_review_browser import ARGS, CHROMIUM  # noqa: E402


def main(n: int) -> None:
    spec = load_assignment("sheet3", ROOT)
    with tempfile.TemporaryDirectory() as tmp:
        answers = {f"s{i:03d}": {"2a.proof": f"Proof {i}: $z_{{{i}}}^2$"} for i in range(n)}
        folder = make_graded_folder(Path(tmp) / "graded", spec, answers)
        server = subprocess.Popen(
            [sys.executable, "-m", "grader", "review", str(folder)],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            link = server.stdout.readline().split("Review: ")[1].strip()
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                page = browser.new_page()
                page.goto(link)
                page.goto(link.split("/?")[0] + "/grade/2a.proof")
                keys, start = 0, time.perf_counter()
                for done in range(1, n + 1):
                    page.keyboard.type("7")
                    page.keyboard.press("Enter")
                    keys += 2
                    expect(page.locator("#progress")).to_have_text(f"{done} of {n} graded")
                seconds = time.perf_counter() - start
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=10)
    print(f"{n} answers: {keys} keystrokes, {seconds:.1f} s ({seconds / n:.2f} s per save)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100)
