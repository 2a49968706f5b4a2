"""What a policy set is once loaded: rules, shared parameters and definitions, with their locations."""

from __future__ import annotations

from dataclasses import dataclass, field

from jingzhun.errors import Location
from jingzhun.policy.params import Param
from jingzhun.policy.source import Text

KINDS = ("trigger", "monitor", "exit", "tag", "conflict")
ENTITIES = ("person", "household", "village")


@dataclass
class Rule:
    id: str
    kind: str
    entity: str
    when: Text
    title_zh: str = ""
    title_en: str = ""
    description: str = ""
    applies_to: Text | None = None
    let: list[tuple[str, Text]] = field(default_factory=list)
    params: dict[str, Param] = field(default_factory=dict)
    explain_zh: Text | None = None
    explain_en: Text | None = None
    file: str | None = None
    location: Location | None = None


@dataclass
class PolicySet:
    """Rules by id (sorted), shared parameters (``params.yaml``) and named definitions (``def.NAME``)."""

    rules: dict[str, Rule] = field(default_factory=dict)
    params: dict[str, Param] = field(default_factory=dict)
    definitions: dict[str, Text] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    root: str | None = None

    def rule(self, rule_id: str) -> Rule:
        from jingzhun.errors import NotFound

        try:
            return self.rules[rule_id]
        except KeyError:
            raise NotFound(f"no rule {rule_id!r} in the policy set") from None

    def param(self, rule: Rule | None, name: str) -> Param | None:
        """A rule's own parameter, else the shared one of that name."""
        if rule is not None and name in rule.params:
            return rule.params[name]
        return self.params.get(name)
