"""The playground as a server, over real sockets: bad parameters, oversized requests, other
hosts and origins, two sessions at once, a client that vanishes mid-training, the downloads,
and the command's own errors. Every refusal is a JSON message, never a traceback."""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import deepmat

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from deepmat.playground.session import Session
from deepmat.playground.settings import parse_settings
from deepmat.playground.store import Busy, SessionStore, UnknownSession
from playground_helpers import call, running_server, wait_until


@pytest.fixture(scope="module")
def server():
    with running_server() as running:
        yield running


def new_session(server, settings=None) -> dict:
    status, state, _ = call(server, "POST", "/api/sessions", settings or {})
    assert status == 201, state
    return state


def assert_refused(answer, status: int, code: str, words: str) -> None:
    got_status, body, headers = answer
    assert got_status == status, body
    assert headers["content-type"].startswith("application/json")
    assert body["code"] == code and words in body["message"], body
    assert "Traceback" not in body["message"]


# -- what is served ----------------------------------------------------------------------------


def test_the_page_and_its_files_are_served_with_protective_headers(server):
    status, page, headers = call(server, "GET", "/")
    assert status == 200 and b'src="/static/main.js"' in page
    assert (
        headers["x-frame-options"] == "DENY"
        and "frame-ancestors 'none'" in headers["content-security-policy"]
    )
    for name in ("main.js", "strings.js", "style.css"):
        assert call(server, "GET", f"/static/{name}")[0] == 200
    status, options, _ = call(server, "GET", "/api/options")
    assert status == 200 and "xor" in options["choices"]["dataset"] and options["limits"]["units"] == [1, 64]


def test_a_new_session_holds_its_points_curve_and_boundary(server):
    state = new_session(server, {"dataset": "xor", "hidden": [5]})
    assert state["layer_dims"] == [2, 5, 1] and state["iteration"] == 0
    assert len(state["points"]["train"]["points"]) == 200 and len(state["boundary"]["values"]) == 48 * 48
    status, state, _ = call(server, "POST", f"/api/sessions/{state['id']}/train", {"steps": 25})
    assert status == 200 and state["iteration"] == 25 and state["curve"][-1][0] == 25


# -- bad parameters ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"hidden": [64] * 7}, "hidden layers must be a list of 1 to 6 unit counts"),
        ({"hidden": [100000]}, "units per hidden layer must be an integer in [1, 64]; received 100000"),
        ({"samples": 10**8}, "samples must be an integer in [20, 2000]"),
        ({"learning_rate": -1}, "learning rate must be a number in [1e-06, 10]; received -1"),
        ({"dropout": 1.0}, "dropout rate must be a number in [0, 0.9]"),
        ({"dataset": "imagenet"}, "unknown data set 'imagenet'"),
        ({"__class__": 1}, "unknown setting '__class__'"),
        ([1, 2], "the settings must be a JSON object; received list"),
    ],
)
def test_bad_settings_get_400_and_the_reason(server, body, words):
    assert_refused(call(server, "POST", "/api/sessions", body), 400, "bad_request", words)


def test_bad_training_requests_get_400_and_the_reason(server):
    key = new_session(server)["id"]
    path = f"/api/sessions/{key}/train"
    assert_refused(
        call(server, "POST", path, {"steps": 10**9}),
        400,
        "bad_request",
        "steps must be an integer in [1, 2000]",
    )
    assert_refused(call(server, "POST", path, {"steps": "all"}), 400, "bad_request", "received 'all' (str)")
    assert_refused(
        call(server, "POST", path, {"steps": 1, "seconds": 99}),
        400,
        "bad_request",
        'the body must be {"steps": n}',
    )
    assert_refused(
        call(server, "POST", path, raw=b"{not json", headers={"Content-Type": "application/json"}),
        400,
        "bad_request",
        "not valid JSON",
    )
    assert_refused(
        call(
            server,
            "POST",
            path,
            raw=b"steps=1",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ),
        400,
        "bad_request",
        "must be JSON",
    )
    assert_refused(
        call(server, "PUT", f"/api/sessions/{key}", {"batch_size": 0}), 400, "bad_request", "batch size"
    )
    assert call(server, "GET", f"/api/sessions/{key}")[1]["iteration"] == 0  # nothing happened


def test_unknown_paths_methods_and_sessions_get_json_answers(server):
    assert_refused(call(server, "GET", "/api/sessions/nope"), 404, "unknown_session", "reload the page")
    assert_refused(call(server, "GET", "/api/nothing"), 404, "not_found", "/api/nothing")
    assert_refused(call(server, "PATCH", "/api/sessions"), 405, "method_not_allowed", "PATCH")
    key = new_session(server)["id"]
    assert call(server, "DELETE", f"/api/sessions/{key}")[0] == 204
    assert_refused(
        call(server, "POST", f"/api/sessions/{key}/train", {"steps": 1}), 404, "unknown_session", key[:10]
    )


# -- oversized requests ------------------------------------------------------------------------


def test_an_oversized_body_is_refused_by_its_length(server):
    body = b'{"seed": 1, "pad": "' + b"x" * 200_000 + b'"}'
    answer = call(server, "POST", "/api/sessions", raw=body, headers={"Content-Type": "application/json"})
    assert_refused(answer, 413, "too_large", "at most 16384 are accepted")


def test_an_oversized_chunked_body_is_refused_while_it_is_read(server):
    connection = http.client.HTTPConnection(server.host, server.port, timeout=30)
    chunks = (b"[" + b"0," * 5000 + b"0]" for _ in range(1))
    extra = (b" " * 4096 for _ in range(10))
    connection.request(
        "POST", "/api/sessions", body=iter([*chunks, *extra]), encode_chunked=True,
        headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
    )  # fmt: skip
    response = connection.getresponse()
    body = json.loads(response.read())
    connection.close()
    assert response.status == 413 and body["code"] == "too_large"


def test_a_huge_header_is_refused_by_the_server_without_reading_it_all(server):
    try:
        status = call(server, "GET", "/api/options", headers={"X-Pad": "y" * 200_000})[0]
    except ConnectionError:  # uvicorn may close the connection instead of answering
        status = None
    assert status in (None, 400, 431)
    assert call(server, "GET", "/api/options")[0] == 200


# -- hosts and origins -------------------------------------------------------------------------


def test_a_remote_origin_gets_403_with_a_clear_json_error(server):
    for origin in (
        "http://evil.example",
        "null",
        f"http://localhost:{server.port + 1}",
        f"https://{server.host}:{server.port}",
    ):
        answer = call(server, "POST", "/api/sessions", {}, headers={"Origin": origin})
        assert_refused(
            answer, 403, "forbidden_origin", "the playground answers only the page it served itself"
        )
    answer = call(server, "GET", "/api/options", headers={"Sec-Fetch-Site": "cross-site"})
    assert_refused(answer, 403, "forbidden_origin", "another site (cross-site)")


def test_the_pages_own_origin_and_loopback_names_are_accepted(server):
    own = f"http://{server.host}:{server.port}"
    assert (
        call(server, "POST", "/api/sessions", {}, headers={"Origin": own, "Sec-Fetch-Site": "same-origin"})[0]
        == 201
    )
    for host in (f"localhost:{server.port}", f"[::1]:{server.port}"):
        assert call(server, "GET", "/api/options", headers={"Host": host})[0] == 200


def test_another_host_name_is_refused_against_dns_rebinding(server):
    answer = call(server, "GET", "/api/options", headers={"Host": f"attacker.example:{server.port}"})
    assert_refused(answer, 403, "forbidden_host", "attacker.example")
    answer = call(server, "GET", "/", headers={"Host": "127.0.0.1:1"})
    assert_refused(answer, 403, "forbidden_host", "127.0.0.1:1")


# -- sessions ----------------------------------------------------------------------------------


def test_two_concurrent_sessions_stay_apart(server):
    first = new_session(server, {"dataset": "xor", "hidden": [8], "seed": 1})
    second = new_session(server, {"dataset": "spiral", "hidden": [3, 3], "output": "softmax", "seed": 2})
    errors, counts = [], {first["id"]: 0, second["id"]: 0}

    def train(key: str, steps: int) -> None:
        for _ in range(15):
            status, state, _ = call(server, "POST", f"/api/sessions/{key}/train", {"steps": steps})
            if status != 200:
                errors.append(state)
            counts[key] += steps

    threads = [
        threading.Thread(target=train, args=(first["id"], 3)),
        threading.Thread(target=train, args=(second["id"], 7)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    a = call(server, "GET", f"/api/sessions/{first['id']}")[1]
    b = call(server, "GET", f"/api/sessions/{second['id']}")[1]
    assert (a["iteration"], b["iteration"]) == (45, 105) == tuple(counts.values())
    assert (a["layer_dims"], b["layer_dims"]) == ([2, 8, 1], [2, 3, 3, 2])
    assert a["settings"]["dataset"] == "xor" and b["settings"]["dataset"] == "spiral"
    assert a["points"] != b["points"]


def test_a_client_that_vanishes_mid_training_leaves_the_server_and_session_well(server):
    key = new_session(server, {"hidden": [64] * 6, "samples": 2000, "batch_size": 1})["id"]
    for _ in range(3):  # a tab closed while its request trains: the connection drops
        raw = socket.create_connection((server.host, server.port))
        body = b'{"steps": 2000}'
        raw.sendall(
            b"POST /api/sessions/" + key.encode() + b"/train HTTP/1.1\r\nHost: "
            + f"{server.host}:{server.port}".encode() + b"\r\nContent-Type: application/json\r\n"
            + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
        )  # fmt: skip
        time.sleep(0.05)
        raw.close()
    assert wait_until(lambda: call(server, "POST", f"/api/sessions/{key}/train", {"steps": 1})[0] == 200, 10)
    assert call(server, "GET", "/api/options")[0] == 200
    assert server.process.poll() is None


# -- downloads ---------------------------------------------------------------------------------


def test_the_model_download_is_a_deepmat_model_file(server, tmp_path):
    key = new_session(server, {"dataset": "moons"})["id"]
    call(server, "POST", f"/api/sessions/{key}/train", {"steps": 40})
    status, content, headers = call(server, "GET", f"/api/sessions/{key}/model")
    assert status == 200 and 'filename="playground.safetensors"' in headers["content-disposition"]
    (tmp_path / "model.safetensors").write_bytes(content)
    net = deepmat.load(tmp_path / "model.safetensors")
    assert net.layer_dims == [2, 4, 4, 1] and net.init == "xavier"
    status, text, _ = call(server, "GET", f"/api/sessions/{key}/snippet")
    assert status == 200 and b"deepmat.Network(" in text and b"make_dataset(" in text


# -- the store's bounds, in one process -------------------------------------------------------


def test_the_store_evicts_the_least_recently_used_idle_session_and_refuses_when_all_are_busy():
    store = SessionStore(max_sessions=2, wait_seconds=0.1)
    settings = parse_settings({"samples": 20})
    a, b = store.add(Session(settings)), store.add(Session(settings))
    with store.use(b):
        pass  # b is now the more recently used
    c = store.add(Session(settings))
    assert set(store.sessions) == {b, c}
    with pytest.raises(UnknownSession):
        with store.use(a):
            pass
    with store.use(b), store.use(c):
        with pytest.raises(Busy):
            store.add(Session(settings))
        done = threading.Event()

        def second_request() -> None:
            with pytest.raises(Busy), store.use(b):
                pass
            done.set()

        threading.Thread(target=second_request).start()
        assert done.wait(5)


def test_idle_sessions_expire():
    store = SessionStore(idle_seconds=0.05)
    key = store.add(Session(parse_settings({"samples": 20})))
    time.sleep(0.1)
    store.expire()
    assert len(store) == 0 and key not in store.sessions


# -- the command --------------------------------------------------------------------------------


def test_the_command_refuses_a_bad_port_and_an_address_in_use():
    result = subprocess.run([sys.executable, "-m", "deepmat", "playground", "--port", "70000", "--no-browser"],
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert (
        result.returncode == 2
        and "expected a port, an integer from 0 (any free port) to 65535" in result.stderr
    )
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "deepmat", "playground", "--port", str(port), "--no-browser"],
                                capture_output=True, text=True, timeout=60)  # fmt: skip
    assert result.returncode == 1 and f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_learning_rate_bound_keeps_values_finite_in_json(server):
    key = new_session(server, {"learning_rate": 10, "optimizer": "sgd"})["id"]
    status, state, _ = call(server, "POST", f"/api/sessions/{key}/train", {"steps": 200})
    assert status == 200 and all(v is None or np.isfinite(v) for row in state["curve"] for v in row)
