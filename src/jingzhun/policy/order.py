"""Order rules so that every rule comes after the rules it uses; a cycle is an error at the reference.

>>> dependency_order({"a.x": {"a.y"}, "a.y": set(), "a.z": {"a.x"}})
['a.y', 'a.x', 'a.z']
>>> dependency_order({"a.x": {"a.y"}, "a.y": {"a.x"}})
Traceback (most recent call last):
...
jingzhun.errors.PolicyError: rules use each other in a cycle: a.x → a.y → a.x
"""

from __future__ import annotations

from collections.abc import Callable

from jingzhun.errors import Location, PolicyError


def dependency_order(
    deps: dict[str, set[str]], where: Callable[[str], Location | None] = lambda _: None
) -> list[str]:
    """Topological order (ties broken by id, so the order is stable)."""
    order: list[str] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(rid: str, path: list[str]) -> None:
        if state.get(rid) == 2:
            return
        if state.get(rid) == 1:
            cycle = [*path[path.index(rid) :], rid]
            raise PolicyError(f"rules use each other in a cycle: {' → '.join(cycle)}", where(cycle[0]))
        state[rid] = 1
        for d in sorted(deps.get(rid, ())):
            visit(d, [*path, rid])
        state[rid] = 2
        order.append(rid)

    for rid in sorted(deps):
        visit(rid, [])
    return order
