"""Run a function in a forked child process and get its JSON answer back (used by the hardening
checks: a reader that aborts the process is then a counted crash, and a process can be killed with
SIGKILL at a chosen moment). The parent never opens DuckDB, so forking is safe."""

from __future__ import annotations

import json
import os
import select
import signal
import time
from collections.abc import Callable
from typing import Any


class Child:
    """A forked child running ``fn()``; its return value comes back as JSON through a pipe."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        read_end, write_end = os.pipe()
        self.started = time.monotonic()
        self.pid = os.fork()
        if self.pid == 0:  # child
            os.close(read_end)
            try:
                payload = json.dumps({"ok": fn()}, ensure_ascii=False, default=str).encode()
            except BaseException as exc:  # reported to the parent, never raised in the child
                payload = json.dumps({"error": f"{type(exc).__name__}: {exc}"}, ensure_ascii=False).encode()
            with os.fdopen(write_end, "wb") as f:
                f.write(payload)
            os._exit(0)
        os.close(write_end)
        self._read = os.fdopen(read_end, "rb")
        self._chunks: list[bytes] = []
        self.status: int | None = None

    def running(self) -> bool:
        if self.status is not None:
            return False
        pid, status = os.waitpid(self.pid, os.WNOHANG)
        if pid == 0:
            return True
        self.status = status
        return False

    def kill(self) -> bool:
        """SIGKILL the child; True when it was still running (killed mid-work)."""
        alive = self.running()
        if alive:
            os.kill(self.pid, signal.SIGKILL)
        self.wait()
        return alive

    def wait(self, timeout_s: float = 600.0) -> dict:
        """The child's answer: ``{"ok": value}``, ``{"error": text}`` or ``{"crash": text}``."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self._read], [], [], 0.5)
            if ready:
                chunk = os.read(self._read.fileno(), 1 << 16)
                if not chunk:
                    break
                self._chunks.append(chunk)
        else:
            os.kill(self.pid, signal.SIGKILL)
        if self.status is None:
            _, self.status = os.waitpid(self.pid, 0)
        self._read.close()
        if os.WIFSIGNALED(self.status):
            return {"crash": f"the process died (signal {os.WTERMSIG(self.status)})"}
        if not self._chunks:
            return {"crash": "the process exited without an answer"}
        answer: dict = json.loads(b"".join(self._chunks))
        return answer


def in_child(fn: Callable[[], Any], timeout_s: float = 600.0) -> dict:
    """``fn()`` in a forked child: ``{"ok": value}``, ``{"error": text}`` or ``{"crash": text}``."""
    return Child(fn).wait(timeout_s)
