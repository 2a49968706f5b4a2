"""What the pages keep between requests: the registry/alerts cache and the run workers started here."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import Request

from jingzhun.reports.sources import RegistryCache


@dataclass
class WebState:
    data: Path
    cache: RegistryCache
    workers: list[subprocess.Popen] = field(default_factory=list)

    def reap(self) -> None:
        """Forget workers that have finished (their exit status is collected, no zombies)."""
        self.workers = [p for p in self.workers if p.poll() is None]


def web_state(request: Request) -> WebState:
    return request.app.state.web
