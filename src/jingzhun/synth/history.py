"""Truth that needs more than one record: what one county's months add up to.

As the feed files of a county are written month by month, :class:`History` keeps the few records these
truths need, as written (dates after noise, in the month whose file holds them), and at the end of the
county gives:

- the events that depend on a person's other records: ``chronic_outpatient`` (慢特病门诊 out-of-pocket
  of a calendar month reaching 500 yuan, pointing at the claim that brings the received sum over, in
  order of arrival) and ``serious_illness`` (a person's first serious-illness claim by date, for
  people the registry does not already list as 大病);
- ``truth/states.parquet``: every record that sets a state a later record may change (house grades,
  drinking water, school status of compulsory-age children, 民政 纳入/退出);
- ``truth/households.parquet``: the true number of members of each household at the end of each month.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from jingzhun.synth import people
from jingzhun.synth.feedbase import EVENT, FeedChunk
from jingzhun.synth.truth import household_ids, person_ids, record_dates
from jingzhun.synth.writers import EVENTS_SCHEMA, HOUSEHOLDS_SCHEMA, STATES_SCHEMA

if TYPE_CHECKING:
    from jingzhun.synth.config import SynthConfig
    from jingzhun.synth.population import Population
    from jingzhun.synth.regions import RegionPlan

CHRONIC_MONTHLY_OOP = 500.0  # yuan of 慢特病门诊 out-of-pocket in a calendar month
# 公安 events that change a household's size, and by how much
_SIZE_CHANGE = {
    EVENT["death"]: -1,
    EVENT["labourer_death"]: -1,
    EVENT["conflict_dead_listed"]: -1,
    EVENT["move_out"]: -1,
    EVENT["birth"]: 1,
    EVENT["move_in"]: 1,
}


def _np(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return np.asarray(arr.to_numpy(zero_copy_only=False))


class History:
    """The records of one county that the multi-record truths need (a few per cent of all records)."""

    def __init__(self, pop: Population, plan: RegionPlan, cfg: SynthConfig):
        self.pop, self.plan, self.periods = pop, plan, cfg.periods
        self.start = np.datetime64(cfg.start, "M")
        self._seq = 0
        self._claims: list[dict[str, object]] = []
        self._states: list[dict[str, object]] = []
        self._sizes: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._out_of_school = np.zeros(pop.n_people, bool)

    def add(self, chunk: FeedChunk, table: pa.Table, m: int, period: str) -> None:
        """Keep what the truths need from one feed-month (``table`` as written; duplicates at the end)."""
        n = len(chunk)
        if not n or chunk.dataset not in _KEEP:
            return
        body = table.slice(0, n)
        seq = self._seq + np.arange(n)
        self._seq += n
        _KEEP[chunk.dataset](self, chunk, body, m, period, seq)

    # -- what is kept per feed ------------------------------------------------------------------------

    def _registered(self, chunk: FeedChunk) -> np.ndarray:
        person = chunk.person
        return (person >= 0) & (self.pop.p["hh"][np.maximum(person, 0)] >= 0)

    def _medical(self, chunk: FeedChunk, t: pa.Table, m: int, period: str, seq: np.ndarray) -> None:
        reg = self._registered(chunk)
        chronic = reg & _np(pc.equal(t.column("visit_type"), "慢特病门诊"))
        # a person the registry lists as 大病 has had serious-illness claims before: not a new illness
        known = self.pop.p["health"][np.maximum(chunk.person, 0)] == people.SERIOUS
        serious = reg & ~known & _np(pc.equal(t.column("serious_illness"), "是"))
        keep = np.flatnonzero(chronic | serious)
        if not len(keep):
            return
        take = pa.array(keep)
        self._claims.append(
            {
                "person": chunk.person[keep],
                "household": chunk.household[keep],
                "village": chunk.village[keep],
                "chronic": chronic[keep],
                "serious": serious[keep],
                "date": record_dates("medical_claim", t).take(take),
                "oop": _np(t.column("out_of_pocket").combine_chunks().take(take).cast(pa.float64())),
                "m": np.full(len(keep), m),
                "seq": seq[keep],
                "record_id": t.column("record_id").combine_chunks().take(take),
            }
        )

    def _state_rows(
        self,
        state: str,
        chunk: FeedChunk,
        t: pa.Table,
        rows: np.ndarray,
        value: pa.Array,
        m: int,
        seq: np.ndarray,
        natural_village: pa.Array | None = None,
        kind: pa.Array | None = None,
    ) -> None:
        if not len(rows):
            return
        take = pa.array(rows)
        k = len(rows)
        self._states.append(
            {
                "state": state,
                "person": chunk.person[rows] if state in ("school", "assistance") else np.full(k, -1),
                "household": chunk.household[rows] if state != "water" else np.full(k, -1),
                "village": chunk.village[rows],
                "natural_village": natural_village.take(take) if natural_village is not None else None,
                "kind": kind.take(take) if kind is not None else None,
                "value": value.take(take),
                "date": record_dates(chunk.dataset, t).take(take),
                "m": np.full(k, m),
                "seq": seq[rows],
                "dataset": chunk.dataset,
                "record_id": t.column("record_id").combine_chunks().take(take),
            }
        )

    def _housing(self, chunk: FeedChunk, t: pa.Table, m: int, period: str, seq: np.ndarray) -> None:
        rows = np.flatnonzero(chunk.household >= 0)
        self._state_rows("house_grade", chunk, t, rows, t.column("grade").combine_chunks(), m, seq)

    def _water(self, chunk: FeedChunk, t: pa.Table, m: int, period: str, seq: np.ndarray) -> None:
        value = pc.if_else(pa.array(chunk.event >= 0), "fail", "pass")
        nv = t.column("natural_village").combine_chunks()
        self._state_rows("water", chunk, t, np.arange(len(chunk)), value, m, seq, natural_village=nv)

    def _enrolment(self, chunk: FeedChunk, t: pa.Table, m: int, period: str, seq: np.ndarray) -> None:
        status = t.column("status").combine_chunks()
        out = chunk.event == EVENT["dropout"]  # 辍学/休学 of a registered child of compulsory age
        back = self._out_of_school[np.maximum(chunk.person, 0)] & _np(pc.equal(status, "在读"))
        self._out_of_school[chunk.person[out]] = True
        self._out_of_school[chunk.person[back]] = False
        self._state_rows("school", chunk, t, np.flatnonzero(out | back), status, m, seq)

    def _assistance(self, chunk: FeedChunk, t: pa.Table, m: int, period: str, seq: np.ndarray) -> None:
        change = t.column("change").combine_chunks()
        rows = np.flatnonzero(self._registered(chunk) & _np(pc.is_in(change, pa.array(["纳入", "退出"]))))
        kind = t.column("assistance_type").combine_chunks()
        self._state_rows("assistance", chunk, t, rows, change, m, seq, kind=kind)

    def _civil(self, chunk: FeedChunk, t: pa.Table, m: int, period: str, seq: np.ndarray) -> None:
        delta = np.zeros(len(chunk), np.int64)
        for event, d in _SIZE_CHANGE.items():
            delta[chunk.event == event] = d
        rows = np.flatnonzero((delta != 0) & (chunk.household >= 0))
        if len(rows):
            dates = _np(record_dates("civil_registry", t).take(pa.array(rows))).astype("datetime64[M]")
            month = (dates - self.start).astype(np.int64)
            self._sizes.append((chunk.household[rows], month, delta[rows]))

    # -- results --------------------------------------------------------------------------------------

    def events(self) -> pa.Table:
        """``chronic_outpatient`` and ``serious_illness`` rows (EVENTS_SCHEMA), in order of arrival."""
        if not self._claims:
            return EVENTS_SCHEMA.empty_table()
        c = {
            k: (
                np.concatenate([x[k] for x in self._claims])
                if isinstance(self._claims[0][k], np.ndarray)
                else pa.concat_arrays([x[k] for x in self._claims])
            )
            for k in self._claims[0]
        }
        date = _np(c["date"]).astype("datetime64[D]")
        month = date.astype("datetime64[M]").astype(np.int64)
        person, seq = c["person"], c["seq"]
        assert isinstance(person, np.ndarray) and isinstance(seq, np.ndarray)
        picks: list[tuple[str, np.ndarray, np.ndarray]] = []

        # chronic outpatient: running sum per (person, month) in order of arrival
        ch = np.flatnonzero(c["chronic"])
        if len(ch):
            order = ch[np.lexsort((seq[ch], month[ch], person[ch]))]
            oop = np.asarray(c["oop"])[order]
            key = person[order] * 100_000 + month[order]
            starts = np.r_[True, key[1:] != key[:-1]]
            group = np.cumsum(starts) - 1
            cum = np.cumsum(oop)
            base = np.r_[0.0, cum][np.flatnonzero(starts)][group]
            running = np.round(cum - base, 2)
            total = np.zeros(group[-1] + 1)
            np.add.at(total, group, oop)
            over = running >= CHRONIC_MONTHLY_OOP
            # sums only grow, so the claim that brings a group over is the first at or over the line
            hit = over & ~np.r_[False, (group[1:] == group[:-1]) & over[:-1]]
            detail = np.char.add("out_of_pocket_month=", np.char.mod("%.2f", total[group[hit]]))
            picks.append(("chronic_outpatient", order[hit], detail))

        # serious illness: a person's first serious-illness claim by date
        se = np.flatnonzero(c["serious"])
        if len(se):
            order = se[np.lexsort((seq[se], date[se].astype(np.int64), person[se]))]
            first = order[np.r_[True, person[order][1:] != person[order][:-1]]]
            picks.append(("serious_illness", first, np.full(len(first), "first serious-illness claim")))

        tables = []
        for event, rows, detail in picks:
            take = pa.array(rows)
            arrival = np.asarray(c["m"])[rows]
            tables.append(
                pa.table(
                    {
                        "event": pa.repeat(event, len(rows)),
                        "period": pa.array(np.asarray(self.periods)[arrival]),
                        "person_id": person_ids(self.pop, person[rows]),
                        "household_id": household_ids(self.pop, np.asarray(c["household"])[rows]),
                        "village_code": self.plan.village_code.take(pa.array(np.asarray(c["village"])[rows])),
                        "dataset": pa.repeat("medical_claim", len(rows)),
                        "record_id": c["record_id"].take(take),
                        "detail": pa.array(detail.astype(str)),
                        "event_date": c["date"].take(take),
                        "arrival": pa.array(np.asarray(self.periods)[arrival]),
                        "_seq": seq[rows],
                    }
                )
            )
        out = pa.concat_tables(tables)
        out = out.take(pc.sort_indices(out, [("_seq", "ascending"), ("event", "ascending")]))
        return out.drop_columns(["_seq"]).cast(EVENTS_SCHEMA)

    def states(self) -> pa.Table:
        """Every state-setting record (STATES_SCHEMA), by state, subject and date."""
        tables = [self._state_table(s) for s in self._states]
        if not tables:
            return STATES_SCHEMA.empty_table()
        t = pa.concat_tables(tables)
        keep = np.zeros(t.num_rows, bool)
        state = _np(t.column("state"))
        subject = _np(t.column("subject"))
        value = _np(t.column("value"))
        # house: from the first C/D rating of the house on; water: every assessment of a unit that failed
        cd = (state == "house_grade") & np.isin(value, ("C", "D"))
        failed = (state == "water") & (value == "fail")
        keep |= np.isin(state, ("school", "assistance"))
        water_subjects = np.unique(subject[failed])
        keep |= (state == "water") & np.isin(subject, water_subjects)
        house = np.flatnonzero(state == "house_grade")
        if len(house):
            date = _np(t.column("event_date")).astype("datetime64[D]").astype(np.int64)
            seq = _np(t.column("_seq"))
            order = house[np.lexsort((seq[house], date[house], subject[house]))]
            s = subject[order]
            starts = np.r_[True, s[1:] != s[:-1]]
            group = np.cumsum(starts) - 1
            seen_cd = np.zeros(group[-1] + 1, bool)
            for i, g in zip(order.tolist(), group.tolist(), strict=True):  # a few thousand per county
                seen_cd[g] |= bool(cd[i])
                keep[i] = seen_cd[g]
        t = t.filter(pa.array(keep))
        t = t.take(
            pc.sort_indices(
                t,
                [
                    ("state", "ascending"),
                    ("subject", "ascending"),
                    ("event_date", "ascending"),
                    ("_seq", "ascending"),
                ],
            )
        )
        return t.drop_columns(["_seq"]).cast(STATES_SCHEMA)

    def _state_table(self, s: dict[str, object]) -> pa.Table:
        state = str(s["state"])
        person = np.asarray(s["person"])
        household = np.asarray(s["household"])
        k = len(person)
        village = self.plan.village_code.take(pa.array(np.asarray(s["village"])))
        pid = person_ids(self.pop, person)
        hid = household_ids(self.pop, household)
        nv = s["natural_village"] if s["natural_village"] is not None else pa.nulls(k, pa.string())
        if state == "house_grade":
            subject = hid
        elif state == "water":
            subject = pc.binary_join_element_wise(village, pc.fill_null(nv, ""), "/")
        elif state == "school":
            subject = pid
        else:
            subject = pc.binary_join_element_wise(pid, s["kind"], "/")
        m = np.asarray(s["m"])
        return pa.table(
            {
                "state": pa.repeat(state, k),
                "subject": subject,
                "household_id": hid,
                "person_id": pid,
                "village_code": village,
                "natural_village": nv,
                "value": s["value"],
                "event_date": s["date"],
                "arrival": pa.array(np.asarray(self.periods)[m]),
                "dataset": pa.repeat(str(s["dataset"]), k),
                "record_id": s["record_id"],
                "_seq": np.asarray(s["seq"]),
            }
        )

    def households(self) -> pa.Table:
        """Members of every household at the end of each month (HOUSEHOLDS_SCHEMA): the registry's count
        changed by 公安 deaths, moves out, births and moves in by event date (whenever they arrived)."""
        pop = self.pop
        n_h, k = pop.n_households, len(self.periods)
        counts = np.bincount(pop.p["hh"][: pop.n_registered], minlength=n_h).astype(np.int64)
        delta = np.zeros((n_h, k), np.int64)
        for hh, month, d in self._sizes:
            np.add.at(delta, (hh, np.clip(month, 0, k - 1)), d)
        members = counts[:, None] + np.cumsum(delta, axis=1)
        return pa.table(
            {
                "household_id": pop.h["id"].take(pa.array(np.repeat(np.arange(n_h), k))),
                "period": pa.array(np.tile(np.asarray(self.periods), n_h)),
                "member_count": members.ravel(),
            },
            schema=HOUSEHOLDS_SCHEMA,
        )


_KEEP = {
    "medical_claim": History._medical,
    "housing_safety": History._housing,
    "water_safety": History._water,
    "enrolment": History._enrolment,
    "assistance": History._assistance,
    "civil_registry": History._civil,
}
