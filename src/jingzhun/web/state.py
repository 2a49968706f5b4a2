"""What the pages keep between requests: the web index (:mod:`jingzhun.reports.index`) and the run
workers started here."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import Request

from jingzhun.reports.index import WebIndex


@dataclass
class WebState:
    data: Path
    index: WebIndex
    workers: list[subprocess.Popen] = field(default_factory=list)

    def reap(self) -> None:
        """Forget workers that have finished (their exit status is collected, no zombies)."""
        self.workers = [p for p in self.workers if p.poll() is None]


def web_state(request: Request) -> WebState:
    return request.app.state.web
