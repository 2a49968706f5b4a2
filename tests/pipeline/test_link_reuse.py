"""The monthly run links only records it has not linked before, and gives exactly the result of
relinking everything."""

from __future__ import annotations

import shutil

from jingzhun.pipeline import run_period

MONTHS = ["2025-01", "2025-02"]


def test_second_month_reuses_links_and_equals_a_full_relink(ran, tmp_path):
    data, runs = ran
    first, second = runs[MONTHS[0]], runs[MONTHS[1]]
    assert all(f["reused"] == 0 for f in first.summary["linkage"].values())
    linkage = second.summary["linkage"]
    assert sum(f["reused"] for f in linkage.values()) > 0
    for feed, figures in linkage.items():
        assert figures["reused"] + figures["linked_now"] == figures["records"], feed
        assert figures["reused"] >= first.summary["linkage"][feed]["records"] * 0.9, feed

    # the same month relinked from nothing (stored links deleted, models kept) gives the same results
    copy = tmp_path / "jz"
    shutil.copytree(data, copy)
    shutil.rmtree(copy / "linkage" / "pairs")
    again = run_period(copy, MONTHS[1], force=True)
    assert all(f["reused"] == 0 for f in again.summary["linkage"].values())
    assert again.result_hash == second.result_hash
