"""The monthly run (snapshot → link → evaluate → conflicts → diff → write) and its ledger and exports."""

from jingzhun.pipeline.run import STAGES, RunOutcome, current_run, get_run, list_runs, load_result, run_period

__all__ = ["STAGES", "RunOutcome", "current_run", "get_run", "list_runs", "load_result", "run_period"]
