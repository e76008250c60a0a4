"""The workbench's web app (Starlette): the JSON API of the contract's §4 and the HTML pages on
top of it. Handlers are plain functions (Starlette runs them in its thread pool); every change
goes through :class:`grader.review.state.Workbench`."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import jinja2
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from grader.load.discover import UsageError
from grader.review.auth import TokenGate
from grader.review.state import ReviewError, Workbench
from grader.review.views import grade_view, index_view, student_view

TEMPLATES = Path(__file__).parent / "templates"
ASSETS = {"review.js": "text/javascript", "review.css": "text/css"}
MAX_BODY = 1_000_000  # bytes of a JSON request


class BadRequest(ValueError):
    """A request body the API cannot use; answered with 400 and ``{"error": ...}``."""


def create_app(bench: Workbench, token: str) -> TokenGate:
    """The app for one graded folder, behind its token."""
    pages, api = _Pages(bench, token), _Api(bench)
    reports = bench.out / "reports"
    reports.mkdir(parents=True, exist_ok=True)
    routes = [
        Route("/", pages.index),
        Route("/grade/{check}", pages.grade),
        Route("/student/{student:path}", pages.student),
        Route("/assets/{name}", pages.asset),
        Route("/favicon.ico", lambda request: Response(status_code=204)),
        Route("/api/queue", api.queue),
        Route("/api/grade", api.grade, methods=["POST"]),
        Route("/api/grade-group", api.grade_group, methods=["POST"]),
        Route("/api/override", api.override, methods=["POST"]),
        Route("/api/rubric", api.rubric),
        Route("/api/rubric", api.rubric_add, methods=["POST"]),
        Route("/api/rubric/{item:int}", api.rubric_edit, methods=["POST"]),
        Mount("/reports", StaticFiles(directory=reports, html=False), name="reports"),
    ]
    return TokenGate(Starlette(routes=routes), token)


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["points"] = lambda value: f"{value:g}"
    return env


class _Pages:
    """The HTML pages: the start page, an item's grading page, a student's page, and their
    script and style sheet."""

    def __init__(self, bench: Workbench, token: str) -> None:
        self.bench, self.token, self.env = bench, token, _environment()

    def _page(self, name: str, **context: Any) -> HTMLResponse:
        return HTMLResponse(self.env.get_template(name).render(token=self.token, **context))

    def index(self, request: Request) -> Response:
        if "token" in request.query_params:  # the cookie is set: take the token out of the URL
            return RedirectResponse("/", status_code=303)
        return self._page("index.html.j2", v=index_view(self.bench))

    def grade(self, request: Request) -> Response:
        try:
            view = grade_view(self.bench, request.path_params["check"])
        except ReviewError as exc:
            raise HTTPException(404, str(exc)) from exc
        return self._page("grade.html.j2", v=view)

    def student(self, request: Request) -> Response:
        try:
            view = student_view(self.bench, request.path_params["student"])
        except ReviewError as exc:
            raise HTTPException(404, str(exc)) from exc
        return self._page("student.html.j2", v=view)

    def asset(self, request: Request) -> Response:
        name = request.path_params["name"]
        if name not in ASSETS:
            raise HTTPException(404, "no such file")
        return FileResponse(TEMPLATES / name, media_type=ASSETS[name])


class _Api:
    """The JSON API: the queue and the rubric to read; grades, group grades, overrides and
    rubric items to store, each through the workbench (a refusal is 400 with its reason)."""

    def __init__(self, bench: Workbench) -> None:
        self.bench = bench

    def queue(self, request: Request) -> Response:
        try:
            return JSONResponse(self.bench.queue(request.query_params.get("check") or None))
        except ReviewError as exc:
            return _error(exc)

    async def grade(self, request: Request) -> Response:
        try:
            body = await _body(request)
            student = _text(body, "student", required=True)
            args = _grade_args(body)
        except BadRequest as exc:
            return _error(exc)
        return await _run(lambda: self.bench.grade(student, seen=_seen(body.get("seen")), **args))

    async def grade_group(self, request: Request) -> Response:
        try:
            body = await _body(request)
            students = body.get("students")
            if not isinstance(students, list) or not all(isinstance(s, str) for s in students):
                raise BadRequest("`students` must be a list of student ids")
            seen = body.get("seen") or {}
            if not isinstance(seen, dict):
                raise BadRequest("`seen` must map student ids to the versions seen")
            args = _grade_args(body)
        except BadRequest as exc:
            return _error(exc)
        versions = {s: _seen(seen.get(s)) for s in students}
        return await _run(lambda: self.bench.grade_many(students, seen=versions, **args))

    async def override(self, request: Request) -> Response:
        try:
            body = await _body(request)
            student, check = _text(body, "student", True), _text(body, "check", True)
            score = None if body.get("score") is None else _number(body, "score")
            reason, reviewer = _text(body, "reason"), _text(body, "reviewer")[:100]
        except BadRequest as exc:
            return _error(exc)
        return await _run(lambda: self.bench.override(student, check, score, reason, reviewer))

    def rubric(self, request: Request) -> Response:
        try:
            items = self.bench.rubric(request.query_params.get("check", ""))
        except ReviewError as exc:
            return _error(exc)
        return JSONResponse([i.__dict__ for i in items])

    async def rubric_add(self, request: Request) -> Response:
        try:
            body = await _body(request)
            check, points = _text(body, "check", True), _number(body, "points")
            text = _text(body, "text")
        except BadRequest as exc:
            return _error(exc)
        return await _run(lambda: self.bench.add_item(check, points, text).__dict__)

    async def rubric_edit(self, request: Request) -> Response:
        try:
            body = await _body(request)
            points, text = _number(body, "points"), _text(body, "text")
        except BadRequest as exc:
            return _error(exc)

        def edit() -> dict[str, Any]:
            item, regraded = self.bench.edit_item(request.path_params["item"], points, text)
            return {**item.__dict__, "regraded": regraded}

        return await _run(edit)


async def _run(work: Any) -> Response:
    """Run a change in the thread pool (it writes files and SQLite); 400 for a refusal."""
    from starlette.concurrency import run_in_threadpool

    try:
        return JSONResponse(await run_in_threadpool(work))
    except (ReviewError, UsageError) as exc:
        return _error(exc)


def _error(exc: Exception) -> JSONResponse:
    return JSONResponse({"error": str(exc)}, status_code=400)


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise BadRequest(f"the request body is over {MAX_BODY} bytes")
    try:
        body = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"the body is not JSON ({exc}); send a JSON object") from exc
    if not isinstance(body, dict):
        raise BadRequest('the body must be a JSON object, e.g. {"student": ..., "check": ...}')
    return body


def _grade_args(body: dict[str, Any]) -> dict[str, Any]:
    items = body.get("items", [])
    if not isinstance(items, list) or not all(type(i) is int for i in items):
        raise BadRequest("`items` must be a list of rubric item ids (integers)")
    return {
        "check_id": _text(body, "check", required=True),
        "score": _number(body, "score"),
        "comment": _text(body, "comment"),
        "items": tuple(items),
        "reviewer": _text(body, "reviewer")[:100],
    }


def _text(body: dict[str, Any], key: str, required: bool = False) -> str:
    value = body.get(key, None if required else "")
    if not isinstance(value, str) or (required and not value):
        raise BadRequest(f"`{key}` must be a{' non-empty' if required else ''} string")
    return value


def _number(body: dict[str, Any], key: str) -> float:
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise BadRequest(f"`{key}` must be a number, e.g. 6 or 7.5")
    return float(value)


def _seen(value: Any) -> str | None:
    return value if isinstance(value, str) else None
