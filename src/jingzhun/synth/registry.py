"""The registry extract of one county (household, member, income) as tables in catalogue order."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from jingzhun.catalog import DATASETS
from jingzhun.synth import data, people
from jingzhun.synth.feedbase import _convert
from jingzhun.synth.regions import hamlet_names
from jingzhun.synth.strings import pick

if TYPE_CHECKING:
    from jingzhun.synth.population import Population
    from jingzhun.synth.regions import RegionPlan


def _table(dataset: str, cols: dict[str, object], n: int) -> pa.Table:
    ds = DATASETS[dataset]
    return pa.table(
        [_convert(f.type, cols.get(f.name), n) for f in ds.fields], names=[f.name for f in ds.fields]
    )


def household_table(pop: Population, plan: RegionPlan) -> pa.Table:
    h = pop.h
    n = pop.n_households
    v = pa.array(h["village"])
    town = pa.array(plan.town_name, pa.string()).take(pa.array(plan.village_town[h["village"]]))
    grade = h["grade"]
    mon = h["monitoring"]
    cols = {
        "household_id": h["id"],
        "village_code": plan.village_code.take(v),
        "county_name": pa.repeat(pop.county_name, n),
        "township_name": town,
        "village_name": plan.village_name.take(v),
        "natural_village": hamlet_names(h["village"], h["hamlet"]),
        "household_type": pick(("脱贫户", "一般农户"), np.where(h["poor"], 0, 1)),
        "monitoring_type": pick(data.MONITORING_TYPES, mon),
        "poverty_cause": pick(data.POVERTY_CAUSES, h["cause"]),
        "risk_type": pick(data.RISK_TYPES, h["risk"]),
        "household_size": h["size"],
        "dangerous_house": grade >= 2,
        "house_grade": pick(data.HOUSE_GRADES, grade),
        "safe_water": h["safe_water"],
        "phone": h["phone"],
        "bank_account": h["bank"],
        "first_identified": h["first_identified"],
        "exit_year": pa.array(np.where(h["exit_year"] > 0, h["exit_year"], 0), mask=h["exit_year"] < 0),
        "helper": h["helper"],
        "risk_identified_date": h["risk_date"],
        "risk_eliminated": pc.if_else(
            pa.array(mon >= 0),
            pick(("否", "是"), np.maximum(h["eliminated"], 0)),
            pa.scalar(None, pa.string()),
        ),
        "risk_eliminated_date": h["elim_date"],
    }
    return _table("household", cols, n)


def member_table(pop: Population) -> pa.Table:
    p = pop.p
    n = pop.n_registered
    take = pa.array(np.arange(n))
    grade = np.where(p["health"][:n] == people.DISABLED, p["dis_grade"][:n], -1)
    med = p["med_ins"][:n]
    cols = {
        "person_id": p["person_id"].take(take),
        "household_id": pop.h["id"].take(pa.array(p["hh"][:n])),
        "name": p["name"].take(take),
        "id_number": p["id"].take(take),
        "sex": pick(("男", "女"), p["sex"][:n]),
        "birth_date": p["birth"][:n],
        "relation": pick(data.RELATIONS, p["relation"][:n]),
        "ethnicity": pick([e for e, _ in data.ETHNICITY_WEIGHTS], p["ethnicity"][:n]),
        "education": pick(data.EDUCATION, p["education"][:n]),
        "school_status": pick(data.SCHOOL_STATUS, p["school_reg"][:n]),
        "health": pick(data.HEALTH, p["health"][:n]),
        "disability_grade": pick(data.DISABILITY_GRADE, grade),
        "labour_capacity": pick(data.LABOUR, p["labour"][:n]),
        "work_months": p["work_months"][:n],
        "medical_insurance": med,
        "serious_illness_insurance": med,
        "employee_medical_insurance": p["employee_ins"][:n],
        "phone": p["phone"].take(take),
    }
    return _table("member", cols, n)


def income_table(pop: Population, income: dict[str, np.ndarray], year: int) -> pa.Table:
    n = pop.n_households
    cols: dict[str, object] = {"household_id": pop.h["id"], "year": np.full(n, year)}
    cols.update(income)
    return _table("income", cols, n)
