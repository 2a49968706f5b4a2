"""The run worker: ``python -m jingzhun.web.worker DATA PERIOD USER`` runs one monthly period in its own
process (started by the runs page, never on a request thread); progress goes to the run ledger."""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    from jingzhun.pipeline import run_period

    data, period, user = argv
    try:
        outcome = run_period(data, period, user=user)
    except Exception as exc:
        sys.stderr.write(f"{type(exc).__name__}: {exc}\n")
        return 1
    sys.stdout.write(f"{outcome.run_id} {outcome.status}\n")
    return 0


if __name__ == "__main__":  # pragma: no cover - exercised by the runs page tests through a subprocess
    raise SystemExit(main(sys.argv[1:]))
