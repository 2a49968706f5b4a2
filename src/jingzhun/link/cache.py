"""Links reused from run to run: each run links only the records it has not linked before under the same
conditions, and the result is exactly what linking every record again would give.

What is stored (Parquet under ``<root>/pairs/<feed>/<key>/part-*.parquet``, plus the model under
``<root>/models/``), per feed record that was linked, keyed by ``record_id`` and the record's *version*
(the import it came from in the monthly run, else a hash of its linkage fields):

- ``records``: the outcome of exact linkage (person, household, number of people holding the number,
  validity of an unmatched number) and, for the records that needed it, the fingerprint and the
  *profile key* (``pkey``: md5 of every field probabilistic linkage reads);
- ``multi``: every candidate of records whose number several registered people hold;
- ``profiles``: the scored candidate pairs per profile (``pkey``, person, probability; a row with no person
  marks a profile without candidates). A later record with a known profile is not scored again.

Clerk decisions are *not* stored: they are applied to every record on every run, so decisions taken in
the meantime apply.

The cache ``key`` is everything the stored outcome depends on (see :func:`cache_key`): the registry
version given by the caller, the configuration (all of it but the bands), the model's parameters, keyed
hashing, and :data:`CACHE_VERSION` with the versions of Splink and pypinyin. A different key starts an
empty folder (older keys of the feed are deleted when the first part of a new key is written).

The model is stored per *model configuration* (``models/<hash>.json``, :func:`model_config_hash`: the
column mapping, comparisons, blocking and training, not the feed's name): trained once, by the first feed
of the first run that has records to score, and used by every feed with the same configuration and every
later run, so that pairs computed in different feeds and months are scored alike and training (Splink's
fixed cost) is paid once. A feed that wants its own model sets ``probabilistic.training.shared: false``
(``models/<feed>-<hash>.json``). :meth:`LinkCache.forget_models` (``jingzhun link models --forget``), a
changed configuration or ``LinkSession(retrain=True)`` trains again.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from jingzhun.link.config import LinkConfig
from jingzhun.link.model import Model

#: Bump when a change to normalisation, exact linkage or scoring changes stored outcomes.
CACHE_VERSION = "1"

TABLES = ("records", "multi", "profiles")

RECORDS_SCHEMA = pa.schema([
    ("record_id", pa.string()), ("version", pa.string()), ("person_id", pa.string()),
    ("household_id", pa.string()), ("n_candidates", pa.int64()), ("id_valid", pa.bool_()),
    ("fingerprint", pa.string()), ("pkey", pa.string()), ("rest", pa.bool_()),
])
MULTI_SCHEMA = pa.schema([
    ("record_id", pa.string()), ("person_id", pa.string()), ("household_id", pa.string()),
    ("n_candidates", pa.int64()),
])
PROFILES_SCHEMA = pa.schema([
    ("pkey", pa.string()), ("person_id", pa.string()), ("match_probability", pa.float64()),
])
SCHEMAS = {"records": RECORDS_SCHEMA, "multi": MULTI_SCHEMA, "profiles": PROFILES_SCHEMA}


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:  # pragma: no cover - both are dependencies
        return "?"


def config_hash(cfg: LinkConfig, *, with_bands: bool = False) -> str:
    """sha256 of the configuration (without its name; without the bands unless ``with_bands``)."""
    raw = {k: v for k, v in cfg.raw.items() if k != "name" and (with_bands or k != "thresholds")}
    return hashlib.sha256(json.dumps(raw, sort_keys=True, default=str).encode()).hexdigest()


def model_config_hash(cfg: LinkConfig) -> str:
    """sha256 of what a trained model depends on: column mapping, comparisons, blocking, training."""
    prob = dict(cfg.raw.get("probabilistic") or {})
    prob.pop("min_probability", None)
    # when to retrain is not part of what was trained
    prob["training"] = {k: v for k, v in (prob.get("training") or {}).items() if k != "retrain_registry_ratio"}
    raw = {"left": cfg.raw.get("left"), "right": cfg.raw.get("right"), "probabilistic": prob,
           "hashed": cfg.raw.get("hashed")}
    return hashlib.sha256(json.dumps(raw, sort_keys=True, default=str).encode()).hexdigest()


def model_id(cfg: LinkConfig) -> str:
    """The name of a configuration's model: its :func:`model_config_hash`, shared by every feed configured
    alike, or prefixed with the feed's name when ``probabilistic.training.shared`` is false."""
    digest = model_config_hash(cfg)[:16]
    return digest if cfg.training.get("shared", True) else f"{_safe(cfg.name)}-{digest}"


def cache_key(cfg: LinkConfig, registry_version: str, model: Model | None, hashed_key: bytes | None) -> str:
    """The key of stored outcomes: a change to any input gives another key (see the module docstring)."""
    parts = {
        "cache": CACHE_VERSION, "splink": _version("splink"), "pypinyin": _version("pypinyin"),
        "config": config_hash(cfg), "registry": registry_version,
        "model": model.digest() if model is not None else None,
        "key": hashlib.sha256(hashed_key).hexdigest() if hashed_key is not None else None,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:32]


def _safe(name: str) -> str:
    return re.sub(r"[^0-9A-Za-z_.-]", "_", name) or "feed"


@dataclass(frozen=True)
class LinkCache:
    """A folder of stored linkage outcomes and models (in the monthly run: ``<data>/linkage``)."""

    root: Path

    def __init__(self, root: str | Path):
        object.__setattr__(self, "root", Path(root))

    # -- models ------------------------------------------------------------------------------------------

    def model_path(self, cfg: LinkConfig) -> Path:
        """Where the model of this configuration is stored (shared by feeds configured alike)."""
        return self.root / "models" / f"{model_id(cfg)}.json"

    def load_model(self, cfg: LinkConfig) -> Model | None:
        path = self.model_path(cfg)
        if not path.exists():
            # folders written before models were shared hold one model per feed: keep using it
            legacy = self.root / "models" / f"{_safe(cfg.name)}-{model_config_hash(cfg)[:16]}.json"
            path = legacy if legacy.exists() else path
        return Model.load(path) if path.exists() else None

    def save_model(self, cfg: LinkConfig, model: Model) -> Path:
        return model.save(self.model_path(cfg))

    def models(self) -> list[Path]:
        """The stored model files."""
        folder = self.root / "models"
        return sorted(folder.glob("*.json")) if folder.exists() else []

    def forget_models(self) -> int:
        """Delete every stored model (the next run that has records to score trains again; links stored
        under the old models are relinked then, since the model is part of their key). Returns how many
        were deleted."""
        paths = self.models()
        for path in paths:
            path.unlink(missing_ok=True)
        return len(paths)

    # -- outcomes ----------------------------------------------------------------------------------------

    def folder(self, feed: str, key: str) -> Path:
        return self.root / "pairs" / _safe(feed) / key

    def parts(self, feed: str, key: str, table: str) -> list[Path]:
        """The stored files of ``table`` (one of :data:`TABLES`) for this feed and key."""
        folder = self.folder(feed, key)
        return sorted(folder.glob(f"{table}-*.parquet")) if folder.exists() else []

    def append(self, feed: str, key: str,
               tables: dict[str, pa.Table | pa.RecordBatchReader | Callable[[], pa.RecordBatchReader]]) -> None:
        """Store one part (every table of :data:`TABLES`) atomically: the files are written under
        temporary names, then renamed; ``records`` last, so a record is known only once its pairs are.
        Other keys of the feed are deleted first. A table may be a stream of batches, or a function
        opening one when its turn comes (written batch by batch, never held whole)."""
        from jingzhun.store import atomic_file

        folder = self.folder(feed, key)
        feed_dir = folder.parent
        if feed_dir.exists():
            for other in feed_dir.iterdir():
                if other.is_dir() and other.name != key and not other.name.startswith("."):
                    shutil.rmtree(other, ignore_errors=True)
        folder.mkdir(parents=True, exist_ok=True)
        part = uuid.uuid4().hex[:12]
        for name in ("multi", "profiles", "records"):
            given = tables[name]
            source = given() if callable(given) else given
            schema = SCHEMAS[name]
            try:
                with atomic_file(folder / f"{name}-{part}.parquet") as tmp, pq.ParquetWriter(tmp, schema) as writer:
                    for batch in (source.to_batches() if isinstance(source, pa.Table) else source):
                        writer.write_batch(pa.RecordBatch.from_arrays(
                            [batch.column(n) for n in schema.names], names=schema.names).cast(schema))
            finally:
                if isinstance(source, pa.RecordBatchReader):
                    source.close()  # an engine's stream left open would block its next query

    def clear(self, feed: str | None = None) -> None:
        """Forget stored outcomes (of one feed, or all); models are kept."""
        target = self.root / "pairs" / _safe(feed) if feed else self.root / "pairs"
        shutil.rmtree(target, ignore_errors=True)


def register_parts(engine: Any, cache: LinkCache | None, feed: str, key: str | None, name: str,
                   table: str) -> None:
    """Register the stored ``table`` of this feed and key on ``engine`` as ``name`` (an empty relation
    with the right columns when nothing is stored)."""
    paths = cache.parts(feed, key, table) if cache is not None and key is not None else []
    if paths:
        engine.register_table(name, paths)
    else:
        engine.register_table(name, SCHEMAS[table].empty_table())
