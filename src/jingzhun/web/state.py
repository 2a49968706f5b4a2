"""What the pages keep between requests: the web index (:mod:`jingzhun.reports.index`) and the run
workers started here."""

from __future__ import annotations

import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import Request

from jingzhun.reports.index import WebIndex


@dataclass
class WebState:
    data: Path
    index: WebIndex
    workers: list[subprocess.Popen] = field(default_factory=list)

    def watch(self, proc: subprocess.Popen) -> None:
        """Keep ``proc`` and collect its exit status the moment it ends (a waiting thread), so a finished
        run worker never stays a zombie, whether or not anybody polls it."""
        self.workers.append(proc)
        threading.Thread(target=proc.wait, name=f"reap-{proc.pid}", daemon=True).start()

    def reap(self) -> None:
        """Forget workers that have finished (their exit status is collected, no zombies)."""
        self.workers = [p for p in self.workers if p.poll() is None]


def web_state(request: Request) -> WebState:
    return request.app.state.web
