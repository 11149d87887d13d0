"""The playground's web application (Starlette): the page, its static files and the JSON API.

=========================================  ==============================================
``GET /``                                  the page (``static/index.html``)
``GET /static/…``                          its scripts, style sheet and strings table
``GET /glossary.json``                     the terms of :mod:`deepmat.i18n`, for the page's strings
``GET /api/options``                       the settings' choices, bounds and defaults
``POST /api/sessions``                     a new session from settings → its id and state
``PUT /api/sessions/{id}``                 new settings for the session (an untrained network)
``GET /api/sessions/{id}``                 the session's state (curve, boundary, metrics)
``POST /api/sessions/{id}/train``          ``{"steps": n}``: train, then the state
``GET /api/sessions/{id}/steps?lang=``     one forward and backward pass, equation by equation
``GET /api/sessions/{id}/health``          gradient norms, dead units, histograms, unit maps
``GET /api/sessions/{id}/model``           the model file (``deepmat.load`` reads it)
``GET /api/sessions/{id}/snippet``         a Python script that reproduces the run
``DELETE /api/sessions/{id}``              forget the session (the tab closed)
=========================================  ==============================================

Each error is a JSON object ``{"code": …, "message": …}`` — status 400 for a bad setting or
body, 404 for an unknown session, 409/503 when busy, 413 for an oversized body, 500 for a
failure of the server itself (its traceback goes to the server's log, never to the page).
The work of a request runs in a worker thread, so the server keeps answering meanwhile.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from deepmat._checks import check_number
from deepmat.i18n import GLOSSARY, language
from deepmat.playground import export, stepthrough, views
from deepmat.playground.guard import BodyTooLarge, Guard
from deepmat.playground.session import MAX_STEPS, Session
from deepmat.playground.settings import options, parse_settings
from deepmat.playground.store import Busy, SessionStore, UnknownSession

#: the page's files
STATIC = Path(__file__).parent / "static"
#: the largest request body accepted (the settings are a few hundred bytes)
MAX_BODY = 16384

log = logging.getLogger("deepmat.playground")


def _finite(value: Any) -> Any:
    """``value`` with every NaN or ±inf float replaced by None (JSON has neither)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _json(value: Any, status: int = 200) -> Response:
    body = json.dumps(_finite(value), ensure_ascii=False, allow_nan=False)
    return Response(body, status, media_type="application/json", headers={"cache-control": "no-store"})


def _error(status: int, code: str, message: str) -> Response:
    return _json({"code": code, "message": message}, status)


async def _body(request: Request) -> Any:
    """The request's JSON body (``{}`` when empty), read up to :data:`MAX_BODY` bytes."""
    data = b""
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_BODY:
            raise BodyTooLarge
    if not data:
        return {}
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise ValueError("the request body must be JSON (Content-Type: application/json)")
    try:
        return json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"the request body is not valid JSON ({error})") from None


Handler = Callable[[Request], Awaitable[Response]]


def _answers(handler: Handler) -> Handler:
    """The handler with every error turned into a JSON message (see the module's docstring)."""

    async def answer(request: Request) -> Response:
        try:
            return await handler(request)
        except BodyTooLarge:
            return _error(413, "too_large", f"the request body exceeds {MAX_BODY} bytes")
        except UnknownSession as error:
            return _error(404, "unknown_session", str(error.args[0]))
        except Busy as error:
            return _error(409, "busy", str(error))
        except (ValueError, TypeError) as error:
            return _error(400, "bad_request", str(error))
        except Exception:
            log.exception("the playground failed on %s %s", request.method, request.url.path)
            return _error(500, "internal", "the playground failed on this request; its log says why")

    return answer


def create_app(host: str = "127.0.0.1", port: int = 8000, store: SessionStore | None = None) -> Guard:
    """The ASGI application of a server bound to ``host``:``port``, guarded
    (:class:`~deepmat.playground.guard.Guard`), with its sessions in ``store``."""
    store = store if store is not None else SessionStore()

    def state(key: str, session: Session, with_points: bool = False) -> dict[str, Any]:
        result = {"id": key, "settings": session.settings.to_json(), **session.summary()}
        result["warnings"] = session.warnings
        try:
            result["boundary"] = views.boundary(session.net, session.settings.features)
        except ValueError as error:  # outputs that are not finite
            result["boundary"], result["diverged"] = None, result["diverged"] or str(error)
        if with_points:
            result["points"] = views.points(session.data)
        return result

    def session_work(work: Callable[[str, Session], Any]) -> Handler:
        """A handler that runs ``work(id, session)`` in a worker thread, the session locked."""

        async def handler(request: Request) -> Response:
            key = request.path_params["key"]

            def run() -> Any:
                with store.use(key) as session:
                    return work(key, session)

            result = await run_in_threadpool(run)
            return result if isinstance(result, Response) else _json(result)

        return handler

    async def page(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers={"cache-control": "no-store"})

    async def glossary(request: Request) -> Response:
        return FileResponse(GLOSSARY, media_type="application/json", headers={"cache-control": "no-store"})

    async def no_icon(request: Request) -> Response:
        return Response(status_code=204)

    async def get_options(request: Request) -> Response:
        return _json({**options(), "max_steps": MAX_STEPS, "max_m": stepthrough.MAX_M})

    async def create(request: Request) -> Response:
        settings = parse_settings(await _body(request))
        session = await run_in_threadpool(Session, settings)
        key = store.add(session)
        return _json(await run_in_threadpool(state, key, session, True), 201)

    async def update(request: Request) -> Response:
        key = request.path_params["key"]
        settings = parse_settings(await _body(request))

        def run() -> dict[str, Any]:
            with store.use(key):  # waits for the session's running request
                session = Session(settings)
                store.replace(key, session)
            return state(key, session, True)

        return _json(await run_in_threadpool(run))

    async def train(request: Request) -> Response:
        body = await _body(request)
        if not isinstance(body, dict) or set(body) - {"steps"}:
            raise ValueError(f'the body must be {{"steps": n}}; received {body!r}')
        steps = check_number(body.get("steps", 1), "steps", 1, MAX_STEPS, integer=True)

        def work(key: str, session: Session) -> dict[str, Any]:
            session.train(steps)
            return state(key, session)

        return await session_work(work)(request)

    async def remove(request: Request) -> Response:
        store.delete(request.path_params["key"])
        return Response(status_code=204)

    def download(content: bytes | str, name: str, media_type: str) -> Response:
        return Response(
            content,
            media_type=media_type,
            headers={"content-disposition": f'attachment; filename="{name}"', "cache-control": "no-store"},
        )

    def get_state(key: str, session: Session) -> dict[str, Any]:
        return state(key, session, True)

    def model(key: str, session: Session) -> Response:
        return download(export.model_bytes(session.net), "playground.safetensors", "application/octet-stream")

    def snippet(key: str, session: Session) -> Response:
        text = export.snippet(session.settings, session.iteration, session.batches_per_epoch)
        return download(text, "playground_run.py", "text/x-python; charset=utf-8")

    async def steps(request: Request) -> Response:
        lang = language(request.query_params.get("lang", "en"))

        def work(key: str, session: Session) -> dict[str, Any]:
            return stepthrough.step_through(
                session.net, session.X, session.data.y_train, session.batch_size, lang=lang
            )

        return await session_work(work)(request)

    def health(key: str, session: Session) -> dict[str, Any]:
        return views.health(session.net, session.X, session.data.y_train, session.settings.features)

    api = [
        Route("/api/options", _answers(get_options)),
        Route("/api/sessions", _answers(create), methods=["POST"]),
        Route("/api/sessions/{key}", _answers(session_work(get_state)), methods=["GET"]),
        Route("/api/sessions/{key}", _answers(update), methods=["PUT"]),
        Route("/api/sessions/{key}", _answers(remove), methods=["DELETE"]),
        Route("/api/sessions/{key}/train", _answers(train), methods=["POST"]),
        Route("/api/sessions/{key}/steps", _answers(steps)),
        Route("/api/sessions/{key}/health", _answers(session_work(health))),
        Route("/api/sessions/{key}/model", _answers(session_work(model))),
        Route("/api/sessions/{key}/snippet", _answers(session_work(snippet))),
    ]

    async def not_found(request: Request, error: Exception) -> Response:
        status = getattr(error, "status_code", 404)
        if status == 405:
            return _error(405, "method_not_allowed", f"{request.method} is not allowed on {request.url.path}")
        return _error(status, "not_found", f"nothing at {request.url.path}")

    app = Starlette(
        routes=[
            Route("/", page),
            Route("/favicon.ico", no_icon),
            Route("/glossary.json", glossary),
            *api,
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        exception_handlers={HTTPException: not_found},
    )
    return Guard(app, host, port, max_body=MAX_BODY)
