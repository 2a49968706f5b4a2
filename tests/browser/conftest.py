"""A live server (uvicorn in a thread on 127.0.0.1, a free port) over a data folder with a synthetic
county whose January is imported and run; headless Debian Chromium driven by Playwright."""

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
    """Synthetic files for two months; January imported and run (exact linkage); users created."""
    from jingzhun import regions
    from jingzhun.auth import create_user
    from jingzhun.ingest import import_files
    from jingzhun.ops import open_store
    from jingzhun.pipeline import run_period
    from jingzhun.synth import generate

    root = tmp_path_factory.mktemp("browser")
    synth, data, links = root / "synth", root / "data", root / "linkcfg"
    generate(synth, persons=150, months=2, seed=7)
    links.mkdir()
    for feed in (
        "assistance",
        "civil_registry",
        "disability_cert",
        "employment",
        "enrolment",
        "housing_safety",
        "medical_claim",
        "water_safety",
    ):
        (links / f"{feed}.yaml").write_text(f"name: {feed}\nprobabilistic: {{enabled: false}}\n")
    regions.save_reference(regions.load_csv(synth / "regions.csv"), data)
    import_files(data, [synth / "2025-01"], user="setup")
    # January's alerts are not handed to cases, so that the flow can open a case from an alert by hand
    # (February's run, started from the page, hands its new alerts over: see docs/WORKFLOW.md)
    run_period(data, "2025-01", link_config_dir=links, handoff=False)
    found = regions.load_csv(synth / "regions.csv")
    township = next(r.code for r in found if regions.level_of(r.code) == "township")
    store = open_store(f"sqlite:///{(data / 'ops.sqlite').resolve()}")
    with store.session() as s:
        create_user(s, "xiang", PASSWORD, "township", township, display_name="梅乡镇干部")
    store.dispose()
    return {"data": data, "synth": synth, "links": links, "township": township}


@pytest.fixture(scope="session")
def server(month):
    import uvicorn

    from jingzhun.settings import Settings
    from jingzhun.web.app import create_app

    os.environ["JINGZHUN_LINK_CONFIG"] = str(month["links"])  # read by the run worker process
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
    os.environ.pop("JINGZHUN_LINK_CONFIG", None)


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
    yield pg
    context.close()


def shot(page, name: str) -> Path:
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def copy_to_docs(path: Path) -> None:
    """Keep the current screenshot for the README when JINGZHUN_UPDATE_SCREENSHOTS is set."""
    if os.environ.get("JINGZHUN_UPDATE_SCREENSHOTS"):
        docs = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
        docs.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, docs / path.name)
