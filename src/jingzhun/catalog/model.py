"""Dataset and field descriptions (pure data, no engine)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from jingzhun.errors import JingzhunError

FieldType = Literal["string", "int", "decimal", "date", "bool", "enum", "id_number", "region_code", "month"]
Kind = Literal["reference", "registry", "feed"]


@dataclass(frozen=True)
class Field:
    """One column.

    ``name`` is the canonical snake_case name used in storage and in policies; ``zh`` is the Chinese
    header written in templates and exports; ``aliases`` are other headers people use (Chinese or
    English) that ingest accepts. ``enum`` names an entry of ``ENUMS`` (canonical Chinese labels).
    ``pii`` marks personal data that is masked or hidden for roles that may not see it.
    ``digit_id`` marks an identifier written in digits (a bank account): a spreadsheet that stores it
    as a number loses its last digits, so such a cell is refused (:mod:`jingzhun.ingest`).
    """

    name: str
    zh: str
    en: str
    type: FieldType = "string"
    required: bool = False
    enum: str | None = None
    aliases: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None
    pii: bool = False
    doc: str = ""
    digit_id: bool = False

    def headers(self) -> tuple[str, ...]:
        """Every header text that maps to this field."""
        return (self.zh, self.en, self.name, *self.aliases)


@dataclass(frozen=True)
class Dataset:
    """A table: reference data, a registry extract (full, replaces the previous period) or a department
    feed (monthly increments, appended and de-duplicated on ``key``).

    ``date_field`` is the field that places a feed record in time (used by policy windows);
    ``person_level`` feeds carry a person's ID number and name and are linked to registered members;
    the others are keyed by village (water, disasters).
    """

    name: str
    zh: str
    en: str
    kind: Kind
    fields: tuple[Field, ...]
    key: tuple[str, ...]
    department: str | None = None
    date_field: str | None = None
    person_level: bool = False
    doc: str = ""
    _by_name: dict[str, Field] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_name.update({f.name: f for f in self.fields})
        for k in self.key:
            if k not in self._by_name:
                raise ValueError(f"dataset {self.name}: key {k} is not a field")

    def field(self, name: str) -> Field:
        try:
            return self._by_name[name]
        except KeyError:
            raise JingzhunError(
                f"dataset {self.name!r} has no field {name!r}; fields: {', '.join(self._by_name)}"
            ) from None

    def has(self, name: str) -> bool:
        return name in self._by_name

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.fields]

    @property
    def required(self) -> list[Field]:
        return [f for f in self.fields if f.required]
