"""Realistic errors in person-level feed records, each recorded per record for the truth file.

Kinds: ``id_mistyped`` (one digit wrong), ``id_transposed`` (two adjacent digits swapped), ``id_missing``,
``id_15`` (old 15-digit number), ``id_excel`` (destroyed by a spreadsheet, e.g. ``5.20122E+17``),
``name_homophone``, ``name_traditional``, ``name_space``, ``name_fullwidth_space``, ``late`` (dated in
the previous month) and ``duplicate`` (the same record, same record_id, twice in the file).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from jingzhun.synth import data
from jingzhun.synth.config import NoiseRates
from jingzhun.synth.strings import concat, from_bytes

KINDS = (
    "id_mistyped",
    "id_transposed",
    "id_missing",
    "id_15",
    "id_excel",
    "name_homophone",
    "name_traditional",
    "name_space",
    "name_fullwidth_space",
    "late",
    "duplicate",
)
_HOMO_FROM = pa.array(list(data.HOMOPHONES), pa.string())
_HOMO_TO = pa.array(list(data.HOMOPHONES.values()), pa.string())
_TRAD_PAIRS = tuple((a, b) for a, b in data.TRADITIONAL.items() if a != b)


def _id_matrix(ids: pa.Array) -> np.ndarray:
    """(n, 18) uint8 matrix of 18-character ID numbers (all must have 18 characters)."""
    arr = pa.concat_arrays([ids.cast(pa.binary())])
    n = len(arr)
    if n == 0:
        return np.zeros((0, 18), dtype=np.uint8)
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)[arr.offset : arr.offset + n + 1]
    if not (np.diff(offsets) == 18).all():
        raise ValueError("feed ID numbers must have 18 characters before noise is added")
    buf = np.frombuffer(arr.buffers()[2], dtype=np.uint8)
    return buf[offsets[0] : offsets[0] + 18 * n].reshape(n, 18).copy()


def draws(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Uniform draws that decide each record's noise (see :func:`person_draws` for persistent ones)."""
    return {k: rng.random(n) for k in DRAW_KEYS}


DRAW_KEYS = ("u_id", "u_t", "pos", "pos_t", "delta", "u_name", "kind")


def unit_hash(key: np.ndarray, stream: int) -> np.ndarray:
    """Uniform [0, 1) numbers from uint64 keys (splitmix64), one independent stream per ``stream``.

    >>> u = unit_hash(np.arange(5, dtype=np.uint64), 0)
    >>> bool(((u >= 0) & (u < 1)).all()), bool((u == unit_hash(np.arange(5, dtype=np.uint64), 0)).all())
    (True, True)
    """
    with np.errstate(over="ignore"):
        z = key + np.uint64(0x9E3779B97F4A7C15) * np.uint64(stream + 1)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def noisy_ids(
    ids: pa.Array, rates: NoiseRates, d: dict[str, np.ndarray]
) -> tuple[pa.Array, dict[str, np.ndarray]]:
    """Apply ID-number noise decided by the uniform draws ``d``; returns the column and a mask per kind.

    Only the rows drawn for noise (a few per cent) are rebuilt; the others are left untouched.
    """
    n = len(ids)
    edges = np.cumsum([rates.id_missing, rates.id_mistyped, rates.id_15, rates.id_excel])
    cand = np.flatnonzero(d["u_id"] < edges[3])
    u = d["u_id"][cand]
    mat = _id_matrix(ids.take(pa.array(cand, pa.int64())))
    k = len(cand)
    missing = u < edges[0]
    wrong = (u >= edges[0]) & (u < edges[1])
    old = (u >= edges[1]) & (u < edges[2]) & (mat[:, 6] == ord("1")) & (mat[:, 7] == ord("9"))
    excel = (u >= edges[2]) & (mat[:, 17] != ord("X"))
    transposed = wrong & (d["u_t"][cand] < 0.2)
    pos_t = 6 + (d["pos_t"][cand] * 10).astype(np.int64)
    rows = np.arange(k)
    a, b = mat[rows, pos_t], mat[rows, pos_t + 1]
    transposed &= a != b
    mistyped = wrong & ~transposed

    out = mat.copy()
    pos = (d["pos"][cand] * 17).astype(np.int64)
    digit = out[rows, pos].astype(np.int64) - 48
    new = ((digit + 1 + (d["delta"][cand] * 9).astype(np.int64)) % 10 + 48).astype(np.uint8)
    out[rows[mistyped], pos[mistyped]] = new[mistyped]
    t = rows[transposed]
    out[t, pos_t[t]], out[t, pos_t[t] + 1] = b[t], a[t]
    variant = from_bytes(out)
    if old.any():
        fifteen = from_bytes(np.concatenate([mat[:, :6], mat[:, 8:17]], axis=1))
        variant = pc.if_else(pa.array(old), fifteen, variant)
    if excel.any():
        lead = (mat[:, :7].astype(np.int64) - 48) @ (10 ** np.arange(6, -1, -1))
        six = (lead + 5) // 10
        six = np.where(six >= 10**6, lead // 10, six)
        text = from_bytes(
            np.concatenate(
                [
                    ((six // 10**5) % 10 + 48).astype(np.uint8)[:, None],
                    np.full((k, 1), ord("."), np.uint8),
                    ((six[:, None] // 10 ** np.arange(4, -1, -1)) % 10 + 48).astype(np.uint8),
                    np.frombuffer(b"E+17", np.uint8)[None, :].repeat(k, axis=0),
                ],
                axis=1,
            )
        )
        variant = pc.if_else(pa.array(excel), text, variant)
    variant = pc.if_else(pa.array(missing), pa.scalar(None, pa.string()), variant)
    index = np.arange(n)
    index[cand] = n + rows
    result = pa.concat_arrays([ids, variant]).take(pa.array(index)) if k else ids

    def full(mask: np.ndarray) -> np.ndarray:
        result = np.zeros(n, dtype=bool)
        result[cand] = mask
        return result

    return result, {
        "id_mistyped": full(mistyped),
        "id_transposed": full(transposed),
        "id_missing": full(missing),
        "id_15": full(old),
        "id_excel": full(excel),
    }


def noisy_names(
    names: pa.Array, rate: float, d: dict[str, np.ndarray]
) -> tuple[pa.Array, dict[str, np.ndarray]]:
    """Homophone, traditional character, inner space or full-width space in a share of names.

    Only the chosen names (a few per cent) are transformed; the rest are left untouched.

    >>> u = np.array([0.0, 0.0, 0.0, 0.0, 0.9])
    >>> out, m = noisy_names(pa.array(["王芳", "陈华", "李强", "张伟", "赵敏"]), 0.5,
    ...                      {"u_name": u, "kind": np.array([0.0, 0.3, 0.6, 0.9, 0.0])})
    >>> out.to_pylist()
    ['王方', '陳華', '李 强', '张\u3000伟', '赵敏']
    """
    n = len(names)
    hit = d["u_name"] < rate
    chosen = np.flatnonzero(hit)
    kind = (d["kind"][chosen] * 4).astype(np.int64)
    sub = names.take(pa.array(chosen, pa.int64()))
    last = pc.utf8_slice_codeunits(sub, -1)
    lookup = pc.index_in(last, value_set=_HOMO_FROM)
    has_homo = pc.is_valid(lookup).to_numpy(zero_copy_only=False)
    trad = sub
    for simp, tr in _TRAD_PAIRS:
        trad = pc.replace_substring(trad, simp, tr)
    has_trad = pc.not_equal(trad, sub).to_numpy(zero_copy_only=False)
    homo = (kind == 0) & has_homo
    tradm = (kind == 1) & has_trad
    fw = ~homo & ~tradm & (kind == 3)
    space = ~homo & ~tradm & ~fw
    first, rest = pc.utf8_slice_codeunits(sub, 0, 1), pc.utf8_slice_codeunits(sub, 1, 64)
    homo_name = concat(
        pc.utf8_slice_codeunits(sub, 0, -1), pc.coalesce(_HOMO_TO.take(pc.fill_null(lookup, 0)), last)
    )
    variant = pc.if_else(pa.array(homo), homo_name, sub)
    variant = pc.if_else(pa.array(tradm), trad, variant)
    variant = pc.if_else(pa.array(space), concat(first, " ", rest), variant)
    variant = pc.if_else(pa.array(fw), concat(first, "\u3000", rest), variant)
    index = np.arange(n)
    index[chosen] = n + np.arange(len(chosen))
    out = pa.concat_arrays([names, variant]).take(pa.array(index)) if len(chosen) else names

    def full(mask: np.ndarray) -> np.ndarray:
        result = np.zeros(n, dtype=bool)
        result[chosen] = mask
        return result

    return out, {
        "name_homophone": full(homo),
        "name_traditional": full(tradm),
        "name_space": full(space),
        "name_fullwidth_space": full(fw),
    }


def late_dates(
    rng: np.random.Generator, dates: np.ndarray, month_start: np.datetime64, rate: float
) -> tuple[np.ndarray, np.ndarray]:
    """Move a share of dates into the previous month (records delivered late)."""
    n = len(dates)
    late = (rng.random(n) < rate) & (dates >= month_start)
    prev = (month_start.astype("datetime64[M]") - 1).astype("datetime64[D]")
    moved = prev + rng.integers(0, int((month_start - prev).astype(np.int64)), n)
    return np.where(late, moved, dates), late


def kinds_list(masks: dict[str, np.ndarray], n: int) -> pa.Array:
    """list<string> of noise kinds per record from boolean masks.

    >>> kinds_list({"late": np.array([True, False]), "id_15": np.array([True, False])}, 2).to_pylist()
    [['id_15', 'late'], []]
    """
    names = [k for k in KINDS if k in masks]
    if not names:
        return pa.ListArray.from_arrays(pa.array(np.zeros(n + 1, np.int32)), pa.array([], pa.string()))
    stack = np.stack([masks[k] for k in names], axis=1)
    _, cols = np.nonzero(stack)
    offsets = np.r_[0, np.cumsum(stack.sum(axis=1))].astype(np.int32)
    values = pa.array(names, pa.string()).take(pa.array(cols))
    return pa.ListArray.from_arrays(pa.array(offsets), values)
