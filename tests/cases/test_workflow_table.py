"""The transition table is consistent, and docs/WORKFLOW.md shows it as it is."""

from __future__ import annotations

from pathlib import Path

import pytest

from jingzhun.auth import permissions
from jingzhun.cases import workflow

DOC = Path(__file__).parents[2] / "docs" / "WORKFLOW.md"


def test_every_open_state_has_a_way_forward_and_final_states_none():
    sources = {t.source for t in workflow.TRANSITIONS}
    assert sources == set(workflow.STATES) - set(workflow.FINAL_STATES)
    assert not any(t.source in workflow.FINAL_STATES for t in workflow.TRANSITIONS)


def test_every_state_is_reachable_from_clue():
    seen, todo = {"clue"}, ["clue"]
    while todo:
        state = todo.pop()
        for t in workflow.TRANSITIONS:
            if t.source == state and t.target not in seen:
                seen.add(t.target)
                todo.append(t.target)
    assert seen == set(workflow.STATES)


@pytest.mark.parametrize(
    "t",
    [
        t
        for t in workflow.TRANSITIONS
        if t.action.endswith(("_return", "_reject")) or t.action in ("close", "withdraw_elimination")
    ],
    ids=lambda t: f"{t.source}-{t.action}",
)
def test_going_back_or_closing_needs_a_reason(t):
    assert "reason" in t.requires


def test_who_does_what():
    for t in workflow.TRANSITIONS:
        if t.action.startswith("county_"):
            assert t.roles == ("county",)
        if t.action.startswith("township_"):
            assert t.roles == ("township",)
        assert not {"province", "department", "admin"} & set(t.roles)
    confirm = {t.target: t for t in workflow.TRANSITIONS if t.action == "county_confirm"}
    assert set(confirm) == {"monitored", "eliminated"}
    assert "risk_checks_pass" in confirm["eliminated"].guards
    assert "risk_checks_pass" in workflow.find("assisting", "propose_elimination").guards
    assert "authorisation_ref" in workflow.find("clue", "record_visit").requires
    assert all("notice_elapsed" in t.guards for t in workflow.TRANSITIONS if t.action == "submit_to_township")


def test_workflow_doc_shows_the_table():
    assert workflow.markdown_table() in DOC.read_text(encoding="utf-8")


def test_docs_show_the_permission_matrix_as_it_is():
    assert permissions.markdown() in DOC.read_text(encoding="utf-8")
