"""A trained linkage model: the prior λ and each comparison level's m and u probabilities, keyed by
comparison name and level label, so it is independent of any engine's SQL dialect and can be stored as
JSON and given again to score new records without training.

>>> m = Model(0.001, {"sex": [["exact", 0.95, 0.5], ["else", 0.05, 0.5]]})
>>> Model.from_dict(m.to_dict()) == m, len(m.digest())
(True, 64)
>>> m.levels_for("sex", ["exact", "else"]), m.levels_for("phone", ["exact", "else"])
([(0.95, 0.5), (0.05, 0.5)], [(None, None), (None, None)])
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jingzhun.errors import ConfigError, Location

FORMAT = "jingzhun-link-model/1"


@dataclass(frozen=True)
class Model:
    """``comparisons``: comparison name → non-null levels in order, each ``[label, m, u]`` (None: not
    estimated, Splink's default applies)."""

    prior: float
    comparisons: dict[str, list[list[Any]]]
    info: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_splink(cls, settings: dict[str, Any], info: dict[str, Any]) -> Model:
        """The parameters of a Splink settings dictionary (``linker.misc.save_model_to_json()``)."""
        comparisons = {}
        for comp in settings.get("comparisons", []):
            comparisons[comp["output_column_name"]] = [
                [lvl.get("label_for_charts"), lvl.get("m_probability"), lvl.get("u_probability")]
                for lvl in comp.get("comparison_levels", [])
                if not lvl.get("is_null_level")
            ]
        prior = float(settings.get("probability_two_random_records_match") or 0.0)
        return cls(prior, comparisons, dict(info))

    def levels_for(self, name: str, labels: list[str]) -> list[tuple[float | None, float | None]]:
        """(m, u) of each level of comparison ``name``; (None, None) everywhere when the model has no such
        comparison. A comparison whose levels differ from the model's is refused (the configuration
        changed since the model was trained)."""
        levels = self.comparisons.get(name)
        if levels is None:
            return [(None, None)] * len(labels)
        if [lvl[0] for lvl in levels] != list(labels):
            raise ConfigError(
                f"the stored linkage model's levels for {name!r} ({[lvl[0] for lvl in levels]}) differ from "
                f"the configuration's ({list(labels)}); delete the model file to train a new one",
                Location(field=f"probabilistic.comparisons[{name}]"),
            )
        return [(lvl[1], lvl[2]) for lvl in levels]

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "prior": self.prior, "comparisons": self.comparisons, "info": self.info}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Model:
        if data.get("format") != FORMAT:
            raise ConfigError(f"not a linkage model (format {data.get('format')!r}, expected {FORMAT})")
        return cls(float(data["prior"]), {k: [list(x) for x in v] for k, v in data["comparisons"].items()},
                   dict(data.get("info") or {}))

    def digest(self) -> str:
        """sha256 of the parameters (not of ``info``): two models with the same digest score alike."""
        blob = json.dumps({"prior": self.prior, "comparisons": self.comparisons}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()

    def save(self, path: str | Path) -> Path:
        """Write the model as JSON (atomically)."""
        from jingzhun.store import atomic_file

        path = Path(path)
        with atomic_file(path) as tmp:
            tmp.write_text(json.dumps(self.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: str | Path) -> Model:
        path = Path(path)
        try:
            return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"cannot read linkage model: {exc}", Location(file=str(path))) from None
