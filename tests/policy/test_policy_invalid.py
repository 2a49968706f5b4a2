"""Invalid policy files kept as negative cases: each names the location and message it must produce."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from jingzhun.errors import PolicyError
from jingzhun.policy import check_set, load

INVALID = sorted((Path(__file__).parent / "invalid").glob("*.yaml"))


@pytest.mark.parametrize("path", INVALID, ids=[p.stem for p in INVALID])
def test_invalid_file_points_at_the_mistake(path: Path) -> None:
    m = re.match(
        r"# expect: line (\d+), column (\d+): (.*)", path.read_text(encoding="utf-8").splitlines()[0]
    )
    assert m, f"{path} must start with '# expect: line L, column C: message'"
    line, column, message = int(m[1]), int(m[2]), m[3]
    with pytest.raises(PolicyError) as info:
        check_set(load(path))
    err = info.value
    assert (err.location.line, err.location.column) == (line, column), str(err)
    assert err.message.startswith(message), err.message
    assert err.location.file and err.location.file.endswith(path.name)


def test_there_are_negative_cases() -> None:
    assert len(INVALID) >= 8
