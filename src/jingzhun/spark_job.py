"""The monthly run as a Spark application: ``spark-submit … -m jingzhun.spark_job`` (or this file).

Runs one or more periods with ``--engine spark`` in the SparkSession that ``spark-submit`` started (its
master, executors and ``--conf`` settings; Jingzhun adds its parity settings per session, see
:data:`jingzhun.engines.spark.SESSION_CONF`). Prints one JSON line per period (run id, status, result hash,
summary) and exits with status 1 when a period fails, 3 when a period's alerts could not be handed over.

    spark-submit --master local[2] --jars "$SPLINK_JAR" src/jingzhun/spark_job.py \\
        --data /srv/jingzhun-data --period 2025-06

``python -m jingzhun.spark_job`` works too (a local session, ``--master`` or ``$JINGZHUN_SPARK_MASTER``,
else ``local[*]``). See docs/SPARK.md for a cluster submission.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="jingzhun.spark_job", description=__doc__.split("\n")[0])
    p.add_argument("--data", required=True, help="the data folder (local path; see docs/SPARK.md)")
    p.add_argument("--period", required=True, action="append",
                   help="YYYY-MM; repeat for several months, run in the order given")
    p.add_argument("--data-uri", default=None,
                   help="where Spark reads the data folder's Parquet files (hdfs://…, s3a://…, file://…): "
                        "a copy of its datasets/ and reference/ folders; default: the local folder")
    p.add_argument("--master", default=None, help="Spark master when not set by spark-submit")
    p.add_argument("--policy-set", default=None, help="policy folder (default: policies/)")
    p.add_argument("--link-config", default=None, help="linkage config folder (default: config/linkage/)")
    p.add_argument("--force", action="store_true", help="run again even if inputs and policies are unchanged")
    p.add_argument("--no-handoff", action="store_true", help="do not turn new alerts into cases now")
    p.add_argument("--user", default="spark-submit")
    return p


def _emit(line: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(line, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from jingzhun.engines.spark import spark_session
    from jingzhun.errors import JingzhunError
    from jingzhun.pipeline import run_period

    session = spark_session(args.master, app_name="jingzhun-monthly-run")
    code = 0
    for period in args.period:
        try:
            outcome = run_period(args.data, period, policy_dir=args.policy_set, link_config_dir=args.link_config,
                                 engine_name="spark", user=args.user, force=args.force,
                                 handoff=not args.no_handoff, data_uri=args.data_uri,
                                 engine_options={"session": session})
        except JingzhunError as exc:
            _emit({"period": period, "status": "failed", "error": str(exc)})
            return 1
        line: dict[str, Any] = {"run_id": outcome.run_id, "period": period, "status": outcome.status,
                                "result_hash": outcome.result_hash, "summary": outcome.summary,
                                "handoffs": [{"run_id": h.run_id, "status": h.status} for h in outcome.handoffs]}
        _emit(line)
        if any(h.status == "failed" for h in outcome.handoffs):
            code = 3
    return code


if __name__ == "__main__":
    sys.exit(main())
