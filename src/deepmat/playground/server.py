"""Runs the playground: binds the address, prints the page's address, opens the browser and
serves the app (:mod:`deepmat.playground.app`) under uvicorn until Ctrl-C."""

from __future__ import annotations

import socket
import sys
import threading
import webbrowser
from typing import TextIO

from deepmat.playground.app import create_app
from deepmat.playground.guard import ANY_ADDRESS


def bind(host: str, port: int) -> socket.socket:
    """A TCP socket listening on ``host``:``port`` (port 0: a free port the system picks).

    Raises ``OSError`` naming the address when it cannot be had (in use, not this machine's)."""
    try:
        family = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM)[0][0]
        sock = socket.socket(family, socket.SOCK_STREAM)
    except OSError as error:
        raise OSError(error.errno, f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)  # from now on a browser's connection waits for the server, never refused
    except OSError as error:
        sock.close()
        raise OSError(error.errno, f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    return sock


def page_address(host: str, port: int, lang: str = "en") -> str:
    """The address a browser on this machine opens: loopback for a server on every interface;
    ``?lang=`` for a language other than English."""
    name = "127.0.0.1" if host in ANY_ADDRESS else host
    name = f"[{name}]" if ":" in name else name
    return f"http://{name}:{port}/" + (f"?lang={lang}" if lang != "en" else "")


def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    open_browser: bool = True,
    out: TextIO = sys.stdout,
    lang: str = "en",
) -> None:
    """Serve the playground on ``host``:``port`` until interrupted; print its address to
    ``out`` first (one line; the page opens in ``lang``) and open it in the browser unless
    ``open_browser`` is false."""
    import uvicorn

    sock = bind(host, port)
    port = sock.getsockname()[1]
    url = page_address(host, port, lang)
    config = uvicorn.Config(
        create_app(host, port),
        log_level="warning",
        access_log=False,
        lifespan="off",
        server_header=False,
        limit_concurrency=64,
        timeout_keep_alive=5,
        timeout_graceful_shutdown=2,
    )
    print(f"deepmat playground: {url} (Ctrl-C stops it)", file=out, flush=True)
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"deepmat playground: listening on {host}, not only this machine's loopback: whoever reaches "
            "this address can use the playground",
            file=out,
            flush=True,
        )
    if open_browser:
        threading.Timer(0.5, webbrowser.open, (url,)).start()
    uvicorn.Server(config).run(sockets=[sock])
