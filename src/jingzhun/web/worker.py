"""The run worker: ``python -m jingzhun.web.worker DATA PERIOD USER`` runs one monthly period in its own
process (started by the runs page, never on a request thread); progress goes to the run ledger. Then it
builds the web index of the new results (:func:`jingzhun.reports.index.build`), so the pages that show
them need not wait for it."""

from __future__ import annotations

import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    from jingzhun.pipeline import run_period

    data, period, user = argv
    try:
        outcome = run_period(data, period, user=user)
    except Exception as exc:
        sys.stderr.write(f"{type(exc).__name__}: {exc}\n")
        return 1
    sys.stdout.write(f"{outcome.run_id} {outcome.status}\n")
    prebuild(data)
    return 0


def prebuild(data: str) -> None:
    """Build the web index of the data as it is now; a failure only costs the next page the wait."""
    from jingzhun.ops import open_store
    from jingzhun.reports.index import build
    from jingzhun.settings import Settings

    try:
        store = open_store(Settings(data=Path(data)).database_url, upgrade=False)
        try:
            build(data, store)
        finally:
            store.dispose()
    except Exception as exc:  # the pages build it themselves
        sys.stderr.write(f"web index not built: {type(exc).__name__}: {exc}\n")


if __name__ == "__main__":  # pragma: no cover - exercised by the runs page tests through a subprocess
    raise SystemExit(main(sys.argv[1:]))
