"""A live server (uvicorn in a thread on 127.0.0.1, a free port) over a data folder with a synthetic
county whose January is imported and run; headless Debian Chromium driven by Playwright; users of the
township, its villages and the county."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
PASSWORD = "pw-123456"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def month(tmp_path_factory):
    """Synthetic files for two months; January imported and run (exact and Splink linkage, as in
    production); a township user, a user for each of its villages and a county user."""
    from jingzhun import regions
    from jingzhun.auth import create_user
    from jingzhun.ingest import import_files
    from jingzhun.ops import open_store
    from jingzhun.pipeline import run_period
    from jingzhun.synth import generate

    root = tmp_path_factory.mktemp("browser")
    synth, data = root / "synth", root / "data"
    generate(synth, persons=150, months=2, seed=7)
    found = regions.load_csv(synth / "regions.csv")
    regions.save_reference(found, data)
    import_files(data, [synth / "2025-01"], user="setup")
    # January's alerts are not handed to cases, so that the inbox also offers to open a case by hand
    # (February's run, started from the page, hands its new alerts over: see docs/WORKFLOW.md)
    run_period(data, "2025-01", handoff=False)
    township = next(r.code for r in found if regions.level_of(r.code) == "township")
    county = next(r.code for r in found if regions.level_of(r.code) == "county")
    villages = [
        r.code for r in found if regions.level_of(r.code) == "village" and r.code.startswith(township[:9])
    ]
    store = open_store(f"sqlite:///{(data / 'ops.sqlite').resolve()}")
    with store.session() as s:
        create_user(s, "xiang", PASSWORD, "township", township, display_name="梅乡镇干部")
        create_user(s, "xian", PASSWORD, "county", county, display_name="县乡村振兴局")
        for code in villages:
            create_user(
                s, village_user(code), PASSWORD, "village", code, display_name=f"驻村工作队{code[-3:]}"
            )
    store.dispose()
    return {"data": data, "synth": synth, "township": township, "villages": villages}


def village_user(code: str) -> str:
    return f"cun{code[-3:]}"


@pytest.fixture(scope="session")
def server(month):
    import uvicorn

    from jingzhun.settings import Settings
    from jingzhun.web.app import create_app

    app = create_app(Settings(data=month["data"], secret_key="browser-test"))
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    assert srv.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}", app
    srv.should_exit = True
    thread.join(10)
    for proc in app.state.web.workers:
        proc.wait(30)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    pg = context.new_page()
    external: list[str] = []
    pg.on("request", lambda r: external.append(r.url) if not r.url.startswith(server[0]) else None)
    pg.external = external  # type: ignore[attr-defined]
    # whatever the Content-Security-Policy blocks shows as a console error; the test asserts there is none
    blocked: list[str] = []
    pg.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    pg.csp_blocked = blocked  # type: ignore[attr-defined]
    yield pg
    context.close()


def shot(page, name: str, full_page: bool = True) -> Path:
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def copy_to_docs(path: Path) -> None:
    """Keep the current screenshot for the README when JINGZHUN_UPDATE_SCREENSHOTS is set."""
    if os.environ.get("JINGZHUN_UPDATE_SCREENSHOTS"):
        docs = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
        docs.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, docs / path.name)
