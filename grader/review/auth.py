"""The workbench's door: every request carries the token (query parameter, the cookie the first
page sets, or ``Authorization: Bearer``), state-changing ones in a header, so a page the
reviewer happens to open elsewhere cannot send a grade (no CSRF); anything else gets 403."""

from __future__ import annotations

import secrets
from http.cookies import SimpleCookie
from urllib.parse import parse_qs

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "grader_review"
HEADER = "x-review-token"
SAFE_METHODS = {"GET", "HEAD"}
SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        b"img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; "
        b"frame-ancestors 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
]


def new_token() -> str:
    return secrets.token_urlsafe(24)


class TokenGate:
    """ASGI middleware: 403 unless the request carries ``token``; POSTs need it in a header.
    A page opened with ``?token=`` sets the cookie that later pages and scripts use."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        query = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token", [""])[0]
        bearer = headers.get("authorization", "")
        bearer = bearer[7:].strip() if bearer[:7].lower() == "bearer " else ""
        in_header = self._valid(bearer) or self._valid(headers.get(HEADER, ""))
        cookie = SimpleCookie()
        try:
            cookie.load(headers.get("cookie", ""))
        except Exception:  # a malformed cookie header is no token
            cookie = SimpleCookie()
        in_cookie = COOKIE in cookie and self._valid(cookie[COOKIE].value)
        in_query = self._valid(query)
        if not (in_header or in_cookie or in_query):
            await _refuse("this workbench needs its token: open the link `grader review` printed")(
                scope, receive, send
            )
            return
        if scope["method"] not in SAFE_METHODS and not in_header:
            await _refuse(
                "a change needs a POST with the token in the X-Review-Token or Authorization header"
            )(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = list(SECURITY_HEADERS)
                if in_query and not in_cookie:
                    extra.append(
                        (
                            b"set-cookie",
                            f"{COOKIE}={self.token}; Path=/; HttpOnly; SameSite=Strict".encode(),
                        )
                    )
                message = {**message, "headers": list(message.get("headers", [])) + extra}
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _valid(self, candidate: str) -> bool:
        return bool(candidate) and secrets.compare_digest(candidate.encode(), self.token.encode())


def _refuse(reason: str) -> PlainTextResponse:
    return PlainTextResponse(
        f"403 Forbidden: {reason}\n",
        status_code=403,
        headers={k.decode(): v.decode() for k, v in SECURITY_HEADERS},
    )
