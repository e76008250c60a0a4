"""The review workbench's API (contract §4) through Starlette's test client: the token, the
queue, grades stored as `grader manual` stores them, refusals, rubric items, groups, and two
reviewers at once."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from grader.review.app import create_app
from grader.review.state import Workbench
from tests.review_folder import make_graded_folder

TOKEN = "t0ken-for-tests"
HEADERS = {"X-Review-Token": TOKEN}
PROOF = (
    r"By induction: $\operatorname{Var}(z_{l+1}) = n_l \cdot \frac{2}{n_l} \cdot \frac{1}{2} v_l$."
)
SPACED = (
    r"By  induction: $\operatorname{Var}(z_{l+1}) = n_l\,\cdot\frac{2}{n_l} \cdot \frac{1}{2}v_l$."
)
ANSWERS = {
    "alice": {"2a.proof": PROOF, "1b.derivation": "$\\kappa = 1 + \\|\\mu\\|^2/\\sigma^2$"},
    "bob": {"2a.proof": SPACED},
    "carol": {"2a.proof": "<script>alert('x')</script> and $\\frac{1}{$"},
    "dave": {},
}


@pytest.fixture()
def folder(tmp_path: Path, sheet3) -> Path:
    return make_graded_folder(tmp_path / "graded", sheet3, ANSWERS)


@pytest.fixture()
def client(folder: Path, sheet3) -> TestClient:
    return TestClient(create_app(Workbench(folder, sheet3), TOKEN))


def results(folder: Path) -> dict:
    return {r["student"]: r for r in json.loads((folder / "results.json").read_text())}


def check_of(folder: Path, student: str, check: str) -> dict:
    return next(c for c in results(folder)[student]["checks"] if c["id"] == check)


# --- the token -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/api/queue", "/student/alice", "/grade/2a.proof",
                                  "/assets/review.js", "/reports/summary.html"])  # fmt: skip
def test_every_page_without_the_token_is_403(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 403
    assert client.get(path, headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert client.get(path + "?token=wrong").status_code == 403


def test_the_token_works_as_query_bearer_and_the_cookie_the_first_page_sets(folder, sheet3):
    app = create_app(Workbench(folder, sheet3), TOKEN)
    other = TestClient(app)
    assert other.get("/api/queue", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert other.get(f"/api/queue?token={TOKEN}").status_code == 200
    client = TestClient(app)
    first = client.get(f"/?token={TOKEN}", follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/"
    assert (
        "HttpOnly" in first.headers["set-cookie"]
        and "SameSite=Strict" in first.headers["set-cookie"]
    )
    assert client.get("/").status_code == 200  # the cookie alone now
    assert client.get("/api/queue").status_code == 200


def test_a_post_with_the_token_only_in_the_cookie_or_query_is_refused(client, folder):
    """A page elsewhere can make the browser send the cookie (or a guessed URL), never a
    header: no CSRF. Nothing is stored."""
    client.get(f"/?token={TOKEN}")  # the cookie is set
    body = {"student": "alice", "check": "2a.proof", "score": 5, "comment": ""}
    assert client.post("/api/grade", json=body).status_code == 403
    assert client.post(f"/api/grade?token={TOKEN}", json=body).status_code == 403
    assert client.get("/api/grade").status_code == 405
    assert check_of(folder, "alice", "2a.proof")["status"] == "manual"
    assert client.post("/api/grade", json=body, headers=HEADERS).status_code == 200
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    assert client.post("/api/grade", json=body, headers=bearer).status_code == 200


def test_pages_forbid_inline_scripts_and_referrers(client: TestClient) -> None:
    response = client.get("/student/alice", headers=HEADERS)
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["referrer-policy"] == "no-referrer"


# --- the queue -------------------------------------------------------------------------------


def test_the_queue_has_every_manual_item_of_every_student(client: TestClient, sheet3) -> None:
    queue = client.get("/api/queue", headers=HEADERS).json()
    manual = [c for c in sheet3.checks if c.manual]
    assert len(queue) == len(manual) * len(ANSWERS)
    assert {(i["student"], i["check"]) for i in queue} == {
        (s, c.id) for s in ANSWERS for c in manual
    }
    alice = next(i for i in queue if i["student"] == "alice" and i["check"] == "2a.proof")
    assert alice["status"] == "manual" and alice["score"] == 0 and alice["max_score"] == 10
    assert alice["graded"] is False and alice["answer"] == PROOF


def test_identical_answers_up_to_spacing_form_one_group(client: TestClient) -> None:
    queue = client.get("/api/queue?check=2a.proof", headers=HEADERS).json()
    group = {i["student"]: (i["group"], i["group_size"]) for i in queue}
    assert group["alice"] == group["bob"] and group["alice"][1] == 2  # "\," and a double space
    assert group["carol"][0] != group["alice"][0] and group["carol"][1] == 1


# --- grading -------------------------------------------------------------------------------


def test_a_grade_is_stored_as_grader_manual_stores_it(client: TestClient, folder: Path) -> None:
    body = {"student": "alice", "check": "2a.proof", "score": 7.5, "comment": "base case?"}
    response = client.post("/api/grade", json=body, headers=HEADERS)
    assert response.status_code == 200
    item = response.json()
    assert item["student"] == "alice" and item["check"] == "2a.proof"
    assert item["score"] == 7.5 and item["graded"] is True and item["comment"] == "base case?"
    stored = check_of(folder, "alice", "2a.proof")
    assert stored["status"] == "passed" and stored["score"] == 7.5
    assert stored["feedback"].startswith("base case?")
    assert results(folder)["alice"]["score"] == 76 - 12 + 7.5
    assert "base case?" in (folder / "reports" / "alice.html").read_text()
    assert "7.5" in (folder / "reports" / "summary.html").read_text()


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"student": "alice", "check": "2a.proof", "score": 11}, "between 0 and 10"),
        ({"student": "alice", "check": "2a.proof", "score": -1}, "between 0 and 10"),
        ({"student": "alice", "check": "2a.proof", "score": "7"}, "must be a number"),
        ({"student": "alice", "check": "2a.proof", "score": True}, "must be a number"),
        ({"student": "alice", "check": "2a.proof"}, "must be a number"),
        ({"student": "mallory", "check": "2a.proof", "score": 5}, "mallory"),
        ({"student": "alice", "check": "1a.hessian", "score": 5}, "not a manual item"),
        ({"student": "alice", "check": "9z.nothing", "score": 5}, "not a manual item"),
        ({"student": "alice", "check": "2a.proof", "score": 5, "items": [99]}, "rubric item"),
        ({"check": "2a.proof", "score": 5}, "`student`"),
    ],
)
def test_a_bad_grade_is_400_and_nothing_is_stored(client, folder, body, words) -> None:
    before = (folder / "results.json").read_text()
    response = client.post("/api/grade", json=body, headers=HEADERS)
    assert response.status_code == 400
    assert words in response.json()["error"]
    assert (folder / "results.json").read_text() == before
    assert not any(i["graded"] for i in client.get("/api/queue", headers=HEADERS).json())


def test_a_body_that_is_not_a_json_object_is_400(client: TestClient) -> None:
    for raw in (b"not json", b"[1, 2]", b"\xff"):
        response = client.post("/api/grade", content=raw, headers=HEADERS)
        assert response.status_code == 400 and "error" in response.json()


def test_a_group_is_graded_at_once_or_not_at_all(client: TestClient, folder: Path) -> None:
    body = {"students": ["alice", "bob"], "check": "2a.proof", "score": 9, "comment": "neat"}
    rows = client.post("/api/grade-group", json=body, headers=HEADERS).json()
    assert [r["score"] for r in rows] == [9, 9]
    assert check_of(folder, "bob", "2a.proof")["score"] == 9
    bad = {**body, "students": ["carol", "mallory"], "score": 1}
    assert client.post("/api/grade-group", json=bad, headers=HEADERS).status_code == 400
    assert check_of(folder, "carol", "2a.proof")["status"] == "manual"


# --- rubric items ------------------------------------------------------------------------------


def test_a_rubric_item_applies_and_its_edit_regrades_every_answer_carrying_it(client, folder):
    item = client.post(
        "/api/rubric", json={"check": "2a.proof", "points": -2, "text": "base case missing"},
        headers=HEADERS,
    ).json()  # fmt: skip
    assert client.get("/api/rubric?check=2a.proof", headers=HEADERS).json() == [item]
    for student, score in (("alice", 8), ("bob", 7)):  # bob: one more point off by hand
        body = {"student": student, "check": "2a.proof", "score": score, "comment": "",
                "items": [item["id"]]}  # fmt: skip
        assert client.post("/api/grade", json=body, headers=HEADERS).status_code == 200
    plain = {"student": "carol", "check": "2a.proof", "score": 4, "comment": "hm"}
    client.post("/api/grade", json=plain, headers=HEADERS)
    assert "−2 base case missing" in check_of(folder, "alice", "2a.proof")["feedback"]

    edit = client.post(
        f"/api/rubric/{item['id']}", json={"points": -3, "text": "no base case"}, headers=HEADERS
    )
    assert edit.status_code == 200 and edit.json()["regraded"] == 2
    assert check_of(folder, "alice", "2a.proof")["score"] == 7
    assert check_of(folder, "bob", "2a.proof")["score"] == 6  # his own −1 is kept
    assert check_of(folder, "carol", "2a.proof")["score"] == 4  # carries no item
    assert "−3 no base case" in check_of(folder, "bob", "2a.proof")["feedback"]
    assert "no base case" in (folder / "reports" / "bob.html").read_text()


def test_a_bad_rubric_item_is_400(client: TestClient) -> None:
    for body in (
        {"check": "2a.proof", "points": -2, "text": " "},
        {"check": "2a.proof", "points": -20, "text": "too much"},
        {"check": "1a.hessian", "points": -2, "text": "automatic"},
    ):
        assert client.post("/api/rubric", json=body, headers=HEADERS).status_code == 400
    assert (
        client.post("/api/rubric/77", json={"points": 1, "text": "x"}, headers=HEADERS).status_code
        == 400
    )


# --- two reviewers -----------------------------------------------------------------------------


def test_the_last_write_wins_and_says_whose_grade_it_replaced(client: TestClient, folder) -> None:
    seen = next(
        i["version"] for i in client.get("/api/queue?check=2a.proof", headers=HEADERS).json()
        if i["student"] == "alice"
    )  # fmt: skip
    first = {"student": "alice", "check": "2a.proof", "score": 6, "comment": "", "seen": seen,
             "reviewer": "ann"}  # fmt: skip
    assert "replaced" not in client.post("/api/grade", json=first, headers=HEADERS).json()
    second = {**first, "score": 8, "reviewer": "ben"}  # ben saw the item before ann saved
    answer = client.post("/api/grade", json=second, headers=HEADERS).json()
    assert answer["score"] == 8 and answer["replaced"]["score"] == 6
    assert answer["replaced"]["reviewer"] == "ann"
    assert check_of(folder, "alice", "2a.proof")["score"] == 8


def test_two_reviewers_at_once_lose_nothing(client: TestClient, folder: Path, sheet3) -> None:
    """Many grades sent from two threads at once, each to a different item: every one is in
    the gradebook and in results.json afterwards."""
    jobs = [(s, c.id) for s in ANSWERS for c in sheet3.checks if c.manual]
    errors: list[str] = []

    def reviewer(part: list[tuple[str, str]]) -> None:
        with TestClient(client.app) as own:
            for student, check in part:
                body = {"student": student, "check": check, "score": 1, "comment": student}
                response = own.post("/api/grade", json=body, headers=HEADERS)
                if response.status_code != 200:
                    errors.append(response.text)

    threads = [threading.Thread(target=reviewer, args=(jobs[i::2],)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    queue = client.get("/api/queue", headers=HEADERS).json()
    assert all(i["graded"] and i["score"] == 1 for i in queue)
    stored = results(folder)
    assert all(
        c["score"] == 1 for s, check in jobs for c in stored[s]["checks"] if c["id"] == check
    )


# --- pages ---------------------------------------------------------------------------------


def test_the_student_page_renders_math_as_mathml_and_never_runs_student_html(client) -> None:
    page = client.get("/student/carol", headers=HEADERS).text
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page
    assert '<code class="tex"' in page and "\\frac{1}{" in page  # not parsed: shown as source
    alice = client.get("/student/alice", headers=HEADERS).text
    assert '<math xmlns="http://www.w3.org/1998/Math/MathML"' in alice
    assert 'class="grade-form"' in alice and 'class="override-form"' in alice


def test_the_grading_page_shows_the_prompt_progress_and_groups(client: TestClient) -> None:
    page = client.get("/grade/2a.proof", headers=HEADERS).text
    assert "Show by induction" in page
    assert "0 of 4 graded" in page
    assert "2 identical answers" in page
    assert client.get("/grade/1a.hessian", headers=HEADERS).status_code == 404


# --- the command ---------------------------------------------------------------------------


def test_review_help_says_it_all(capsys: pytest.CaptureFixture[str]) -> None:
    from grader.cli import main

    with pytest.raises(SystemExit):
        main(["review", "--help"])
    text = capsys.readouterr().out
    for words in ("Review: http://HOST:PORT/?token=TOKEN", "--host", "--port", "Enter",
                  "rubric item", "/api/queue", "/api/grade", "400", "last save"):  # fmt: skip
        assert words in text


def test_review_of_a_folder_that_is_not_graded_is_a_one_line_error(tmp_path, capsys) -> None:
    from grader.cli import main

    assert main(["review", str(tmp_path)]) == 2
    assert (
        "not a graded folder (no grading.json); run grader grade first" in capsys.readouterr().err
    )


def test_a_later_grader_manual_is_kept_when_a_rubric_item_is_edited(client, folder, sheet3):
    """`grader manual` and the workbench are one store: a grade given by the command after the
    workbench applied an item is not overwritten when that item changes."""
    from grader.publish import record_manual_grade

    item = client.post(
        "/api/rubric", json={"check": "2a.proof", "points": -2, "text": "gap"}, headers=HEADERS
    ).json()
    for student in ("alice", "bob"):
        body = {"student": student, "check": "2a.proof", "score": 8, "items": [item["id"]]}
        client.post("/api/grade", json=body, headers=HEADERS)
    record_manual_grade(folder, sheet3, "bob", "2a.proof", 10, "fine after all", "prof")
    bob = next(i for i in client.get("/api/queue", headers=HEADERS).json()
               if i["student"] == "bob" and i["check"] == "2a.proof")  # fmt: skip
    assert bob["items"] == [] and bob["comment"] == "fine after all" and bob["score"] == 10
    edit = client.post(f"/api/rubric/{item['id']}", json={"points": -1, "text": "gap"},
                       headers=HEADERS)  # fmt: skip
    assert edit.json()["regraded"] == 1
    assert check_of(folder, "alice", "2a.proof")["score"] == 9
    assert check_of(folder, "bob", "2a.proof")["score"] == 10


# --- overrides of automatic checks -------------------------------------------------------------


def test_an_override_is_stored_as_grader_manual_override_stores_it(client, folder) -> None:
    before = check_of(folder, "bob", "1a.hessian")
    body = {
        "student": "bob",
        "check": "1a.hessian",
        "score": 2,
        "reason": "copied",
        "reviewer": "ta",
    }
    answer = client.post("/api/override", json=body, headers=HEADERS)
    assert answer.status_code == 200, answer.text
    assert answer.json()["override"] == {
        "original_score": before["score"], "reason": "copied", "by": "ta"
    }  # fmt: skip
    stored = check_of(folder, "bob", "1a.hessian")
    assert stored["score"] == 2 and stored["override"]["reason"] == "copied"
    cleared = client.post(
        "/api/override", json={"student": "bob", "check": "1a.hessian", "score": None},
        headers=HEADERS,
    )  # fmt: skip
    assert cleared.status_code == 200 and cleared.json()["override"] is None
    assert check_of(folder, "bob", "1a.hessian") == before


@pytest.mark.parametrize(
    "body",
    [
        {"student": "bob", "check": "1a.hessian", "score": 2, "reason": ""},  # no reason
        {"student": "bob", "check": "1a.hessian", "score": 11, "reason": "x"},  # above max
        {"student": "bob", "check": "2a.proof", "score": 2, "reason": "x"},  # a manual item
        {"student": "nobody", "check": "1a.hessian", "score": 2, "reason": "x"},
        {"student": "bob", "check": "1a.hessian", "score": "2", "reason": "x"},
    ],
)
def test_a_bad_override_is_400_and_nothing_is_stored(client, folder, body) -> None:
    before = json.loads((folder / "results.json").read_text())
    answer = client.post("/api/override", json=body, headers=HEADERS)
    assert answer.status_code == 400 and answer.json()["error"]
    assert json.loads((folder / "results.json").read_text()) == before


def test_an_override_needs_the_token_in_a_header(client, folder) -> None:
    body = {"student": "bob", "check": "1a.hessian", "score": 2, "reason": "x"}
    assert client.post(f"/api/override?token={TOKEN}", json=body).status_code == 403
    assert "override" not in check_of(folder, "bob", "1a.hessian")
