"""Load policy files (YAML) into a :class:`PolicySet`, keeping the line and column of every value.

PyYAML's composer gives a node tree with marks; we walk it ourselves so every error can say where.

>>> ps = load_text('''
... rules:
...   - id: tag.sample
...     kind: tag
...     entity: household
...     when: household.household_type == '脱贫户'
... ''', "x.yaml")
>>> ps.rules["tag.sample"].when.location(0)
Location(file='x.yaml', sheet=None, row=None, field=None, line=6, column=11)
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any

import yaml

from jingzhun.errors import Location, PolicyError
from jingzhun.policy.model import ENTITIES, KINDS, PolicySet, Rule
from jingzhun.policy.params import Param
from jingzhun.policy.source import Text

RULE_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
NAME = re.compile(r"^[a-z][a-z0-9_]*$")
RULE_KEYS = ("id", "kind", "entity", "title", "description", "applies_to", "let", "when", "params", "explain")
FILE_KEYS = ("rules", "params", "definitions", "description")
PARAMS_FILE = "params.yaml"
TEST_SUFFIX = ".test.yaml"


def _loc(node: yaml.Node, file: str | None) -> Location:
    return Location(file=file, line=node.start_mark.line + 1, column=node.start_mark.column + 1)


class _Doc:
    def __init__(self, text: str, file: str | None):
        self.file = file
        self.src = text
        try:
            self.root = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark
            where = (
                Location(file=file, line=mark.line + 1, column=mark.column + 1) if mark else Location(file)
            )
            raise PolicyError(f"not valid YAML: {exc.problem}", where) from None

    def err(self, node: yaml.Node, msg: str, hint: str | None = None) -> PolicyError:
        return PolicyError(msg, _loc(node, self.file), hint)

    def mapping(self, node: yaml.Node, what: str, keys: tuple[str, ...] | None = None) -> dict[str, tuple]:
        if not isinstance(node, yaml.MappingNode):
            raise self.err(node, f"{what} must be a mapping (key: value)")
        out: dict[str, tuple] = {}
        for k, v in node.value:
            key = str(self.value(k))
            if key in out:
                raise self.err(k, f"duplicate key {key!r} in {what}")
            if keys is not None and key not in keys:
                close = difflib.get_close_matches(key, keys, n=1)
                hint = f"did you mean {close[0]!r}?" if close else f"allowed: {', '.join(keys)}"
                raise self.err(k, f"unknown key {key!r} in {what}", hint)
            out[key] = (k, v)
        return out

    def value(self, node: yaml.Node) -> Any:
        """Plain Python value of a node (scalars typed as YAML would)."""
        return yaml.SafeLoader(self.src).construct_object(node, deep=True) if node is not None else None

    def text(self, node: yaml.Node, what: str) -> Text:
        if not isinstance(node, yaml.ScalarNode) or node.tag.endswith((":null",)):
            raise self.err(node, f"{what} must be text")
        style = node.style or ""
        indent = 1
        folded: tuple[str, ...] = ()
        if style in ("|", ">"):
            lines = self.src.splitlines()
            nxt = node.start_mark.line + 1
            if nxt < len(lines):
                indent = len(lines[nxt]) - len(lines[nxt].lstrip(" ")) + 1
            if style == ">":
                folded = tuple(ln[indent - 1 :] for ln in lines[nxt : node.end_mark.line + 1])
        return Text(
            str(node.value),
            self.file,
            node.start_mark.line + 1,
            node.start_mark.column + 1,
            style,
            indent,
            folded,
        )


def _bilingual(doc: _Doc, node: yaml.Node, what: str) -> tuple[Text, Text]:
    if isinstance(node, yaml.ScalarNode):
        t = doc.text(node, what)
        return t, t
    m = doc.mapping(node, what, ("zh", "en"))
    if "zh" not in m:
        raise doc.err(node, f"{what} needs 'zh' (and 'en')")
    zh = doc.text(m["zh"][1], f"{what}.zh")
    return zh, doc.text(m["en"][1], f"{what}.en") if "en" in m else zh


def _params(doc: _Doc, node: yaml.Node, what: str) -> dict[str, Param]:
    out = {}
    for name, (k, v) in doc.mapping(node, what).items():
        if not NAME.match(name):
            raise doc.err(k, f"parameter name {name!r} must be lower_snake_case")
        out[name] = Param.from_value(name, doc.value(v), _loc(v, doc.file))
    return out


def _rule(doc: _Doc, node: yaml.Node) -> Rule:
    m = doc.mapping(node, "a rule", RULE_KEYS)
    for key in ("id", "kind", "entity", "when"):
        if key not in m:
            raise doc.err(node, f"rule is missing {key!r}")
    rid = str(doc.value(m["id"][1]))
    if not RULE_ID.match(rid):
        raise doc.err(m["id"][1], f"rule id {rid!r} must look like area.name (lower_snake_case, dotted)")
    kind = str(doc.value(m["kind"][1]))
    if kind not in KINDS:
        raise doc.err(m["kind"][1], f"kind {kind!r} is not one of {', '.join(KINDS)}")
    entity = str(doc.value(m["entity"][1]))
    if entity not in ENTITIES:
        raise doc.err(m["entity"][1], f"entity {entity!r} is not one of {', '.join(ENTITIES)}")
    rule = Rule(
        rid, kind, entity, doc.text(m["when"][1], "when"), file=doc.file, location=_loc(node, doc.file)
    )
    if "title" in m:
        zh, en = _bilingual(doc, m["title"][1], "title")
        rule.title_zh, rule.title_en = zh.value, en.value
    if "description" in m:
        rule.description = str(doc.value(m["description"][1]))
    if "applies_to" in m:
        rule.applies_to = doc.text(m["applies_to"][1], "applies_to")
    if "let" in m:
        for name, (k, v) in doc.mapping(m["let"][1], "let").items():
            if not NAME.match(name):
                raise doc.err(k, f"let name {name!r} must be lower_snake_case")
            rule.let.append((name, doc.text(v, f"let.{name}")))
    if "params" in m:
        rule.params = _params(doc, m["params"][1], "params")
    if "explain" in m:
        rule.explain_zh, rule.explain_en = _bilingual(doc, m["explain"][1], "explain")
    return rule


def load_text(text: str, file: str | None = None, into: PolicySet | None = None) -> PolicySet:
    """Add the rules, parameters and definitions of one YAML document to ``into`` (or a new set)."""
    ps = into if into is not None else PolicySet()
    doc = _Doc(text, file)
    if doc.root is None:
        return ps
    top = doc.mapping(doc.root, "a policy file", FILE_KEYS)
    if "params" in top:
        for name, p in _params(doc, top["params"][1], "params").items():
            if name in ps.params:
                raise PolicyError(f"parameter {name!r} is defined twice", p.location)
            ps.params[name] = p
    if "definitions" in top:
        for name, (k, v) in doc.mapping(top["definitions"][1], "definitions").items():
            if not NAME.match(name):
                raise doc.err(k, f"definition name {name!r} must be lower_snake_case")
            if name in ps.definitions:
                raise doc.err(
                    k, f"definition {name!r} is defined twice (also in {ps.definitions[name].file})"
                )
            ps.definitions[name] = doc.text(v, f"definitions.{name}")
    if "rules" in top:
        seq = top["rules"][1]
        if not isinstance(seq, yaml.SequenceNode):
            raise doc.err(seq, "rules must be a list of rules (- id: …)")
        for item in seq.value:
            rule = _rule(doc, item)
            if rule.id in ps.rules:
                raise doc.err(item, f"rule id {rule.id!r} is used twice (also in {ps.rules[rule.id].file})")
            ps.rules[rule.id] = rule
    if file:
        ps.files.append(file)
    return ps


def policy_files(root: Path) -> list[Path]:
    """The policy files of a folder (shared ``params.yaml`` first, tests ``*.test.yaml`` excluded)."""
    if root.is_file():
        return [root]
    files = sorted(p for p in root.rglob("*.yaml") if not p.name.endswith(TEST_SUFFIX))
    return sorted(files, key=lambda p: (p != root / PARAMS_FILE, str(p)))


def case_files(root: Path) -> list[Path]:
    """The YAML test files (``*.test.yaml``) under a folder, or the file itself."""
    if root.is_file():
        return [root]
    return sorted(root.rglob("*" + TEST_SUFFIX))


def load(path: str | Path, display_root: Path | None = None) -> PolicySet:
    """Load every policy file under ``path`` (or one file). File names in errors are relative to the cwd
    when possible."""
    root = Path(path)
    if not root.exists():
        raise PolicyError(f"no policy folder or file {str(root)!r}")
    ps = PolicySet(root=str(root))
    for f in policy_files(root):
        load_text(f.read_text(encoding="utf-8"), _display(f), ps)
    ps.rules = dict(sorted(ps.rules.items()))
    return ps


def _display(p: Path) -> str:
    try:
        return str(p.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(p)
