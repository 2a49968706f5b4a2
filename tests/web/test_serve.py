"""`jingzhun serve --workers N`: the index is built before the workers start, and they serve signed-in
users from it, a session cookie from one worker accepted by the others."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil

from jingzhun.reports import index as ix
from jingzhun.settings import Settings
from jingzhun.web import serve

from .world import PASSWORD, setup


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_prepare_builds_the_index_and_the_signing_key_once(tmp_path):
    root = tmp_path / "data"
    _, store = setup(root)
    settings = Settings(data=root)  # no secret key given: the data folder's key file
    done = serve.prepare(settings)
    assert done["built"]["registry_s"] > 0 and done["built"]["results_s"] > 0
    assert (root / "secret.key").exists()
    key = (root / "secret.key").read_text()
    version, _ = ix.current_version(root, store)
    assert all(p.exists() for p in ix.index_paths(root, version))
    again = serve.prepare(settings)  # a restart only finds the files
    assert again["built"] == {"registry_s": 0.0, "results_s": 0.0}
    assert (root / "secret.key").read_text() == key
    assert serve.default_workers() >= 1
    store.dispose()


def test_serve_with_two_workers(tmp_path):
    root = tmp_path / "data"
    _, store = setup(root)
    store.dispose()
    port = _free_port()
    env = dict(os.environ)
    env.pop("JINGZHUN_SECRET_KEY", None)
    exe = Path(sys.executable).parent / "jingzhun"
    cmd = [str(exe), "serve", "--data", str(root), "--port", str(port), "--workers", "2"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 900  # imports compile without a bytecode cache here: slow under load
        while True:
            try:
                if httpx.get(base + "/login", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.2)
        # the index was there before any request
        assert list((root / "web").glob("registry-*.duckdb"))
        assert list((root / "web").glob("results-*.duckdb"))
        workers = [p for p in psutil.Process(proc.pid).children(recursive=True) if "python" in p.name()]
        assert len(workers) >= 2
        clients = [httpx.Client(base_url=base, timeout=60) for _ in range(4)]
        for c in clients:
            r = c.post("/api/v1/auth/login", json={"username": "xiang", "password": PASSWORD, "cookie": True})
            assert r.status_code == 200
        for _ in range(5):  # requests land on either worker; every one sees the session and the data
            for c in clients:
                r = c.get("/households", params={"q": "张三"})
                assert r.status_code == 200 and "H1" in r.text
        for c in clients:
            c.close()
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
