"""Putting noise into a finished feed table (the kinds themselves are in :mod:`jingzhun.synth.noise`)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from jingzhun.catalog import DATASETS
from jingzhun.synth.config import SynthConfig
from jingzhun.synth.feedbase import EVENT, FEED_NAMES, Ctx, FeedChunk
from jingzhun.synth.noise import DRAW_KEYS, draws, kinds_list, late_dates, noisy_ids, noisy_names, unit_hash

_KEEP_DATE = np.array([EVENT["death"], EVENT["labourer_death"]])


def _noise_draws(ctx: Ctx, chunk: FeedChunk, n: int) -> dict[str, np.ndarray]:
    """A person keeps the same mistake in a department's records month after month (the error sits in
    that department's database), so draws are a hash of (seed, county, dataset, person); records of
    people outside the county's list (newborns) draw afresh."""
    fresh = draws(ctx.rng, n)
    person = chunk.person
    known = person >= 0
    if not known.any():
        return fresh
    base = np.uint64(
        ((ctx.cfg.seed * 1_000_003 + ctx.county) * 64 + FEED_NAMES.index(chunk.dataset)) % 2**40 << 24
    )
    key = person.astype(np.uint64) + base
    return {k: np.where(known, unit_hash(key, i), fresh[k]) for i, k in enumerate(DRAW_KEYS)}


def add_noise(
    ctx: Ctx, table: pa.Table, chunk: FeedChunk, cfg: SynthConfig, month_start: np.datetime64
) -> tuple[pa.Table, pa.Array]:
    """Noise for person-level feeds; duplicates (same record_id) are appended at the end of the block."""
    rng = ctx.rng
    ds = DATASETS[chunk.dataset]
    n = table.num_rows
    masks: dict[str, np.ndarray] = {}
    if ds.person_level and n:
        d = _noise_draws(ctx, chunk, n)
        ids, m_id = noisy_ids(table.column("id_number").combine_chunks(), cfg.noise, d)
        names, m_name = noisy_names(table.column("name").combine_chunks(), cfg.noise.name_variant, d)
        masks.update(m_id)
        masks.update(m_name)
        table = table.set_column(table.schema.get_field_index("id_number"), "id_number", ids)
        table = table.set_column(table.schema.get_field_index("name"), "name", names)
        if ds.date_field and ds.field(ds.date_field).type == "date":
            col = table.column(ds.date_field).combine_chunks()
            dates = col.to_numpy(zero_copy_only=False).astype("datetime64[D]")
            moved, late = late_dates(rng, dates, month_start, cfg.noise.late)
            # a death keeps its date: the person's other records must not be dated after it
            dated_fact = np.isin(chunk.event, _KEEP_DATE)
            if dated_fact.any():
                late &= ~dated_fact
                moved = np.where(late, moved, dates)
            masks["late"] = late
            table = table.set_column(
                table.schema.get_field_index(ds.date_field), ds.date_field, pa.array(moved, pa.date32())
            )
        dup = rng.random(n) < cfg.noise.duplicate
        masks["duplicate"] = dup
        if dup.any():
            table = pa.concat_tables([table, table.take(pa.array(np.flatnonzero(dup)))])
    return table, kinds_list(masks, n)
