"""The playground's door: an ASGI middleware that lets through only requests from pages the
server itself served, on the address it was bound to, with small bodies.

- **Host**: the ``Host`` header must name the bound address or a loopback name
  (``localhost``, ``127.0.0.1``, ``[::1]``) with the bound port — a page of another site
  that rebinds its domain name to 127.0.0.1 sends its own name and is refused (DNS
  rebinding). Bound to every interface (``0.0.0.0``, ``::``), any Host is taken.
- **Origin**: a request that carries ``Origin`` (every POST, PUT and DELETE a browser sends)
  must come from ``http://`` + its own Host, and ``Sec-Fetch-Site``, where sent, must be
  ``same-origin`` or ``none``: another site's page — even another port of localhost — cannot
  drive the playground.
- **Size**: a body over ``max_body`` bytes is refused, by its ``Content-Length`` before it is
  read, and by counting while it is read when it comes in chunks.

Every refusal is a JSON object ``{"code": …, "message": …}`` with status 403 or 413 (the page
shows the message). Every response also gets headers that keep the page from being framed
or its files from being sniffed as another type.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

#: the addresses that mean "every interface"
ANY_ADDRESS = ("0.0.0.0", "::", "")
#: the names of this machine every browser knows
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
#: what every response carries
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data: blob:; object-src 'none'; base-uri 'none'; "
        b"frame-ancestors 'none'; form-action 'none'",
    ),
]


class BodyTooLarge(Exception):
    """A request body grew beyond the limit while it was read."""


def allowed_hosts(host: str, port: int) -> frozenset[str] | None:
    """The ``Host`` header values a server bound to ``host``:``port`` answers (None: any)."""
    if host in ANY_ADDRESS:
        return None
    bound = f"[{host}]" if ":" in host and not host.startswith("[") else host
    names = {*LOOPBACK_NAMES, bound.lower()}
    return frozenset({f"{name}:{port}" for name in names} | (names if port == 80 else set()))


def error_response(status: int, code: str, message: str) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """(status, headers, body) of a JSON error ``{"code": …, "message": …}``."""
    body = json.dumps({"code": code, "message": message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    return status, headers, body


class Guard:
    """Wraps the ASGI ``app`` of a server bound to ``host``:``port`` (see the module's docstring)."""

    def __init__(self, app: Callable[..., Awaitable[None]], host: str, port: int, max_body: int = 65536):
        self.app = app
        self.hosts = allowed_hosts(host, port)
        self.max_body = max_body

    def refusal(self, headers: dict[bytes, bytes]) -> tuple[int, str, str] | None:
        """(status, code, message) for a request with these headers, or None to let it in."""
        host = headers.get(b"host", b"").decode("latin-1").lower()
        if self.hosts is not None and host not in self.hosts:
            return (
                403,
                "forbidden_host",
                f"requests for the host {host!r} are refused: this playground answers "
                f"{' or '.join(sorted(self.hosts))} only",
            )
        origin = headers.get(b"origin")
        if origin is not None and origin.decode("latin-1").lower() != f"http://{host}":
            return (
                403,
                "forbidden_origin",
                f"requests from pages of {origin.decode('latin-1')!r} are refused: the playground answers "
                f"only the page it served itself (http://{host})",
            )
        site = headers.get(b"sec-fetch-site", b"same-origin").decode("latin-1")
        if site not in ("same-origin", "none"):
            return (403, "forbidden_origin", f"requests from another site ({site}) are refused")
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            return (
                413,
                "too_large",
                f"the request body is {length.decode('latin-1')} bytes; at most {self.max_body} are accepted",
            )
        return None

    async def __call__(self, scope: dict[str, Any], receive: Callable, send: Callable) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_with_headers(message: dict[str, Any]) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message = {**message, "headers": [*message.get("headers", []), *SECURITY_HEADERS]}
            await send(message)

        async def reply(status: int, code: str, text: str) -> None:
            status, headers, body = error_response(status, code, text)
            await send_with_headers({"type": "http.response.start", "status": status, "headers": headers})
            await send_with_headers({"type": "http.response.body", "body": body})

        if scope["type"] != "http":  # no websockets here
            return
        refusal = self.refusal({k.lower(): v for k, v in scope["headers"]})
        if refusal is not None:
            await reply(*refusal)
            return
        received = 0

        async def counted_receive() -> dict[str, Any]:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_body:
                raise BodyTooLarge
            return message

        try:
            await self.app(scope, counted_receive, send_with_headers)
        except BodyTooLarge:
            if not started:
                await reply(413, "too_large", f"the request body exceeds {self.max_body} bytes")
