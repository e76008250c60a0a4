"""Serving the workbench: bind the socket (port 0: a free one), print the one line the contract
fixes, then let uvicorn serve until interrupted."""

from __future__ import annotations

import socket
import sys
from pathlib import Path
from typing import TextIO

import uvicorn

from grader.assignment import Assignment
from grader.review.app import create_app
from grader.review.auth import new_token
from grader.review.state import Workbench


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (``port`` 0: one the system picks)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def url(host: str, port: int, token: str) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/?token={token}"


def serve(out: Path, spec: Assignment, host: str, port: int, stream: TextIO = sys.stdout) -> None:
    """Serve ``out`` to reviewers until interrupted; the first line printed is the link."""
    token = new_token()
    app = create_app(Workbench(out, spec), token)
    sock = bind(host, port)
    stream.write(f"Review: {url(host, sock.getsockname()[1], token)}\n")
    stream.write("Open the link in a browser; stop with Ctrl+C.\n")
    stream.flush()
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    uvicorn.Server(config).run(sockets=[sock])
