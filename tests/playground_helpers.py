"""A real ``deepmat playground`` server for the tests, in its own process, and plain HTTP calls
to it (http.client: the bytes on the wire are the test's own, nothing in between)."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


@dataclass
class Server:
    url: str
    host: str
    port: int
    process: subprocess.Popen


@contextlib.contextmanager
def running_server(*flags: str) -> Iterator[Server]:
    """``deepmat playground --port 0 --no-browser`` on loopback until the block ends."""
    process = subprocess.Popen(
        [sys.executable, "-m", "deepmat", "playground", "--port", "0", "--no-browser", *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        selector = selectors.DefaultSelector()
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout=60):
            raise RuntimeError("the playground did not start within 60 s")
        line = process.stdout.readline()
        if not line.startswith("deepmat playground: http://"):
            raise RuntimeError(f"unexpected first line {line!r}; stderr: {process.stderr.read()}")
        url = line.split()[2]
        parts = urlsplit(url)
        yield Server(url, parts.hostname, parts.port, process)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def call(
    server: Server,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    raw: bytes | None = None,
) -> tuple[int, Any, dict[str, str]]:
    """(status, the decoded JSON body — or the bytes when not JSON —, headers) of one request."""
    connection = http.client.HTTPConnection(server.host, server.port, timeout=60)
    sent = dict(headers or {})
    data = raw
    if body is not None:
        data = json.dumps(body).encode()
        sent.setdefault("Content-Type", "application/json")
    try:
        connection.request(method, path, body=data, headers=sent)
        response = connection.getresponse()
        content = response.read()
        answer_headers = {k.lower(): v for k, v in response.getheaders()}
    finally:
        connection.close()
    if answer_headers.get("content-type", "").startswith("application/json"):
        return response.status, json.loads(content), answer_headers
    return response.status, content, answer_headers


def wait_until(predicate: Any, seconds: float, every: float = 0.1) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return False
