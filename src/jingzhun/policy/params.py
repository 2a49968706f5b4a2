"""Parameters with dates of effect and per-province overrides.

A parameter is written as a plain value (in effect always) or as a mapping::

    monitoring_line: {default: 6500, "2025-01": 7000, provinces: {"52": {"2025-01": 7200}}}

The value for period ``P`` is the one with the latest date of effect on or before ``P`` (``default``
applies before the first date). A province's own values replace the national ones from the first of
them that is in effect; before that the national value applies.

>>> p = Param.from_value("monitoring_line",
...     {"default": 6500, "2025-01": 7000, "provinces": {"52": {"2025-01": 7200}}})
>>> p.value("2024-12"), p.value("2025-03"), p.value("2025-03", "52"), p.value("2024-06", "52")
(6500, 7000, 7200, 6500)
>>> p.for_period("2025-03")
(7000, {'52': 7200})
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from jingzhun.errors import Location, PolicyError

_PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_PROVINCE = re.compile(r"^\d{2}$")

Scalar = Any  # int | Decimal | float | str | bool | list


def period_key(key: Any, where: Location | None = None) -> str:
    """Normalise a date of effect to ``YYYY-MM``.

    >>> period_key("2025-01"), period_key(date(2025, 1, 15))
    ('2025-01', '2025-01')
    """
    if isinstance(key, date):
        return f"{key.year:04d}-{key.month:02d}"
    text = str(key).strip()
    if re.match(r"^\d{4}-\d{2}-\d{2}$", text):
        text = text[:7]
    if not _PERIOD.match(text):
        raise PolicyError(f"date of effect {key!r} is not a month YYYY-MM", where)
    return text


@dataclass
class _Series:
    default: Scalar = None
    has_default: bool = False
    dated: list[tuple[str, Scalar]] = field(default_factory=list)

    def at(self, period: str) -> tuple[bool, Scalar]:
        found, value = self.has_default, self.default
        for key, v in self.dated:
            if key <= period:
                found, value = True, v
        return found, value


def _series(name: str, raw: Any, where: Location | None, allow_provinces: bool) -> tuple[_Series, dict]:
    if not isinstance(raw, dict):
        return _Series(raw, True), {}
    s = _Series()
    provinces: dict[str, _Series] = {}
    for key, v in raw.items():
        if key == "default":
            s.default, s.has_default = v, True
        elif key == "provinces":
            if not allow_provinces:
                raise PolicyError(f"parameter {name!r}: provinces cannot be nested", where)
            if not isinstance(v, dict):
                raise PolicyError(f"parameter {name!r}: provinces must map a 2-digit code to values", where)
            for code, pv in v.items():
                code = str(code)
                if not _PROVINCE.match(code):
                    raise PolicyError(f"parameter {name!r}: province {code!r} is not a 2-digit code", where)
                provinces[code], _ = _series(name, pv, where, False)
        else:
            s.dated.append((period_key(key, where), v))
    s.dated.sort(key=lambda kv: kv[0])
    return s, provinces


@dataclass
class Param:
    """One parameter: national series plus optional per-province series."""

    name: str
    national: _Series
    provinces: dict[str, _Series] = field(default_factory=dict)
    location: Location | None = None

    @classmethod
    def from_value(cls, name: str, raw: Any, location: Location | None = None) -> Param:
        national, provinces = _series(name, raw, location, True)
        p = cls(name, national, provinces, location)
        p._check_types()
        return p

    def _values(self) -> list[Scalar]:
        out = ([self.national.default] if self.national.has_default else []) + [
            v for _, v in self.national.dated
        ]
        for s in self.provinces.values():
            out += ([s.default] if s.has_default else []) + [v for _, v in s.dated]
        return out

    def _check_types(self) -> None:
        kinds = {_kind(v) for v in self._values()}
        if not kinds:
            raise PolicyError(f"parameter {self.name!r} has no value", self.location)
        if len(kinds) > 1:
            raise PolicyError(
                f"parameter {self.name!r} mixes kinds of values ({', '.join(sorted(kinds))})", self.location
            )

    @property
    def kind(self) -> str:
        """``number``, ``string``, ``bool`` or ``list``."""
        return _kind(self._values()[0])

    def value(self, period: str, province: str | None = None) -> Scalar:
        if province is not None and province in self.provinces:
            found, v = self.provinces[province].at(period)
            if found:
                return v
        found, v = self.national.at(period)
        if not found:
            raise PolicyError(
                f"parameter {self.name!r} has no value in effect for {period} (add a 'default')",
                self.location,
            )
        return v

    def for_period(self, period: str) -> tuple[Scalar, dict[str, Scalar]]:
        """The national value and the provinces whose value differs from it, for one period."""
        national = self.value(period)
        diff = {}
        for code in sorted(self.provinces):
            v = self.value(period, code)
            if v != national:
                diff[code] = v
        return national, diff


def _kind(v: Any) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int | float) or type(v).__name__ == "Decimal":
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "list"
    return type(v).__name__


def with_overrides(ps: Any, overrides: dict[str, Any]) -> Any:
    """A copy of a policy set with parameters replaced (what-if). ``NAME`` replaces the shared parameter
    and every rule's own parameter of that name; ``RULE_ID.NAME`` only that rule's. A value is a plain
    value (in effect everywhere) or a full parameter mapping.

    >>> from jingzhun.policy.model import PolicySet
    >>> ps = PolicySet(params={"line": Param.from_value("line", 6000)})
    >>> with_overrides(ps, {"line": 7000}).params["line"].value("2025-01"), ps.params["line"].value("2025-01")
    (7000, 6000)
    """
    import copy

    out = copy.copy(ps)
    out.params = dict(ps.params)
    out.rules = {rid: copy.copy(r) for rid, r in ps.rules.items()}
    for rule in out.rules.values():
        rule.params = dict(rule.params)
    for key, raw in overrides.items():
        rule_id, _, name = key.rpartition(".")
        hit = False
        if rule_id:
            rule = out.rules.get(rule_id)
            if rule is not None and name in rule.params:
                rule.params[name] = Param.from_value(name, raw)
                hit = True
        else:
            if name in out.params:
                out.params[name] = Param.from_value(name, raw)
                hit = True
            for rule in out.rules.values():
                if name in rule.params:
                    rule.params[name] = Param.from_value(name, raw)
                    hit = True
        if not hit:
            raise PolicyError(
                f"no parameter {key!r} to change", None, "use a shared parameter name or RULE_ID.NAME"
            )
        new = out.params.get(name) if not rule_id else out.rules[rule_id].params[name]
        old = ps.params.get(name) if not rule_id else ps.rules[rule_id].params[name]
        if old is not None and new is not None and old.kind != new.kind:
            raise PolicyError(f"parameter {key!r} holds a {old.kind}, not a {new.kind}")
    return out
