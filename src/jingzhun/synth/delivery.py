"""Late deliveries: a department sends a record in the file of a later month than its event date.

Records that deliver an event (``FeedChunk.late_kind``) are held back 1, 2 or 4–5 months by a draw that
is a hash of (seed, county, kind, unit), so every record of one unit (e.g. each member's 纳入 of one
household) gets the same delay. A delay is only drawn where the arrival still falls within the
generated months, so every record arrives exactly once. Per county and kind, one record of each delay
class (1, 2, 4–5 months) is forced at the first chance when the draws found none, so a small run has
late deliveries of every kind to find.
"""

from __future__ import annotations

import numpy as np

from jingzhun.synth.feedbase import EVENT, FeedChunk, concat_chunks, take_rows
from jingzhun.synth.noise import unit_hash

# Events that a department may deliver late (index in EVENTS).
LATE_KINDS = tuple(
    EVENT[k]
    for k in (
        "labourer_death",
        "death",
        "birth",
        "move_out",
        "move_in",
        "chronic_outpatient",
        "high_medical_cost",
        "serious_illness",
        "severe_disability",
        "job_loss",
        "disaster",
        "dibao_entry",
        "dibao_exit",
        "tekun_entry",
        "tekun_exit",
        "temp_assistance",
    )
)
# Share of a kind's records delivered 1 month, 2 months and 4–5 months late.
LATE_SHARES = (0.08, 0.03, 0.012)
# Delay classes, most constrained first (forcing fills the one needing the earliest month first).
_CLASSES = ((4, 5), (2,), (1,))


def _class(delay: int) -> int:
    """Delay class of a delay in months: 1, 2, or 5 for 4–5 (0 for on time)."""
    return 5 if delay >= 4 else delay


class Deliveries:
    """Routes one county's records to the month whose file holds them."""

    def __init__(self, seed: int, county: int, months: int):
        self.months = months
        self._base = np.uint64(((seed * 1_000_003 + county) * 131 + 17) % 2**40 << 20)
        self._pending: dict[tuple[str, int], list[FeedChunk]] = {}
        self._seen: dict[int, set[int]] = {}
        self._forced: dict[tuple[int, int, int], int] = {}  # (kind, unit, event month) -> delay
        self._rng = np.random.Generator(np.random.PCG64([seed, county, 104_729]))

    def delay(self, kind: int, unit: np.ndarray, m: int) -> np.ndarray:
        """Months of delay of events of ``kind`` dated in month ``m`` for ``unit`` (0: on time)."""
        unit = np.asarray(unit, np.int64)
        key = (unit.astype(np.uint64) * np.uint64(64) + np.uint64(kind)) * np.uint64(64) + np.uint64(m)
        key += self._base
        u = unit_hash(key, 0)
        s1, s2, s45 = LATE_SHARES
        d = np.select([u < s45, u < s45 + s2, u < s45 + s2 + s1], [4 + (unit_hash(key, 1) < 0.5), 2, 1], 0)
        d = np.where(m + d <= self.months - 1, d, 0)
        if self._forced:
            forced = np.array([self._forced.get((kind, int(x), m), -1) for x in unit], np.int64)
            d = np.where(forced >= 0, forced, d)
        return d

    def route(self, chunk: FeedChunk, m: int) -> FeedChunk:
        """This month's file: the records of ``chunk`` due now plus earlier records arriving now."""
        delays = np.zeros(len(chunk), np.int64)
        kinds = chunk.late_kind
        for kind in np.unique(kinds[kinds >= 0]).tolist():
            rows = np.flatnonzero(kinds == kind)
            delays[rows] = self.delay(kind, chunk.unit[rows], m)
            self._force(kind, chunk.unit[rows], delays, rows, m)
        late = np.flatnonzero(delays > 0)
        for d in np.unique(delays[late]).tolist():
            self._pending.setdefault((chunk.dataset, m + d), []).append(
                take_rows(chunk, np.flatnonzero(delays == d))
            )
        arriving = self._pending.pop((chunk.dataset, m), [])
        if not len(late) and not arriving:
            return chunk
        on_time = np.flatnonzero(delays == 0)
        if arriving:
            n = len(chunk)
            chunk = concat_chunks([chunk, *arriving]) if n else concat_chunks(arriving)
            on_time = np.r_[on_time, np.arange(n, len(chunk))] if n else np.arange(len(chunk))
        chunk.keep = on_time  # finalize drops the rows held back
        return chunk

    def _force(self, kind: int, units: np.ndarray, delays: np.ndarray, rows: np.ndarray, m: int) -> None:
        """Give a missing delay class to one unit of this month that is on time, or whose class was
        already seen in an earlier month."""
        seen = self._seen.setdefault(kind, set())
        before = set(seen)
        seen.update(_class(d) for d in np.unique(delays[rows]).tolist() if d)
        for cls in _CLASSES:
            if _class(cls[0]) in seen:
                continue
            fits = [d for d in cls if m + d <= self.months - 1]
            current = delays[rows]
            free = np.unique(units[(current == 0) | np.isin([_class(d) for d in current], list(before))])
            if not fits or not len(free):
                continue
            unit = int(free[self._rng.integers(0, len(free))])
            delay = fits[int(self._rng.integers(0, len(fits)))]
            self._forced[(kind, unit, m)] = delay
            delays[rows[units == unit]] = delay
            seen.add(_class(delay))
