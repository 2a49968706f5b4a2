"""Parameters of a generation run: size, seed, months, format, noise rates and event rates."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from jingzhun.errors import JingzhunError

FORMATS = ("csv", "parquet", "xlsx")
# Datasets written in GB18030 when the format is csv (mimics WPS/Excel exports of those departments).
GB18030_DATASETS = frozenset({"assistance", "housing_safety"})


@dataclass(frozen=True)
class NoiseRates:
    """Share of feed records (person-level feeds) that get each kind of noise."""

    id_mistyped: float = 0.03  # one digit wrong (80%) or two adjacent digits transposed (20%)
    id_missing: float = 0.02
    id_15: float = 0.01  # old 15-digit number (only people born in the 1900s)
    id_excel: float = 0.0002  # destroyed by a spreadsheet: "5.20122E+17"
    name_variant: float = 0.02  # homophone, traditional character, inner space, full-width space
    duplicate: float = 0.005  # the same record (same record_id) twice in the file
    late: float = 0.01  # dated in the previous month


@dataclass(frozen=True)
class EventRates:
    """Monthly probabilities of planted events and conflicts (per person or household as named)."""

    big_oop_registered: float = 0.0004  # per registered person: inpatient out-of-pocket >= 5,000
    big_oop_other: float = 0.0003  # per unregistered person: >= 20,000
    dropout: float = 0.0008  # per compulsory-age pupil
    labourer_death: float = 0.0003  # per recorded worker
    job_loss: float = 0.0025  # per recorded worker
    severe_disability: float = 0.0002  # per person: new 一级/二级 certificate
    house_unsafe: float = 0.0008  # per household: A/B house assessed C/D
    unsafe_water: float = 0.01  # per village assessment
    dibao_entry: float = 0.0015  # per household not yet in 低保
    two_insurances: float = 0.0001  # per registered person
    chronic_big: float = 0.0004  # per chronically ill registered person: a 慢特病门诊 claim, own share >= 500
    new_serious: float = 0.0002  # per registered person not seriously ill: a first serious-illness claim
    tekun_entry: float = 0.001  # per elderly household outside 低保/特困 (mostly living alone)
    # registry conflicts, planted once in the first month (per household)
    dead_listed: float = 0.0008
    duplicate_id: float = 0.0005
    disability_grade: float = 0.015  # per certificate holder in the 残联 full list
    labour_risk_type: float = 0.25  # share of 缺劳动力 monitoring households whose members can in fact work
    school_status: float = 0.002  # per compulsory-age pupil


@dataclass(frozen=True)
class SynthConfig:
    persons: int = 20000
    seed: int = 1
    start: str = "2025-01"
    months: int = 6
    fmt: str = "csv"
    noise: NoiseRates = field(default_factory=NoiseRates)
    events: EventRates = field(default_factory=EventRates)

    def __post_init__(self) -> None:
        if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", self.start):
            raise JingzhunError(f"--start {self.start!r} must be a month YYYY-MM, e.g. 2025-01")
        if self.fmt not in FORMATS:
            raise JingzhunError(f"--format {self.fmt!r} must be one of {', '.join(FORMATS)}")
        if self.persons < 100:
            raise JingzhunError(f"--persons {self.persons} is too small; use at least 100")
        if not 1 <= self.months <= 36:
            raise JingzhunError(f"--months {self.months} must be between 1 and 36")
        if self.seed < 0:
            raise JingzhunError("--seed must be zero or positive")

    @property
    def periods(self) -> list[str]:
        """The months generated, as YYYY-MM.

        >>> SynthConfig(start="2024-11", months=3).periods
        ['2024-11', '2024-12', '2025-01']
        """
        first = np.datetime64(self.start, "M")
        return [str(first + i) for i in range(self.months)]

    @property
    def start_day(self) -> np.datetime64:
        return np.datetime64(self.start, "M").astype("datetime64[D]")

    @property
    def income_year(self) -> int:
        return int(self.start[:4]) - 1
